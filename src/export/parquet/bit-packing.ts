/**
 * Parquet's bit-packing and its RLE / bit-packing hybrid (parquet-format, Encodings.md, "Run
 * Length Encoding / Bit-Packing Hybrid (RLE = 3)"): values packed from the least significant bit
 * of the first byte, 8 values to a group; a run is `varint(count << 1)` then the repeated value in
 * ceil(width / 8) little-endian bytes, or `varint(groups << 1 | 1)` then the groups packed.
 * Definition levels and dictionary indices use it; DELTA_BINARY_PACKED packs its miniblocks the
 * same way.
 */
import type { ByteSink } from './byte-sink.js';

/** Bits needed for an unsigned 32-bit value (0 for 0). */
export const bitLength = (v: number): number => 32 - Math.clz32(v);

/**
 * Packs values of up to 32 bits into a ByteSink, least significant bit first. `flush` writes the
 * bits still held (the packed length is whole bytes when a multiple of 8 values was put).
 */
export class BitPacker {
  private acc = 0;
  private bits = 0;
  constructor(private readonly out: ByteSink) {}

  /** Room for this many more bytes (one reserve before a loop of `put`). */
  reserve(bytes: number): void {
    this.out.reserve(bytes + 8);
  }

  /** Put the low `width` bits of v (width 1..32; v already below 2^width). */
  put(v: number, width: number): void {
    const bits = this.bits;
    this.acc |= v << bits;
    if (bits + width >= 32) {
      const out = this.out;
      const b = out.bytes;
      let n = out.length;
      const acc = this.acc;
      b[n++] = acc;
      b[n++] = acc >>> 8;
      b[n++] = acc >>> 16;
      b[n++] = acc >>> 24;
      out.length = n;
      this.acc = bits === 0 ? 0 : v >>> (32 - bits);
      this.bits = bits + width - 32;
    } else this.bits = bits + width;
  }

  flush(): void {
    const out = this.out;
    while (this.bits > 0) {
      out.bytes[out.length++] = this.acc;
      this.acc >>>= 8;
      this.bits -= 8;
    }
    this.acc = 0;
    this.bits = 0;
  }
}

/** An RLE run: `count` copies of `value` at this bit width. */
function rleRun(out: ByteSink, value: number, count: number, width: number): void {
  out.varint(count * 2);
  for (let w = 0; w < width; w += 8) out.u8(value >>> w);
}

/** A bit-packed run of values[from, to) (padded with zeros to a whole group). */
function bitPackedRun(out: ByteSink, packer: BitPacker, values: ArrayLike<number>, from: number, to: number, width: number): void {
  const groups = Math.ceil((to - from) / 8);
  out.varint(groups * 2 + 1);
  if (width === 0) return;
  packer.reserve(groups * width);
  for (let i = from; i < to; i++) packer.put(values[i]!, width);
  for (let i = to; i < from + groups * 8; i++) packer.put(0, width);
  packer.flush();
}

/**
 * values[start, start + count) in the hybrid encoding at this bit width (each value below
 * 2^width): runs of 8 or more equal values as RLE runs, the rest bit-packed. A bit-packed run
 * that an RLE run follows holds a multiple of 8 values (it takes the first values of the run).
 */
export function writeRleHybrid(out: ByteSink, values: ArrayLike<number>, start: number, count: number, width: number): void {
  const packer = new BitPacker(out);
  const end = start + count;
  let pending = start;
  let i = start;
  while (i < end) {
    const v = values[i]!;
    let j = i + 1;
    while (j < end && values[j] === v) j++;
    if (j - i >= 8) {
      const fill = (8 - ((i - pending) % 8)) % 8;
      if (j - i - fill >= 8) {
        if (i + fill > pending) bitPackedRun(out, packer, values, pending, i + fill, width);
        rleRun(out, v, j - i - fill, width);
        pending = j;
      }
    }
    i = j;
  }
  if (end > pending) bitPackedRun(out, packer, values, pending, end, width);
}

/**
 * Definition levels of a flat optional column (bit width 1) from an Arrow validity bitmap (also
 * least significant bit first): rows [offset, offset + count) of the bitmap, one bit-packed run;
 * null bitmap (no nulls): one RLE run of 1s.
 */
export function writeValidityLevels(out: ByteSink, validity: Uint8Array | null, offset: number, count: number): void {
  if (!validity) {
    rleRun(out, 1, count, 1);
    return;
  }
  const bytes = Math.ceil(count / 8);
  out.varint(bytes * 2 + 1);
  out.reserve(bytes);
  const b = out.bytes;
  let n = out.length;
  const first = offset >>> 3;
  const shift = offset & 7;
  if (shift === 0) {
    b.set(validity.subarray(first, first + bytes), n);
    n += bytes;
  } else {
    for (let k = 0; k < bytes; k++) {
      const lo = validity[first + k]! >>> shift;
      const hi = first + k + 1 < validity.length ? validity[first + k + 1]! << (8 - shift) : 0;
      b[n++] = (lo | hi) & 0xff;
    }
  }
  // bits past the page's last row are zero (rows of the next page otherwise)
  const tail = count & 7;
  if (tail) b[n - 1] = b[n - 1]! & ((1 << tail) - 1);
  out.length = n;
}
