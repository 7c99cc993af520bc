/**
 * An insertion-ordered map from a number (a sector, or an end sector) to a non-negative number (a
 * bio or request row, or a sector), held in typed arrays: the matching state of the request
 * reconstruction (block-request-state.ts) without a Map per device and role, and without the
 * boxing and rehashing a Map of numbers costs in the hot loop.
 *
 * It behaves as a Map<number, number> does where the reconstruction depends on it: -0 and 0 are one
 * key, NaN is never present (looked up, it is missing; the reconstruction never sets it, and
 * `set` refuses it), `set` of a present key keeps its place,
 * a key deleted and set again moves to the end, and iteration (entries from `first()` to `end()`,
 * skipping dead ones) and `oldestKey` follow insertion order. Entries are appended; a deleted entry
 * is marked dead and dropped at the next rebuild (when the entry arrays are full: compacted in
 * place, or doubled when more than half are live). Lookups hash into chains of entries (as V8's
 * own ordered hash tables do); a dead entry's key is NaN, which no lookup matches. Values must be
 * >= 0: `get` returns -1 for a missing key.
 */
export class SectorMap {
  private keys: Float64Array;
  private vals: Float64Array;
  /** Next entry in the same bucket's chain, -1 at its end. */
  private chain: Int32Array;
  /** First entry of each bucket's chain, -1 for none. */
  private buckets: Int32Array;
  private shift: number;
  /** Entries appended since the last rebuild (live or dead). */
  private used = 0;
  /** No live entry before this one. */
  private head = 0;
  /** Live keys. */
  size = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.keys = new Float64Array(cap);
    this.vals = new Float64Array(cap);
    this.chain = new Int32Array(cap);
    this.buckets = new Int32Array(cap).fill(-1);
    this.shift = 32 - Math.log2(cap);
  }

  private bucket(k: number): number {
    // exact low and high 32-bit words of an integer key below 2^53 (other keys just hash less well)
    const lo = k >>> 0;
    // k * 2^-32 is exact (a power of two), and cheaper than the division
    const hi = (k * 2.3283064365386963e-10) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> this.shift;
  }

  /** Entry of a live key (not NaN), or -1. */
  private find(k: number): number {
    let e = this.buckets[this.bucket(k)]!;
    const keys = this.keys;
    while (e >= 0) {
      if (keys[e] === k) return e;
      e = this.chain[e]!;
    }
    return -1;
  }

  /** The value at `k`, or -1. */
  get(k: number): number {
    const e = this.find(k);
    return e < 0 ? -1 : this.vals[e]!;
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  set(k: number, v: number): void {
    this.put(k, v);
  }

  /** set, telling whether `k` was there already (one lookup for has + set). */
  put(k: number, v: number): boolean {
    if (k !== k) throw new RangeError('SectorMap: NaN is not a sector');
    // one hash for the lookup and the insertion (again only after a rebuild)
    let b = this.bucket(k);
    const keys = this.keys;
    for (let e = this.buckets[b]!; e >= 0; e = this.chain[e]!) {
      if (keys[e] === k) {
        this.vals[e] = v;
        return true;
      }
    }
    if (this.used === this.keys.length) {
      this.rebuild();
      b = this.bucket(k);
    }
    const e = this.used++;
    this.keys[e] = k === 0 ? 0 : k; // -0 is stored as 0
    this.vals[e] = v;
    this.chain[e] = this.buckets[b]!;
    this.buckets[b] = e;
    this.size++;
    return false;
  }

  /** Remove `k`; whether it was there. */
  delete(k: number): boolean {
    const e = this.find(k);
    if (e < 0) return false;
    this.kill(e);
    return true;
  }

  /** Remove `k` when its value is `v` (one lookup for `get(k) === v` then delete); whether it was removed. */
  deleteIf(k: number, v: number): boolean {
    const e = this.find(k);
    if (e < 0 || this.vals[e] !== v) return false;
    this.kill(e);
    return true;
  }

  /** The entry of `k` (for valueAt and deleteAt), or -1. */
  entryOf(k: number): number {
    return this.find(k);
  }

  /** Remove the live entry `e` (from entryOf, before any other change to the map). */
  deleteAt(e: number): void {
    this.kill(e);
  }

  /** The value at `k`, removed (-1 when missing): one lookup for get then delete. */
  take(k: number): number {
    const e = this.find(k);
    if (e < 0) return -1;
    const v = this.vals[e]!;
    this.kill(e);
    return v;
  }

  private kill(e: number): void {
    this.keys[e] = NaN;
    this.size--;
    if (e === this.head) this.skipDead();
  }

  private skipDead(): void {
    const keys = this.keys;
    while (this.head < this.used && keys[this.head] !== keys[this.head]) this.head++;
  }

  /** The key set first of those still present (size must be > 0). */
  oldestKey(): number {
    this.skipDead();
    return this.keys[this.head]!;
  }

  /** Entries in insertion order: for (let e = m.first(); e < m.end(); e++) if (m.isLive(e)) ... */
  first(): number {
    this.skipDead();
    return this.head;
  }
  end(): number {
    return this.used;
  }
  isLive(e: number): boolean {
    const k = this.keys[e]!;
    return k === k;
  }
  keyAt(e: number): number {
    return this.keys[e]!;
  }
  valueAt(e: number): number {
    return this.vals[e]!;
  }

  /** Remove every key (the arrays are kept). */
  clear(): void {
    this.buckets.fill(-1);
    this.used = 0;
    this.head = 0;
    this.size = 0;
  }

  /** Drop dead entries, keeping the order of live ones; double the arrays when over half are live. */
  private rebuild(): void {
    let cap = this.keys.length;
    if (this.size * 2 > cap) cap *= 2;
    const keys = cap === this.keys.length ? this.keys : new Float64Array(cap);
    const vals = cap === this.vals.length ? this.vals : new Float64Array(cap);
    if (cap !== this.keys.length) {
      this.chain = new Int32Array(cap);
      this.buckets = new Int32Array(cap);
      this.shift = 32 - Math.log2(cap);
    }
    this.buckets.fill(-1);
    let n = 0;
    for (let e = 0; e < this.used; e++) {
      const k = this.keys[e]!;
      if (k !== k) continue;
      keys[n] = k;
      vals[n] = this.vals[e]!;
      const b = this.bucket(k);
      this.chain[n] = this.buckets[b]!;
      this.buckets[b] = n;
      n++;
    }
    this.keys = keys;
    this.vals = vals;
    this.used = n;
    this.head = 0;
  }
}
