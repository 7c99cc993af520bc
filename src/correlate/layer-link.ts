/**
 * Links the requests of one layer ("upper": application I/Os, or guest block requests) to the
 * requests of the layer below ("lower"), byte by byte.
 *
 * The upper requests are first translated into the lower layer's address space ("segments",
 * see upper-segments.ts). Every lower request's byte range is then painted: candidates are the
 * segments that overlap it in address and satisfy a causality rule in time, taken in priority
 * order (tier, key, segment rank in address order), each byte going to the first candidate that
 * covers it. What no candidate covers is left unowned, to be classified by the attribution. So
 * each lower byte is linked to at most one upper request, and the pieces of a lower request sum
 * to its size.
 *
 * Causality rules (times of the upper layer already shifted into the lower layer's clock). Every
 * rule needs the same bytes first (identity); time only chooses among the upper requests that
 * touched them:
 * - tier 0, read served by the lower layer: the lower request is issued after the upper request
 *   starts and completes before it ends (`sync_read`, or `direct` for O_DIRECT / cache=none),
 *   the window widened by `earlyNs` before the start and `lateNs` after the end (the measured
 *   timestamp error of the upper layer); the candidate closest to holding the request wins
 *   (least time outside its window), then the earliest.
 * - tier 0, synchronous write (O_DIRECT, cache=none): same window rule (`direct`, `sync_write`);
 *   when the lower layer gives REQ_SYNC per request, only a sync write request qualifies (an
 *   O_DIRECT write bio is REQ_OP_WRITE | REQ_SYNC | REQ_IDLE, fs/iomap/direct-io.c).
 * - tier 1, buffered write: the lower write goes to the latest-ending earlier upper write of
 *   those bytes (`writeback`); an O_DIRECT upper write has no dirty pages to write back, so it is
 *   no candidate unless `writebackOfSyncWrites`.
 * - tier 1, readahead: a lower read outside every window goes to the earliest later upper read
 *   of those bytes (`readahead`), when enabled; with `readaheadNeedsFlag` only a request the
 *   kernel marked REQ_RAHEAD (rwbs `A`) is readahead.
 *
 * How it is found, without looking at every upper request that ever touched the addresses (a
 * block rewritten n times would cost n per lower request, so n^2 over a trace):
 * - tier 0 from the segments in flight at the lower request's issue (a sweep over lower requests
 *   by issue time and segments by start time);
 * - tier 1 from an owner per elementary address interval (the address space cut at every segment
 *   and request boundary): writes paint it forward in time, keeping the latest-ending writer;
 *   reads paint it backward in time, so the last painter is the earliest reader. A lower request
 *   reads the owners of its intervals.
 * Cost: O((n + m) log(n + m) + in-flight scans + elementary intervals painted and read).
 * Pieces of one lower request are adjacent, in paint order (tier 0 candidates, then tier 1 by
 * (key, segment), then unowned bytes by address); lower requests come in no particular order.
 */
import { GrowableArray, growFloat64, growInt32, growUint8 } from '../util/growable.js';
import { lowerBound, sortedOrder } from '../util/sorted.js';

/** Operation codes used by the correlation arrays. */
export const Op = { Read: 0, Write: 1, Other: 2 } as const;

/** How a link was made; index into LINK_HOWS of the links schemas. */
export const LinkHow = { SyncRead: 0, Direct: 1, SyncWrite: 2, Writeback: 3, Readahead: 4, None: 255 } as const;

/** Upper-layer requests translated into the lower address space (one upper request can give several segments). */
export interface Segments {
  length: number;
  /** Lower-layer byte address where the segment starts. */
  start: Float64Array;
  /** Exclusive end address. */
  end: Float64Array;
  /** Index of the upper request (into UpperTiming arrays). */
  upper: Int32Array;
  /** Address of the segment's first byte in the upper layer's own space (file offset, guest disk byte). */
  upperAddr: Float64Array;
}

/** Per upper request: op, time window in the LOWER layer's clock (ns, relative), and whether it is synchronous (O_DIRECT). */
export interface UpperTiming {
  op: Uint8Array;
  t0: Float64Array;
  t1: Float64Array;
  sync: Uint8Array;
}

/** Lower-layer requests: byte range, op and issue/complete times (ns, relative, lower clock). */
export interface LowerRequests {
  length: number;
  start: Float64Array;
  end: Float64Array;
  op: Uint8Array;
  issue: Float64Array;
  complete: Float64Array;
  /** REQ_RAHEAD per request (rwbs `A`), when known. */
  readahead?: Uint8Array;
  /** REQ_SYNC per request (rwbs `S`), when known. */
  syncFlag?: Uint8Array;
}

export interface LinkOptions {
  /** How far before an upper request's start a lower request may be issued and still be inside it, ns
   * (clock-offset uncertainty, timestamp resolutions, the upper layer's measured timestamp error). */
  earlyNs: number;
  /** How far after an upper request's end a lower request may complete and still be inside it, ns. */
  lateNs: number;
  /** Treat every upper write as synchronous (host layer under cache=none). */
  syncWrites: boolean;
  /** Link otherwise unowned lower reads to the earliest later upper read of the bytes. */
  readahead: boolean;
  /** Only lower reads marked REQ_RAHEAD are readahead (needs `LowerRequests.readahead`). */
  readaheadNeedsFlag?: boolean;
  /** Synchronous upper writes may own a later lower write as writeback (default false). */
  writebackOfSyncWrites?: boolean;
}

/**
 * The painted pieces of every lower request: pieces of request L are `first[L] ..
 * first[L] + count[L] - 1`; `upper` is -1 for unowned pieces.
 */
export interface LinkPieces {
  length: number;
  lower: Int32Array;
  upper: Int32Array;
  start: Float64Array;
  len: Float64Array;
  how: Uint8Array;
  /** Upper-layer address of the piece's first byte (NaN for unowned pieces). */
  upperAddr: Float64Array;
  first: Int32Array;
  count: Int32Array;
}

export function linkLayer(seg: Segments, up: UpperTiming, low: LowerRequests, opt: LinkOptions): LinkPieces {
  const ns = seg.length,
    nl = low.length,
    early = opt.earlyNs,
    late = opt.lateNs;
  const slack = early;
  const raFlag = opt.readaheadNeedsFlag ? low.readahead : undefined;
  const syncFlag = low.syncFlag;
  // Segments in address order (ties by index); a segment's rank in this order breaks ties of
  // equal keys between candidates.
  const segOrder = sortedOrder(seg.start, ns);
  const sStart = new Float64Array(ns),
    sEnd = new Float64Array(ns),
    sUpper = new Int32Array(ns),
    sAddr = new Float64Array(ns);
  const sOp = new Uint8Array(ns),
    sSync = new Uint8Array(ns),
    sT0 = new Float64Array(ns),
    sT1 = new Float64Array(ns);
  for (let k = 0; k < ns; k++) {
    const i = segOrder[k]!,
      u = seg.upper[i]!;
    sStart[k] = seg.start[i]!;
    sEnd[k] = seg.end[i]!;
    sUpper[k] = u;
    sAddr[k] = seg.upperAddr[i]!;
    sOp[k] = up.op[u]!;
    sSync[k] = up.sync[u]!;
    sT0[k] = up.t0[u]!;
    sT1[k] = up.t1[u]!;
  }
  const linkable = (L: number) =>
    (low.op[L] === Op.Read || low.op[L] === Op.Write) && low.end[L]! > low.start[L]! && !Number.isNaN(low.issue[L]!);

  // Elementary intervals: the address space cut at every segment and linkable request boundary.
  const grid = elementaryGrid(sStart, sEnd, low, linkable);
  const sE0 = new Int32Array(ns),
    sE1 = new Int32Array(ns);
  for (let k = 0; k < ns; k++) {
    sE0[k] = grid.index(sStart[k]!);
    sE1[k] = grid.index(sEnd[k]!);
  }

  const out = new PieceOutput(nl);
  const scratch = new PieceScratch();
  const cov = new GrowableArray(Float64Array, 64);
  const runs = new RunList();

  // Linkable lower requests by issue time; the rest are unowned as a whole.
  const linkIdx: number[] = [];
  for (let L = 0; L < nl; L++) {
    if (linkable(L)) {
      linkIdx.push(L);
      continue;
    }
    out.begin(L);
    if (low.end[L]! > low.start[L]!) out.push(L, -1, low.start[L]!, low.end[L]! - low.start[L]!, LinkHow.None, NaN);
    out.end(L);
  }
  const nk = linkIdx.length;
  const issueKey = new Float64Array(nk);
  for (let j = 0; j < nk; j++) issueKey[j] = low.issue[linkIdx[j]!]!;
  const byIssue = sortedOrder(issueKey, nk);
  // the earliest completion among this and all later requests (issue order): a segment whose
  // window ends before it can no longer contain any of them
  const minLaterComplete = new Float64Array(nk + 1);
  minLaterComplete[nk] = Infinity;
  for (let j = nk - 1; j >= 0; j--) {
    const c = low.complete[linkIdx[byIssue[j]!]!]!;
    minLaterComplete[j] = Number.isNaN(c) ? minLaterComplete[j + 1]! : Math.min(c, minLaterComplete[j + 1]!);
  }

  // Tier 0 (the time-window rule) looks at the segments in flight around the request.
  const byT0 = sortedOrder(sT0, ns); // NaN sorts last; ties by address rank
  const windowSegs = segmentsBy(byT0, (k) => sOp[k] !== Op.Other && !Number.isNaN(sT0[k]!) && !Number.isNaN(sT1[k]!));
  const inFlight = new InFlightSegments(sStart, sEnd, sT1, late);
  let wPtr = 0;
  // Tier 1 of writes: the latest earlier write of each byte, kept per elementary interval.
  const wbSegs = segmentsBy(
    byT0,
    (k) => sOp[k] === Op.Write && (opt.writebackOfSyncWrites === true || !sSync[k]) && !Number.isNaN(sT0[k]!) && !Number.isNaN(sT1[k]!),
  );
  const wbOwner = new Int32Array(grid.length).fill(-1);
  let wbPtr = 0;
  const pending: number[] = []; // reads left for the readahead pass
  const tmp = new PieceScratch(); // their tier-0 pieces
  const tmpFirst = new Int32Array(nl),
    tmpCount = new Int32Array(nl);

  for (let j = 0; j < nk; j++) {
    const L = linkIdx[byIssue[j]!]!;
    const a = low.start[L]!,
      b = low.end[L]!,
      issue = low.issue[L]!,
      complete = low.complete[L]!,
      lop = low.op[L]!;
    while (wPtr < windowSegs.length && sT0[windowSegs[wPtr]!]! - early <= issue) inFlight.add(windowSegs[wPtr++]!);
    // tier 0 candidates, best first by (time outside the window, t0, segment)
    runs.clear();
    const syncWriteRequest = lop === Op.Write && (syncFlag === undefined || syncFlag[L] === 1);
    inFlight.overlapping(a, b, minLaterComplete[j]!, j, (s2) => {
      if (!(complete <= sT1[s2]! + late)) return;
      if (lop === Op.Write && !(syncWriteRequest && sOp[s2] === Op.Write && (sSync[s2] || opt.syncWrites))) return;
      runs.push(s2, Math.max(0, sT0[s2]! - issue) + Math.max(0, complete - sT1[s2]!), sT0[s2]!, 0, 0);
    });
    runs.sortByKey();
    cov.length = 0;
    scratch.clear();
    for (let r = 0; r < runs.length; r++) {
      const s = runs.seg[r]!;
      const how = lop === Op.Read ? (sSync[s] ? LinkHow.Direct : LinkHow.SyncRead) : sSync[s] ? LinkHow.Direct : LinkHow.SyncWrite;
      paintGaps(cov, scratch, Math.max(a, sStart[s]!), Math.min(b, sEnd[s]!), sUpper[s]!, how, sAddr[s]! - sStart[s]!);
    }
    const coveredAll = cov.length === 2 && cov.get(0) <= a && cov.get(1) >= b;
    if (lop === Op.Write) {
      while (wbPtr < wbSegs.length && sT0[wbSegs[wbPtr]!]! <= issue + slack) {
        const s = wbSegs[wbPtr++]!,
          t1 = sT1[s]!;
        for (let e = sE0[s]!, e1 = sE1[s]!; e < e1; e++) {
          const o = wbOwner[e]!;
          if (o < 0 || t1 > sT1[o]! || (t1 === sT1[o]! && s < o)) wbOwner[e] = s;
        }
      }
      if (!coveredAll) {
        collectRuns(runs, wbOwner, grid, a, b, (s) => -sT1[s]!);
        paintRuns(runs, cov, scratch, sStart, sEnd, sUpper, sAddr, LinkHow.Writeback);
      }
      out.begin(L);
      out.copy(L, scratch);
      out.unowned(L, cov, a, b);
      out.end(L);
    } else if (opt.readahead && !coveredAll && (raFlag === undefined || raFlag[L] === 1)) {
      tmpFirst[L] = tmp.length;
      tmp.append(scratch);
      tmpCount[L] = scratch.length;
      pending.push(L);
    } else {
      out.begin(L);
      out.copy(L, scratch);
      out.unowned(L, cov, a, b);
      out.end(L);
    }
  }

  // Tier 1 of reads (readahead): the earliest later read of each byte. Requests by issue time
  // descending; segments painted from the latest (t0, segment) down, so the last one painted on
  // an interval is its earliest reader not before the request.
  if (pending.length > 0) {
    const raSegs = segmentsBy(byT0, (k) => sOp[k] === Op.Read && !Number.isNaN(sT0[k]!));
    const raOwner = new Int32Array(grid.length).fill(-1);
    let raPtr = raSegs.length - 1;
    // pending is in issue order (stable): walk it backwards
    for (let j = pending.length - 1; j >= 0; j--) {
      const L = pending[j]!;
      const a = low.start[L]!,
        b = low.end[L]!,
        q = low.issue[L]! - slack;
      while (raPtr >= 0 && sT0[raSegs[raPtr]!]! >= q) {
        const s = raSegs[raPtr--]!;
        for (let e = sE0[s]!, e1 = sE1[s]!; e < e1; e++) raOwner[e] = s;
      }
      scratch.clear();
      scratch.appendFrom(tmp, tmpFirst[L]!, tmpCount[L]!);
      cov.length = 0;
      for (let k = 0; k < scratch.length; k++) addCovered(cov, scratch.start.get(k), scratch.start.get(k) + scratch.len.get(k));
      collectRuns(runs, raOwner, grid, a, b, (s) => sT0[s]!);
      paintRuns(runs, cov, scratch, sStart, sEnd, sUpper, sAddr, LinkHow.Readahead);
      out.begin(L);
      out.copy(L, scratch);
      out.unowned(L, cov, a, b);
      out.end(L);
    }
  }
  return out.finish();
}

/**
 * The segments in flight (started, and not ended before every later lower request completes),
 * found by address: kept in 1 MiB address buckets, so that a lower request looks only at the
 * in-flight segments near its own bytes even when many are in flight (a loose clock, so a wide
 * time slack, on a busy trace). Segments spanning more than 16 buckets go to one list scanned
 * every time. Finished segments are dropped when their bucket is next looked at.
 */
class InFlightSegments {
  private static readonly BUCKET = 1 << 20;
  private static readonly MAX_SPAN = 16;
  private readonly buckets = new Map<number, number[]>();
  private readonly wide: number[] = [];
  private readonly seen: Int32Array;
  constructor(
    private readonly start: Float64Array,
    private readonly end: Float64Array,
    private readonly t1: Float64Array,
    private readonly slack: number,
  ) {
    this.seen = new Int32Array(start.length).fill(-1);
  }

  add(s: number): void {
    if (!(this.end[s]! > this.start[s]!)) return;
    const B = InFlightSegments.BUCKET;
    const b0 = Math.floor(this.start[s]! / B),
      b1 = Math.floor((this.end[s]! - 1) / B);
    if (b1 - b0 >= InFlightSegments.MAX_SPAN) {
      this.wide.push(s);
      return;
    }
    for (let k = b0; k <= b1; k++) {
      const list = this.buckets.get(k);
      if (list) list.push(s);
      else this.buckets.set(k, [s]);
    }
  }

  /**
   * Each in-flight segment overlapping [a, b) once (`stamp` tells calls apart); segments whose
   * window ends before `horizon` (the earliest completion still to come) are dropped on the way.
   */
  overlapping(a: number, b: number, horizon: number, stamp: number, visit: (s: number) => void): void {
    const B = InFlightSegments.BUCKET;
    for (let k = Math.floor(a / B), k1 = Math.floor((b - 1) / B); k <= k1; k++) {
      const list = this.buckets.get(k);
      if (!list) continue;
      this.scan(list, a, b, horizon, stamp, visit);
      if (list.length === 0) this.buckets.delete(k);
    }
    this.scan(this.wide, a, b, horizon, stamp, visit);
  }

  private scan(list: number[], a: number, b: number, horizon: number, stamp: number, visit: (s: number) => void): void {
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const s = list[r]!;
      if (this.t1[s]! + this.slack < horizon) continue;
      list[w++] = s;
      if (this.seen[s] === stamp || !(this.start[s]! < b && this.end[s]! > a)) continue;
      this.seen[s] = stamp;
      visit(s);
    }
    list.length = w;
  }
}

/** Sorted distinct boundaries of the segments and of the linkable lower requests. */
function elementaryGrid(sStart: Float64Array, sEnd: Float64Array, low: LowerRequests, linkable: (L: number) => boolean) {
  const all = new GrowableArray(Float64Array, 2 * (sStart.length + low.length) + 16);
  for (let k = 0; k < sStart.length; k++) {
    all.push(sStart[k]!);
    all.push(sEnd[k]!);
  }
  for (let L = 0; L < low.length; L++)
    if (linkable(L)) {
      all.push(low.start[L]!);
      all.push(low.end[L]!);
    }
  const v = all.view();
  const order = sortedOrder(v, v.length);
  const x = new Float64Array(v.length);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const a = v[order[i]!]!;
    if (n === 0 || a !== x[n - 1]) x[n++] = a;
  }
  return {
    /** Boundaries; elementary interval e is [x[e], x[e + 1]). */
    x: x.subarray(0, n),
    length: Math.max(0, n - 1),
    /** Position of a boundary (which is always in the grid). */
    index(addr: number): number {
      return lowerBound(x, addr, 0, n - 1);
    },
  };
}

/** The segments of `order` that pass `keep`, in that order. */
function segmentsBy(order: Int32Array, keep: (k: number) => boolean): Int32Array {
  let n = 0;
  for (let i = 0; i < order.length; i++) if (keep(order[i]!)) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    if (keep(k)) out[n++] = k;
  }
  return out;
}

/** Candidate runs: (segment, key, key2, start, end), sortable by (key, key2, segment, start). */
class RunList {
  seg = new Int32Array(16);
  key = new Float64Array(16);
  key2 = new Float64Array(16);
  x = new Float64Array(16);
  y = new Float64Array(16);
  length = 0;
  private ord: number[] = [];
  clear(): void {
    this.length = 0;
  }
  push(s: number, key: number, key2: number, x: number, y: number): void {
    if (this.length === this.seg.length) {
      const n = this.length * 2;
      const g1 = new Int32Array(n);
      g1.set(this.seg);
      this.seg = g1;
      const g2 = new Float64Array(n);
      g2.set(this.key);
      this.key = g2;
      const g5 = new Float64Array(n);
      g5.set(this.key2);
      this.key2 = g5;
      const g3 = new Float64Array(n);
      g3.set(this.x);
      this.x = g3;
      const g4 = new Float64Array(n);
      g4.set(this.y);
      this.y = g4;
    }
    const i = this.length++;
    this.seg[i] = s;
    this.key[i] = key;
    this.key2[i] = key2;
    this.x[i] = x;
    this.y[i] = y;
  }
  sortByKey(): void {
    const n = this.length;
    if (n < 2) return;
    const o = this.ord;
    o.length = n;
    for (let i = 0; i < n; i++) o[i] = i;
    const { seg, key, key2, x } = this;
    o.sort((i, j) => key[i]! - key[j]! || key2[i]! - key2[j]! || seg[i]! - seg[j]! || x[i]! - x[j]!);
    const s2 = o.map((i) => seg[i]!),
      k2 = o.map((i) => key[i]!),
      kk2 = o.map((i) => key2[i]!),
      x2 = o.map((i) => x[i]!),
      y2 = o.map((i) => this.y[i]!);
    for (let i = 0; i < n; i++) {
      seg[i] = s2[i]!;
      key[i] = k2[i]!;
      key2[i] = kk2[i]!;
      x[i] = x2[i]!;
      this.y[i] = y2[i]!;
    }
  }
}

/** Runs of equal owner over [a, b) of an owner-per-elementary-interval array, sorted by (key, segment, start). */
function collectRuns(
  runs: RunList,
  owner: Int32Array,
  grid: ReturnType<typeof elementaryGrid>,
  a: number,
  b: number,
  key: (s: number) => number,
): void {
  runs.clear();
  const x = grid.x;
  let e = grid.index(a);
  const e1 = grid.index(b);
  while (e < e1) {
    const o = owner[e]!;
    let f = e + 1;
    while (f < e1 && owner[f] === o) f++;
    if (o >= 0) runs.push(o, key(o), 0, x[e]!, x[f]!);
    e = f;
  }
  runs.sortByKey();
}

/** Paint the parts of each run not yet covered, best run first. */
function paintRuns(
  runs: RunList,
  cov: GrowableArray<Float64Array>,
  sink: PieceScratch,
  sStart: Float64Array,
  sEnd: Float64Array,
  sUpper: Int32Array,
  sAddr: Float64Array,
  how: number,
): void {
  for (let r = 0; r < runs.length; r++) {
    const s = runs.seg[r]!;
    paintGaps(cov, sink, Math.max(runs.x[r]!, sStart[s]!), Math.min(runs.y[r]!, sEnd[s]!), sUpper[s]!, how, sAddr[s]! - sStart[s]!);
  }
}

/** Emit the parts of [x, y) that `cov` does not hold (address order), then add [x, y) to `cov`. */
function paintGaps(cov: GrowableArray<Float64Array>, sink: PieceScratch, x: number, y: number, u: number, how: number, base: number): void {
  if (!(y > x)) return;
  let pos = x;
  for (let j = 0; j < cov.length && pos < y; j += 2) {
    const cs = cov.get(j),
      ce = cov.get(j + 1);
    if (ce <= pos) continue;
    if (cs >= y) break;
    if (cs > pos) sink.push(u, pos, cs - pos, how, pos + base);
    pos = Math.max(pos, ce);
  }
  if (pos < y) sink.push(u, pos, y - pos, how, pos + base);
  addCovered(cov, x, y);
}

/** The owned pieces of one lower request, before they go to the output. */
class PieceScratch {
  upper = growInt32(64);
  start = growFloat64(64);
  len = growFloat64(64);
  how = growUint8(64);
  addr = growFloat64(64);
  get length(): number {
    return this.upper.length;
  }
  clear(): void {
    this.upper.length = 0;
    this.start.length = 0;
    this.len.length = 0;
    this.how.length = 0;
    this.addr.length = 0;
  }
  push(u: number, s: number, l: number, how: number, addr: number): void {
    this.upper.push(u);
    this.start.push(s);
    this.len.push(l);
    this.how.push(how);
    this.addr.push(addr);
  }
  append(o: PieceScratch): void {
    this.appendFrom(o, 0, o.length);
  }
  appendFrom(o: PieceScratch, first: number, n: number): void {
    for (let k = first; k < first + n; k++) this.push(o.upper.get(k), o.start.get(k), o.len.get(k), o.how.get(k), o.addr.get(k));
  }
}

/** The result arrays; the pieces of one lower request are adjacent. */
class PieceOutput {
  lower: GrowableArray<Int32Array>;
  upper: GrowableArray<Int32Array>;
  how: GrowableArray<Uint8Array>;
  start: GrowableArray<Float64Array>;
  len: GrowableArray<Float64Array>;
  addr: GrowableArray<Float64Array>;
  first: Int32Array;
  count: Int32Array;
  constructor(nl: number) {
    this.lower = growInt32(nl + 16);
    this.upper = growInt32(nl + 16);
    this.how = growUint8(nl + 16);
    this.start = growFloat64(nl + 16);
    this.len = growFloat64(nl + 16);
    this.addr = growFloat64(nl + 16);
    this.first = new Int32Array(nl);
    this.count = new Int32Array(nl);
  }
  begin(L: number): void {
    this.first[L] = this.lower.length;
  }
  end(L: number): void {
    this.count[L] = this.lower.length - this.first[L]!;
  }
  push(L: number, u: number, s: number, l: number, how: number, addr: number): void {
    this.lower.push(L);
    this.upper.push(u);
    this.start.push(s);
    this.len.push(l);
    this.how.push(how);
    this.addr.push(addr);
  }
  copy(L: number, p: PieceScratch): void {
    for (let k = 0; k < p.length; k++) this.push(L, p.upper.get(k), p.start.get(k), p.len.get(k), p.how.get(k), p.addr.get(k));
  }
  /** The parts of [a, b) that `cov` does not hold, in address order. */
  unowned(L: number, cov: GrowableArray<Float64Array>, a: number, b: number): void {
    let pos = a;
    for (let j = 0; j < cov.length; j += 2) {
      const cs = cov.get(j),
        ce = cov.get(j + 1);
      if (cs > pos) this.push(L, -1, pos, cs - pos, LinkHow.None, NaN);
      pos = Math.max(pos, ce);
    }
    if (pos < b) this.push(L, -1, pos, b - pos, LinkHow.None, NaN);
  }
  finish(): LinkPieces {
    return {
      length: this.lower.length,
      lower: this.lower.toArray(),
      upper: this.upper.toArray(),
      start: this.start.toArray(),
      len: this.len.toArray(),
      how: this.how.toArray(),
      upperAddr: this.addr.toArray(),
      first: this.first,
      count: this.count,
    };
  }
}

/** Insert [x, y) into a sorted list of disjoint (start, end) pairs, merging overlaps and neighbours. */
function addCovered(cov: GrowableArray<Float64Array>, x: number, y: number): void {
  const n = cov.length;
  // first pair that ends at or after x, and the pairs from there that start at or before y
  let j = 0;
  while (j < n && cov.get(j + 1) < x) j += 2;
  let k = j;
  while (k < n && cov.get(k) <= y) {
    x = Math.min(x, cov.get(k));
    y = Math.max(y, cov.get(k + 1));
    k += 2;
  }
  const removed = (k - j) / 2;
  if (removed === 1) {
    cov.set(j, x);
    cov.set(j + 1, y);
    return;
  }
  if (removed === 0) {
    // shift the tail right by one pair
    cov.push(0);
    cov.push(0);
    for (let i = n - 1; i >= j; i--) cov.set(i + 2, cov.get(i));
    cov.set(j, x);
    cov.set(j + 1, y);
    return;
  }
  cov.set(j, x);
  cov.set(j + 1, y);
  const shift = (removed - 1) * 2;
  for (let i = k; i < n; i++) cov.set(i - shift, cov.get(i));
  cov.length = n - shift;
}
