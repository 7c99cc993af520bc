/**
 * Clock alignment between two layers' clocks. Each layer keeps its own clock; an offset d maps an
 * upper-layer time to the lower layer's clock: t_lower = t_upper + d. It is estimated, with an
 * uncertainty, from
 * - marks: `iolineage-mark N` written into the guest's trace_marker and relayed to the host's
 *   (capture/guest-capture.sh -M, the lab's serial console): each mark gives d + the relay delay,
 *   a delay that is never negative, so the offset follows the LOWER envelope of the marks: the
 *   edge of their lower convex hull above the mean time (its slope is the drift), and the
 *   uncertainty is the median height of the marks above it, or
 * - matched pairs: an upper request and a lower request at the same address where the lower one
 *   must have run inside the upper one (a read served synchronously, an O_DIRECT / cache=none
 *   request). Each pair bounds d to [lower.complete - upper.end, lower.issue - upper.start]; the
 *   estimate is the middle of the range of d that the most pairs allow (interval stabbing), so
 *   wrongly matched pairs (same address, another moment) do not move it.
 */

export type ClockSource = 'marks' | 'pairs' | 'clock_pairs' | 'user' | 'same_clock' | 'none';

export interface ClockOffset {
  /** t_lower = t_upper + offsetNs + driftPpm·1e-6·(t_upper - refNs), nanoseconds. */
  offsetNs: bigint;
  /** Upper-clock time at which offsetNs holds exactly (0 when there is no drift term). */
  refNs: bigint;
  /** Half-width of the range the data allow, ns. */
  uncertaintyNs: number;
  /** How it was obtained. */
  source: ClockSource;
  /** Marks or pairs used (pairs: those consistent with the estimate). */
  support: number;
  /** Pairs or marks considered. */
  considered: number;
  /** Drift of the lower clock against the upper one, parts per million (from marks, refined by matched pairs when they agree better; 0 otherwise). */
  driftPpm: number;
  /** From matched pairs: how far the upper layer's own timestamps miss the lower requests they caused. */
  window?: TimestampError;
}

/**
 * The upper layer's timestamp error as the matched pairs show it, given the fitted offset: of the
 * lower requests that have an identity candidate, how many lie outside their best candidate's
 * window, and by how much before its start (`early`) and after its end (`late`). The bounds are
 * the largest errors of the cluster that grows from zero (see errorClusterBound); errors beyond a
 * tenfold gap belong to requests no candidate caused.
 */
export interface TimestampError {
  /** Lower requests with at least one identity candidate. */
  matched: number;
  /** Of those, requests outside their best candidate's window. */
  outside: number;
  earlyBoundNs: number;
  lateBoundNs: number;
  /** Requests whose error is beyond the bounds (left to the other rules). */
  beyondBound: number;
  /** 99th percentile of the late errors of the requests outside, ns (0 when none). */
  lateP99Ns: number;
}

/**
 * The largest value of the cluster of `errors` (ns, >= 0) that grows from zero: sorted, each
 * positive value joins while it is at most `ratio` times the previous member (the first one: at
 * most `ratio` times `floorNs`). A real timestamp error distribution is continuous from zero; a
 * request matched to an upper request that did not cause it sits a gap away.
 */
export function errorClusterBound(errors: Float64Array, floorNs: number, ratio = 10): { bound: number; members: number } {
  const x = Float64Array.from(errors).sort();
  let last = floorNs,
    bound = 0,
    members = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v <= 0) {
      members++;
      continue;
    }
    if (v > ratio * last) break;
    bound = v;
    last = v;
    members++;
  }
  return { bound, members };
}

export interface ClockMarkPair {
  upperNs: bigint;
  lowerNs: bigint;
}

/** Drift larger than this is not believed (clock drift of real hosts is tens to hundreds of ppm). */
export const MAX_DRIFT_PPM = 2000;

/** Estimate from marks seen on both sides (see the header). Returns null when there is no complete mark. */
export function offsetFromMarks(marks: readonly ClockMarkPair[]): ClockOffset | null {
  if (marks.length === 0) return null;
  const sorted = marks.slice().sort((a, b) => (a.upperNs < b.upperNs ? -1 : a.upperNs > b.upperNs ? 1 : 0));
  const ref = sorted[0]!.upperNs;
  const base = sorted[0]!.lowerNs - sorted[0]!.upperNs;
  const x = sorted.map((m) => Number(m.upperNs - ref));
  const y = sorted.map((m) => Number(m.lowerNs - m.upperNs - base));
  const n = x.length;
  // the line under every mark that is highest on average: the edge of the lower convex hull
  // above the mean upper time (maximises a + b·mean(x) subject to a + b·x_i <= y_i)
  let slope = 0;
  if (n >= 3) {
    const hull: number[] = [];
    for (let i = 0; i < n; i++) {
      while (hull.length >= 2) {
        const a = hull[hull.length - 2]!,
          b = hull[hull.length - 1]!;
        // drop b when it lies on or above the segment a → i
        if ((y[b]! - y[a]!) * (x[i]! - x[a]!) >= (y[i]! - y[a]!) * (x[b]! - x[a]!)) hull.pop();
        else break;
      }
      hull.push(i);
    }
    const mean = x.reduce((p, q) => p + q, 0) / n;
    for (let k = 0; k + 1 < hull.length; k++) {
      const a = hull[k]!,
        b = hull[k + 1]!;
      if (x[a]! <= mean && mean <= x[b]! && x[b]! > x[a]!) {
        slope = (y[b]! - y[a]!) / (x[b]! - x[a]!);
        break;
      }
    }
    if (Math.abs(slope) * 1e6 > MAX_DRIFT_PPM) slope = 0;
  }
  // lower the line until no mark is below it
  let intercept = Infinity;
  for (let i = 0; i < n; i++) intercept = Math.min(intercept, y[i]! - slope * x[i]!);
  const above = y.map((v, i) => v - (intercept + slope * x[i]!)).sort((a, b) => a - b);
  const median = above[above.length >> 1]!;
  return {
    offsetNs: base + BigInt(Math.round(intercept)),
    refNs: ref,
    driftPpm: slope * 1e6,
    uncertaintyNs: Math.max(Math.round(median), 1000),
    source: 'marks',
    support: n,
    considered: n,
  };
}

/** Shift upper-layer times (ns relative to upperBase) into the lower clock (relative to lowerBase). */
export function toLowerClock(t: Float64Array, upperBase: bigint, lowerBase: bigint, c: ClockOffset): Float64Array {
  const rel = Number(c.offsetNs + upperBase - lowerBase);
  const k = c.driftPpm * 1e-6;
  const refRel = Number(c.refNs - upperBase);
  const out = new Float64Array(t.length);
  if (k === 0) for (let i = 0; i < t.length; i++) out[i] = t[i]! + rel;
  else for (let i = 0; i < t.length; i++) out[i] = t[i]! + rel + Math.round(k * (t[i]! - refRel));
  return out;
}

/**
 * Estimate from candidate pairs: pair i allows d in [lo[i], hi[i]] (ns, relative to a common base
 * the caller chose). Returns the middle of the range that the most pairs allow and its
 * half-width, or null when there is no pair or no two pairs agree.
 */
export function offsetFromPairBounds(
  lo: Float64Array,
  hi: Float64Array,
  n = lo.length,
): { offset: number; halfWidth: number; support: number } | null {
  if (n === 0) return null;
  // events: +1 at lo, -1 just after hi; sort by position, starts before ends at equal positions
  const pos = new Float64Array(2 * n);
  const kind = new Int8Array(2 * n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (!(hi[i]! >= lo[i]!)) continue;
    pos[m] = lo[i]!;
    kind[m++] = 1;
    pos[m] = hi[i]!;
    kind[m++] = -1;
  }
  if (m === 0) return null;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => pos[a]! - pos[b]! || kind[b]! - kind[a]!);
  let depth = 0,
    best = 0,
    bestLo = 0,
    bestHi = 0;
  for (let k = 0; k < m; k++) {
    const e = order[k]!;
    depth += kind[e]!;
    if (kind[e] === 1 && depth > best) {
      best = depth;
      bestLo = pos[e]!;
      // the region of this depth lasts until the next event
      bestHi = k + 1 < m ? pos[order[k + 1]!]! : pos[e]!;
    }
  }
  if (best < 2 && n > 1) return null;
  return { offset: (bestLo + bestHi) / 2, halfWidth: (bestHi - bestLo) / 2, support: best };
}
