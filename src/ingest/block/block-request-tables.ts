/**
 * The output tables of the request reconstruction (block-requests.ts): block_requests, one row per
 * request, and block_bios, one row per queued bio with the request that finally carried it. The
 * columns are filled from the reconstruction's typed arrays a record batch at a time (column-fill.ts:
 * a typed-array copy per column and batch, no call per value); a builder that spills (spillTo)
 * moves each full batch to its scratch file, so writing the tables holds one batch of them in
 * memory. Times are kept relative to the trace's first event; `base` makes them absolute, exact in
 * Int64 (a BigInt sum where a number would not be exact).
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import { appendInt64, appendNumbers, fillInt64, fillNumbers, type FilledChunk, type NumArray } from '../../table/column-fill.js';
import { CHUNK_ROWS, type Int64ColumnBuilder, type NumberColumnBuilder, type StringColumnBuilder } from '../../table/column-builders.js';
import { assembleBatch, type IpcRecordBatch } from '../../table/table-builder.js';
import { ipcPartsWriter } from '../../table/arrow-file.js';
import { blockRequestsTable } from '../../table/schemas/block-requests.js';
import { blockBiosTable } from '../../table/schemas/block-bios.js';
import { BLOCK_OPS } from '../../table/schemas/block-events.js';
import type { EventNames } from './block-event-batches.js';
import { NULL_ERROR } from './block-event-batches.js';
import type { RequestReconstructor } from './block-requests.js';
import { PageStore, PagedF64, PagedI32, type PagedColumn } from './paged-columns.js';

// Small loops used for several columns: each runs once per column and batch, so it is optimised
// after the first columns instead of every loop of a long one-shot function starting cold.

/** dst[i] = keyOf[codes[from + i]], or `nullKey` where the code is negative. */
function keysOf(dst: Int32Array, codes: Int32Array, from: number, len: number, keyOf: readonly number[], nullKey: number): Int32Array {
  for (let i = 0; i < len; i++) {
    const c = codes[from + i]!;
    dst[i] = c >= 0 ? keyOf[c]! : nullKey;
  }
  return dst;
}

/** nulls[i] = 1 where a[from + i] < 0 (or, with `also`, where also[from + i] < 0). */
function negatives(nulls: Uint8Array, a: Int32Array | Float64Array, from: number, len: number, also: Int32Array | null = null): Uint8Array {
  if (also === null) for (let i = 0; i < len; i++) nulls[i] = a[from + i]! < 0 ? 1 : 0;
  else for (let i = 0; i < len; i++) nulls[i] = a[from + i]! < 0 || also[from + i]! < 0 ? 1 : 0;
  return nulls;
}

/** nulls[i] = 1 where no error was recorded or the request never completed. */
function errorNulls(nulls: Uint8Array, err: Int32Array, complete: Float64Array, from: number, len: number): Uint8Array {
  for (let i = 0; i < len; i++) nulls[i] = err[from + i] === NULL_ERROR || complete[from + i] !== complete[from + i] ? 1 : 0;
  return nulls;
}

/** dst[i] = min(a[from + i], 32767): counts in int16 columns. */
function capped16(dst: Int32Array, a: Int32Array, from: number, len: number): Int32Array {
  for (let i = 0; i < len; i++) {
    const v = a[from + i]!;
    dst[i] = v < 32767 ? v : 32767;
  }
  return dst;
}

/**
 * A key of block_events' schema metadata: from the table, or from the metadata a streamed table
 * is written with (BlockEventsBuilder.streamTo; the table adds only iolineage.table to it).
 */
function eventsMeta(events: Table | Record<string, string>, key: string): string | undefined {
  if ('schema' in events && typeof events.schema === 'object') {
    const v = (events as Table).schema.metadata?.get(key);
    return v === undefined ? undefined : String(v);
  }
  return Object.hasOwn(events, key) ? (events as Record<string, string>)[key] : undefined;
}

/**
 * Rows [from, from + len) of paged columns as arrays from index 0, for the fill functions: each
 * call of `at` copies into the next of a few arrays per type kept from batch to batch, so the
 * views of one batch's few nested calls do not overwrite each other.
 */
class ColumnViews {
  private readonly f64: Float64Array[];
  private readonly i32: Int32Array[];
  /** `slots`: the most rows a batch will have (batchSlots). */
  constructor(slots: number) {
    this.f64 = [0, 1, 2, 3].map(() => new Float64Array(slots));
    this.i32 = [0, 1, 2, 3].map(() => new Int32Array(slots));
  }
  private nf = 0;
  private ni = 0;
  /** The `at` of rows [from, from + len). */
  rows(from: number, len: number): <A extends Float64Array | Int32Array>(c: PagedColumn<A>) => A {
    return <A extends Float64Array | Int32Array>(c: PagedColumn<A>): A => {
      if (c instanceof PagedF64) return c.copyTo(this.f64[this.nf++ & 3]!, from, len) as A;
      return (c as unknown as PagedI32).copyTo(this.i32[this.ni++ & 3]!, from, len) as A;
    };
  }
  declare at: ReturnType<ColumnViews['rows']>;
}

/** Schema metadata of block_requests (from block_events' table or metadata). */
export function requestsMetadata(events: Table | Record<string, string>): Record<string, string> {
  return {
    'iolineage.source': eventsMeta(events, 'iolineage.source') ?? 'block_events',
    clock: eventsMeta(events, 'clock') ?? '',
  };
}

/** Schema metadata of block_bios (from block_events' table or metadata). */
export function biosMetadata(events: Table | Record<string, string>): Record<string, string> {
  return { clock: eventsMeta(events, 'clock') ?? '' };
}

/**
 * Where the columns of one record batch go, by column name: appended to a TableBuilder's columns
 * (BuilderBatches), or into arrays reused from batch to batch and encoded at once (StreamBatches).
 * Both take the same calls, so the tables in memory and the files written a batch at a time hold
 * the same bytes.
 */
interface BatchOut {
  num(name: string, src: Int32Array | Float64Array, from: number, nulls?: Uint8Array | null): void;
  i64(name: string, src: Float64Array, from: number, nulls?: Uint8Array | null, base?: bigint | null): void;
}

/** Columns of a builder by name (the typed getters of TableBuilder, by the spec's type). */
function columnsOf(t: TableBuilder): Map<string, Int64ColumnBuilder | NumberColumnBuilder<NumArray> | StringColumnBuilder> {
  const m = new Map<string, Int64ColumnBuilder | NumberColumnBuilder<NumArray> | StringColumnBuilder>();
  for (const c of t.spec.columns) {
    if (c.type === 'bool') throw new Error(`${t.spec.name}.${c.name}: bool columns are not filled a batch at a time`);
    m.set(c.name, c.type === 'int64' ? t.int64(c.name) : c.type === 'string' ? t.string(c.name) : t.number(c.name));
  }
  return m;
}

/** Batches appended to the builder's columns (each a chunk of its own). */
class BuilderBatches implements BatchOut {
  len = 0;
  private readonly cols: ReturnType<typeof columnsOf>;
  constructor(t: TableBuilder) {
    this.cols = columnsOf(t);
  }
  num(name: string, src: Int32Array | Float64Array, from: number, nulls: Uint8Array | null = null): void {
    appendNumbers(this.cols.get(name) as NumberColumnBuilder<NumArray>, src, from, this.len, nulls);
  }
  i64(name: string, src: Float64Array, from: number, nulls: Uint8Array | null = null, base: bigint | null = null): void {
    appendInt64(this.cols.get(name) as Int64ColumnBuilder, src, from, this.len, nulls, base);
  }
}

const EMPTY = new Uint8Array(0);

/** Slots of the arrays a batch is made in: a table of fewer rows than a chunk takes no more. */
const batchSlots = (rows: number): number => Math.max(1, Math.min(CHUNK_ROWS, rows));

/** One batch at a time in arrays reused from batch to batch, as the record batch an IPC encoder takes. */
class StreamBatches implements BatchOut {
  len = 0;
  private readonly arrays = new Map<string, NumArray | BigInt64Array>();
  private readonly filled = new Map<string, FilledChunk>();
  constructor(
    private readonly t: TableBuilder,
    rows: number,
  ) {
    for (const [name, b] of columnsOf(t)) this.arrays.set(name, b.newChunk(batchSlots(rows)));
  }
  num(name: string, src: Int32Array | Float64Array, from: number, nulls: Uint8Array | null = null): void {
    this.filled.set(name, fillNumbers(this.arrays.get(name) as NumArray, src, from, this.len, nulls));
  }
  i64(name: string, src: Float64Array, from: number, nulls: Uint8Array | null = null, base: bigint | null = null): void {
    this.filled.set(name, fillInt64(this.arrays.get(name) as BigInt64Array, src, from, this.len, nulls, base));
  }
  /** The batch just filled (views valid until the next one is filled). */
  batch(): IpcRecordBatch {
    const len = this.len;
    return assembleBatch(
      this.t.spec.columns.map((c) => {
        const f = this.filled.get(c.name);
        if (!f) throw new Error(`${this.t.spec.name}: column ${c.name} was not filled`);
        const v = this.arrays.get(c.name)!;
        return [len, f.nullCount, [f.validity ? f.validity.subarray(0, (len + 7) >> 3) : EMPTY, v.subarray(0, len)]];
      }),
    );
  }
}

/**
 * What writes a table whose dictionaries are interned in `t` (and which has no rows of its own)
 * as an Arrow IPC file, its `rows` rows made a record batch at a time by `fill` while the file is
 * written: the bytes tableBuilderWriter would write for the builder filled by the same calls.
 */
function streamWriter(
  t: TableBuilder,
  metadata: Record<string, string>,
  rows: number,
  fill: (out: BatchOut, from: number, len: number) => void,
): (fd: number) => void {
  return (fd) => {
    const { schema, dictionaries } = t.ipcParts(metadata);
    const out = new StreamBatches(t, rows);
    function* records(): Generator<IpcRecordBatch> {
      // a table of no rows still has one (empty) record batch
      for (let from = 0; from < rows || (from === 0 && rows === 0); from += CHUNK_ROWS) {
        out.len = Math.min(CHUNK_ROWS, rows - from);
        fill(out, from, out.len);
        yield out.batch();
      }
    }
    ipcPartsWriter({ schema, dictionaries, records: records() })(fd);
  };
}

/** block_requests from the reconstructed request columns. */
export function requestsTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table | Record<string, string>): Table {
  const t = new TableBuilder(blockRequestsTable);
  const fill = requestBatches(R, names, base, t);
  const out = new BuilderBatches(t);
  for (let from = 0; from < R.nReq; from += CHUNK_ROWS) {
    out.len = Math.min(CHUNK_ROWS, R.nReq - from);
    fill(out, from, out.len);
  }
  return t.finish(requestsMetadata(events));
}

/** What writes block_requests.arrow a record batch at a time (the bytes of requestsTableOf's table). */
export function requestsFileWriter(
  R: RequestReconstructor,
  names: EventNames,
  base: bigint,
  metadata: Record<string, string>,
): (fd: number) => void {
  const t = new TableBuilder(blockRequestsTable);
  return streamWriter(t, metadata, R.nReq, requestBatches(R, names, base, t));
}

/** Interns the dictionaries of block_requests in `t`; returns what fills rows [from, from + len) of a batch. */
function requestBatches(
  R: RequestReconstructor,
  names: EventNames,
  base: bigint,
  t: TableBuilder<typeof blockRequestsTable>,
): (out: BatchOut, from: number, len: number) => void {
  // dictionary keys: request kinds and ops by their codes, names by the events' name lists
  const cKind = t.string('kind'),
    cDev = t.string('dev'),
    cOp = t.string('op'),
    cRwbs = t.string('rwbs'),
    cComm = t.string('comm');
  for (const k of ['request', 'bio']) cKind.intern(k);
  for (const o of BLOCK_OPS) cOp.intern(o);
  const devKey = names.dev.map((s) => cDev.intern(s));
  const rwbsKey = names.rwbs.map((s) => cRwbs.intern(s));
  const noRwbs = cRwbs.intern('');
  const commKey = names.comm.map((s) => cComm.intern(s));
  const slots = batchSlots(R.nReq);
  const keys = new Int32Array(slots);
  const nulls = new Uint8Array(slots);
  const views = new ColumnViews(slots);
  let at: ColumnViews['at'];
  return (out, from, len) => {
    at = views.rows(from, len);
    for (let i = 0; i < len; i++) keys[i] = from + i;
    out.num('id', keys, 0);
    out.num('kind', at(R.rKind), 0);
    out.num('dev', keysOf(keys, at(R.rDev), 0, len, devKey, 0), 0);
    out.num('op', at(R.rOp), 0);
    out.num('rwbs', keysOf(keys, at(R.rRwbs), 0, len, rwbsKey, noRwbs), 0);
    out.i64('sector', at(R.rSector), 0, negatives(nulls, at(R.rSector), 0, len));
    out.num('nr_sectors', at(R.rNr), 0);
    out.i64('bytes', at(R.rBytes), 0);
    out.i64('queue_ns', at(R.rQ), 0, null, base);
    out.i64('getrq_ns', at(R.rG), 0, null, base);
    out.i64('insert_ns', at(R.rI), 0, null, base);
    out.i64('issue_ns', at(R.rD), 0, null, base);
    out.i64('complete_ns', at(R.rC), 0, null, base);
    out.num('issue_order', at(R.rIssueOrder), 0, negatives(nulls, at(R.rIssueOrder), 0, len));
    out.num('bios', at(R.rBios), 0);
    out.num('queued_bios', at(R.rQBios), 0);
    out.num('issues', capped16(keys, at(R.rIssues), 0, len), 0);
    out.num('requeues', capped16(keys, at(R.rRequeues), 0, len), 0);
    out.num('completions', capped16(keys, at(R.rCompletions), 0, len), 0);
    // error: null where none was recorded or the request never completed
    out.num('error', at(R.rError), 0, errorNulls(nulls, at(R.rError), at(R.rC), 0, len));
    // split_from / split_sector: only on the pieces of a split bio
    out.num('split_from', at(R.rSplitFrom), 0, negatives(nulls, at(R.rSplitFrom), 0, len, at(R.rOriginBio)));
    out.i64('split_sector', at(R.rSplitSector), 0, negatives(nulls, at(R.rSplitSector), 0, len, at(R.rOriginBio)));
    out.num('merged_into', at(R.rMergedInto), 0, negatives(nulls, at(R.rMergedInto), 0, len));
    out.num('pid', at(R.rPid), 0, negatives(nulls, at(R.rPid), 0, len));
    out.num('comm', keysOf(keys, at(R.rComm), 0, len, commKey, 0), 0, negatives(nulls, at(R.rComm), 0, len));
  };
}

/** block_bios: rq merges and split completions resolved. */
export function biosTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const t = new TableBuilder(blockBiosTable);
  const fill = bioBatches(R, names, base, t);
  const out = new BuilderBatches(t);
  for (let from = 0; from < R.nBio; from += CHUNK_ROWS) {
    out.len = Math.min(CHUNK_ROWS, R.nBio - from);
    fill(out, from, out.len);
  }
  return t.finish(biosMetadata(events));
}

/** What writes block_bios.arrow a record batch at a time (the bytes of biosTableOf's table). */
export function biosFileWriter(
  R: RequestReconstructor,
  names: EventNames,
  base: bigint,
  metadata: Record<string, string>,
): (fd: number) => void {
  const t = new TableBuilder(blockBiosTable);
  return streamWriter(t, metadata, R.nBio, bioBatches(R, names, base, t));
}

/** Resolves each bio's final request and completion, interns the dictionaries of block_bios in `bt`; returns what fills a batch. */
function bioBatches(
  R: RequestReconstructor,
  names: EventNames,
  base: bigint,
  bt: TableBuilder<typeof blockBiosTable>,
): (out: BatchOut, from: number, len: number) => void {
  const n = R.nReq;
  const merged = R.rMergedInto;
  const final = (r: number) => {
    let k = 0;
    while (r >= 0 && merged.get(r) >= 0 && k++ < 1000) r = merged.get(r);
    return r;
  };
  const nb = R.nBio;
  // each bio's final request and completion, in columns paged as the rows are (to the same
  // scratch file): the passes run in row order, so the pages they read back are few at a time
  const store = new PageStore(R.spill);
  const request = new PagedI32(store);
  const bioDone = new PagedF64(store);
  const bioOpen = new PagedI32(store);
  const bReq = R.bReq,
    rC = R.rC,
    origin = R.rOriginBio;
  for (let bio = 0; bio < nb; bio++) {
    store.addRow();
    const r = final(bReq.get(bio));
    request.set(bio, r);
    bioDone.set(bio, NaN);
    if (r >= 0) {
      const c = rC.get(r);
      bioDone.set(bio, c);
      if (c !== c) bioOpen.set(bio, 1);
    }
  }
  for (let r = 0; r < n; r++) {
    const o = origin.get(r);
    if (o < 0) continue;
    const c = rC.get(final(r));
    if (c !== c) bioOpen.set(o, 1);
    else if (!(bioDone.get(o) >= c)) bioDone.set(o, c);
  }
  const bDevC = bt.string('dev'),
    bOpC = bt.string('op'),
    bRoleC = bt.string('role');
  const bDevKey = names.dev.map((s) => bDevC.intern(s));
  for (const o of BLOCK_OPS) bOpC.intern(o);
  for (const k of ['head', 'merged', 'split', 'alone']) bRoleC.intern(k);
  const slots = batchSlots(nb);
  const keys = new Int32Array(slots);
  const nulls = new Uint8Array(slots);
  const views = new ColumnViews(slots);
  let at: ColumnViews['at'];
  const doneRows = new Float64Array(slots);
  const openRows = new Int32Array(slots);
  return (out, from, len) => {
    at = views.rows(from, len);
    // a bio whose request (or a split piece of it) never completed has no completion
    const done = bioDone.copyTo(doneRows, from, len);
    const open = bioOpen.copyTo(openRows, from, len);
    for (let i = 0; i < len; i++) if (open[i]) done[i] = NaN;
    out.num('dev', keysOf(keys, at(R.bDev), 0, len, bDevKey, 0), 0);
    out.num('op', at(R.bOp), 0);
    out.i64('sector', at(R.bSector), 0, negatives(nulls, at(R.bSector), 0, len));
    out.num('nr_sectors', at(R.bNr), 0);
    out.i64('queue_ns', at(R.bQ), 0, null, base);
    out.i64('merge_ns', at(R.bM), 0, null, base);
    out.num('role', at(R.bRole), 0);
    out.num('request', at(request), 0, negatives(nulls, at(request), 0, len));
    out.i64('complete_ns', done, 0, null, base);
    out.num('pid', at(R.bPid), 0);
  };
}
