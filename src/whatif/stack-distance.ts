/**
 * LRU stack distances (Mattson et al. 1970, "Evaluation techniques for storage hierarchies"):
 * the distance of an access is the number of distinct pages referenced since the previous access
 * to the same page; a cache of C pages under LRU hits exactly the accesses with distance < C.
 * Computed in O(n log n) with a Fenwick tree over access times that holds a 1 at the time of
 * each page's most recent access (Bennett and Kruskal 1975; Almási et al. 2002).
 *
 * Evictions of every size at once (a cache drop) are removals from the LRU stack: the removed
 * pages leave the tree, the pages below them move up, and the next access to a removed page is a
 * miss at every cache size. A page that stays moves up too, but a cache of C pages holds it after
 * the drop only if it held it before (depth < C at the drop): its next access counts the larger of
 * its depth at the drop and its distance after it. With that, a cache of C pages hits exactly the
 * accesses with distance < C, as an LRU simulation with the same drops does (test/whatif).
 */
import { PageKeyTable } from './page-key-table.js';

/** Distance value for a first access or an access after the page was evicted (a miss at every cache size). */
export const COLD = -1;

/** Removal of pages from the stack before access number `at` (0-based; `at` = n: after the last). */
export interface StackEviction {
  at: number;
  /** True for a page that stays (e.g. dirty pages, which drop_caches does not free). */
  keep: (page: number) => boolean;
}

export interface StackDistanceResult {
  /** Per access: its stack distance (0 = re-access of the most recent page), or COLD. */
  distances: Int32Array;
  /** Number of distinct pages (first accesses; re-accesses after an eviction are not counted). */
  distinctPages: number;
  /** Per access: 1 when it is COLD because an eviction removed the page, not because it is the page's first access. */
  afterEviction: Uint8Array;
  /** Pages removed by each eviction, in the order given. */
  evicted: number[];
}

const EVICTED = -2;

/** Stack distance of every access of a page-key sequence (keys: exact integers < 2^53). */
export function stackDistances(pages: ArrayLike<number>, evictions: readonly StackEviction[] = []): StackDistanceResult {
  const n = pages.length;
  const tree = new Int32Array(n + 1); // Fenwick tree, 1-based positions = access time + 1
  const latest = evictions.length ? new Uint8Array(n) : null; // 1 at the time of each page's most recent access
  const depthAtDrop = evictions.length ? new Int32Array(n) : null; // kept pages: largest depth at a drop since that access
  const last = new PageKeyTable(Math.min(n, 1 << 20));
  const distances = new Int32Array(n);
  const afterEviction = new Uint8Array(n);
  const evicted: number[] = [];
  let next = 0;
  let live = 0; // number of 1s in the tree = pages on the stack
  let distinct = 0;
  const prefix = (pos: number) => {
    let s = 0;
    for (let i = pos; i > 0; i -= i & -i) s += tree[i]!;
    return s;
  };
  const evict = (e: StackEviction, upTo: number) => {
    let removed = 0;
    const keep = new Uint8Array(upTo);
    for (let t = 0; t < upTo; t++) {
      if (!latest![t] || !e.keep(pages[t]!)) continue;
      keep[t] = 1;
      depthAtDrop![t] = Math.max(depthAtDrop![t]!, live - prefix(t + 1));
    }
    for (let t = 0; t < upTo; t++) {
      if (!latest![t] || keep[t]) continue;
      latest![t] = 0;
      for (let i = t + 1; i <= n; i += i & -i) tree[i]!--;
      last.swap(pages[t]!, EVICTED);
      live--;
      removed++;
    }
    evicted.push(removed);
  };
  for (let t = 0; t < n; t++) {
    while (next < evictions.length && evictions[next]!.at <= t) evict(evictions[next++]!, t);
    const prev = last.swap(pages[t]!, t);
    if (prev < 0) {
      distances[t] = COLD;
      if (prev === EVICTED) afterEviction[t] = 1;
      else distinct++;
    } else {
      // distinct pages accessed after prev = live - prefix(prev + 1) (the page itself at prev is
      // included in the prefix)
      distances[t] = live - prefix(prev + 1);
      if (depthAtDrop && depthAtDrop[prev]! > distances[t]!) distances[t] = depthAtDrop[prev]!;
      for (let i = prev + 1; i <= n; i += i & -i) tree[i]!--;
      if (latest) latest[prev] = 0;
      live--;
    }
    for (let i = t + 1; i <= n; i += i & -i) tree[i]!++;
    if (latest) latest[t] = 1;
    live++;
  }
  while (next < evictions.length) evict(evictions[next++]!, n);
  return { distances, distinctPages: distinct, afterEviction, evicted };
}
