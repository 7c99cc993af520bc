import { describe, expect, it } from 'vitest';
import { errorClusterBound, offsetFromMarks, offsetFromPairBounds, toLowerClock } from '../../src/correlate/clock-alignment.js';
import { residualDriftFromPairBounds } from '../../src/correlate/clock-pairs.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

const rng = mulberry32;

describe('clock alignment', () => {
  it('follows the lower envelope of relayed marks, with the drift, ignoring late relays', () => {
    // lower = upper + 5 s + 100 ppm drift + a relay delay >= 0 (0 to 2 ms, and two late relays of 300 ms)
    const r = rng(11);
    const marks = Array.from({ length: 30 }, (_, i) => {
      const u = 1_000_000_000_000n + BigInt(i) * 1_000_000_000n;
      const delay = i === 0 || i === 29 ? 0 : i === 7 || i === 20 ? 300_000_000 : Math.floor(r() * 2_000_000);
      return { upperNs: u, lowerNs: u + 5_000_000_000n + BigInt(i * 100_000) + BigInt(delay) };
    });
    const c = offsetFromMarks(marks.slice().reverse())!;
    expect(c.source).toBe('marks');
    expect(c.refNs).toBe(1_000_000_000_000n);
    expect(c.offsetNs).toBe(5_000_000_000n);
    expect(c.driftPpm).toBeCloseTo(100, 6);
    // typical relay delay: about 1 ms, far below the late relays
    expect(c.uncertaintyNs).toBeGreaterThan(200_000);
    expect(c.uncertaintyNs).toBeLessThan(2_000_000);
    // the mapping applies the drift: at upper time ref + 10 s, lower = +5 s + 1 ms
    const t = toLowerClock(Float64Array.from([10_000_000_000]), 1_000_000_000_000n, 1_000_000_000_000n, c);
    expect(t[0]).toBe(15_001_000_000);
    expect(offsetFromMarks([])).toBeNull();
  });

  it('finds the offset most matched pairs allow, ignoring wrong pairs', () => {
    const r = rng(3);
    const truth = 123_456;
    const n = 500;
    const lo = new Float64Array(n),
      hi = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (i % 5 === 0) {
        const x = r() * 1e7;
        lo[i] = x;
        hi[i] = x + r() * 1e5;
        continue;
      } // wrong pairs: anywhere
      const before = r() * 50_000,
        after = r() * 50_000; // the lower request ran inside the upper one
      lo[i] = truth - after;
      hi[i] = truth + before;
    }
    const e = offsetFromPairBounds(lo, hi)!;
    expect(Math.abs(e.offset - truth)).toBeLessThanOrEqual(e.halfWidth);
    expect(e.support).toBeGreaterThanOrEqual(400);
  });

  it('returns null without pairs or when no two pairs agree', () => {
    expect(offsetFromPairBounds(new Float64Array(0), new Float64Array(0))).toBeNull();
    expect(offsetFromPairBounds(Float64Array.from([0, 10]), Float64Array.from([1, 11]))).toBeNull();
  });
});

describe('errorClusterBound', () => {
  it('keeps the errors that grow from zero and drops those a tenfold gap away', () => {
    // strace-like: most pairs inside, a continuous tail to 40 ms, then requests no candidate caused
    const errors = Float64Array.from([0, 0, 0, 0, 3e3, 15e3, 60e3, 200e3, 1.5e6, 9e6, 40e6, 3e9, 10e9]);
    expect(errorClusterBound(errors, 20e3)).toEqual({ bound: 40e6, members: 11 });
    // only gross outliers: no error is believed, the bound stays 0
    expect(errorClusterBound(Float64Array.from([0, 0, 5e8, 2e9]), 20e3)).toEqual({ bound: 0, members: 2 });
    // order does not matter
    expect(errorClusterBound(Float64Array.from([9e6, 0, 1.5e6, 200e3, 30e3]), 20e3).bound).toBe(9e6);
  });
});

describe('drift from matched pairs', () => {
  it('recovers a residual drift of 30 ppm from pair bounds over 8 s, with a tenth of the pairs wrongly matched', () => {
    // pair i at lower time t allows d in [true - a, true + b] (a, b: 20..120 µs), true = 40 µs + 30e-6·t
    const r = rng(5);
    const n = 4000;
    const lo = new Float64Array(n),
      hi = new Float64Array(n),
      time = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = r() * 8e9;
      const d = i % 10 === 3 ? (r() - 0.5) * 2e7 : 40_000 + 30e-6 * t;
      time[i] = t;
      lo[i] = d - 20_000 - r() * 100_000;
      hi[i] = d + 20_000 + r() * 100_000;
    }
    const fit = residualDriftFromPairBounds(lo, hi, time)!;
    expect(fit.slices).toBe(16);
    expect(fit.slope * 1e6).toBeGreaterThan(27);
    expect(fit.slope * 1e6).toBeLessThan(33);
  });

  it('gives nothing with too few pairs for four slices', () => {
    const z = new Float64Array(150);
    expect(residualDriftFromPairBounds(z, z, z)).toBeNull();
  });
});
