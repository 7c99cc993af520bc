/**
 * Interners of text and byte ranges: the key of a column's dictionary for a range of a line,
 * without slicing or decoding the range when it was seen before (the readers' hot loops make no
 * string per field).
 */
/**
 * Interns a text range [start, end) of a larger string without slicing it on a hit: an
 * open-addressing hash table over the raw characters. On a miss `onMiss(raw)` gives the key to
 * remember (e.g. a dictionary key of a column, after normalising the text).
 */
export class RangeInterner {
  private slots = new Int32Array(64).fill(-1);
  private readonly raw: string[] = [];
  private readonly keys: number[] = [];
  constructor(
    private readonly onMiss: (raw: string) => number,
    private readonly maxEntries = 1 << 20,
  ) {}

  get size(): number {
    return this.raw.length;
  }

  lookup(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = (h >>> 0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      const r = this.raw[e]!;
      if (r.length !== len) continue;
      let i = 0;
      while (i < len && r.charCodeAt(i) === text.charCodeAt(start + i)) i++;
      if (i === len) return this.keys[e]!;
    }
    const raw = text.slice(start, end);
    const key = this.onMiss(raw);
    // a bounded cache: past maxEntries the key is still right, it is just not remembered
    if (this.raw.length < this.maxEntries) this.insert(raw, key, h);
    return key;
  }

  private insert(raw: string, key: number, h: number): void {
    if ((this.raw.length + 1) * 2 > this.slots.length) this.grow();
    const e = this.raw.length;
    this.raw.push(raw);
    this.keys.push(key);
    const mask = this.slots.length - 1;
    let s = (h >>> 0) & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let e = 0; e < this.raw.length; e++) {
      const r = this.raw[e]!;
      let h = 0x811c9dc5;
      for (let i = 0; i < r.length; i++) h = Math.imul(h ^ r.charCodeAt(i), 16777619);
      let s = (h >>> 0) & mask;
      while (this.slots[s]! >= 0) s = (s + 1) & mask;
      this.slots[s] = e;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The byte version of RangeInterner: interns a byte range [start, end) of a buffer (UTF-8 text)
 * without decoding it on a hit. On a miss the range is decoded and `onMiss(text)` gives the key.
 */
export class ByteRangeInterner {
  private slots = new Int32Array(64).fill(-1);
  private readonly raw: Uint8Array[] = [];
  private readonly hashes: number[] = [];
  private readonly keys: number[] = [];
  private last = -1;
  constructor(
    private readonly onMiss: (text: string) => number,
    private readonly maxEntries = 1 << 20,
  ) {}

  get size(): number {
    return this.raw.length;
  }

  lookup(bytes: Uint8Array, start: number, end: number): number {
    // the same text as last time (runs of events from one task) costs one comparison
    const last = this.last;
    if (last >= 0) {
      const r = this.raw[last]!;
      const len = end - start;
      if (r.length === len) {
        let i = 0;
        while (i < len && r[i] === bytes[start + i]) i++;
        if (i === len) return this.keys[last]!;
      }
    }
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = (h >>> 0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      if (this.hashes[e] !== h) continue;
      const r = this.raw[e]!;
      if (r.length !== len) continue;
      let i = 0;
      while (i < len && r[i] === bytes[start + i]) i++;
      if (i === len) {
        this.last = e;
        return this.keys[e]!;
      }
    }
    const key = this.onMiss(utf8.decode(bytes.subarray(start, end)));
    // a bounded cache: past maxEntries the key is still right, it is just not remembered
    if (this.raw.length < this.maxEntries) this.insert(bytes.slice(start, end), key, h);
    return key;
  }

  private insert(raw: Uint8Array, key: number, h: number): void {
    if ((this.raw.length + 1) * 2 > this.slots.length) this.grow();
    const e = this.raw.length;
    this.raw.push(raw);
    this.hashes.push(h);
    this.keys.push(key);
    const mask = this.slots.length - 1;
    let s = (h >>> 0) & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let e = 0; e < this.raw.length; e++) {
      let s = (this.hashes[e]! >>> 0) & mask;
      while (this.slots[s]! >= 0) s = (s + 1) & mask;
      this.slots[s] = e;
    }
  }
}
