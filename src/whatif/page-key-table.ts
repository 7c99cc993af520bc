/**
 * An open-addressing hash table from page keys to int32 values (e.g. the time of the page's last
 * access). A page key is an exact integer below 2^53: (file id << 32) + page index, or a plain
 * page number. Typed arrays instead of a Map keep 10M+ keys at 12 bytes each plus load slack.
 */

function mix(key: number): number {
  // split into 32-bit halves (exact for keys below 2^53) and mix (murmur3 finaliser constants)
  const lo = key >>> 0;
  const hi = Math.floor(key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class PageKeyTable {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 1 << 16) {
    let cap = 1 << 4;
    while (cap < expected * 2) cap <<= 1;
    this.keys = new Float64Array(cap).fill(-1);
    this.values = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for `key`, or -1 when absent. Keys must be non-negative. */
  get(key: number): number {
    const i = this.slot(key);
    return this.keys[i] === key ? this.values[i]! : -1;
  }

  /** The value stored for `key`; when absent, store `value` and return -1. */
  getOrInsert(key: number, value: number): number {
    const i = this.slot(key);
    if (this.keys[i] === key) return this.values[i]!;
    this.insertAt(i, key, value);
    return -1;
  }

  /** Store `value` for `key` and return the previous value, or -1 when the key was new. */
  swap(key: number, value: number): number {
    const i = this.slot(key);
    if (this.keys[i] === key) {
      const old = this.values[i]!;
      this.values[i] = value;
      return old;
    }
    this.insertAt(i, key, value);
    return -1;
  }

  /** The slot holding `key`, or the empty slot where it goes (linear probing). */
  private slot(key: number): number {
    const keys = this.keys;
    let i = mix(key) & this.mask;
    while (keys[i] !== key && keys[i] !== -1) i = (i + 1) & this.mask;
    return i;
  }

  private insertAt(i: number, key: number, value: number): void {
    this.keys[i] = key;
    this.values[i] = value;
    if (++this.count * 2 > this.mask) this.grow();
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.values = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j]!;
      if (k === -1) continue;
      let i = mix(k) & this.mask;
      while (this.keys[i] !== -1) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.values[i] = oldValues[j]!;
    }
  }
}

/**
 * A page stream with its keys numbered 0..keys.length-1 in order of first access: what the LRU
 * passes index arrays by instead of hashing a key at every access. A subset of a stream's
 * accesses (e.g. the misses of a cache) shares its keys.
 */
export interface DensePages {
  /** Per access: the page's number. */
  ids: Int32Array;
  /** Per page number: its key. */
  keys: Float64Array;
}

/** Number the pages of a stream of page keys (one hash lookup per access). */
export function densePages(pages: ArrayLike<number>): DensePages {
  const n = pages.length;
  const table = new PageKeyTable(Math.min(n, 1 << 20));
  const ids = new Int32Array(n);
  let keys = new Float64Array(Math.max(16, Math.min(n, 1 << 16)));
  let count = 0;
  for (let i = 0; i < n; i++) {
    const key = pages[i]!;
    let id = table.getOrInsert(key, count);
    if (id < 0) {
      if (count === keys.length) {
        const k = new Float64Array(keys.length * 2);
        k.set(keys);
        keys = k;
      }
      keys[count] = key;
      id = count++;
    }
    ids[i] = id;
  }
  return { ids, keys: keys.subarray(0, count) };
}

/** A stream given as keys or already numbered. */
export function asDensePages(pages: ArrayLike<number> | DensePages): DensePages {
  return 'ids' in pages && pages.ids instanceof Int32Array ? pages : densePages(pages as ArrayLike<number>);
}

/** Hash of a page key into [0, 2^32): used by SHARDS to sample pages (not accesses). */
export function pageHash(key: number, seed = 0): number {
  let h = Math.imul(mix(key) ^ seed, 0x27d4eb2d);
  h ^= h >>> 15;
  return h >>> 0;
}
