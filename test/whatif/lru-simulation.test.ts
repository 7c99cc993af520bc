/**
 * One LRU simulation per cache size gives the misses that counting stack distances gives (an
 * access hits exactly when its distance is below the cache's pages), writes updating the cache
 * without being counted.
 */
import { describe, expect, it } from 'vitest';
import { lruMisses } from '../../src/whatif/lru-simulation.js';
import { COLD, stackDistances } from '../../src/whatif/stack-distance.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

function missesFromDistances(pages: number[], isWrite: Uint8Array, capacity: number): number {
  const d = stackDistances(pages).distances;
  let m = 0;
  for (let i = 0; i < d.length; i++) if (!isWrite[i] && (d[i] === COLD || d[i]! >= capacity)) m++;
  return m;
}

describe('LRU simulation', () => {
  it('counts the misses of the stack distances at every size, fractional sizes included', () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 2000 + Math.floor(rnd() * 3000);
      const universe = 10 + Math.floor(rnd() * 800);
      // page keys up to 2^40, a hot set and a cold tail
      const pages = Array.from({ length: n }, () => (rnd() < 0.7 ? Math.floor(rnd() * 30) : Math.floor(rnd() * universe)) * 1024 + 7);
      const isWrite = Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0));
      for (const capacity of [0, 0.5, 1, 2, 7.5, 30, 31, 200, 799.9, 5000]) {
        expect(lruMisses(pages, capacity, isWrite), `trial ${trial}, capacity ${capacity}`).toBe(
          missesFromDistances(pages, isWrite, capacity),
        );
      }
    }
  });

  it('counts every access without a skip mask, and every one for a cache of no pages', () => {
    expect(lruMisses([1, 2, 1, 3, 1, 2], 2)).toBe(4);
    expect(lruMisses([1, 1, 1], 0)).toBe(3);
    expect(lruMisses([], 10)).toBe(0);
  });
});
