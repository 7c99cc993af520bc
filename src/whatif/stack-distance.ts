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
import { asDensePages, type DensePages } from './page-key-table.js';

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

const NEVER = -1;
const EVICTED = -2;

/** Positions the tree starts with; it grows to twice the pages on the stack when they fill half of it. */
const MIN_POSITIONS = 1 << 12;

/**
 * Stack distance of every access of a page-key sequence (keys: exact integers < 2^53), or of a
 * numbered one (densePages).
 *
 * The Fenwick tree is indexed by position, not by access time: each access takes the next free
 * position, and when the positions run out the pages on the stack are renumbered 0..live-1 in
 * order (their order is all a distance depends on). The tree then has about twice as many
 * positions as distinct pages on the stack instead of one per access, so it stays in the CPU's
 * caches: a long trace over a small working set costs O(log pages) per access.
 */
export function stackDistances(pages: ArrayLike<number> | DensePages, evictions: readonly StackEviction[] = []): StackDistanceResult {
  const { ids, keys } = asDensePages(pages);
  const n = ids.length;
  let cap = Math.max(1, Math.min(n, MIN_POSITIONS));
  let tree = new Int32Array(cap + 1); // Fenwick tree, 1-based: position + 1
  let latest = new Uint8Array(cap); // 1 at the position of each page's most recent access
  let pageAt = new Int32Array(cap); // page number at each position
  let depthAtDrop = evictions.length ? new Int32Array(cap) : null; // kept pages: largest depth at a drop since that access
  const last = new Int32Array(keys.length).fill(NEVER); // page number -> position of its latest access, NEVER or EVICTED
  const distances = new Int32Array(n);
  const afterEviction = new Uint8Array(n);
  const evicted: number[] = [];
  let next = 0;
  let used = 0; // positions handed out since the last renumbering
  let live = 0; // number of 1s in the tree = pages on the stack
  let distinct = 0;
  const prefix = (pos: number) => {
    let s = 0;
    for (let i = pos; i > 0; i -= i & -i) s += tree[i]!;
    return s;
  };
  const evict = (e: StackEviction) => {
    let removed = 0;
    const keep = new Uint8Array(used);
    for (let q = 0; q < used; q++) {
      if (!latest[q] || !e.keep(keys[pageAt[q]!]!)) continue;
      keep[q] = 1;
      depthAtDrop![q] = Math.max(depthAtDrop![q]!, live - prefix(q + 1));
    }
    for (let q = 0; q < used; q++) {
      if (!latest[q] || keep[q]) continue;
      latest[q] = 0;
      for (let i = q + 1; i <= cap; i += i & -i) tree[i]!--;
      last[pageAt[q]!] = EVICTED;
      live--;
      removed++;
    }
    evicted.push(removed);
  };
  /** The pages on the stack to positions 0..live-1, in the same order, in a tree of at least twice that. */
  const renumber = () => {
    const size = Math.max(cap, 2 * (live + 1));
    const nLatest = new Uint8Array(size),
      nPage = new Int32Array(size),
      nDepth = depthAtDrop ? new Int32Array(size) : null;
    let k = 0;
    for (let q = 0; q < used; q++) {
      if (!latest[q]) continue;
      nLatest[k] = 1;
      nPage[k] = pageAt[q]!;
      if (nDepth) nDepth[k] = depthAtDrop![q]!;
      last[pageAt[q]!] = k;
      k++;
    }
    // a Fenwick tree over k ones at positions 1..k: node i covers (i - lowbit(i), i]
    const nTree = new Int32Array(size + 1);
    for (let i = 1; i <= size; i++) {
      const from = i - (i & -i);
      nTree[i] = from >= k ? 0 : Math.min(i, k) - from;
    }
    cap = size;
    tree = nTree;
    latest = nLatest;
    pageAt = nPage;
    depthAtDrop = nDepth;
    used = k;
  };
  for (let t = 0; t < n; t++) {
    while (next < evictions.length && evictions[next]!.at <= t) evict(evictions[next++]!);
    if (used === cap) renumber();
    const page = ids[t]!;
    const prev = last[page]!;
    last[page] = used;
    if (prev < 0) {
      distances[t] = COLD;
      if (prev === EVICTED) afterEviction[t] = 1;
      else distinct++;
    } else {
      // distinct pages accessed after prev = live - prefix(prev + 1) (the page itself at prev is
      // included in the prefix)
      distances[t] = live - prefix(prev + 1);
      if (depthAtDrop && depthAtDrop[prev]! > distances[t]!) distances[t] = depthAtDrop[prev]!;
      for (let i = prev + 1; i <= cap; i += i & -i) tree[i]!--;
      latest[prev] = 0;
      live--;
    }
    for (let i = used + 1; i <= cap; i += i & -i) tree[i]!++;
    latest[used] = 1;
    pageAt[used] = page;
    if (depthAtDrop) depthAtDrop[used] = 0;
    used++;
    live++;
  }
  while (next < evictions.length) evict(evictions[next++]!);
  return { distances, distinctPages: distinct, afterEviction, evicted };
}
