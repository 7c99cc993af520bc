import { describe, expect, it } from 'vitest';
import { offsetFromMarks, offsetFromPairBounds } from '../../src/correlate/clock-alignment.js';

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

describe('clock alignment', () => {
  it('takes the median of marks, reports the spread and the drift', () => {
    // lower = upper + 5 s + 100 ppm drift, marks every second
    const marks = Array.from({ length: 11 }, (_, i) => {
      const u = 1_000_000_000_000n + BigInt(i) * 1_000_000_000n;
      return { upperNs: u, lowerNs: u + 5_000_000_000n + BigInt(i * 100_000) };
    });
    const c = offsetFromMarks(marks)!;
    expect(c.source).toBe('marks');
    expect(c.offsetNs).toBe(5_000_500_000n);
    expect(c.uncertaintyNs).toBe(500_000);
    expect(c.driftPpm).toBeCloseTo(100, 6);
    expect(offsetFromMarks([])).toBeNull();
  });

  it('finds the offset most matched pairs allow, ignoring wrong pairs', () => {
    const r = rng(3);
    const truth = 123_456;
    const n = 500;
    const lo = new Float64Array(n), hi = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (i % 5 === 0) { const x = r() * 1e7; lo[i] = x; hi[i] = x + r() * 1e5; continue; } // wrong pairs: anywhere
      const before = r() * 50_000, after = r() * 50_000; // the lower request ran inside the upper one
      lo[i] = truth - after; hi[i] = truth + before;
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
