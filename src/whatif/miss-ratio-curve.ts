/**
 * Miss-ratio curves of an LRU cache, from stack distances: miss ratio at C pages =
 * (cold misses + accesses with distance >= C) / accesses.
 */
import { COLD } from './stack-distance.js';

export interface MissRatioCurve {
  /** Cache sizes in pages, ascending. */
  sizes: Float64Array;
  /** Miss ratio (0..1) at each size. */
  missRatio: Float64Array;
  /** Accesses the curve describes (scaled back to the full trace for a sampled curve). */
  accesses: number;
  /** Distinct pages (estimated for a sampled curve). */
  distinctPages: number;
  /** Sampling rate (1 for an exact curve). */
  rate: number;
  /** For sampled curves: estimated largest absolute miss-ratio error over the sizes. */
  errorEstimate?: number;
}

/**
 * A histogram of stack distances: `counts[d]` accesses at distance d (d scaled to full-trace pages
 * for sampled input), `cold` first accesses, `total` accesses (after scaling).
 */
export interface DistanceHistogram {
  counts: Float64Array;
  cold: number;
  total: number;
  /** Distinct pages: exact, or the sampled count divided by the rate. */
  distinctPages: number;
}

/** Histogram of distances. `scale` multiplies each distance (1/rate for SHARDS samples). */
export function distanceHistogram(distances: Int32Array, scale = 1, weight = 1): DistanceHistogram {
  let max = 0;
  let cold = 0;
  for (let i = 0; i < distances.length; i++) {
    const d = distances[i]!;
    if (d === COLD) cold++;
    else if (d > max) max = d;
  }
  const counts = new Float64Array(Math.floor(max * scale) + 1);
  for (let i = 0; i < distances.length; i++) {
    const d = distances[i]!;
    if (d !== COLD) counts[Math.floor(d * scale)]! += weight;
  }
  return { counts, cold: cold * weight, total: distances.length * weight, distinctPages: cold * weight };
}

/** Evaluate a histogram at the given cache sizes (pages). */
export function curveFromHistogram(h: DistanceHistogram, sizes: ArrayLike<number>, rate = 1): MissRatioCurve {
  // suffix[d] = accesses with distance >= d
  const n = h.counts.length;
  const suffix = new Float64Array(n + 1);
  for (let d = n - 1; d >= 0; d--) suffix[d] = suffix[d + 1]! + h.counts[d]!;
  const out = new Float64Array(sizes.length);
  for (let i = 0; i < sizes.length; i++) {
    const c = Math.max(0, Math.ceil(sizes[i]!));
    const far = c < n ? suffix[c]! : 0;
    out[i] = h.total > 0 ? Math.min(1, (h.cold + far) / h.total) : 0;
  }
  return { sizes: Float64Array.from(sizes), missRatio: out, accesses: h.total, distinctPages: h.distinctPages, rate };
}

/** `count` cache sizes evenly spaced from max/count to max pages. */
export function evenSizes(maxPages: number, count = 100): Float64Array {
  const s = new Float64Array(count);
  for (let i = 0; i < count; i++) s[i] = Math.max(1, Math.round(((i + 1) * maxPages) / count));
  return s;
}
