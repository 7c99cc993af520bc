/**
 * Cache drops in the stack-distance pass, checked against an independent LRU simulation that
 * empties the cache of its clean pages at each drop (Documentation/admin-guide/sysctl/vm.rst,
 * drop_caches: dirty pages are not freed), and the value a drop wrote, read from strace lines.
 */
import { describe, expect, it } from 'vitest';
import { COLD, stackDistances, type StackEviction } from '../../src/whatif/stack-distance.js';
import { dropValueOfLine } from '../../src/whatif/cache-drops.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

/** LRU of `capacity` pages as an array (most recent first); at each drop, pages not kept leave. */
function simulateLruWithDrops(
  pages: number[],
  capacity: number,
  drops: { at: number; kept: Set<number> }[],
): { misses: number; missAt: boolean[] } {
  let stack: number[] = [];
  let misses = 0;
  const missAt: boolean[] = [];
  for (let t = 0; t <= pages.length; t++) {
    for (const d of drops) if (d.at === t) stack = stack.filter((p) => d.kept.has(p));
    if (t === pages.length) break;
    const p = pages[t]!;
    const at = stack.indexOf(p);
    if (at >= 0) stack.splice(at, 1);
    else misses++;
    missAt.push(at < 0);
    stack.unshift(p);
    if (stack.length > capacity) stack.pop();
  }
  return { misses, missAt };
}

describe('stack distances with cache drops', () => {
  it('give the misses of an LRU simulation with drops at every cache size', () => {
    const rnd = mulberry32(13);
    for (let trial = 0; trial < 30; trial++) {
      const pages = Array.from({ length: 400 }, () => Math.floor(rnd() * 60));
      // two drops at random places, each keeping a random set of pages (the dirty ones)
      const drops = [Math.floor(rnd() * 400), Math.floor(rnd() * 400)]
        .sort((a, b) => a - b)
        .map((at) => ({
          at,
          kept: new Set(Array.from({ length: 10 }, () => Math.floor(rnd() * 60))),
        }));
      const evictions: StackEviction[] = drops.map((d) => ({ at: d.at, keep: (p: number) => d.kept.has(p) }));
      const { distances } = stackDistances(pages, evictions);
      for (const capacity of [1, 5, 20, 40, 60, 100]) {
        let misses = 0;
        for (const d of distances) if (d === COLD || d >= capacity) misses++;
        expect(misses, `trial ${trial}, capacity ${capacity}`).toBe(simulateLruWithDrops(pages, capacity, drops).misses);
      }
    }
  });

  it('hold over traces longer than the tree has positions (pages renumbered, the tree grown)', () => {
    const rnd = mulberry32(29);
    // 20k accesses over 1500 pages (renumbered every few thousand accesses), and a working set of
    // 6000 pages (more than half of the first tree: it grows), each with two drops
    const traces = [
      Array.from({ length: 20_000 }, () => Math.floor(rnd() * 1500)),
      [...Array.from({ length: 6000 }, (_, i) => i), ...Array.from({ length: 6000 }, () => Math.floor(rnd() * 6000))],
    ];
    for (const pages of traces) {
      const drops = [Math.floor(pages.length / 3), Math.floor((2 * pages.length) / 3)].map((at) => ({
        at,
        kept: new Set(Array.from({ length: 300 }, () => pages[Math.floor(rnd() * pages.length)]!)),
      }));
      const evictions: StackEviction[] = drops.map((d) => ({ at: d.at, keep: (p: number) => d.kept.has(p) }));
      const { distances } = stackDistances(pages, evictions);
      for (const capacity of [50, 700, 1400, 5000]) {
        let misses = 0;
        for (const d of distances) if (d === COLD || d >= capacity) misses++;
        expect(misses, `${pages.length} accesses, capacity ${capacity}`).toBe(simulateLruWithDrops(pages, capacity, drops).misses);
      }
    }
  });

  it('mark the accesses that miss because of a drop apart from first accesses', () => {
    // pages 1 2 3, drop keeping page 2, then 1 2 4
    const r = stackDistances([1, 2, 3, 1, 2, 4], [{ at: 3, keep: (p) => p === 2 }]);
    expect(Array.from(r.distances)).toEqual([COLD, COLD, COLD, COLD, 1, COLD]);
    expect(Array.from(r.afterEviction)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(r.evicted).toEqual([2]);
    expect(r.distinctPages).toBe(4);
  });

  it('leave the distances of a trace without drops unchanged', () => {
    const rnd = mulberry32(5);
    const pages = Array.from({ length: 500 }, () => Math.floor(rnd() * 80));
    const plain = stackDistances(pages).distances;
    const withNone = stackDistances(pages, [{ at: 250, keep: () => true }]);
    expect(Array.from(withNone.distances)).toEqual(Array.from(plain));
    expect(withNone.evicted).toEqual([0]);
  });
});

describe('the value written to drop_caches, from a strace line', () => {
  it('reads the string argument of the write', () => {
    expect(dropValueOfLine('114   1796609360.150930 write(4</proc/sys/vm/drop_caches>, "3\\n", 2) = 2 <0.043985>')).toBe('3');
    expect(dropValueOfLine('write(3</proc/sys/vm/drop_caches>, "1", 1) = 1')).toBe('1');
    expect(dropValueOfLine('[pid 7] 12:00:00.000001 write(5, "2\\n", 2) = 2')).toBe('2');
  });
  it('gives null for a line without a string (abbreviated or another call)', () => {
    expect(dropValueOfLine('114 1796609360.149828 openat(AT_FDCWD</>, "/proc/sys/vm/drop_caches", O_WRONLY) = 4')).toBeNull();
    expect(dropValueOfLine('write(4</proc/sys/vm/drop_caches>, 0x7ffd0000, 2) = 2')).toBeNull();
  });
});
