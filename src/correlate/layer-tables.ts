/**
 * Columnar correlation inputs from the readers' Arrow tables: app_io (strace ingest) → AppLayer,
 * block_requests (request reconstruction) → BlockLayer. 64-bit values go through checked
 * conversions: times become float64 ns relative to the earliest time of the table (exact up to
 * 2^53 ns after it), offsets and sizes must be below 2^53.
 */
import type { Table } from '@uwdata/flechette';
import { int64Column, int64Words, numberColumn, stringColumn, hasColumn, type Int64Values } from '../table/column-arrays.js';
import { Op } from './layer-link.js';
import type { AppLayer, BlockLayer } from './layers.js';
import { InputError } from '../util/errors.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function minValid(c: Int64Values): bigint | null {
  let m: bigint | null = null;
  for (let i = 0; i < c.values.length; i++) {
    if (c.valid && !c.valid[i]) continue;
    const v = c.values[i]!;
    if (m === null || v < m) m = v;
  }
  return m;
}

const TWO32 = 4294967296;

/** Where a row of a table came from, for errors: the input file and, when known, its line. */
type RowPlace = (row: number) => { file: string; line?: number };

/**
 * Relative float64 values (NaN for nulls). A value 2^53 or more past the base cannot be held
 * exactly: an InputError naming the input the row came from.
 */
function relative(c: Int64Values, base: bigint, what: string, placeOf: RowPlace): Float64Array {
  const out = new Float64Array(c.values.length);
  const h = int64Words(c.values);
  const bHi = Number(BigInt.asIntN(32, base >> 32n)),
    bLo = Number(BigInt.asUintN(32, base));
  const baseFits = base >= -(1n << 62n) && base < 1n << 62n;
  for (let i = 0; i < out.length; i++) {
    if (c.valid && !c.valid[i]) {
      out[i] = NaN;
      continue;
    }
    if (baseFits) {
      // (hi - bHi) * 2^32 + (lo - bLo): exact while |hi - bHi| < 2^21, i.e. |d| < 2^53
      const dh = h.hi[2 * i + 1]! - bHi;
      if (dh > -2097152 && dh < 2097151) {
        out[i] = dh * TWO32 + (h.lo[2 * i]! - bLo);
        continue;
      }
    }
    const d = c.values[i]! - base;
    if (d > MAX || d < -MAX) {
      const at = placeOf(i);
      throw new InputError(
        at.file,
        `${what} ${c.values[i]} (row ${i}) is more than 2^53 from ${base}: not a value this analysis can hold exactly`,
        at.line !== undefined ? { line: at.line } : {},
      );
    }
    out[i] = Number(d);
  }
  return out;
}

const opCode = (name: string) => (name === 'read' ? Op.Read : name === 'write' ? Op.Write : Op.Other);

/** app_io table → AppLayer. Rows without a time get NaN times (they never link). */
export function appLayerFromTable(table: Table, vm: string): AppLayer {
  const n = table.numRows;
  const ts = int64Column(table, 'ts_ns');
  const dur = int64Column(table, 'dur_ns');
  const base = minValid(ts) ?? 0n;
  const fileCol = table.getChild('file'),
    lineCol = table.getChild('line');
  // app_io rows name the strace log and line they came from
  const placeOf: RowPlace = (row) => {
    const file = fileCol?.at(row),
      line = lineCol?.at(row);
    return { file: typeof file === 'string' ? file : 'app_io', ...(line !== null && line !== undefined ? { line: Number(line) } : {}) };
  };
  const t0 = relative(ts, base, 'app_io.ts_ns', placeOf);
  const durRel = relative(dur, 0n, 'app_io.dur_ns', placeOf);
  const t1 = new Float64Array(n);
  for (let i = 0; i < n; i++) t1[i] = t0[i]! + (Number.isNaN(durRel[i]!) ? 0 : durRel[i]!);
  const ops = stringColumn(table, 'op');
  const op = new Uint8Array(n),
    opKey = new Uint8Array(n);
  const opCodes = ops.labels.map(opCode);
  for (let i = 0; i < n; i++) {
    const k = ops.codes[i]!;
    opKey[i] = k < 0 ? 0 : k;
    op[i] = k < 0 ? Op.Other : opCodes[k]!;
  }
  const path = stringColumn(table, 'path');
  const idCol = numberColumn(table, 'id');
  const id = new Int32Array(n);
  for (let i = 0; i < n; i++) id[i] = idCol[i]!;
  const direct = new Uint8Array(n);
  // bool columns are bit-packed in Arrow: read them through the column's own accessor
  const dc = table.getChild('direct');
  if (!dc) throw new TypeError('not an app_io table: no column direct');
  let i = 0;
  for (const v of dc) direct[i++] = v ? 1 : 0;
  return {
    vm,
    length: n,
    id,
    op,
    opKey,
    opNames: ops.labels.length ? ops.labels : ['other'],
    file: path.codes,
    files: path.labels,
    offset: relative(int64Column(table, 'offset'), 0n, 'app_io.offset', placeOf),
    bytes: relative(int64Column(table, 'bytes_done'), 0n, 'app_io.bytes_done', placeOf),
    t0,
    t1,
    direct,
    baseNs: base,
  };
}

/**
 * block_requests table → BlockLayer of the requests the device processed: those with an issue
 * time (for bio rows of bio-based devices, the queue time) and a sector (requests merged into
 * others are counted in the one that absorbed them; flushes carry no bytes). `rows` maps layer
 * index → table row.
 */
export function blockLayerFromTable(table: Table): { layer: BlockLayer; rows: Int32Array } {
  const source = table.schema.metadata?.get('source') ?? 'block_requests';
  const blockPlace: RowPlace = () => ({ file: source });
  const sector = int64Column(table, 'sector');
  const bytes = int64Column(table, 'bytes');
  const issue = int64Column(table, 'issue_ns');
  const complete = int64Column(table, 'complete_ns');
  const ops = stringColumn(table, 'op');
  const rwbs = stringColumn(table, 'rwbs');
  const idCol = hasColumn(table, 'id') ? numberColumn(table, 'id') : null;
  const n0 = table.numRows;
  // bio-based devices have no request events: a bio row's processing time is its queue time
  if (hasColumn(table, 'kind') && hasColumn(table, 'queue_ns')) {
    const kind = stringColumn(table, 'kind');
    const bio = kind.labels.indexOf('bio'),
      request = kind.labels.indexOf('request');
    let requests = 0;
    for (let i = 0; i < n0; i++) if (kind.codes[i] === request) requests++;
    const queue = int64Column(table, 'queue_ns');
    // only when the device has no request events at all (on blk-mq devices a bio row is one the
    // trace ended before it became a request: it was never processed within the trace)
    if (bio >= 0 && requests === 0)
      for (let i = 0; i < n0; i++) {
        if (kind.codes[i] !== bio || (issue.valid ? issue.valid[i] : true) || (queue.valid && !queue.valid[i])) continue;
        issue.values[i] = queue.values[i]!;
        issue.valid![i] = 1;
      }
  }
  let n = 0;
  const keep = new Int32Array(n0);
  for (let i = 0; i < n0; i++) {
    if (issue.valid && !issue.valid[i]) continue;
    if (sector.valid && !sector.valid[i]) continue;
    keep[n++] = i;
  }
  const base = minValid(issue) ?? 0n;
  const issueRel = relative(issue, base, 'block_requests.issue_ns', blockPlace);
  const completeRel = relative(complete, base, 'block_requests.complete_ns', blockPlace);
  // sectors and sizes as exact float64 (both below 2^53, checked per row)
  const sectorNum = relative(sector, 0n, 'block_requests.sector', blockPlace);
  const bytesNum = relative(bytes, 0n, 'block_requests.bytes', blockPlace);
  const opCodes = ops.labels.map(opCode);
  const ra = rwbs.labels.map((s) => (/^[FD]?[RWDN][^A]*A/.test(s) ? 1 : 0));
  const meta = rwbs.labels.map((s) => (/M/.test(s) ? 1 : 0));
  // blk_fill_rwbs (kernel/trace/blktrace.c): [F preflush] op [F fua] [A rahead] [S sync] [M meta]
  const sync = rwbs.labels.map((s) => (/^F?[RWDEN]F?A?S/.test(s) ? 1 : 0));
  const syncFlag = new Uint8Array(n);
  const layer: BlockLayer = {
    length: n,
    id: new Int32Array(n),
    start: new Float64Array(n),
    end: new Float64Array(n),
    op: new Uint8Array(n),
    issue: new Float64Array(n),
    complete: new Float64Array(n),
    readahead: new Uint8Array(n),
    syncFlag,
    meta: new Uint8Array(n),
    baseNs: base,
  };
  const rows = keep.slice(0, n);
  const SAFE = Number.MAX_SAFE_INTEGER;
  for (let k = 0; k < n; k++) {
    const i = keep[k]!;
    layer.id[k] = idCol ? idCol[i]! : i;
    const sec = sectorNum[i]!,
      b = Number.isNaN(bytesNum[i]!) ? 0 : bytesNum[i]!;
    // sec * 512 + b below 2^53, compared without rounding: sec <= (SAFE - b) / 512
    if (!(sec >= 0 && b >= 0 && sec <= Math.floor((SAFE - b) / 512))) {
      throw new RangeError(
        `block_requests row ${i}: byte address ${sector.values[i]! * 512n} + ${bytes.values[i]} exceeds 2^53 (or is negative)`,
      );
    }
    const start = sec * 512;
    layer.start[k] = start;
    layer.end[k] = start + b;
    const oc = ops.codes[i]!;
    layer.op[k] = oc < 0 ? Op.Other : opCodes[oc]!;
    layer.issue[k] = issueRel[i]!;
    const c = completeRel[i]!;
    layer.complete[k] = Number.isNaN(c) ? issueRel[i]! : c;
    const rk = rwbs.codes[i]!;
    layer.readahead[k] = rk >= 0 ? ra[rk]! : 0;
    layer.meta[k] = rk >= 0 ? meta[rk]! : 0;
    syncFlag[k] = rk >= 0 ? sync[rk]! : 0;
  }
  return { layer, rows };
}
