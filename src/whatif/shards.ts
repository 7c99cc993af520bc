/**
 * SHARDS (Waldspurger et al., FAST 2015, "Efficient MRC Construction with SHARDS"): spatially
 * hashed sampling. A page is in the sample when hash(page) mod P < T, so every access of a sampled
 * page is kept and reuse distances stay measurable; distances measured in the sample are divided by
 * the rate R = T/P. Fixed-rate variant with the paper's SHARDS_adj correction: the difference
 * between the expected (n * R) and the actual number of sampled accesses is added to the first
 * histogram bucket.
 */
import { pageHash } from './page-key-table.js';
import { stackDistances } from './stack-distance.js';
import { curveFromHistogram, distanceHistogram, type MissRatioCurve } from './miss-ratio-curve.js';

const P = 1 << 24;

/** The two disjoint half-samples (by hash bit 24) of the pages whose hash falls under rate. */
function halfSamples(pages: ArrayLike<number>, rate: number, seed: number): [Float64Array, Float64Array] {
  const t = Math.round(rate * P);
  let buf0 = new Float64Array(Math.max(16, Math.ceil(pages.length * rate * 0.6)));
  let buf1 = new Float64Array(buf0.length);
  let n0 = 0,
    n1 = 0;
  for (let i = 0; i < pages.length; i++) {
    const p = pages[i]!;
    const h = pageHash(p, seed);
    if ((h & (P - 1)) >= t) continue;
    if ((h >>> 24) & 1) {
      if (n1 === buf1.length) {
        const b = new Float64Array(n1 * 2);
        b.set(buf1);
        buf1 = b;
      }
      buf1[n1++] = p;
    } else {
      if (n0 === buf0.length) {
        const b = new Float64Array(n0 * 2);
        b.set(buf0);
        buf0 = b;
      }
      buf0[n0++] = p;
    }
  }
  return [buf0.subarray(0, n0), buf1.subarray(0, n1)];
}

function sampledCurve(sample: Float64Array, accesses: number, rate: number, sizes: ArrayLike<number>): MissRatioCurve {
  const { distances } = stackDistances(sample);
  const h = distanceHistogram(distances, 1 / rate, 1 / rate);
  // SHARDS_adj: account for sampling more or fewer accesses than expected
  const diff = accesses - h.total;
  if (h.counts.length > 0) h.counts[0]! += diff;
  else h.cold += Math.max(0, diff);
  h.total = accesses;
  return curveFromHistogram(h, sizes, rate);
}

/**
 * Sampled MRC at `rate` (e.g. 0.1). The sample is split by another hash bit into two disjoint
 * half-samples at rate/2; the curve is their mean (same variance as one sample at `rate`, same
 * cost), and half their largest difference estimates the curve's largest error (one standard
 * deviation: the difference of two independent half-sample curves has twice the standard
 * deviation of their mean).
 */
export function shardsCurve(pages: ArrayLike<number>, rate: number, sizes: ArrayLike<number>, seed = 0x5eed): MissRatioCurve {
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`SHARDS rate: expected 0 < rate <= 1, got ${rate}`);
  const [s0, s1] = halfSamples(pages, rate, seed);
  const a = sampledCurve(s0, pages.length, rate / 2, sizes);
  const b = sampledCurve(s1, pages.length, rate / 2, sizes);
  const mean = new Float64Array(a.missRatio.length);
  let worst = 0;
  for (let i = 0; i < mean.length; i++) {
    mean[i] = (a.missRatio[i]! + b.missRatio[i]!) / 2;
    worst = Math.max(worst, Math.abs(a.missRatio[i]! - b.missRatio[i]!));
  }
  return {
    sizes: a.sizes,
    missRatio: mean,
    accesses: pages.length,
    distinctPages: (a.distinctPages + b.distinctPages) / 2,
    rate,
    errorEstimate: worst / 2,
  };
}

/** Exact MRC (every access). */
export function exactCurve(pages: ArrayLike<number>, sizes: ArrayLike<number>): MissRatioCurve {
  const { distances, distinctPages } = stackDistances(pages);
  const h = distanceHistogram(distances);
  h.distinctPages = distinctPages;
  return curveFromHistogram(h, sizes, 1);
}

/** Largest absolute difference between two curves evaluated at the same sizes. */
export function maxCurveError(a: MissRatioCurve, b: MissRatioCurve): number {
  if (a.sizes.length !== b.sizes.length) throw new RangeError(`curves have ${a.sizes.length} and ${b.sizes.length} sizes`);
  let m = 0;
  for (let i = 0; i < a.missRatio.length; i++) m = Math.max(m, Math.abs(a.missRatio[i]! - b.missRatio[i]!));
  return m;
}
