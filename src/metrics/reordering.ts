/**
 * Reordering between the order in which the application issued its I/Os and the order in which a
 * lower layer processed them (the seed study plots I/Os by processing order at each layer).
 * Inversions are counted by merge sort in O(n log n); Kendall's tau-a = 1 - 2·inversions / (n(n-1)/2)
 * (1: same order, -1: reversed); displacement = |rank in issue order - rank in processing order|.
 */
import { sortedOrder } from '../util/sorted.js';
import { releaseArrays } from '../util/release-memory.js';

export interface ReorderingStats {
  /** I/Os compared (those that reached the layer). */
  n: number;
  /** Pairs processed in the opposite order from the one issued. */
  inversions: number;
  /** inversions / (n(n-1)/2); 0 when n < 2. */
  inversion_ratio: number;
  kendall_tau: number;
  mean_displacement: number;
  max_displacement: number;
  /** Fraction of I/Os whose rank moved at all. */
  displaced_fraction: number;
}

/**
 * Number of pairs i < j with seq[i] > seq[j], by merge sort (seq is copied, not modified). An
 * Int32Array (ranks) is sorted as 32-bit integers: half the memory traffic of doubles.
 */
export function countInversions(seq: ArrayLike<number>): number {
  return seq instanceof Int32Array
    ? mergeCount(Int32Array.from(seq), new Int32Array(seq.length))
    : mergeCount(Float64Array.from(seq), new Float64Array(seq.length));
}

/** countInversions on its own copy `a` and scratch `b` of the same length (both handed back). */
function mergeCount<A extends Int32Array | Float64Array>(a: A, b: A): number {
  const n = a.length;
  let inv = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n),
        hi = Math.min(lo + 2 * width, n);
      let i = lo,
        j = mid,
        k = lo;
      while (i < mid && j < hi) {
        if (a[j]! < a[i]!) {
          b[k++] = a[j++]!;
          inv += mid - i;
        } else b[k++] = a[i++]!;
      }
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
    }
    const t = a;
    a = b;
    b = t;
  }
  releaseArrays(a, b);
  return inv;
}

/**
 * @param issueKey issue time (or sequence number) of each I/O at the upper layer
 * @param processKey processing time of each I/O at the lower layer (e.g. first issue of its host requests); NaN = did not reach it
 * @param include optional filter (e.g. one op)
 */
export function reorderingStats(issueKey: Float64Array, processKey: Float64Array, include?: (i: number) => boolean): ReorderingStats {
  let n = 0;
  const idx = new Int32Array(issueKey.length);
  for (let i = 0; i < issueKey.length; i++) if (!Number.isNaN(processKey[i]!) && (!include || include(i))) idx[n++] = i;
  // rank in issue order (ties by index), then the processing order of those ranks (ties by issue
  // rank). Each scratch array is handed back as soon as it is used: six calls per summary, each
  // several times the I/O count in bytes
  const ik = new Float64Array(n);
  for (let k = 0; k < n; k++) ik[k] = issueKey[idx[k]!]!;
  const byIssue = sortedOrder(ik, n);
  releaseArrays(ik);
  // processing keys sorted stably after ordering by issue rank
  const pk = new Float64Array(n);
  for (let r = 0; r < n; r++) pk[r] = processKey[idx[byIssue[r]!]!]!;
  releaseArrays(idx, byIssue);
  const byProcess = sortedOrder(pk, n); // positions r in issue order, in processing order
  releaseArrays(pk);
  // ranks in issue order, in processing order (n < 2^31: an Int32Array)
  const seq = new Int32Array(n);
  let sumDisp = 0,
    maxDisp = 0,
    moved = 0;
  for (let p = 0; p < n; p++) {
    const ir = byProcess[p]!;
    seq[p] = ir;
    const d = Math.abs(ir - p);
    sumDisp += d;
    if (d > maxDisp) maxDisp = d;
    if (d > 0) moved++;
  }
  releaseArrays(byProcess);
  const inversions = countInversions(seq);
  releaseArrays(seq);
  const pairs = (n * (n - 1)) / 2;
  return {
    n,
    inversions,
    inversion_ratio: pairs > 0 ? inversions / pairs : 0,
    kendall_tau: pairs > 0 ? 1 - (2 * inversions) / pairs : 1,
    mean_displacement: n > 0 ? sumDisp / n : 0,
    max_displacement: maxDisp,
    displaced_fraction: n > 0 ? moved / n : 0,
  };
}
