/**
 * Candidate matched pairs for clock alignment: an upper request and a lower request that overlap
 * in (translated) address and that must have run one inside the other whatever the clocks are —
 * reads (a read served by the lower layer completes within the read), and writes that are
 * synchronous (O_DIRECT, or every write under cache=none). Each pair bounds the offset d
 * (t_lower = t_upper + d) to [lower.complete - upper.t1, lower.issue - upper.t0].
 */
import { growFloat64, growInt32 } from '../util/growable.js';
import { sortedOrder } from '../util/sorted.js';
import { Op, type LowerRequests, type Segments, type UpperTiming } from './layer-link.js';
import { offsetFromPairBounds } from './clock-alignment.js';

export interface PairOptions {
  /** Treat every upper write as synchronous (cache=none). */
  syncWrites: boolean;
  /** Lower requests overlapping more upper segments than this are ambiguous and skipped. */
  maxCandidates?: number;
  /** Keep only pairs whose allowed range meets [priorNs - windowNs, priorNs + windowNs] (relative units). */
  priorNs?: number;
  windowNs?: number;
}

/**
 * Bounds on d (relative: lower time base minus upper time base is not included) for every
 * candidate pair, with the lower request of each pair.
 */
export function candidatePairBounds(
  seg: Segments,
  up: UpperTiming,
  low: LowerRequests,
  opt: PairOptions,
): { lo: Float64Array; hi: Float64Array; lower: Int32Array } {
  const maxC = opt.maxCandidates ?? 4;
  const segOrder = sortedOrder(seg.start, seg.length);
  const lowOrder = sortedOrder(low.start, low.length);
  const lo = growFloat64(),
    hi = growFloat64(),
    lower = growInt32();
  const active: number[] = [];
  const cand: number[] = [];
  let p = 0;
  const hasPrior = opt.priorNs !== undefined && opt.windowNs !== undefined;
  const pMin = hasPrior ? opt.priorNs! - opt.windowNs! : 0,
    pMax = hasPrior ? opt.priorNs! + opt.windowNs! : 0;
  for (let k = 0; k < low.length; k++) {
    const L = lowOrder[k]!;
    const a = low.start[L]!,
      b = low.end[L]!;
    if (!(b > a)) continue;
    while (p < seg.length && seg.start[segOrder[p]!]! < b) active.push(segOrder[p++]!);
    let w = 0;
    for (let r = 0; r < active.length; r++) {
      const s = active[r]!;
      if (seg.end[s]! > a) active[w++] = s;
    }
    active.length = w;
    const lop = low.op[L]!;
    if (lop !== Op.Read && lop !== Op.Write) continue;
    cand.length = 0;
    for (const s of active) {
      if (seg.start[s]! >= b) continue;
      const u = seg.upper[s]!;
      if (up.op[u] !== lop) continue;
      if (lop === Op.Write && !(up.sync[u] || opt.syncWrites)) continue;
      if (!cand.includes(u)) cand.push(u);
    }
    if (cand.length === 0 || cand.length > maxC) continue;
    for (const u of cand) {
      const l = low.complete[L]! - up.t1[u]!,
        h = low.issue[L]! - up.t0[u]!;
      if (hasPrior && (h < pMin || l > pMax)) continue;
      lo.push(l);
      hi.push(h);
      lower.push(L);
    }
  }
  return { lo: lo.toArray(), hi: hi.toArray(), lower: lower.toArray() };
}

/**
 * How far each lower request's best candidate pair is from allowing offset d, ns, split by side:
 * `early` = max(0, d - hi) (the lower request was issued before the upper one started, by the
 * upper clock), `late` = max(0, lo - d) (it completed after the upper one ended). Per lower request
 * that has candidates, the pair with the smallest early + late. A request whose upper request is
 * among its candidates shows the clock error plus the timestamp errors of that pair; one caused by
 * no candidate (readahead consumed later, a read of the same bytes at another time) lies far off.
 */
export function bestPairResiduals(
  lo: Float64Array,
  hi: Float64Array,
  lower: Int32Array,
  d: number,
): { lower: Int32Array; early: Float64Array; late: Float64Array } {
  const best = new Map<number, number>();
  for (let i = 0; i < lo.length; i++) {
    const r = Math.max(0, d - hi[i]!) + Math.max(0, lo[i]! - d);
    const b = best.get(lower[i]!);
    if (b === undefined || r < Math.max(0, d - hi[b]!) + Math.max(0, lo[b]! - d)) best.set(lower[i]!, i);
  }
  const n = best.size,
    outL = new Int32Array(n),
    early = new Float64Array(n),
    late = new Float64Array(n);
  let k = 0;
  for (const [L, i] of best) {
    outL[k] = L;
    early[k] = Math.max(0, d - hi[i]!);
    late[k] = Math.max(0, lo[i]! - d);
    k++;
  }
  return { lower: outL, early, late };
}

/**
 * The offset (relative units) most candidate pairs agree on (pairs outside the prior's window left
 * out), with the best residuals of every lower request that has a candidate (all pairs), or null.
 */
export function offsetFromCandidatePairs(seg: Segments, up: UpperTiming, low: LowerRequests, opt: PairOptions) {
  const { priorNs, windowNs, ...rest } = opt;
  const all = candidatePairBounds(seg, up, low, rest);
  let lo = all.lo,
    hi = all.hi;
  if (priorNs !== undefined && windowNs !== undefined) {
    const keep: number[] = [];
    for (let i = 0; i < lo.length; i++) if (!(hi[i]! < priorNs - windowNs || lo[i]! > priorNs + windowNs)) keep.push(i);
    lo = Float64Array.from(keep, (i) => all.lo[i]!);
    hi = Float64Array.from(keep, (i) => all.hi[i]!);
  }
  const r = offsetFromPairBounds(lo, hi);
  return r ? { ...r, considered: all.lo.length, pairs: all, residuals: bestPairResiduals(all.lo, all.hi, all.lower, r.offset) } : null;
}

/**
 * The drift left in pair bounds, ns per ns of lower time: the pairs split by time into equal-count
 * slices, each slice's offset by interval stabbing (offsetFromPairBounds), and the Theil–Sen
 * slope (median of the slopes between slices) through them. Marks relayed through a serial
 * console jitter by milliseconds, so over a run of seconds their slope can be tens of ppm off;
 * pairs bound the offset to microseconds. Null with fewer than `minSlices` slices of
 * `minPerSlice` pairs, or when a slice has no agreed offset.
 */
export function residualDriftFromPairBounds(
  lo: Float64Array,
  hi: Float64Array,
  time: Float64Array,
  opt: { minPerSlice?: number; minSlices?: number; maxSlices?: number } = {},
): { slope: number; slices: number } | null {
  const minPer = opt.minPerSlice ?? 50,
    minSlices = opt.minSlices ?? 4,
    maxSlices = opt.maxSlices ?? 16;
  const n = lo.length;
  const k = Math.min(maxSlices, Math.floor(n / minPer));
  if (k < minSlices) return null;
  const order = sortedOrder(time, n);
  const xs: number[] = [],
    ys: number[] = [];
  for (let s = 0; s < k; s++) {
    const a = Math.floor((s * n) / k),
      b = Math.floor(((s + 1) * n) / k);
    const l = new Float64Array(b - a),
      h = new Float64Array(b - a);
    for (let i = a; i < b; i++) {
      l[i - a] = lo[order[i]!]!;
      h[i - a] = hi[order[i]!]!;
    }
    const r = offsetFromPairBounds(l, h);
    if (!r) return null;
    xs.push(time[order[(a + b) >> 1]!]!);
    ys.push(r.offset);
  }
  const slopes: number[] = [];
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) if (xs[j]! > xs[i]!) slopes.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
  if (slopes.length === 0) return null;
  slopes.sort((p, q) => p - q);
  return { slope: slopes[slopes.length >> 1]!, slices: k };
}

/** The lower requests' issue times of candidate pairs (the time axis of residualDriftFromPairBounds). */
export function pairTimes(lower: Int32Array, low: LowerRequests): Float64Array {
  const t = new Float64Array(lower.length);
  for (let i = 0; i < lower.length; i++) t[i] = low.issue[lower[i]!]!;
  return t;
}
