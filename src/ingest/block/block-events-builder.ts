/**
 * The one writer of block_events rows, shared by every block reader (tracefs text, trace-cmd
 * report, blkparse text, binary blktrace). Rows are appended with a positional, allocation-free
 * `add`; string columns are filled with keys from intern helpers that readers call on the raw
 * text range, so a hot loop makes no string per field.
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import { CHUNK_ROWS, type StringColumnBuilder } from '../../table/column-builders.js';
import { BLOCK_ACTIONS, BLOCK_OPS, blockEventsTable } from '../../table/schemas/block-events.js';
import { BlockFlag, BlockOp, parseRwbs } from './rwbs.js';
import { EventRanges } from './block-event-ranges.js';

/** Keys of the action column: the position of the letter in BLOCK_ACTIONS (interned in that order). */
export const BlockAction = Object.fromEntries(BLOCK_ACTIONS.map((a, i) => [a, i])) as { readonly [K in (typeof BLOCK_ACTIONS)[number]]: number };

/** Value meaning "none" for the optional numeric and key arguments of `add`. */
export const NONE = -1;

/** Kernel dev_t as stored in tracefs fields and blk_io_trace.device: (major << 20) | minor. */
export const MINORBITS = 20;

/**
 * Interns a text range [start, end) of a larger string without slicing it on a hit: an
 * open-addressing hash table over the raw characters. On a miss `onMiss(raw)` gives the key to
 * remember (e.g. a dictionary key of a column, after normalising the text).
 */
export class RangeInterner {
  private slots = new Int32Array(64).fill(-1);
  private readonly raw: string[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly onMiss: (raw: string) => number, private readonly maxEntries = 1 << 20) {}

  get size(): number { return this.raw.length; }

  lookup(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = (h >>> 0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      const r = this.raw[e]!;
      if (r.length !== len) continue;
      let i = 0;
      while (i < len && r.charCodeAt(i) === text.charCodeAt(start + i)) i++;
      if (i === len) return this.keys[e]!;
    }
    const raw = text.slice(start, end);
    const key = this.onMiss(raw);
    // a bounded cache: past maxEntries the key is still right, it is just not remembered
    if (this.raw.length < this.maxEntries) this.insert(raw, key, h);
    return key;
  }

  private insert(raw: string, key: number, h: number): void {
    if ((this.raw.length + 1) * 2 > this.slots.length) this.grow();
    const e = this.raw.length;
    this.raw.push(raw);
    this.keys.push(key);
    const mask = this.slots.length - 1;
    let s = (h >>> 0) & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let e = 0; e < this.raw.length; e++) {
      const r = this.raw[e]!;
      let h = 0x811c9dc5;
      for (let i = 0; i < r.length; i++) h = Math.imul(h ^ r.charCodeAt(i), 16777619);
      let s = (h >>> 0) & mask;
      while (this.slots[s]! >= 0) s = (s + 1) & mask;
      this.slots[s] = e;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The byte version of RangeInterner: interns a byte range [start, end) of a buffer (UTF-8 text)
 * without decoding it on a hit. On a miss the range is decoded and `onMiss(text)` gives the key.
 */
export class ByteRangeInterner {
  private slots = new Int32Array(64).fill(-1);
  private readonly raw: Uint8Array[] = [];
  private readonly hashes: number[] = [];
  private readonly keys: number[] = [];
  private last = -1;
  constructor(private readonly onMiss: (text: string) => number, private readonly maxEntries = 1 << 20) {}

  get size(): number { return this.raw.length; }

  lookup(bytes: Uint8Array, start: number, end: number): number {
    // the same text as last time (runs of events from one task) costs one comparison
    const last = this.last;
    if (last >= 0) {
      const r = this.raw[last]!;
      const len = end - start;
      if (r.length === len) {
        let i = 0;
        while (i < len && r[i] === bytes[start + i]) i++;
        if (i === len) return this.keys[last]!;
      }
    }
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = (h >>> 0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      if (this.hashes[e] !== h) continue;
      const r = this.raw[e]!;
      if (r.length !== len) continue;
      let i = 0;
      while (i < len && r[i] === bytes[start + i]) i++;
      if (i === len) { this.last = e; return this.keys[e]!; }
    }
    const key = this.onMiss(utf8.decode(bytes.subarray(start, end)));
    // a bounded cache: past maxEntries the key is still right, it is just not remembered
    if (this.raw.length < this.maxEntries) this.insert(bytes.slice(start, end), key, h);
    return key;
  }

  private insert(raw: Uint8Array, key: number, h: number): void {
    if ((this.raw.length + 1) * 2 > this.slots.length) this.grow();
    const e = this.raw.length;
    this.raw.push(raw);
    this.hashes.push(h);
    this.keys.push(key);
    const mask = this.slots.length - 1;
    let s = (h >>> 0) & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let e = 0; e < this.raw.length; e++) {
      let s = (this.hashes[e]! >>> 0) & mask;
      while (this.slots[s]! >= 0) s = (s + 1) & mask;
      this.slots[s] = e;
    }
  }
}

/** Names of the ioprio classes, IOPRIO_CLASS_* in include/uapi/linux/ioprio.h (7 is printed "invalid"). */
export const IOPRIO_CLASS_NAMES = ['none', 'rt', 'be', 'idle', 'invalid', 'invalid', 'invalid', 'invalid'] as const;

export interface BlockEventsBuilderOptions {
  /** Keep only events of this device ("MAJ:MIN"); see `add` for plug/unplug. */
  dev?: string;
  /**
   * Store times and sectors beyond what request reconstruction holds exactly (see `refused`)
   * instead of refusing their events: the Int64 columns keep any 64-bit value, but such a table
   * cannot go through buildBlockRequestTables. Off by default.
   */
  unboundedValues?: boolean;
}

/** States of a plug session under a device filter. */
const PLUG_HELD = 0, PLUG_WRITTEN = 1, PLUG_CLOSED = 2;

/** Typed arrays use the platform byte order; int64 halves are written as two 32-bit words on little-endian machines. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const VALID_BYTES = CHUNK_ROWS >> 3;

/**
 * One chunk of every column, filled in lock-step (one bounds check per row, not per value). The
 * columns most rows leave null (error, new_sector, old_dev, count, ioprio) get their value array
 * on the first non-null value: a chunk without one hands a shared zero array to the table, so
 * memory that would only hold zeros is never touched (first-touch page faults cost as much as
 * parsing on some machines).
 */
class EventChunk {
  readonly ts: BigInt64Array;
  readonly tsW: Uint32Array;
  readonly sector: BigInt64Array;
  readonly sectorW: Uint32Array;
  readonly pid: Int32Array;
  readonly comm: Int32Array;
  readonly nr: Uint32Array;
  readonly bytes: Uint32Array;
  readonly cpu: Int16Array;
  readonly dev: Int16Array;
  readonly action: Int8Array;
  readonly rwbs: Int8Array;
  readonly op: Int8Array;
  readonly flags: Uint8Array;
  /**
   * The columns every row sets are views of one buffer (EVENT_CHUNK_BYTES); it and the arrays
   * made later come from `memory` (zero-filled buffers of the asked size, null = make one here).
   */
  constructor(private readonly memory: ChunkMemory | null = null, flags: Uint8Array | null = null) {
    const mem = chunkBuffer(memory, EVENT_CHUNK_BYTES);
    const R = CHUNK_ROWS;
    // flags are scratch (spread into the flag columns when the chunk is handed over): the previous
    // chunk's array is reused, every row overwrites its slot
    this.flags = flags ?? new Uint8Array(R);
    let o = 0;
    this.ts = new BigInt64Array(mem, o, R); this.tsW = new Uint32Array(mem, o, 2 * R); o += 8 * R;
    this.sector = new BigInt64Array(mem, o, R); this.sectorW = new Uint32Array(mem, o, 2 * R); o += 8 * R;
    this.pid = new Int32Array(mem, o, R); o += 4 * R;
    this.comm = new Int32Array(mem, o, R); o += 4 * R;
    this.nr = new Uint32Array(mem, o, R); o += 4 * R;
    this.bytes = new Uint32Array(mem, o, R); o += 4 * R;
    this.cpu = new Int16Array(mem, o, R); o += 2 * R;
    this.dev = new Int16Array(mem, o, R); o += 2 * R;
    this.action = new Int8Array(mem, o, R); o += R;
    this.rwbs = new Int8Array(mem, o, R); o += R;
    this.op = new Int8Array(mem, o, R);
  }
  error: Int16Array | null = null;
  newSector: BigInt64Array | null = null;
  newSectorW: Uint32Array | null = null;
  oldDev: Int16Array | null = null;
  count: Int32Array | null = null;
  ioprio: Int8Array | null = null;
  errorArray(): Int16Array { return (this.error ??= new Int16Array(chunkBuffer(this.memory, 2 * CHUNK_ROWS))); }
  newSectorArray(): BigInt64Array {
    if (this.newSector === null) {
      const b = chunkBuffer(this.memory, 8 * CHUNK_ROWS);
      this.newSector = new BigInt64Array(b);
      this.newSectorW = new Uint32Array(b);
    }
    return this.newSector;
  }
  newSectorWords(): Uint32Array { this.newSectorArray(); return this.newSectorW!; }
  oldDevArray(): Int16Array { return (this.oldDev ??= new Int16Array(chunkBuffer(this.memory, 2 * CHUNK_ROWS))); }
  countArray(): Int32Array { return (this.count ??= new Int32Array(chunkBuffer(this.memory, 4 * CHUNK_ROWS))); }
  ioprioArray(): Int8Array { return (this.ioprio ??= new Int8Array(chunkBuffer(this.memory, CHUNK_ROWS))); }
  /** A flag column's array (bytes of 0/1). */
  flagArray(): Uint8Array { return new Uint8Array(chunkBuffer(this.memory, CHUNK_ROWS)); }
  /**
   * Validity bitmaps of the nullable columns (bit set = valid): comm, dev and sector start all
   * valid and a null clears its bit (`nulls` counts them); the mostly-null columns start all
   * null and a value sets its bit (`nulls` counts the values until the chunk is handed over).
   */
  readonly valid = [0, 1, 2, 3, 4, 5, 6, 7].map((col) => (col < V_SPARSE ? new Uint8Array(VALID_BYTES).fill(0xff) : new Uint8Array(VALID_BYTES)));
  readonly nulls = new Int32Array(8);
}
/** A source of zero-filled buffers of a given size; null when it has none ready. */
export type ChunkMemory = (bytes: number) => ArrayBuffer | null;

function chunkBuffer(memory: ChunkMemory | null, bytes: number): ArrayBuffer {
  const b = memory?.(bytes) ?? null;
  if (b === null) return new ArrayBuffer(bytes);
  if (b.byteLength !== bytes) throw new Error(`block_events chunk memory: expected a buffer of ${bytes} bytes, got ${b.byteLength}`);
  return b;
}

/** Bytes of the buffer behind the always-set columns of one chunk (ts, sector: 8; pid, comm, nr, bytes: 4; cpu, dev: 2; action, rwbs, op: 1). */
export const EVENT_CHUNK_BYTES = CHUNK_ROWS * 39;

type ZeroArray = Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array;
const SHARED_ZEROS = new Map<unknown, ZeroArray>();
/**
 * A chunk-sized array of zeros for a column whose chunk holds no value: one shared, never written
 * array per type for full chunks (the column builders keep full chunks as they are); the last,
 * partial chunk gets its own, since a builder's current chunk is the one it would write into.
 */
function zeros<A extends ZeroArray>(ctor: { new (n: number): A }, n: number): A {
  if (n < CHUNK_ROWS) return new ctor(CHUNK_ROWS);
  let z = SHARED_ZEROS.get(ctor) as A | undefined;
  if (z === undefined) { z = new ctor(CHUNK_ROWS); SHARED_ZEROS.set(ctor, z); }
  return z;
}

/** Index of each nullable column in EventChunk.valid. */
const V_COMM = 0, V_DEV = 1, V_SECTOR = 2, V_ERROR = 3, V_NEW_SECTOR = 4, V_OLD_DEV = 5, V_COUNT = 6, V_IOPRIO = 7;
/** Columns from this index on are mostly null: their bitmaps record values, not nulls. */
const V_SPARSE = V_ERROR;

/**
 * Builds the block_events table. Readers intern strings once (`commKey`, `devKey`, `rwbsKey`,
 * `ioprioKey`) and then call `add` with plain numbers; rows go straight into typed-array chunks
 * that are handed to the table's column builders whole.
 */
export class BlockEventsBuilder {
  readonly table = new TableBuilder(blockEventsTable);
  private readonly cComm: StringColumnBuilder;
  private readonly cDev: StringColumnBuilder;
  private readonly cAction: StringColumnBuilder;
  private readonly cRwbs: StringColumnBuilder;
  private readonly cOp: StringColumnBuilder;
  private readonly cOldDev: StringColumnBuilder;
  private readonly cIoprio: StringColumnBuilder;
  private chunkMemory: ChunkMemory | null = null;
  private chunk = new EventChunk();
  private i = 0;
  private rolled = 0;
  private finished = false;

  private readonly devKeys = new Map<number, number>();
  /** Packed op | flags << 3 per rwbs key (parseRwbs), -1 when the text is not an RWBS string. */
  private readonly rwbsPacked: number[] = [];

  /** Device filter: the dev key to keep, or NONE. */
  private readonly keepDev: number = NONE;
  /** Plug sessions under a device filter: pid → slot of the held plug (ts, cpu, comm) and its state. */
  private readonly plugs = new Map<number, number>();
  private plugTs: (number | bigint)[] = [];
  private plugCpu: number[] = [];
  private plugComm: number[] = [];
  private plugState: number[] = [];
  /** Events dropped by the device filter. */
  filteredOut = 0;
  /**
   * Why `add` refused its event (nothing was appended), or null when it took it: an event outside
   * the ranges request reconstruction holds exactly (EventRanges: a sector or new_sector in
   * [2^53, 2^63), a time past the Int64 column, or one that would stretch the trace over 2^53 ns);
   * always null with unboundedValues. Readers report it with the line or byte offset of the event.
   */
  refused: string | null = null;
  /** The ranges `add` keeps events within (block-event-ranges.ts), or null with unboundedValues. */
  private readonly ranges: EventRanges | null;

  constructor(options: BlockEventsBuilderOptions = {}) {
    this.ranges = options.unboundedValues ? null : new EventRanges();
    const t = this.table;
    this.cComm = t.string('comm');
    this.cDev = t.string('dev');
    this.cAction = t.string('action');
    this.cRwbs = t.string('rwbs');
    this.cOp = t.string('op');
    this.cOldDev = t.string('old_dev');
    this.cIoprio = t.string('ioprio');
    // categorical columns: key = position in the declared values
    for (const a of BLOCK_ACTIONS) this.cAction.intern(a);
    for (const o of BLOCK_OPS) this.cOp.intern(o);
    if (options.dev !== undefined) {
      const m = /^(\d+)[:,](\d+)$/.exec(options.dev);
      if (!m) throw new RangeError(`device "${options.dev}": expected MAJ:MIN`);
      this.keepDev = this.internDev(Number(m[1]), Number(m[2]));
    }
  }

  /**
   * Where the buffers of the next chunks come from: `take(bytes)` gives a zero-filled buffer of
   * that size or null (then one is made here), e.g. a PrefaultPool whose thread has already
   * touched the pages. `null` goes back to making them all here.
   */
  useChunkMemory(take: ChunkMemory | null): void { this.chunkMemory = take; }

  /** Rows added so far. */
  get length(): number { return this.rolled * CHUNK_ROWS + this.i; }

  /** Key of a device "MAJ:MIN" in the dev and old_dev columns (both share one key space). */
  internDev(major: number, minor: number): number {
    const code = major * 1048576 + minor;
    let k = this.devKeys.get(code);
    if (k === undefined) {
      const s = `${major}:${minor}`;
      k = this.cDev.intern(s);
      const k2 = this.cOldDev.intern(s);
      if (k2 !== k) throw new Error('block_events: dev and old_dev dictionaries diverged');
      this.devKeys.set(code, k);
    }
    return k;
  }

  /** Key of a device given as a kernel dev_t ((major << 20) | minor). */
  internDevT(devT: number): number {
    return this.internDev(Math.floor(devT / 1048576), devT % 1048576);
  }

  /** Key of a command name in the comm column. */
  internComm(comm: string): number { return this.cComm.intern(comm); }

  /** A RangeInterner for comm text ranges (one per reader). */
  commInterner(): RangeInterner { return new RangeInterner((raw) => this.cComm.intern(raw), 1 << 16); }

  /** A ByteRangeInterner for comm byte ranges (one per reader). */
  commByteInterner(): ByteRangeInterner { return new ByteRangeInterner((text) => this.cComm.intern(text), 1 << 16); }

  /** A ByteRangeInterner for RWBS byte ranges (one per reader). Texts that are not RWBS strings give -1. */
  rwbsByteInterner(): ByteRangeInterner {
    return new ByteRangeInterner((text) => (parseRwbs(text) < 0 ? NONE : this.internRwbs(text)), 4096);
  }

  /** Key of an RWBS string; `rwbsOpFlags(key)` gives its op and flags (-1: not an RWBS string). */
  internRwbs(rwbs: string): number {
    const k = this.cRwbs.intern(rwbs);
    if (k === this.rwbsPacked.length) this.rwbsPacked.push(parseRwbs(rwbs));
    return k;
  }

  /** A RangeInterner for RWBS text ranges (one per reader). Texts that are not RWBS strings give -1. */
  rwbsInterner(): RangeInterner {
    return new RangeInterner((raw) => (parseRwbs(raw) < 0 ? NONE : this.internRwbs(raw)), 4096);
  }

  /** Op and flags of an interned RWBS key, packed as op | flags << 3 (see rwbs.ts). */
  rwbsOpFlags(rwbsKey: number): number { return this.rwbsPacked[rwbsKey] ?? -1; }

  /** Key of an ioprio "class,hint,level" text (class as a name). */
  internIoprio(text: string): number { return this.cIoprio.intern(text); }

  /**
   * Append one event. Numbers must be safe integers (pass a bigint beyond 2^53). NONE (-1) marks
   * a missing value for: commKey, devKey, sector, newSector, oldDevKey, count, ioprioKey;
   * `error` null marks none. `bytes` NONE means nr_sectors * 512.
   *
   * A write with REQ_PREFLUSH and no data (blkdev_issue_flush: "FWS 0 + 0") is a pure flush and
   * gets op flush. A flush without data has no sector (null), whatever the source printed.
   *
   * With a device filter, events of other devices are dropped. Plug and unplug carry no device:
   * a plug is held until its task (pid) has an event on the kept device, then written before that
   * event (so it can land after rows of other tasks with later times); an unplug is kept when its
   * task's plug session had such an event. Without any plug of that task seen, unplugs are dropped.
   */
  add(
    tsNs: number | bigint, cpu: number, pid: number, commKey: number, devKey: number,
    action: number, rwbsKey: number, op: number, flags: number,
    sector: number | bigint, nrSectors: number, bytes: number, error: number | null,
    newSector: number | bigint, oldDevKey: number, count: number, ioprioKey: number,
  ): void {
    this.refused = this.ranges?.take(tsNs, sector, newSector) ?? null;
    if (this.refused !== null) return;
    if (this.keepDev !== NONE && !this.passFilter(tsNs, cpu, pid, commKey, devKey, action, oldDevKey)) {
      this.filteredOut++;
      return;
    }
    this.append(tsNs, cpu, pid, commKey, devKey, action, rwbsKey, op, flags, sector, nrSectors, bytes, error, newSector, oldDevKey, count, ioprioKey);
  }

  private append(
    tsNs: number | bigint, cpu: number, pid: number, commKey: number, devKey: number,
    action: number, rwbsKey: number, op: number, flags: number,
    sector: number | bigint, nrSectors: number, bytes: number, error: number | null,
    newSector: number | bigint, oldDevKey: number, count: number, ioprioKey: number,
  ): void {
    if (this.i === CHUNK_ROWS) this.roll();
    const c = this.chunk;
    const i = this.i++;
    if (typeof tsNs === 'number' && LITTLE_ENDIAN) { c.tsW[2 * i] = tsNs >>> 0; c.tsW[2 * i + 1] = Math.floor(tsNs / 4294967296) >>> 0; }
    else c.ts[i] = BigInt(tsNs);
    c.cpu[i] = cpu;
    c.pid[i] = pid;
    if (commKey < 0) this.setNull(V_COMM, i); else c.comm[i] = commKey;
    if (devKey < 0) this.setNull(V_DEV, i); else c.dev[i] = devKey;
    c.action[i] = action;
    c.rwbs[i] = rwbsKey < 0 ? this.emptyRwbs() : rwbsKey;
    if (op === BlockOp.write && (flags & BlockFlag.preflush) !== 0 && nrSectors === 0 && bytes <= 0) op = BlockOp.flush;
    // a flush has no sector: the kernel prints 0 (issue) or (sector_t)-1 (complete)
    if (op === BlockOp.flush && nrSectors === 0) sector = NONE;
    c.op[i] = op;
    c.flags[i] = flags;
    if (typeof sector === 'number') {
      if (sector < 0) this.setNull(V_SECTOR, i);
      else if (LITTLE_ENDIAN) { c.sectorW[2 * i] = sector >>> 0; c.sectorW[2 * i + 1] = Math.floor(sector / 4294967296) >>> 0; }
      else c.sector[i] = BigInt(sector);
    } else if (sector < 0n || sector > 0x7fffffffffffffffn) this.setNull(V_SECTOR, i);
    else c.sector[i] = sector;
    c.nr[i] = nrSectors;
    c.bytes[i] = bytes < 0 ? nrSectors * 512 : bytes;
    if (error !== null) { (c.error ?? c.errorArray())[i] = error; this.setValid(V_ERROR, i); }
    if (typeof newSector === 'number') {
      if (newSector >= 0) {
        if (LITTLE_ENDIAN) { const w = c.newSectorW ?? c.newSectorWords(); w[2 * i] = newSector >>> 0; w[2 * i + 1] = Math.floor(newSector / 4294967296) >>> 0; }
        else c.newSectorArray()[i] = BigInt(newSector);
        this.setValid(V_NEW_SECTOR, i);
      }
    } else if (newSector >= 0n && newSector <= 0x7fffffffffffffffn) { c.newSectorArray()[i] = newSector; this.setValid(V_NEW_SECTOR, i); }
    if (oldDevKey >= 0) { (c.oldDev ?? c.oldDevArray())[i] = oldDevKey; this.setValid(V_OLD_DEV, i); }
    if (count >= 0) { (c.count ?? c.countArray())[i] = count; this.setValid(V_COUNT, i); }
    if (ioprioKey >= 0) { (c.ioprio ?? c.ioprioArray())[i] = ioprioKey; this.setValid(V_IOPRIO, i); }
  }

  /** A value in one of the mostly-null columns (V_SPARSE on): set its bit, count it. */
  private setValid(col: number, i: number): void {
    this.chunk.valid[col]![i >> 3]! |= 1 << (i & 7);
    this.chunk.nulls[col]!++;
  }

  private setNull(col: number, i: number): void {
    this.chunk.valid[col]![i >> 3]! &= ~(1 << (i & 7));
    this.chunk.nulls[col]!++;
  }

  /** Hand the current chunk to the column builders (all of it, or the first `n` rows of the last). */
  private flushChunk(n: number): void {
    const c = this.chunk;
    const t = this.table;
    // the sparse columns counted their values: n minus that is their null count
    const nl = (col: number): number => (col < V_SPARSE ? c.nulls[col]! : n - c.nulls[col]!);
    const v = (col: number): Uint8Array | null => (nl(col) > 0 ? c.valid[col]! : null);
    t.int64('ts_ns').appendChunk(c.ts, n, null, 0);
    t.number('cpu').appendChunk(c.cpu, n, null, 0);
    t.number('pid').appendChunk(c.pid, n, null, 0);
    this.cComm.appendChunk(c.comm, n, v(V_COMM), nl(V_COMM));
    this.cDev.appendChunk(c.dev, n, v(V_DEV), nl(V_DEV));
    this.cAction.appendChunk(c.action, n, null, 0);
    this.cRwbs.appendChunk(c.rwbs, n, null, 0);
    this.cOp.appendChunk(c.op, n, null, 0);
    const flagColumns = [['sync', BlockFlag.sync], ['meta', BlockFlag.meta], ['fua', BlockFlag.fua], ['preflush', BlockFlag.preflush], ['readahead', BlockFlag.readahead]] as const;
    let any = 0;
    for (let k = 0; k < n; k++) any |= c.flags[k]!;
    for (const [name, bit] of flagColumns) {
      if ((any & bit) === 0) { t.bool(name).appendChunk(zeros(Uint8Array, n), n, null, 0); continue; }
      const out = c.flagArray();
      for (let k = 0; k < n; k++) out[k] = (c.flags[k]! & bit) !== 0 ? 1 : 0;
      t.bool(name).appendChunk(out, n, null, 0);
    }
    t.int64('sector').appendChunk(c.sector, n, v(V_SECTOR), nl(V_SECTOR));
    t.number('nr_sectors').appendChunk(c.nr, n, null, 0);
    t.number('bytes').appendChunk(c.bytes, n, null, 0);
    t.number('error').appendChunk(c.error ?? zeros(Int16Array, n), n, v(V_ERROR), nl(V_ERROR));
    t.int64('new_sector').appendChunk(c.newSector ?? zeros(BigInt64Array, n), n, v(V_NEW_SECTOR), nl(V_NEW_SECTOR));
    this.cOldDev.appendChunk(c.oldDev ?? zeros(Int16Array, n), n, v(V_OLD_DEV), nl(V_OLD_DEV));
    t.number('count').appendChunk(c.count ?? zeros(Int32Array, n), n, v(V_COUNT), nl(V_COUNT));
    this.cIoprio.appendChunk(c.ioprio ?? zeros(Int8Array, n), n, v(V_IOPRIO), nl(V_IOPRIO));
  }

  private roll(): void {
    this.flushChunk(CHUNK_ROWS);
    this.rolled++;
    this.chunk = new EventChunk(this.chunkMemory, this.chunk.flags);
    this.i = 0;
  }

  private emptyRwbsKey = NONE;
  private emptyRwbs(): number {
    if (this.emptyRwbsKey < 0) this.emptyRwbsKey = this.internRwbs('');
    return this.emptyRwbsKey;
  }

  private passFilter(tsNs: number | bigint, cpu: number, pid: number, commKey: number, devKey: number, action: number, oldDevKey: number): boolean {
    const keep = this.keepDev;
    if (devKey === NONE && (action === BlockAction.P || action === BlockAction.U || action === BlockAction.UT)) {
      let slot = this.plugs.get(pid);
      if (action === BlockAction.P) {
        if (slot === undefined) {
          slot = this.plugTs.length;
          this.plugs.set(pid, slot);
          this.plugTs.push(0); this.plugCpu.push(0); this.plugComm.push(0); this.plugState.push(0);
        }
        this.plugTs[slot] = tsNs; this.plugCpu[slot] = cpu; this.plugComm[slot] = commKey; this.plugState[slot] = PLUG_HELD;
        return false;
      }
      if (slot === undefined) return false;
      const matched = this.plugState[slot] === PLUG_WRITTEN;
      this.plugState[slot] = PLUG_CLOSED;
      return matched;
    }
    // events with a device (blkparse text and binary blktrace give plug/unplug one too)
    if (devKey === NONE) return true;
    const mine = devKey === keep || (oldDevKey !== NONE && oldDevKey === keep);
    if (mine) {
      const slot = this.plugs.get(pid);
      if (slot !== undefined && this.plugState[slot] === PLUG_HELD) {
        this.plugState[slot] = PLUG_WRITTEN;
        this.append(this.plugTs[slot]!, this.plugCpu[slot]!, pid, this.plugComm[slot]!, NONE, BlockAction.P, NONE, BlockOp.other, 0, NONE, 0, 0, null, NONE, NONE, NONE, NONE);
      }
    }
    return mine;
  }

  /**
   * Assemble the Arrow table. Metadata should include "clock" (the trace clock of ts_ns) and
   * "source" (formats and files read).
   */
  finish(metadata?: Record<string, string>): Table {
    if (this.finished) throw new Error('BlockEventsBuilder.finish called twice');
    this.finished = true;
    if (this.i === CHUNK_ROWS) this.roll();
    // validity bits past the last row stay set: they are never read
    this.flushChunk(this.i);
    return this.table.finish(metadata);
  }
}
