/**
 * A page-access trace of the shape the what-if benchmark uses (and the libCacheSim anchor was
 * measured on): a Zipf(alpha) hot set, sequential runs, and a cold tail of pages seen once.
 * Seeded, so the same call gives the same trace.
 */
import { mulberry32 } from '../util/seeded-random.js';
import { lowerBound } from '../util/sorted.js';

export interface SyntheticTraceOptions {
  accesses: number;
  /** Pages in the Zipf hot set (256 MiB of 4 KiB pages = 65536). */
  hotPages?: number;
  alpha?: number;
  /** Fraction of accesses that start or continue a sequential run. */
  sequentialFraction?: number;
  /** Fraction of accesses to cold pages (each touched once). */
  coldFraction?: number;
  seed?: number;
}

export function syntheticPageTrace(o: SyntheticTraceOptions): Float64Array {
  const n = o.accesses;
  const hot = o.hotPages ?? 65536;
  const alpha = o.alpha ?? 0.8;
  const seqFrac = o.sequentialFraction ?? 0.2;
  const coldFrac = o.coldFraction ?? 0.1;
  const rnd = mulberry32(o.seed ?? 42);
  // Zipf CDF over ranks 1..hot, ranks scattered over the page space by a fixed permutation
  const cdf = new Float64Array(hot);
  let sum = 0;
  for (let k = 1; k <= hot; k++) {
    sum += 1 / Math.pow(k, alpha);
    cdf[k - 1] = sum;
  }
  for (let k = 0; k < hot; k++) cdf[k]! /= sum;
  const perm = new Float64Array(hot);
  for (let k = 0; k < hot; k++) perm[k] = k;
  for (let k = hot - 1; k > 0; k--) {
    const j = Math.floor(rnd() * (k + 1));
    const t = perm[k]!;
    perm[k] = perm[j]!;
    perm[j] = t;
  }
  const seqBase = hot * 4; // sequential region after the hot set
  const seqSpan = hot * 4;
  let coldNext = seqBase + seqSpan; // cold pages: never reused
  const out = new Float64Array(n);
  let runLeft = 0;
  let runPage = 0;
  for (let i = 0; i < n; i++) {
    if (runLeft > 0) {
      out[i] = runPage++;
      runLeft--;
      continue;
    }
    const u = rnd();
    if (u < coldFrac) {
      out[i] = coldNext++;
      continue;
    }
    if (u < coldFrac + seqFrac / 16) {
      // a run of 16-256 pages over the sequential region
      runLeft = 16 + Math.floor(rnd() * 240);
      runPage = seqBase + Math.floor(rnd() * (seqSpan - 256));
      out[i] = runPage++;
      runLeft--;
      continue;
    }
    const r = rnd();
    const lo = lowerBound(cdf, r, 0, hot - 1);
    out[i] = perm[lo]!;
  }
  return out;
}
