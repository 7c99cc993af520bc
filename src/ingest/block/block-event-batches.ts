/**
 * Columnar, batch-at-a-time access to a block_events table for the consumers that sweep it once
 * (request reconstruction, the binary writer): each Arrow record batch is exposed as plain typed
 * arrays, with dictionary keys remapped to stable codes (action letter, op) or to indexes into
 * global name lists (dev, comm). Times become float64 nanoseconds relative to the first event, so
 * the hot loops do no BigInt arithmetic; the base is kept as a bigint and nothing is rounded
 * (a trace longer than 2^53 ns, 104 days, throws).
 */
import type { Table } from '@uwdata/flechette';
import { BLOCK_ACTIONS, BLOCK_OPS } from '../../table/schemas/block-events.js';
import { BlockFlag } from './rwbs.js';
import { releaseBuffers } from '../../util/release-memory.js';
import { CHUNK_ROWS } from '../../table/column-builders.js';
import { V_COMM, V_DEV, V_ERROR, V_NEW_SECTOR, V_SECTOR, type SweptColumns } from './block-event-chunk.js';

/** Action codes: position of the letter in BLOCK_ACTIONS. */
export const Act = Object.fromEntries(BLOCK_ACTIONS.map((a, i) => [a, i])) as { readonly [K in (typeof BLOCK_ACTIONS)[number]]: number };
/** Op codes: position in BLOCK_OPS (read 0, write 1, discard 2, flush 3, other 4). */
export const Op = Object.fromEntries(BLOCK_OPS.map((a, i) => [a, i])) as { readonly [K in (typeof BLOCK_OPS)[number]]: number };

/** Value of a missing number in the arrays below. */
export const NULL_NUM = -1;
/** Value of a missing error. */
export const NULL_ERROR = 0x7fffffff;

/** One record batch of block_events as typed arrays (views valid until the next batch). */
export interface EventBatch {
  /** Rows in this batch. */
  length: number;
  /** Row number of the batch's first row in the table. */
  firstRow: number;
  /** ns since `base` (the first event's ts_ns). */
  ts: Float64Array;
  cpu: Int32Array;
  pid: Int32Array;
  /** Index into `names.comm`, or -1. */
  comm: Int32Array;
  /** Index into `names.dev`, or -1. */
  dev: Int32Array;
  /** Act code. */
  action: Uint8Array;
  /** Index into `names.rwbs`, or -1. */
  rwbs: Int32Array;
  /** Op code. */
  op: Uint8Array;
  /** BlockFlag bits: sync, meta, fua, preflush, readahead. */
  flags: Uint8Array;
  /** Sector, or -1 when null. */
  sector: Float64Array;
  nr: Float64Array;
  bytes: Float64Array;
  /** Error, or NULL_ERROR. */
  error: Int32Array;
  /** new_sector, or -1. */
  newSector: Float64Array;
  /** Index into `names.dev`, or -1. */
  oldDev: Int32Array;
  /** count, or -1. */
  count: Int32Array;
}

export interface EventNames {
  dev: string[];
  comm: string[];
  rwbs: string[];
}

interface AnyBatch {
  length: number;
  nullCount: number;
  validity: Uint8Array | null;
  values: ArrayLike<number | bigint>;
  cache?: ArrayLike<string>;
}

function valid(b: AnyBatch, i: number): boolean {
  if (!b.nullCount || !b.validity || b.validity.length === 0) return true;
  return (b.validity[i >> 3]! & (1 << (i & 7))) !== 0;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Columns of EventBatch a sweep may go without (left at their null value: -1, or 0 for flags). */
export type SkippableColumn = 'cpu' | 'flags' | 'oldDev' | 'count';

/**
 * Calls `fn` once per record batch of a block_events table, in row order. Returns the names
 * (dev, comm) the index columns refer to and the time base. `skip` names columns the caller does
 * not read (their rows are not copied; names.dev still takes every old_dev name, so the name lists
 * are the same either way). With `consume`, each record batch is taken out of the table once it
 * has been swept, so its memory can go while the sweep goes on: the table is left without its
 * rows, for a caller that holds the only reference to them and needs them no more.
 */
export function forEachEventBatch(
  table: Table,
  fn: (b: EventBatch, names: EventNames, base: bigint) => void,
  skip: readonly SkippableColumn[] = [],
  consume = false,
): { names: EventNames; base: bigint; rows: number } {
  const skipCpu = skip.includes('cpu'),
    skipFlags = skip.includes('flags'),
    skipOldDev = skip.includes('oldDev'),
    skipCount = skip.includes('count');
  const cols = eventColumns(table);
  const nb = cols.ts.length;
  const names: EventNames = { dev: [], comm: [], rwbs: [] };
  const devIndex = new Map<string, number>();
  const commIndex = new Map<string, number>();
  const rwbsIndex = new Map<string, number>();
  const nameOf = (m: Map<string, number>, list: string[], s: string) => {
    let k = m.get(s);
    if (k === undefined) {
      k = list.length;
      list.push(s);
      m.set(s, k);
    }
    return k;
  };
  const actionCode = new Map<string, number>(BLOCK_ACTIONS.map((a, i) => [a, i]));
  const opCode = new Map<string, number>(BLOCK_OPS.map((a, i) => [a, i]));

  let base: bigint | undefined;
  let baseNum = 0;
  let baseSafe = false;
  let firstRow = 0;
  let cap = 0;
  const lastUse = consume ? buffersLastUsed(table) : null;
  let b: EventBatch | undefined;
  let act = new Int32Array(0);
  for (let k = 0; k < nb; k++) {
    const tsB = cols.ts[k]!;
    const n = tsB.length;
    if (n > cap || !b) {
      cap = Math.max(n, 1024);
      b = newEventBatch(cap, skipCpu, skipOldDev, skipCount);
      act = new Int32Array(cap);
    }
    b.length = n;
    b.firstRow = firstRow;
    const tv = tsB.values as BigInt64Array;
    if (base === undefined && n > 0) {
      base = tv[0]!;
      baseNum = Number(base);
      baseSafe = base <= MAX_SAFE && base >= -MAX_SAFE;
    }
    if (n > 0) relativeTimes(tv, n, b.ts, base!, baseNum, baseSafe, firstRow);
    if (!skipCpu) copyNum(cols.cpu[k]!, b.cpu, -1);
    copyNum(cols.pid[k]!, b.pid, -1);
    copyDict(cols.comm[k]!, b.comm, (s) => nameOf(commIndex, names.comm, s));
    copyDict(cols.dev[k]!, b.dev, (s) => nameOf(devIndex, names.dev, s));
    if (!skipOldDev) copyDict(cols.oldDev[k]!, b.oldDev, (s) => nameOf(devIndex, names.dev, s));
    else {
      const c = cols.oldDev[k]!.cache ?? [];
      for (let j = 0; j < c.length; j++) nameOf(devIndex, names.dev, c[j]!);
    }
    copyDict(cols.rwbs[k]!, b.rwbs, (s) => nameOf(rwbsIndex, names.rwbs, s));
    copyDict(cols.action[k]!, act, (s) => actionCode.get(s) ?? 255);
    narrowCodes(b.action, act, n, 255);
    copyDict(cols.op[k]!, act, (s) => opCode.get(s) ?? Op.other);
    narrowCodes(b.op, act, n, Op.other);
    if (!skipFlags) {
      const fl = b.flags;
      fl.fill(0, 0, n);
      orBool(cols.sync[k]!, fl, BlockFlag.sync);
      orBool(cols.meta[k]!, fl, BlockFlag.meta);
      orBool(cols.fua[k]!, fl, BlockFlag.fua);
      orBool(cols.preflush[k]!, fl, BlockFlag.preflush);
      orBool(cols.readahead[k]!, fl, BlockFlag.readahead);
    }
    copyNum(cols.sector[k]!, b.sector, -1);
    copyNum(cols.nr[k]!, b.nr, 0);
    copyNum(cols.bytes[k]!, b.bytes, 0);
    copyNum(cols.error[k]!, b.error, NULL_ERROR);
    copyNum(cols.newSector[k]!, b.newSector, -1);
    if (!skipCount) copyNum(cols.count[k]!, b.count, -1);
    fn(b, names, base ?? 0n);
    firstRow += n;
    if (consume) release(table, k, lastUse!);
  }
  return { names, base: base ?? 0n, rows: firstRow };
}

/**
 * The chunks of a block_events table being built (BlockEventsBuilder.streamTo) as EventBatches,
 * for a sweep that runs while the trace is read: the batch `of` gives for a chunk is the one
 * forEachEventBatch gives for the same rows of the finished table with the columns in
 * UNSWEPT_COLUMNS skipped (dictionary keys are the builder's, which index BlockEventsBuilder.names()),
 * so the sweep sees the same values either way.
 */
export class ChunkBatches {
  /** Made for the first chunk's rows, then for a full chunk's (a short trace takes no more). */
  private b = newEventBatch(0, true, true, true);
  /** ts_ns of the first row (undefined before any). */
  base: bigint | undefined;
  private baseNum = 0;
  private baseSafe = false;

  /** Rows [0, n) of a chunk whose first row is row `firstRow` of the table (valid until the next call). */
  of(c: SweptColumns, n: number, firstRow: number): EventBatch {
    if (n > this.b.ts.length) this.b = newEventBatch(this.b.ts.length === 0 ? n : CHUNK_ROWS, true, true, true);
    return this.fill(this.b, c, n, firstRow);
  }

  /**
   * What `of` gives, into `b` (a batch of CHUNK_ROWS rows, e.g. a slot of a SweepSlots ring shared
   * with the thread that sweeps it); valid until `b` is filled again.
   */
  into(b: EventBatch, c: SweptColumns, n: number, firstRow: number): EventBatch {
    if (n > b.ts.length) throw new RangeError(`ChunkBatches.into: ${n} rows do not fit a batch of ${b.ts.length}`);
    return this.fill(b, c, n, firstRow);
  }

  private fill(b: EventBatch, c: SweptColumns, n: number, firstRow: number): EventBatch {
    b.length = n;
    b.firstRow = firstRow;
    if (n === 0) return b;
    if (this.base === undefined) {
      const base = c.ts[0]!;
      this.base = base;
      this.baseNum = Number(base);
      this.baseSafe = base <= MAX_SAFE && base >= -MAX_SAFE;
    }
    relativeTimes(c.ts, n, b.ts, this.base, this.baseNum, this.baseSafe, firstRow);
    b.pid.set(c.pid.subarray(0, n));
    keysOrNull(b.comm, c.comm, n, c.nulls[V_COMM]! > 0 ? c.valid[V_COMM]! : null);
    keysOrNull(b.dev, c.dev, n, c.nulls[V_DEV]! > 0 ? c.valid[V_DEV]! : null);
    b.action.set(c.action.subarray(0, n));
    b.rwbs.set(c.rwbs.subarray(0, n));
    b.op.set(c.op.subarray(0, n));
    int64OrNull(b.sector, c.sector, n, c.nulls[V_SECTOR]! > 0 ? c.valid[V_SECTOR]! : null, -1);
    b.nr.set(c.nr.subarray(0, n));
    b.bytes.set(c.bytes.subarray(0, n));
    // the mostly-null columns: their bitmaps mark values, `nulls` counts them
    if (c.error === null || c.nulls[V_ERROR] === 0) b.error.fill(NULL_ERROR, 0, n);
    else sparseNum(b.error, c.error, n, c.valid[V_ERROR]!, NULL_ERROR);
    if (c.newSector === null || c.nulls[V_NEW_SECTOR] === 0) b.newSector.fill(-1, 0, n);
    else int64OrNull(b.newSector, c.newSector, n, c.valid[V_NEW_SECTOR]!, -1);
    return b;
  }
}

/** Columns a sweep fed by ChunkBatches goes without (as forEachEventBatch's `skip`). */
export const UNSWEPT_COLUMNS: readonly SkippableColumn[] = ['cpu', 'flags', 'oldDev', 'count'];
/** Those columns in a SweepSlots batch: empty. */
const UNSWEPT_EMPTY = { cpu: new Int32Array(0), flags: new Uint8Array(0), oldDev: new Int32Array(0), count: new Int32Array(0) };

/** Bytes of the swept columns of one row of a SweepSlots batch: ts, sector, nr, bytes, newSector (8); pid, comm, dev, rwbs, error (4); action, op (1). */
const BYTES_PER_SWEPT_ROW = 5 * 8 + 5 * 4 + 2;

/**
 * A ring of batches of CHUNK_ROWS rows over one SharedArrayBuffer, for a sweep in another thread
 * (request-sweep.ts): the parsing thread fills slot k (ChunkBatches.into) and the sweeping thread,
 * holding views of the same memory (SweepSlots.over), reads it, so no batch is allocated, copied
 * or transferred per chunk. Who may touch a slot when is the callers' protocol (a slot is filled
 * again only after the sweep of its last batch is signalled through Atomics).
 */
export class SweepSlots {
  readonly slots: EventBatch[];
  private constructor(
    readonly memory: SharedArrayBuffer,
    count: number,
  ) {
    this.slots = [];
    const rows = CHUNK_ROWS;
    for (let k = 0; k < count; k++) {
      let at = k * rows * BYTES_PER_SWEPT_ROW;
      const f64 = () => {
        const a = new Float64Array(memory, at, rows);
        at += rows * 8;
        return a;
      };
      const i32 = () => {
        const a = new Int32Array(memory, at, rows);
        at += rows * 4;
        return a;
      };
      const u8 = () => {
        const a = new Uint8Array(memory, at, rows);
        at += rows;
        return a;
      };
      // 8-byte values first, so every view is aligned
      const ts = f64(),
        sector = f64(),
        nr = f64(),
        bytes = f64(),
        newSector = f64();
      const pid = i32(),
        comm = i32(),
        dev = i32(),
        rwbs = i32(),
        error = i32();
      const action = u8(),
        op = u8();
      this.slots.push(eventBatch({ ...UNSWEPT_EMPTY, ts, pid, comm, dev, action, rwbs, op, sector, nr, bytes, error, newSector }));
    }
  }

  /** `count` slots in new shared memory. */
  static make(count: number): SweepSlots {
    return new SweepSlots(new SharedArrayBuffer(count * CHUNK_ROWS * BYTES_PER_SWEPT_ROW), count);
  }

  /** The slots of a ring made in another thread (its `memory`, posted to this one). */
  static over(memory: SharedArrayBuffer): SweepSlots {
    const count = memory.byteLength / (CHUNK_ROWS * BYTES_PER_SWEPT_ROW);
    if (!Number.isInteger(count)) throw new RangeError(`SweepSlots.over: ${memory.byteLength} bytes is not a whole number of slots`);
    return new SweepSlots(memory, count);
  }
}

/** dst[i] = src[i], or -1 where the validity bit is clear. */
function keysOrNull(dst: Int32Array, src: Int32Array | Int16Array, n: number, valid: Uint8Array | null): void {
  if (valid === null) {
    dst.set(src.subarray(0, n));
    return;
  }
  for (let i = 0; i < n; i++) dst[i] = (valid[i >> 3]! & (1 << (i & 7))) !== 0 ? src[i]! : -1;
}

/** dst[i] = src[i] where the validity bit is set, else `nullValue`. */
function sparseNum(dst: Int32Array, src: Int16Array, n: number, valid: Uint8Array, nullValue: number): void {
  for (let i = 0; i < n; i++) dst[i] = (valid[i >> 3]! & (1 << (i & 7))) !== 0 ? src[i]! : nullValue;
}

/** int64 values as exact numbers (a value past 2^53 throws), or `nullValue` where the validity bit is clear. */
function int64OrNull(
  dst: Int32Array | Float64Array,
  src: BigInt64Array | BigUint64Array,
  n: number,
  valid: Uint8Array | null,
  nullValue: number,
): void {
  // the signed halves read as two int32 words (little-endian): unsigned values take the BigInt path
  const words = LE && src instanceof BigInt64Array ? new Int32Array(src.buffer, src.byteOffset, n * 2) : null;
  for (let i = 0; i < n; i++) {
    if (valid !== null && (valid[i >> 3]! & (1 << (i & 7))) === 0) {
      dst[i] = nullValue;
      continue;
    }
    if (words) {
      const hi = words[2 * i + 1]!;
      if (hi < 0x200000 && hi >= -0x200000) {
        dst[i] = hi * 4294967296 + (words[2 * i]! >>> 0);
        continue;
      }
    }
    const x = src[i]!;
    if (x > MAX_SAFE || x < -MAX_SAFE) throw new RangeError(`block_events: value ${x} exceeds 2^53`);
    dst[i] = Number(x);
  }
}

/** The record batches of each block_events column EventBatch is filled from (checked to line up). */
function eventColumns(table: Table) {
  const col = (name: string) => {
    const c = table.getChild(name);
    if (!c) throw new Error(`block_events table has no column ${name}`);
    return c.data as unknown as AnyBatch[];
  };
  const cols = {
    ts: col('ts_ns'),
    cpu: col('cpu'),
    pid: col('pid'),
    comm: col('comm'),
    dev: col('dev'),
    action: col('action'),
    rwbs: col('rwbs'),
    op: col('op'),
    sync: col('sync'),
    meta: col('meta'),
    fua: col('fua'),
    preflush: col('preflush'),
    readahead: col('readahead'),
    sector: col('sector'),
    nr: col('nr_sectors'),
    bytes: col('bytes'),
    error: col('error'),
    newSector: col('new_sector'),
    oldDev: col('old_dev'),
    count: col('count'),
  };
  const nb = cols.ts.length;
  for (const [k, v] of Object.entries(cols)) {
    if (v.length !== nb) throw new Error(`block_events: column ${k} has ${v.length} record batches, ts_ns has ${nb}`);
  }
  return cols;
}

/** An EventBatch of `cap` rows, with the skipped columns at their null value. */
function newEventBatch(cap: number, skipCpu: boolean, skipOldDev: boolean, skipCount: boolean): EventBatch {
  const b = eventBatch({
    ts: new Float64Array(cap),
    cpu: new Int32Array(cap),
    pid: new Int32Array(cap),
    comm: new Int32Array(cap),
    dev: new Int32Array(cap),
    action: new Uint8Array(cap),
    rwbs: new Int32Array(cap),
    op: new Uint8Array(cap),
    flags: new Uint8Array(cap),
    sector: new Float64Array(cap),
    nr: new Float64Array(cap),
    bytes: new Float64Array(cap),
    error: new Int32Array(cap),
    newSector: new Float64Array(cap),
    oldDev: new Int32Array(cap),
    count: new Int32Array(cap),
  });
  if (skipCpu) b.cpu.fill(-1);
  if (skipOldDev) b.oldDev.fill(-1);
  if (skipCount) b.count.fill(-1);
  return b;
}

/**
 * An EventBatch of these columns, always built by this one object literal: every batch the sweep
 * reads has one shape, with its fields in the object (a batch built by spreading objects kept
 * most of them out of it, and the sweep read them 25% slower).
 */
function eventBatch(c: Omit<EventBatch, 'length' | 'firstRow'>): EventBatch {
  return {
    length: 0,
    firstRow: 0,
    ts: c.ts,
    cpu: c.cpu,
    pid: c.pid,
    comm: c.comm,
    dev: c.dev,
    action: c.action,
    rwbs: c.rwbs,
    op: c.op,
    flags: c.flags,
    sector: c.sector,
    nr: c.nr,
    bytes: c.bytes,
    error: c.error,
    newSector: c.newSector,
    oldDev: c.oldDev,
    count: c.count,
  };
}

/** The value and validity buffers of record batch k of each column. */
function batchBuffers(table: Table, k: number): ArrayBufferLike[] {
  const out: ArrayBufferLike[] = [];
  for (const c of table.children) {
    const batch = (c.data as unknown as (AnyBatch | null)[])[k];
    if (!batch) continue;
    const v = batch.values as unknown as ArrayBufferView | undefined;
    if (v && ArrayBuffer.isView(v)) out.push(v.buffer);
    if (batch.validity && batch.validity.byteLength) out.push(batch.validity.buffer);
  }
  return out;
}

/** For each buffer of the table's record batches, the last batch that uses it. */
function buffersLastUsed(table: Table): Map<ArrayBufferLike, number> {
  const last = new Map<ArrayBufferLike, number>();
  const nb = table.children[0]?.data.length ?? 0;
  for (let k = 0; k < nb; k++) for (const buf of batchBuffers(table, k)) last.set(buf, k);
  return last;
}

/**
 * Take record batch k out of the table, and hand back the memory of the buffers no later batch
 * uses: a buffer transferred to a clone that is dropped at once is freed by the next minor
 * collection, where the table's own (old) buffers would wait for a full one.
 */
function release(table: Table, k: number, lastUse: Map<ArrayBufferLike, number>): void {
  for (const buf of batchBuffers(table, k)) {
    if (lastUse.get(buf) !== k) continue;
    lastUse.delete(buf);
    releaseBuffers(buf);
  }
  for (const c of table.children) (c.data as unknown as (AnyBatch | null)[])[k] = null;
}

/** Events per action code (Act) in a block_events table, from the action column's dictionary keys. */
export function countActions(table: Table): Float64Array {
  const count = new Float64Array(256);
  const batches = (table.getChild('action')?.data ?? []) as unknown as AnyBatch[];
  for (const b of batches) {
    const cache = b.cache ?? [];
    const perKey = new Float64Array(cache.length + 1);
    const v = b.values as ArrayLike<number>;
    for (let i = 0; i < b.length; i++) if (valid(b, i)) perKey[v[i]!]!++;
    for (let j = 0; j < cache.length; j++) count[BLOCK_ACTIONS.indexOf(cache[j] as (typeof BLOCK_ACTIONS)[number]) & 255]! += perKey[j]!;
  }
  return count;
}

// The loops below are small functions of their own, called once per column and batch: each is
// optimised after the first batches, where a loop inside the long sweep function would start cold
// in every call (it runs once per table).

/** ts_ns of one batch as ns since `base`, exact (a difference past 2^53 ns throws). */
function relativeTimes(
  tv: BigInt64Array,
  n: number,
  dst: Float64Array,
  base: bigint,
  baseNum: number,
  baseSafe: boolean,
  firstRow: number,
): void {
  const tw = new Int32Array(tv.buffer, tv.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    // little-endian words: low (unsigned), high (signed); exact while |value| < 2^53
    const hi = tw[2 * i + 1]!;
    const v = hi * 4294967296 + (tw[2 * i]! >>> 0);
    if (LE && baseSafe && hi < 0x200000 && hi > -0x200000) {
      dst[i] = v - baseNum;
      continue;
    }
    const d = tv[i]! - base;
    if (d > MAX_SAFE || d < -MAX_SAFE)
      throw new RangeError(`block_events row ${firstRow + i}: ts_ns ${tv[i]} is more than 2^53 ns from the first event`);
    dst[i] = Number(d);
  }
}

/** Dictionary codes (act) into a Uint8Array; a negative code (null) becomes `nullCode`. */
function narrowCodes(dst: Uint8Array, act: Int32Array, n: number, nullCode: number): void {
  for (let i = 0; i < n; i++) {
    const c = act[i]!;
    dst[i] = c < 0 ? nullCode : c;
  }
}

function copyNum(src: AnyBatch, dst: Int32Array | Float64Array, nullValue: number): void {
  const v = src.values;
  const n = src.length;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    int64OrNull(dst, v, n, src.nullCount > 0 && src.validity !== null && src.validity.length > 0 ? src.validity : null, nullValue);
    return;
  }
  if (src.nullCount === 0 && ArrayBuffer.isView(v)) {
    // same element conversion as the loop, done by the engine
    dst.set((v as Int32Array).subarray(0, n));
    return;
  }
  copySmall(src, v as ArrayLike<number>, dst, nullValue, n);
}

function copySmall(src: AnyBatch, v: ArrayLike<number>, dst: Int32Array | Float64Array, nullValue: number, n: number): void {
  const check = src.nullCount > 0;
  for (let i = 0; i < n; i++) {
    if (check && !valid(src, i)) {
      dst[i] = nullValue;
      continue;
    }
    dst[i] = v[i]!;
  }
}

function copyDict(src: AnyBatch, dst: Int32Array, map: (s: string) => number): void {
  const cache = src.cache ?? [];
  const remap = new Int32Array(cache.length);
  for (let j = 0; j < cache.length; j++) remap[j] = map(cache[j]!);
  const v = src.values as ArrayLike<number>;
  const n = src.length;
  if (!src.nullCount || !src.validity || src.validity.length === 0) {
    for (let i = 0; i < n; i++) dst[i] = remap[v[i]!]!;
    return;
  }
  for (let i = 0; i < n; i++) dst[i] = valid(src, i) ? remap[v[i]!]! : -1;
}

function orBool(src: AnyBatch, dst: Uint8Array, bit: number): void {
  // bool batches store bit-packed values
  const v = src.values as Uint8Array;
  for (let i = 0; i < src.length; i++) if (v[i >> 3]! & (1 << (i & 7))) dst[i]! |= bit;
}
