/**
 * Clock alignment between two layers' clocks. Each layer keeps its own clock; an offset d maps an
 * upper-layer time to the lower layer's clock: t_lower = t_upper + d. It is estimated, with an
 * uncertainty, from
 * - marks: the same `iolineage-mark N` written into both trace_markers at one moment (each mark
 *   gives one value of d; the estimate is their median, the uncertainty their largest deviation,
 *   and a linear fit gives the drift), or
 * - matched pairs: an upper request and a lower request at the same address where the lower one
 *   must have run inside the upper one (a read served synchronously, an O_DIRECT / cache=none
 *   request). Each pair bounds d to [lower.complete - upper.end, lower.issue - upper.start]; the
 *   estimate is the middle of the range of d that the most pairs allow (interval stabbing), so
 *   wrongly matched pairs (same address, another moment) do not move it.
 */

export type ClockSource = 'marks' | 'pairs' | 'clock_pairs' | 'user' | 'same_clock' | 'none';

export interface ClockOffset {
  /** t_lower = t_upper + offsetNs, nanoseconds. */
  offsetNs: bigint;
  /** Half-width of the range the data allow, ns. */
  uncertaintyNs: number;
  /** How it was obtained. */
  source: ClockSource;
  /** Marks or pairs used (pairs: those consistent with the estimate). */
  support: number;
  /** Pairs or marks considered. */
  considered: number;
  /** Drift of the lower clock against the upper one, parts per million (marks only; 0 otherwise). */
  driftPpm: number;
}

export interface ClockMarkPair { upperNs: bigint; lowerNs: bigint }

/** Estimate from marks seen on both sides. Returns null when there is no complete mark. */
export function offsetFromMarks(marks: readonly ClockMarkPair[]): ClockOffset | null {
  if (marks.length === 0) return null;
  const base = marks[0]!.lowerNs - marks[0]!.upperNs;
  const rel = marks.map((m) => Number(m.lowerNs - m.upperNs - base)).sort((a, b) => a - b);
  const mid = rel.length >> 1;
  const median = rel.length % 2 ? rel[mid]! : Math.round((rel[mid - 1]! + rel[mid]!) / 2);
  let dev = 0;
  for (const r of rel) dev = Math.max(dev, Math.abs(r - median));
  // drift: least-squares slope of d against upper time
  let driftPpm = 0;
  if (marks.length >= 2) {
    const u0 = marks[0]!.upperNs;
    const xs = marks.map((m) => Number(m.upperNs - u0));
    const ys = marks.map((m) => Number(m.lowerNs - m.upperNs - base));
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < xs.length; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; }
    if (sxx > 0) driftPpm = (sxy / sxx) * 1e6;
  }
  return { offsetNs: base + BigInt(median), uncertaintyNs: dev, source: 'marks', support: marks.length, considered: marks.length, driftPpm };
}

/**
 * Estimate from candidate pairs: pair i allows d in [lo[i], hi[i]] (ns, relative to a common base
 * the caller chose). Returns the middle of the range that the most pairs allow and its
 * half-width, or null when there is no pair or no two pairs agree.
 */
export function offsetFromPairBounds(lo: Float64Array, hi: Float64Array, n = lo.length): { offset: number; halfWidth: number; support: number } | null {
  if (n === 0) return null;
  // events: +1 at lo, -1 just after hi; sort by position, starts before ends at equal positions
  const pos = new Float64Array(2 * n);
  const kind = new Int8Array(2 * n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (!(hi[i]! >= lo[i]!)) continue;
    pos[m] = lo[i]!; kind[m++] = 1;
    pos[m] = hi[i]!; kind[m++] = -1;
  }
  if (m === 0) return null;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => (pos[a]! - pos[b]!) || (kind[b]! - kind[a]!));
  let depth = 0, best = 0, bestLo = 0, bestHi = 0;
  for (let k = 0; k < m; k++) {
    const e = order[k]!;
    depth += kind[e]!;
    if (kind[e] === 1 && depth > best) {
      best = depth; bestLo = pos[e]!;
      // the region of this depth lasts until the next event
      bestHi = k + 1 < m ? pos[order[k + 1]!]! : pos[e]!;
    }
  }
  if (best < 2 && n > 1) return null;
  return { offset: (bestLo + bestHi) / 2, halfWidth: (bestHi - bestLo) / 2, support: best };
}
