/**
 * One LRU cache of a given size run over a page stream: the misses of the accesses that count.
 * An access hits exactly when its LRU stack distance (stack-distance.ts) is below the cache's
 * pages (Mattson et al. 1970), so this gives what counting stackDistances' output gives for one
 * size, in O(1) per access instead of O(log pages): the cheaper way when only a few sizes are
 * asked for. The cache is a doubly linked list over slots (most recent at the head) and an array
 * from page number (densePages) to slot.
 */
import { asDensePages, type DensePages } from './page-key-table.js';

const NONE = -1;

/**
 * Misses of an LRU cache of `capacityPages` pages over `pages` (a miss: stack distance COLD or at
 * least capacityPages; 0 or fewer pages: every access misses), counting only the accesses where
 * `skip` is unset (`skip[i]` = 1: the access updates the cache but is not counted, e.g. a write
 * when read misses are asked for).
 */
export function lruMisses(pages: ArrayLike<number> | DensePages, capacityPages: number, skip?: Uint8Array): number {
  const { ids, keys } = asDensePages(pages);
  const n = ids.length;
  if (!(capacityPages > 0)) {
    let all = 0;
    for (let i = 0; i < n; i++) if (!skip || !skip[i]) all++;
    return all;
  }
  if (capacityPages >= keys.length) {
    // a cache that holds every page of the stream never evicts: only first accesses miss
    const seen = new Uint8Array(keys.length);
    let misses = 0;
    for (let i = 0; i < n; i++) {
      const page = ids[i]!;
      if (seen[page]) continue;
      seen[page] = 1;
      if (!skip || !skip[i]) misses++;
    }
    return misses;
  }
  const cap = Math.max(1, Math.min(Math.ceil(capacityPages), n));
  const prev = new Int32Array(cap),
    next = new Int32Array(cap),
    pageOf = new Int32Array(cap);
  const slotOf = new Int32Array(keys.length).fill(NONE);
  let head = NONE,
    tail = NONE,
    used = 0,
    misses = 0;
  const unlink = (s: number) => {
    const p = prev[s]!,
      q = next[s]!;
    if (p !== NONE) next[p] = q;
    else head = q;
    if (q !== NONE) prev[q] = p;
    else tail = p;
  };
  const pushFront = (s: number) => {
    prev[s] = NONE;
    next[s] = head;
    if (head !== NONE) prev[head] = s;
    head = s;
    if (tail === NONE) tail = s;
  };
  for (let i = 0; i < n; i++) {
    const page = ids[i]!;
    const s = slotOf[page]!;
    if (s >= 0) {
      if (s !== head) {
        unlink(s);
        pushFront(s);
      }
      continue;
    }
    if (!skip || !skip[i]) misses++;
    let slot: number;
    if (used < cap) slot = used++;
    else {
      // evict the least recently used page
      slot = tail;
      unlink(slot);
      slotOf[pageOf[slot]!] = NONE;
    }
    pageOf[slot] = page;
    slotOf[page] = slot;
    pushFront(slot);
  }
  return misses;
}
