/**
 * LRU stack distances (Mattson et al. 1970, "Evaluation techniques for storage hierarchies"):
 * the distance of an access is the number of distinct pages referenced since the previous access
 * to the same page; a cache of C pages under LRU hits exactly the accesses with distance < C.
 * Computed in O(n log n) with a Fenwick tree over access times that holds a 1 at the time of
 * each page's most recent access (Bennett and Kruskal 1975; Almási et al. 2002).
 */
import { PageKeyTable } from './page-key-table.js';

/** Distance value for a first access (a cold miss at every cache size). */
export const COLD = -1;

export interface StackDistanceResult {
  /** Per access: its stack distance (0 = re-access of the most recent page), or COLD. */
  distances: Int32Array;
  /** Number of distinct pages (= number of COLD accesses). */
  distinctPages: number;
}

/** Stack distance of every access of a page-key sequence (keys: exact integers < 2^53). */
export function stackDistances(pages: ArrayLike<number>): StackDistanceResult {
  const n = pages.length;
  const tree = new Int32Array(n + 1); // Fenwick tree, 1-based positions = access time + 1
  const last = new PageKeyTable(Math.min(n, 1 << 20));
  const distances = new Int32Array(n);
  let live = 0; // number of 1s in the tree = distinct pages seen so far
  for (let t = 0; t < n; t++) {
    const prev = last.swap(pages[t]!, t);
    if (prev < 0) {
      distances[t] = COLD;
    } else {
      // distinct pages accessed after prev = live - prefix(prev + 1) (the page itself at prev is
      // included in the prefix)
      let s = 0;
      for (let i = prev + 1; i > 0; i -= i & -i) s += tree[i]!;
      distances[t] = live - s;
      for (let i = prev + 1; i <= n; i += i & -i) tree[i]!--;
      live--;
    }
    for (let i = t + 1; i <= n; i += i & -i) tree[i]!++;
    live++;
  }
  return { distances, distinctPages: live };
}
