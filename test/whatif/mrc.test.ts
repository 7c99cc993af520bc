import { describe, expect, it } from 'vitest';
import { COLD, stackDistances } from '../../src/whatif/stack-distance.js';
import { exactCurve, maxCurveError, shardsCurve } from '../../src/whatif/shards.js';
import { evenSizes } from '../../src/whatif/miss-ratio-curve.js';
import { syntheticPageTrace } from '../../src/whatif/synthetic-trace.js';
import { mulberry32 } from '../../src/util/seeded-random.js';
import { PageKeyTable } from '../../src/whatif/page-key-table.js';

/** An independent LRU cache simulation (array list, O(n * C)): the oracle for small traces. */
function simulateLruMisses(pages: ArrayLike<number>, capacity: number): number {
  const stack: number[] = [];
  let misses = 0;
  for (let i = 0; i < pages.length; i++) {
    const p = pages[i]!;
    const at = stack.indexOf(p);
    if (at >= 0) stack.splice(at, 1);
    else misses++;
    stack.unshift(p);
    if (stack.length > capacity) stack.pop();
  }
  return misses;
}

/** Brute-force stack distance: distinct pages since the previous access. */
function bruteDistances(pages: number[]): number[] {
  return pages.map((p, t) => {
    const prev = pages.lastIndexOf(p, t - 1);
    if (prev < 0 || t === 0) return COLD;
    return new Set(pages.slice(prev + 1, t)).size;
  });
}

describe('stack distances', () => {
  it('match a brute-force count on random traces', () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const pages = Array.from({ length: 300 }, () => Math.floor(rnd() * 40) * 4294967296 + Math.floor(rnd() * 3));
      expect(Array.from(stackDistances(pages).distances)).toEqual(bruteDistances(pages));
    }
  });

  it('give the miss counts of an LRU cache simulation at every size', () => {
    const trace = syntheticPageTrace({ accesses: 20000, hotPages: 500, seed: 3 });
    const sizes = [1, 10, 50, 100, 250, 500, 1000, 3000];
    const curve = exactCurve(trace, sizes);
    for (let i = 0; i < sizes.length; i++) {
      expect(Math.round(curve.missRatio[i]! * trace.length), `size ${sizes[i]}`).toBe(simulateLruMisses(trace, sizes[i]!));
    }
  });
});

describe('SHARDS', () => {
  const trace = syntheticPageTrace({ accesses: 400000, hotPages: 8192, seed: 11 });
  const sizes = evenSizes(40000, 50);
  const exact = exactCurve(trace, sizes);

  it('stays within a few hundredths of the exact curve at 10% and reports an error estimate', () => {
    const s = shardsCurve(trace, 0.1, sizes);
    expect(maxCurveError(exact, s)).toBeLessThan(0.03);
    expect(s.errorEstimate).toBeGreaterThan(0);
    expect(s.errorEstimate).toBeLessThan(0.05);
    expect(s.rate).toBe(0.1);
  });

  it('is exact at rate 1 up to the half-sample split', () => {
    const s = shardsCurve(trace, 1, sizes);
    expect(maxCurveError(exact, s)).toBeLessThan(0.02);
  });

  it('refuses rates outside (0, 1]', () => {
    expect(() => shardsCurve(trace, 0, sizes)).toThrow(/expected 0 < rate <= 1, got 0/);
  });
});

describe('PageKeyTable', () => {
  it('keeps exact keys up to 2^53 and grows', () => {
    const t = new PageKeyTable(4);
    const keys = [0, 1, 2 ** 32, 2 ** 52 + 1, 2 ** 53 - 1];
    for (let i = 1; i <= 1000; i++) keys.push(((i * 7919) % 1048576) * 4294967296 + i);
    keys.forEach((k, i) => expect(t.swap(k, i)).toBe(-1));
    keys.forEach((k, i) => expect(t.get(k)).toBe(i));
    expect(t.size).toBe(keys.length);
    expect(t.get(12345)).toBe(-1);
  });
});
