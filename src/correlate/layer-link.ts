/**
 * Links the requests of one layer ("upper": application I/Os, or guest block requests) to the
 * requests of the layer below ("lower"), byte by byte, by a sweep over address-sorted ranges.
 *
 * The upper requests are first translated into the lower layer's address space ("segments",
 * see upper-segments.ts). Every lower request's byte range is then painted:
 * candidates are the segments that overlap it in address and satisfy a causality rule in time,
 * taken in priority order, each byte going to the first candidate that covers it. What no
 * candidate covers is left unowned, to be classified by the attribution. So each lower byte is
 * linked to at most one upper request, and the pieces of a lower request sum to its size.
 *
 * Causality rules (times of the upper layer already shifted into the lower layer's clock):
 * - read served by the lower layer: the lower request is issued after the upper request starts
 *   and completes before it ends (`sync_read`, or `direct` for O_DIRECT / cache=none); ties go to
 *   the earliest upper request.
 * - synchronous write (O_DIRECT, cache=none): same window rule (`direct`, `sync_write`).
 * - buffered write: the lower write goes to the latest earlier upper write of those bytes
 *   (`writeback`).
 * - readahead: a lower read outside every window goes to the earliest later upper read of those
 *   bytes (`readahead`), when enabled.
 * Complexity: O((n + m) log(n + m) + overlapping pairs).
 */
import { GrowableArray, growFloat64, growInt32, growUint8, sortedOrder } from './growable-array.js';

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
}

export interface LinkOptions {
  /** Tolerance of the time rules, ns: clock-offset uncertainty plus the timestamp resolutions. */
  slackNs: number;
  /** Treat every upper write as synchronous (host layer under cache=none). */
  syncWrites: boolean;
  /** Link otherwise unowned lower reads to the earliest later upper read of the bytes. */
  readahead: boolean;
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
  const nl = low.length;
  const segOrder = sortedOrder(seg.start, seg.length);
  const lowOrder = sortedOrder(low.start, nl);
  // segments gathered into address order once, so that the sweep reads memory sequentially
  const ns = seg.length;
  const sStart = new Float64Array(ns), sEnd = new Float64Array(ns), sUpper = new Int32Array(ns), sAddr = new Float64Array(ns);
  const sOp = new Uint8Array(ns), sSync = new Uint8Array(ns), sT0 = new Float64Array(ns), sT1 = new Float64Array(ns);
  for (let k = 0; k < ns; k++) {
    const i = segOrder[k]!, u = seg.upper[i]!;
    sStart[k] = seg.start[i]!; sEnd[k] = seg.end[i]!; sUpper[k] = u; sAddr[k] = seg.upperAddr[i]!;
    sOp[k] = up.op[u]!; sSync[k] = up.sync[u]!; sT0[k] = up.t0[u]!; sT1[k] = up.t1[u]!;
  }
  // lower requests too
  const lStart = new Float64Array(nl), lEnd = new Float64Array(nl), lOp = new Uint8Array(nl), lIssue = new Float64Array(nl), lComplete = new Float64Array(nl);
  for (let k = 0; k < nl; k++) {
    const L = lowOrder[k]!;
    lStart[k] = low.start[L]!; lEnd[k] = low.end[L]!; lOp[k] = low.op[L]!; lIssue[k] = low.issue[L]!; lComplete[k] = low.complete[L]!;
  }
  const pLower = growInt32(nl + 16), pUpper = growInt32(nl + 16), pHow = growUint8(nl + 16);
  const pStart = growFloat64(nl + 16), pLen = growFloat64(nl + 16), pAddr = growFloat64(nl + 16);
  const first = new Int32Array(nl), count = new Int32Array(nl);
  const slack = opt.slackNs;

  let active = new Int32Array(64);
  let nActive = 0;
  let p = 0;
  // scratch for candidates and painted intervals
  let cSeg = new Int32Array(64), cTier = new Uint8Array(64), cKey = new Float64Array(64), cHow = new Uint8Array(64);
  const cIdx: number[] = [];
  const cov = new GrowableArray(Float64Array, 64); // covered intervals as (start, end) pairs, sorted

  const emit = (L: number, u: number, s: number, l: number, how: number, addr: number) => {
    pLower.push(L); pUpper.push(u); pStart.push(s); pLen.push(l); pHow.push(how); pAddr.push(addr);
  };

  for (let k = 0; k < nl; k++) {
    const L = lowOrder[k]!;
    const a = lStart[k]!, b = lEnd[k]!;
    first[L] = pLower.length;
    if (!(b > a)) { count[L] = 0; continue; }
    while (p < ns && sStart[p]! < b) {
      if (nActive === active.length) { const g = new Int32Array(active.length * 2); g.set(active); active = g; }
      active[nActive++] = p++;
    }
    let w = 0;
    for (let r = 0; r < nActive; r++) { const s = active[r]!; if (sEnd[s]! > a) active[w++] = s; }
    nActive = w;

    // candidates
    let nc = 0;
    const lop = lOp[k]!, issue = lIssue[k]!, complete = lComplete[k]!;
    if (lop === Op.Read || lop === Op.Write) {
      for (let r = 0; r < nActive; r++) {
        const s = active[r]!;
        if (sStart[s]! >= b) continue;
        const uop = sOp[s]!, t0 = sT0[s]!, t1 = sT1[s]!, usync = sSync[s]!;
        const inWindow = t0 - slack <= issue && complete <= t1 + slack;
        let tier = 255, key = 0, how: number = LinkHow.None;
        if (lop === Op.Read) {
          if (inWindow && uop !== Op.Other) { tier = 0; key = t0; how = usync ? LinkHow.Direct : LinkHow.SyncRead; }
          else if (opt.readahead && uop === Op.Read && t0 >= issue - slack) { tier = 1; key = t0; how = LinkHow.Readahead; }
        } else if (uop === Op.Write) {
          if (inWindow && (usync || opt.syncWrites)) { tier = 0; key = t0; how = usync ? LinkHow.Direct : LinkHow.SyncWrite; }
          else if (t0 <= issue + slack) { tier = 1; key = -t1; how = LinkHow.Writeback; }
        }
        if (tier === 255) continue;
        if (nc === cSeg.length) {
          const n2 = nc * 2;
          const g1 = new Int32Array(n2); g1.set(cSeg); cSeg = g1;
          const g2 = new Uint8Array(n2); g2.set(cTier); cTier = g2;
          const g3 = new Float64Array(n2); g3.set(cKey); cKey = g3;
          const g4 = new Uint8Array(n2); g4.set(cHow); cHow = g4;
        }
        cSeg[nc] = s; cTier[nc] = tier; cKey[nc] = key; cHow[nc] = how; nc++;
      }
    }
    // take candidates best first — (tier, key, segment) from a binary heap: heapify is O(k) and
    // painting usually stops after one or two, so hot blocks with many candidates stay linear
    for (let i = 0; i < nc; i++) cIdx[i] = i;
    cIdx.length = nc;
    for (let i = (nc >> 1) - 1; i >= 0; i--) siftDown(cIdx, i, nc, cTier, cKey, cSeg);
    let heapN = nc;

    // paint
    cov.length = 0;
    let covered = 0;
    const total = b - a;
    while (heapN > 0 && covered < total) {
      const ci = cIdx[0]!;
      heapN--;
      if (heapN > 0) { cIdx[0] = cIdx[heapN]!; siftDown(cIdx, 0, heapN, cTier, cKey, cSeg); }
      const s = cSeg[ci]!;
      const x = Math.max(a, sStart[s]!), y = Math.min(b, sEnd[s]!);
      if (!(y > x)) continue;
      const u = sUpper[s]!, base = sAddr[s]! - sStart[s]!;
      // walk covered intervals, emitting the gaps inside [x, y)
      let pos = x;
      for (let j = 0; j < cov.length && pos < y; j += 2) {
        const cs = cov.get(j), ce = cov.get(j + 1);
        if (ce <= pos) continue;
        if (cs >= y) break;
        if (cs > pos) { emit(L, u, pos, cs - pos, cHow[ci]!, pos + base); covered += cs - pos; }
        pos = Math.max(pos, ce);
      }
      if (pos < y) { emit(L, u, pos, y - pos, cHow[ci]!, pos + base); covered += y - pos; }
      addCovered(cov, x, y);
    }
    // unowned remainder
    if (covered < total) {
      let pos = a;
      for (let j = 0; j < cov.length; j += 2) {
        const cs = cov.get(j), ce = cov.get(j + 1);
        if (cs > pos) emit(L, -1, pos, cs - pos, LinkHow.None, NaN);
        pos = Math.max(pos, ce);
      }
      if (pos < b) emit(L, -1, pos, b - pos, LinkHow.None, NaN);
    }
    count[L] = pLower.length - first[L]!;
  }
  return {
    length: pLower.length,
    lower: pLower.toArray(), upper: pUpper.toArray(), start: pStart.toArray(), len: pLen.toArray(),
    how: pHow.toArray(), upperAddr: pAddr.toArray(), first, count,
  };
}

/** Candidate order: lower tier first, then lower key, then lower segment index. */
function before(x: number, y: number, tier: Uint8Array, key: Float64Array, seg: Int32Array): boolean {
  const dt = tier[x]! - tier[y]!;
  if (dt !== 0) return dt < 0;
  const dk = key[x]! - key[y]!;
  if (dk !== 0) return dk < 0;
  return seg[x]! < seg[y]!;
}

/** Binary min-heap sift-down over candidate indices. */
function siftDown(h: number[], i: number, n: number, tier: Uint8Array, key: Float64Array, seg: Int32Array): void {
  const v = h[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && before(h[c + 1]!, h[c]!, tier, key, seg)) c++;
    if (!before(h[c]!, v, tier, key, seg)) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = v;
}

/** Insert [x, y) into a sorted list of disjoint (start, end) pairs, merging overlaps and neighbours. */
function addCovered(cov: GrowableArray<Float64Array>, x: number, y: number): void {
  const n = cov.length;
  // first pair that ends at or after x, and the pairs from there that start at or before y
  let j = 0;
  while (j < n && cov.get(j + 1) < x) j += 2;
  let k = j;
  while (k < n && cov.get(k) <= y) { x = Math.min(x, cov.get(k)); y = Math.max(y, cov.get(k + 1)); k += 2; }
  const removed = (k - j) / 2;
  if (removed === 1) { cov.set(j, x); cov.set(j + 1, y); return; }
  if (removed === 0) {
    // shift the tail right by one pair
    cov.push(0); cov.push(0);
    for (let i = n - 1; i >= j; i--) cov.set(i + 2, cov.get(i));
    cov.set(j, x); cov.set(j + 1, y);
    return;
  }
  cov.set(j, x); cov.set(j + 1, y);
  const shift = (removed - 1) * 2;
  for (let i = k; i < n; i++) cov.set(i - shift, cov.get(i));
  cov.length = n - shift;
}
