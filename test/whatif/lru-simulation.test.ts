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
      const distinct = new Set(pages).size;
      // around the number of distinct pages: a cache that holds them all never evicts
      for (const capacity of [0, 0.5, 1, 2, 7.5, 30, 31, 200, 799.9, 5000, distinct - 1, distinct - 0.5, distinct, distinct + 1]) {
        expect(lruMisses(pages, capacity, isWrite), `trial ${trial}, capacity ${capacity}`).toBe(
          missesFromDistances(pages, isWrite, capacity),
        );
      }
    }
  });

  it('gives the same misses for a numbered subset of a stream (the pages of the whole stream numbered)', async () => {
    const { densePages } = await import('../../src/whatif/page-key-table.js');
    const rnd = mulberry32(11);
    const pages = Array.from({ length: 3000 }, () => Math.floor(rnd() * 400) * 2 ** 32 + Math.floor(rnd() * 3));
    const all = densePages(pages);
    const keep = pages.map(() => rnd() < 0.4);
    const sub = pages.filter((_, i) => keep[i]);
    const subIds = all.ids.filter((_, i) => keep[i]);
    const distinctSub = new Set(sub).size;
    for (const capacity of [1, 50, distinctSub - 1, distinctSub, all.keys.length - 1, all.keys.length]) {
      expect(lruMisses({ ids: subIds, keys: all.keys }, capacity), `capacity ${capacity}`).toBe(lruMisses(sub, capacity));
      expect(lruMisses(sub, capacity)).toBe(missesFromDistances(sub, new Uint8Array(sub.length), capacity));
    }
  });

  it('counts every access without a skip mask, and every one for a cache of no pages', () => {
    expect(lruMisses([1, 2, 1, 3, 1, 2], 2)).toBe(4);
    expect(lruMisses([1, 1, 1], 0)).toBe(3);
    expect(lruMisses([], 10)).toBe(0);
  });
});
