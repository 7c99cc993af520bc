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
 * The grid, candidate runs and painting are in link-paint.ts, the in-flight set in in-flight.ts.
 */
import { GrowableArray, growFloat64, growInt32, growUint8 } from '../util/growable.js';
import { sortedOrder } from '../util/sorted.js';
import { releaseArrays } from '../util/release-memory.js';
import { InFlightSegments } from './in-flight.js';
import { addCovered, collectRuns, elementaryGrid, paintGaps, paintRuns, PieceScratch, RunList, type ElementaryGrid } from './link-paint.js';

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
  /**
   * Arrays of `seg` and `up` that are the caller's own and read by nothing else: their memory is
   * handed back (releaseArrays) once the link has its sorted copy of the segments, instead of
   * staying through the link (at 100M events a layer, about 1 GB each side).
   */
  releaseAfterSort?: readonly ArrayBufferView[];
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
  const s = sortSegments(seg, up);
  if (opt.releaseAfterSort) releaseArrays(...opt.releaseAfterSort);
  const linkable = (L: number) =>
    (low.op[L] === Op.Read || low.op[L] === Op.Write) && low.end[L]! > low.start[L]! && !Number.isNaN(low.issue[L]!);
  // Elementary intervals: the address space cut at every segment and linkable request boundary.
  const grid = elementaryGrid(s.start, s.end, low, linkable);
  const ns = s.start.length;
  const e0 = new Int32Array(ns),
    e1 = new Int32Array(ns);
  for (let k = 0; k < ns; k++) {
    e0[k] = grid.index(s.start[k]!);
    e1[k] = grid.index(s.end[k]!);
  }
  const ctx: LinkContext = {
    s,
    grid,
    e0,
    e1,
    byT0: sortedOrder(s.t0, ns), // NaN sorts last; ties by address rank
    low,
    opt,
    out: new PieceOutput(low.length),
    scratch: new PieceScratch(),
    cov: new GrowableArray(Float64Array, 64),
    runs: new RunList(),
  };
  const order = issueOrder(low, linkable, ctx.out);
  const left = linkByIssue(ctx, order);
  if (left.pending.length > 0) linkReadahead(ctx, left);
  const pieces = ctx.out.finish();
  // the link's own arrays (none is in `pieces`) go now, not at the next full collection
  const { s: sorted } = ctx;
  releaseArrays(sorted.start, sorted.end, sorted.upper, sorted.addr, sorted.op, sorted.sync, sorted.t0, sorted.t1);
  releaseArrays(ctx.e0, ctx.e1, ctx.byT0, grid.x, order.byIssue, order.minLaterComplete, left.tmpFirst, left.tmpCount);
  return pieces;
}

/** Segments in address order, with the op, sync flag and time window of their upper request. */
interface SortedSegments {
  start: Float64Array;
  end: Float64Array;
  upper: Int32Array;
  addr: Float64Array;
  op: Uint8Array;
  sync: Uint8Array;
  t0: Float64Array;
  t1: Float64Array;
}

/** What the phases of one linkLayer call share: the segments, the grid, the options and the paint buffers. */
interface LinkContext {
  s: SortedSegments;
  grid: ElementaryGrid;
  /** First and end elementary interval of each segment. */
  e0: Int32Array;
  e1: Int32Array;
  /** Segments by t0. */
  byT0: Int32Array;
  low: LowerRequests;
  opt: LinkOptions;
  out: PieceOutput;
  scratch: PieceScratch;
  cov: GrowableArray<Float64Array>;
  runs: RunList;
}

/** Linkable lower requests (`idx`) in issue order (`byIssue` into `idx`). */
interface IssueOrder {
  idx: number[];
  byIssue: Int32Array;
  /** The earliest completion among the j-th request in issue order and all later ones. */
  minLaterComplete: Float64Array;
}

/** Reads left for the readahead pass (in issue order), with their tier-0 pieces. */
interface PendingReads {
  pending: number[];
  tmp: PieceScratch;
  tmpFirst: Int32Array;
  tmpCount: Int32Array;
}

function sortSegments(seg: Segments, up: UpperTiming): SortedSegments {
  const ns = seg.length;
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
  releaseArrays(segOrder);
  return { start: sStart, end: sEnd, upper: sUpper, addr: sAddr, op: sOp, sync: sSync, t0: sT0, t1: sT1 };
}

/** Linkable lower requests by issue time; the rest are unowned as a whole (written to `out` here). */
function issueOrder(low: LowerRequests, linkable: (L: number) => boolean, out: PieceOutput): IssueOrder {
  const nl = low.length;
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
  return { idx: linkIdx, byIssue, minLaterComplete };
}

/**
 * Tier 0 of every linkable request and tier 1 of writes (writeback), sweeping the requests in
 * issue order; reads that may still gain readahead pieces are returned for linkReadahead.
 */
function linkByIssue(ctx: LinkContext, order: IssueOrder): PendingReads {
  const { s: segs, e0: sE0, e1: sE1, grid, low, opt, out, scratch, cov, runs } = ctx;
  const { start: sStart, end: sEnd, upper: sUpper, addr: sAddr, op: sOp, sync: sSync, t0: sT0, t1: sT1 } = segs;
  const { idx: linkIdx, byIssue, minLaterComplete } = order;
  const nk = linkIdx.length,
    nl = low.length,
    early = opt.earlyNs,
    late = opt.lateNs;
  const slack = early;
  const raFlag = opt.readaheadNeedsFlag ? low.readahead : undefined;
  const syncFlag = low.syncFlag;
  // Tier 0 (the time-window rule) looks at the segments in flight around the request.
  const windowSegs = segmentsBy(ctx.byT0, (k) => sOp[k] !== Op.Other && !Number.isNaN(sT0[k]!) && !Number.isNaN(sT1[k]!));
  const inFlight = new InFlightSegments(sStart, sEnd, sT1, late);
  let wPtr = 0;
  // Tier 1 of writes: the latest earlier write of each byte, kept per elementary interval.
  const wbSegs = segmentsBy(
    ctx.byT0,
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
      emit(out, L, scratch, cov, a, b);
    } else if (opt.readahead && !coveredAll && (raFlag === undefined || raFlag[L] === 1)) {
      tmpFirst[L] = tmp.length;
      tmp.append(scratch);
      tmpCount[L] = scratch.length;
      pending.push(L);
    } else {
      emit(out, L, scratch, cov, a, b);
    }
  }
  return { pending, tmp, tmpFirst, tmpCount };
}

/**
 * Tier 1 of reads (readahead): the earliest later read of each byte. Requests by issue time
 * descending; segments painted from the latest (t0, segment) down, so the last one painted on
 * an interval is its earliest reader not before the request.
 */
function linkReadahead(ctx: LinkContext, left: PendingReads): void {
  const { s: segs, e0: sE0, e1: sE1, grid, low, out, scratch, cov, runs } = ctx;
  const { start: sStart, end: sEnd, upper: sUpper, addr: sAddr, op: sOp, t0: sT0 } = segs;
  const { pending, tmp, tmpFirst, tmpCount } = left;
  const slack = ctx.opt.earlyNs;
  const raSegs = segmentsBy(ctx.byT0, (k) => sOp[k] === Op.Read && !Number.isNaN(sT0[k]!));
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
    emit(out, L, scratch, cov, a, b);
  }
}

/** Lower request L's pieces: the owned ones in `scratch`, then the bytes of [a, b) that `cov` does not hold. */
function emit(out: PieceOutput, L: number, scratch: PieceScratch, cov: GrowableArray<Float64Array>, a: number, b: number): void {
  out.begin(L);
  out.copy(L, scratch);
  out.unowned(L, cov, a, b);
  out.end(L);
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
  /**
   * The pieces in compact arrays of their own; each growing array is let go as soon as it is copied
   * (this output is done), so the copies never stand beside all of them.
   */
  finish(): LinkPieces {
    return {
      length: this.lower.length,
      lower: this.lower.take(),
      upper: this.upper.take(),
      start: this.start.take(),
      len: this.len.take(),
      how: this.how.take(),
      upperAddr: this.addr.take(),
      first: this.first,
      count: this.count,
    };
  }
}
