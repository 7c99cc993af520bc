/**
 * A growable byte buffer for the encoders of a Parquet file: little-endian fixed-width values,
 * unsigned LEB128 varints and raw bytes. `reset` keeps the memory for the next page.
 */
export class ByteSink {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 1 << 16) {
    this.bytes = new Uint8Array(capacity);
  }

  reset(): void {
    this.length = 0;
  }

  /** Make room for n more bytes. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  /** The bytes written so far (a view: copy it before the next reset). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  u8(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  u32le(v: number): void {
    this.reserve(4);
    const b = this.bytes;
    let n = this.length;
    b[n++] = v;
    b[n++] = v >>> 8;
    b[n++] = v >>> 16;
    b[n++] = v >>> 24;
    this.length = n;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** An unsigned LEB128 varint of a value below 2^53. */
  varint(v: number): void {
    this.reserve(10);
    const b = this.bytes;
    let n = this.length;
    while (v >= 0x80) {
      b[n++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[n++] = v;
    this.length = n;
  }

  /** An unsigned LEB128 varint of the 64-bit value hi * 2^32 + lo (both taken as unsigned). */
  varint64(hi: number, lo: number): void {
    this.reserve(10);
    const b = this.bytes;
    let n = this.length;
    hi >>>= 0;
    lo >>>= 0;
    while (hi !== 0 || lo >= 0x80) {
      b[n++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[n++] = lo;
    this.length = n;
  }

  /** The zigzag varint of the signed 64-bit value hi * 2^32 + lo (hi signed, lo unsigned). */
  zigzag64(hi: number, lo: number): void {
    const sign = hi >> 31;
    this.varint64(((hi << 1) | (lo >>> 31)) ^ sign, (lo << 1) ^ sign);
  }

  /** The zigzag varint of a signed 32-bit value. */
  zigzag32(v: number): void {
    this.varint64(0, ((v << 1) ^ (v >> 31)) >>> 0);
  }
}
