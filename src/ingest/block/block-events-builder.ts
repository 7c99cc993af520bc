/**
 * The one writer of block_events rows, shared by every block reader (tracefs text, trace-cmd
 * report, blkparse text, binary blktrace). A reader fills the fields of the builder's `row` by
 * name and calls `commit()`: one reused object, so appending allocates nothing; string columns
 * are filled with keys from intern helpers that readers call on the raw text range, so a hot loop
 * makes no string per field.
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import { CHUNK_ROWS, type StringColumnBuilder } from '../../table/column-builders.js';
import { BLOCK_ACTIONS, BLOCK_OPS, blockEventsTable } from '../../table/schemas/block-events.js';
import { BlockFlag, BlockOp, parseRwbs } from './rwbs.js';
import { EventRanges } from './block-event-ranges.js';
import { ByteRangeInterner, RangeInterner } from './range-interners.js';
import {
  EventChunk,
  LITTLE_ENDIAN,
  zeros,
  V_COMM,
  V_DEV,
  V_SECTOR,
  V_ERROR,
  V_NEW_SECTOR,
  V_OLD_DEV,
  V_COUNT,
  V_IOPRIO,
  V_SPARSE,
  type ChunkMemory,
} from './block-event-chunk.js';

/** Keys of the action column: the position of the letter in BLOCK_ACTIONS (interned in that order). */
export const BlockAction = Object.fromEntries(BLOCK_ACTIONS.map((a, i) => [a, i])) as {
  readonly [K in (typeof BLOCK_ACTIONS)[number]]: number;
};

/** Value meaning "none" for the optional numeric and key fields of a BlockEventRow. */
export const NONE = -1;

/** Kernel dev_t as stored in tracefs fields and blk_io_trace.device: (major << 20) | minor. */
export const MINORBITS = 20;

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
const PLUG_HELD = 0,
  PLUG_WRITTEN = 1,
  PLUG_CLOSED = 2;

/**
 * The row a reader fills before BlockEventsBuilder.commit(): one column per field. Numbers must
 * be safe integers (a bigint beyond 2^53). NONE (-1) marks a missing comm, dev, rwbs, sector,
 * newSector, oldDev, count or ioprio; `error` null marks none; `bytes` NONE means
 * nrSectors * 512. commit() puts the optional fields back to "none" (comm, dev, rwbs, sector,
 * newSector, oldDev, count, ioprio NONE; nrSectors 0; bytes NONE; error null; op other, flags 0),
 * so a reader sets only what its event has; ts, cpu, pid and action are set for every row.
 */
export class BlockEventRow {
  /** Event time in the trace clock's nanoseconds (ts_ns). */
  ts: number | bigint = 0;
  cpu = 0;
  pid = 0;
  /** Keys of the string columns (BlockEventsBuilder intern helpers), or NONE. */
  comm = NONE;
  dev = NONE;
  /** BlockAction key. */
  action = 0;
  rwbs = NONE;
  /** BlockOp code and BlockFlag bits (rwbs.ts; BlockEventsBuilder.rwbsOpFlags of the rwbs key). */
  op: number = BlockOp.other;
  flags = 0;
  sector: number | bigint = NONE;
  nrSectors = 0;
  bytes = NONE;
  /** Negative errno of a completion (0 = success), or null. */
  error: number | null = null;
  /** new_sector of a split, old_sector of a remap. */
  newSector: number | bigint = NONE;
  /** The device a remap came from. */
  oldDev = NONE;
  /** Depth of an unplug, nr_bios of rq_remap. */
  count = NONE;
  ioprio = NONE;

  /** Back to "none" in every optional field (see the class comment). */
  clear(): void {
    this.comm = NONE;
    this.dev = NONE;
    this.rwbs = NONE;
    this.op = BlockOp.other;
    this.flags = 0;
    this.sector = NONE;
    this.nrSectors = 0;
    this.bytes = NONE;
    this.error = null;
    this.newSector = NONE;
    this.oldDev = NONE;
    this.count = NONE;
    this.ioprio = NONE;
  }
}

/**
 * Builds the block_events table. Readers intern strings once (internComm, internDev, the byte
 * interners) and then fill `row` with plain numbers and `commit()` it; rows go straight into
 * typed-array chunks that are handed to the table's column builders whole.
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
  useChunkMemory(take: ChunkMemory | null): void {
    this.chunkMemory = take;
  }

  /** Rows added so far. */
  get length(): number {
    return this.rolled * CHUNK_ROWS + this.i;
  }

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
  internComm(comm: string): number {
    return this.cComm.intern(comm);
  }

  /** A RangeInterner for comm text ranges (one per reader). */
  commInterner(): RangeInterner {
    return new RangeInterner((raw) => this.cComm.intern(raw), 1 << 16);
  }

  /** A ByteRangeInterner for comm byte ranges (one per reader). */
  commByteInterner(): ByteRangeInterner {
    return new ByteRangeInterner((text) => this.cComm.intern(text), 1 << 16);
  }

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
  rwbsOpFlags(rwbsKey: number): number {
    return this.rwbsPacked[rwbsKey] ?? -1;
  }

  /** Key of an ioprio "class,hint,level" text (class as a name). */
  internIoprio(text: string): number {
    return this.cIoprio.intern(text);
  }

  /**
   * The row the next commit() appends: fill its fields by name (see BlockEventRow), then commit.
   * One object per builder, reused for every row.
   */
  readonly row = new BlockEventRow();

  /**
   * Append `row` and clear its optional fields (BlockEventRow.clear), or refuse it (`refused`).
   *
   * A write with REQ_PREFLUSH and no data (blkdev_issue_flush: "FWS 0 + 0") is a pure flush and
   * gets op flush. A flush without data has no sector (null), whatever the source printed.
   *
   * With a device filter, events of other devices are dropped. Plug and unplug carry no device:
   * a plug is held until its task (pid) has an event on the kept device, then written before that
   * event (so it can land after rows of other tasks with later times); an unplug is kept when its
   * task's plug session had such an event. Without any plug of that task seen, unplugs are dropped.
   */
  commit(): void {
    const r = this.row;
    this.refused = this.ranges?.take(r.ts, r.sector, r.newSector) ?? null;
    if (this.refused === null) {
      if (this.keepDev !== NONE && !this.passFilter(r)) this.filteredOut++;
      else this.append(r);
    }
    r.clear();
  }

  private append(r: BlockEventRow): void {
    const tsNs = r.ts;
    const nrSectors = r.nrSectors;
    const bytes = r.bytes;
    const flags = r.flags;
    let op = r.op;
    let sector = r.sector;
    const newSector = r.newSector;
    if (this.i === CHUNK_ROWS) this.roll();
    const c = this.chunk;
    const i = this.i++;
    if (typeof tsNs === 'number' && LITTLE_ENDIAN) {
      c.tsW[2 * i] = tsNs >>> 0;
      c.tsW[2 * i + 1] = Math.floor(tsNs / 4294967296) >>> 0;
    } else c.ts[i] = BigInt(tsNs);
    c.cpu[i] = r.cpu;
    c.pid[i] = r.pid;
    const comm = r.comm;
    if (comm < 0) this.setNull(V_COMM, i);
    else c.comm[i] = comm;
    const dev = r.dev;
    if (dev < 0) this.setNull(V_DEV, i);
    else c.dev[i] = dev;
    c.action[i] = r.action;
    const rwbs = r.rwbs;
    c.rwbs[i] = rwbs < 0 ? this.emptyRwbs() : rwbs;
    if (op === BlockOp.write && (flags & BlockFlag.preflush) !== 0 && nrSectors === 0 && bytes <= 0) op = BlockOp.flush;
    // a flush has no sector: the kernel prints 0 (issue) or (sector_t)-1 (complete)
    if (op === BlockOp.flush && nrSectors === 0) sector = NONE;
    c.op[i] = op;
    c.flags[i] = flags;
    if (typeof sector === 'number') {
      if (sector < 0) this.setNull(V_SECTOR, i);
      else if (LITTLE_ENDIAN) {
        c.sectorW[2 * i] = sector >>> 0;
        c.sectorW[2 * i + 1] = Math.floor(sector / 4294967296) >>> 0;
      } else c.sector[i] = BigInt(sector);
    } else if (sector < 0n || sector > 0x7fffffffffffffffn) this.setNull(V_SECTOR, i);
    else c.sector[i] = sector;
    c.nr[i] = nrSectors;
    c.bytes[i] = bytes < 0 ? nrSectors * 512 : bytes;
    const error = r.error;
    if (error !== null) {
      (c.error ?? c.errorArray())[i] = error;
      this.setValid(V_ERROR, i);
    }
    if (typeof newSector === 'number') {
      if (newSector >= 0) {
        if (LITTLE_ENDIAN) {
          const w = c.newSectorW ?? c.newSectorWords();
          w[2 * i] = newSector >>> 0;
          w[2 * i + 1] = Math.floor(newSector / 4294967296) >>> 0;
        } else c.newSectorArray()[i] = BigInt(newSector);
        this.setValid(V_NEW_SECTOR, i);
      }
    } else if (newSector >= 0n && newSector <= 0x7fffffffffffffffn) {
      c.newSectorArray()[i] = newSector;
      this.setValid(V_NEW_SECTOR, i);
    }
    const oldDev = r.oldDev;
    if (oldDev >= 0) {
      (c.oldDev ?? c.oldDevArray())[i] = oldDev;
      this.setValid(V_OLD_DEV, i);
    }
    const count = r.count;
    if (count >= 0) {
      (c.count ?? c.countArray())[i] = count;
      this.setValid(V_COUNT, i);
    }
    const ioprio = r.ioprio;
    if (ioprio >= 0) {
      (c.ioprio ?? c.ioprioArray())[i] = ioprio;
      this.setValid(V_IOPRIO, i);
    }
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
    const flagColumns = [
      ['sync', BlockFlag.sync],
      ['meta', BlockFlag.meta],
      ['fua', BlockFlag.fua],
      ['preflush', BlockFlag.preflush],
      ['readahead', BlockFlag.readahead],
    ] as const;
    let any = 0;
    for (let k = 0; k < n; k++) any |= c.flags[k]!;
    for (const [name, bit] of flagColumns) {
      if ((any & bit) === 0) {
        t.bool(name).appendChunk(zeros(Uint8Array, n), n, null, 0);
        continue;
      }
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
    if (!this.discard) this.flushChunk(CHUNK_ROWS);
    const done = this.chunk;
    const listener = this.onChunk;
    if (listener !== null) {
      listener(done, CHUNK_ROWS, this.rolled * CHUNK_ROWS);
      // the full batch goes to the scratch file (or nowhere): the table holds none of the chunk's arrays now
      this.table.spillFullBatches();
      for (const b of done.buffers()) {
        let list = this.spare.get(b.byteLength);
        if (list === undefined) this.spare.set(b.byteLength, (list = []));
        if (list.length < 16) list.push(b);
      }
    }
    this.rolled++;
    this.chunk = new EventChunk(listener !== null ? this.reuseMemory : this.chunkMemory, done.flags);
    this.i = 0;
  }

  /** Streaming (streamTo): what each chunk is handed to once full, before it goes to the scratch file. */
  private onChunk: ((chunk: EventChunk, rows: number, firstRow: number) => void) | null = null;
  /** Streaming with no scratch file (streamTo(null, ...)): chunks are not kept at all. */
  private discard = false;
  /** Buffers of chunks gone to the scratch file, by size, for the next chunks (zeroed when taken). */
  private readonly spare = new Map<number, ArrayBuffer[]>();
  private readonly reuseMemory: ChunkMemory = (bytes) => {
    const b = this.spare.get(bytes)?.pop();
    if (b !== undefined) {
      new Uint8Array(b).fill(0);
      return b;
    }
    return this.chunkMemory?.(bytes) ?? null;
  };

  /**
   * Stream the table instead of holding it: each full chunk of rows is handed to `onChunk`
   * (rows in row order, `firstRow` = row number of its first row; the arrays are valid during
   * the call), then moved to a scratch file at `scratchPath` (TableBuilder.spillTo), and its
   * memory is reused for a later chunk. So the builder holds one chunk however long the trace.
   * End with finishStream(), then write the table with tableBuilderWriter(builder.table, ...).
   * With a null `scratchPath` the chunks are only handed to `onChunk`: no table is kept (a reader
   * that needs the requests, not the events). Call before the first row.
   */
  streamTo(scratchPath: string | null, onChunk: (chunk: EventChunk, rows: number, firstRow: number) => void): void {
    if (this.length > 0 || this.finished) throw new Error('BlockEventsBuilder.streamTo: rows were already added');
    if (scratchPath === null) this.discard = true;
    else this.table.spillTo(scratchPath);
    this.onChunk = onChunk;
    this.chunk = new EventChunk(this.reuseMemory, this.chunk.flags);
  }

  /**
   * The end of a streamed table (streamTo): the last rows are handed to `onChunk` (when there are
   * any) and stay in memory, the scratch file holds the rest, for tableBuilderWriter.
   */
  finishStream(): void {
    if (this.finished) throw new Error('BlockEventsBuilder.finishStream called twice');
    if (this.onChunk === null) throw new Error('BlockEventsBuilder.finishStream: not streaming (streamTo)');
    this.finished = true;
    if (this.i === CHUNK_ROWS) this.roll();
    if (!this.discard) this.flushChunk(this.i);
    if (this.i > 0) this.onChunk(this.chunk, this.i, this.rolled * CHUNK_ROWS);
  }

  /**
   * The dictionaries of the dev (also old_dev), comm and rwbs columns, in key order: the name
   * lists forEachEventBatch gives for the finished table, whose dictionary keys index them.
   */
  names(): { dev: string[]; comm: string[]; rwbs: string[] } {
    return { dev: this.cDev.dictionary.slice(), comm: this.cComm.dictionary.slice(), rwbs: this.cRwbs.dictionary.slice() };
  }

  private emptyRwbsKey = NONE;
  private emptyRwbs(): number {
    if (this.emptyRwbsKey < 0) this.emptyRwbsKey = this.internRwbs('');
    return this.emptyRwbsKey;
  }

  private passFilter(r: BlockEventRow): boolean {
    const keep = this.keepDev;
    const { pid, dev: devKey, action, oldDev: oldDevKey } = r;
    if (devKey === NONE && (action === BlockAction.P || action === BlockAction.U || action === BlockAction.UT)) {
      let slot = this.plugs.get(pid);
      if (action === BlockAction.P) {
        if (slot === undefined) {
          slot = this.plugTs.length;
          this.plugs.set(pid, slot);
          this.plugTs.push(0);
          this.plugCpu.push(0);
          this.plugComm.push(0);
          this.plugState.push(0);
        }
        this.plugTs[slot] = r.ts;
        this.plugCpu[slot] = r.cpu;
        this.plugComm[slot] = r.comm;
        this.plugState[slot] = PLUG_HELD;
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
        const plug = this.heldPlug;
        plug.ts = this.plugTs[slot]!;
        plug.cpu = this.plugCpu[slot]!;
        plug.pid = pid;
        plug.comm = this.plugComm[slot]!;
        plug.action = BlockAction.P;
        this.append(plug);
      }
    }
    return mine;
  }

  /** The held plug written before the first event of its task on the kept device (passFilter). */
  private readonly heldPlug = new BlockEventRow();

  /**
   * Assemble the Arrow table. Metadata should include "clock" (the trace clock of ts_ns) and
   * "source" (formats and files read).
   */
  finish(metadata?: Record<string, string>): Table {
    if (this.finished) throw new Error('BlockEventsBuilder.finish called twice');
    if (this.onChunk !== null) throw new Error('BlockEventsBuilder.finish: the table is streamed (finishStream)');
    this.finished = true;
    if (this.i === CHUNK_ROWS) this.roll();
    // validity bits past the last row stay set: they are never read
    this.flushChunk(this.i);
    return this.table.finish(metadata);
  }
}
