/**
 * DELTA_BINARY_PACKED (parquet-format, Encodings.md, "Delta Encoding (DELTA_BINARY_PACKED = 5)"):
 * a header `<block size> <miniblocks per block> <value count> <first value (zigzag)>`, then per
 * block of 128 deltas `<min delta (zigzag)> <4 bit widths> <miniblocks of 32 (delta - min) values,
 * bit-packed>`. Deltas wrap in the type's width (32 or 64 bits), as readers add them back. The
 * last block's unused miniblocks have width 0 and no bytes; a partly filled miniblock is padded.
 * Sorted times, ids and offsets of a trace take 1-3 bytes a value instead of 8.
 */
import type { ByteSink } from './byte-sink.js';
import { BitPacker, bitLength } from './bit-packing.js';

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS;

const deltasLo = new Uint32Array(BLOCK);
const deltasHi = new Uint32Array(BLOCK);
const widths = new Uint8Array(MINIBLOCKS);

function header(out: ByteSink, count: number): void {
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(count);
}

/**
 * One miniblock: 32 values of src from `at` (the values past `n` are padding, taken as 0), `width`
 * bits each (1..32), least significant bit first: exactly 4 * width bytes.
 */
function packMiniblock(out: ByteSink, src: Uint32Array, at: number, n: number, width: number): void {
  out.reserve(4 * width);
  const b = out.bytes;
  let o = out.length;
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < MINI; k++) {
    const v = k < n ? src[at + k]! : 0;
    acc |= v << bits;
    if (bits + width >= 32) {
      b[o] = acc;
      b[o + 1] = acc >>> 8;
      b[o + 2] = acc >>> 16;
      b[o + 3] = acc >>> 24;
      o += 4;
      acc = bits === 0 ? 0 : v >>> (32 - bits);
      bits += width - 32;
    } else bits += width;
  }
  // 32 * width bits is a whole number of 32-bit words: nothing is left in acc
  out.length = o;
}

/** A miniblock of 64-bit values wider than 32 bits: each value's low 32 bits, then its high bits (rare: steps of 2^31 or more). */
function packMiniblockWide(out: ByteSink, lo: Uint32Array, hi: Uint32Array, n: number, width: number, at: number): void {
  const packer = new BitPacker(out);
  packer.reserve(4 * width);
  for (let k = 0; k < MINI; k++) {
    packer.put(k < n ? lo[at + k]! : 0, 32);
    packer.put(k < n ? hi[at + k]! : 0, width - 32);
  }
  packer.flush();
}

/** The block's widths, then its miniblocks (those that hold values). */
function writeMiniblocks(out: ByteSink, n: number, wide: boolean): void {
  out.reserve(MINIBLOCKS);
  for (let m = 0; m < MINIBLOCKS; m++) out.u8(widths[m]!);
  for (let m = 0; m * MINI < n; m++) {
    const w = widths[m]!;
    const inBlock = Math.min(MINI, n - m * MINI);
    if (w === 0) continue;
    if (w <= 32) packMiniblock(out, deltasLo, m * MINI, inBlock, w);
    else if (wide) packMiniblockWide(out, deltasLo, deltasHi, inBlock, w, m * MINI);
  }
}

/** The range of the values an encoder saw (statistics for the footer), widened as it goes. */
export interface Int32Range {
  min: number;
  max: number;
}

/** The range of 64-bit values, each bound as its high half (signed) and low half. */
export interface Int64Range {
  minHi: number;
  minLo: number;
  maxHi: number;
  maxLo: number;
}

/** The first count values of a 32-bit column; `range` is widened to cover them. */
export function writeDeltaInt32(out: ByteSink, values: Int32Array, count: number, range: Int32Range): void {
  header(out, count);
  out.zigzag32(count ? values[0]! : 0);
  let prev = count ? values[0]! : 0;
  let lo = range.min;
  let hi = range.max;
  if (count && prev < lo) lo = prev;
  if (count && prev > hi) hi = prev;
  for (let i = 1; i < count;) {
    const n = Math.min(BLOCK, count - i);
    let min = 0x7fffffff;
    for (let k = 0; k < n; k++) {
      const v = values[i + k]!;
      const d = (v - prev) | 0;
      prev = v;
      deltasLo[k] = d;
      if (d < min) min = d;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out.zigzag32(min);
    unsignedFromMin32(n, min);
    writeMiniblocks(out, n, false);
    i += n;
  }
  range.min = lo;
  range.max = hi;
}

/** deltasLo[0, n) minus the block's min (as int32), and each miniblock's width. */
function unsignedFromMin32(n: number, min: number): void {
  widths.fill(0);
  for (let m = 0; m * MINI < n; m++) {
    let or = 0;
    for (let k = m * MINI, e = Math.min(n, k + MINI); k < e; k++) {
      const u = ((deltasLo[k]! | 0) - min) >>> 0;
      deltasLo[k] = u;
      or |= u;
    }
    widths[m] = bitLength(or);
  }
}

/**
 * count 64-bit values from a little-endian word view (words[2i] the low half, words[2i + 1] the
 * high half of value i), starting at value `start`. A block whose deltas all fit in 32 bits (the
 * usual case: times and ids step by less than 2^31) takes the 32-bit path.
 */
export function writeDeltaInt64(out: ByteSink, words: Uint32Array, start: number, count: number, range: Int64Range): void {
  header(out, count);
  let pLo = count ? words[2 * start]! : 0;
  let pHi = count ? words[2 * start + 1]! | 0 : 0;
  out.zigzag64(pHi, pLo);
  let { minHi, minLo, maxHi, maxLo } = range;
  if (count) {
    if (pHi < minHi || (pHi === minHi && pLo < minLo)) {
      minHi = pHi;
      minLo = pLo;
    }
    if (pHi > maxHi || (pHi === maxHi && pLo > maxLo)) {
      maxHi = pHi;
      maxLo = pLo;
    }
  }
  for (let i = start + 1, end = start + count; i < end;) {
    const n = Math.min(BLOCK, end - i);
    let mLo = 0xffffffff;
    let mHi = 0x7fffffff;
    let narrow = true;
    for (let k = 0; k < n; k++) {
      const at = 2 * (i + k);
      const lo = words[at]!;
      const hi = words[at + 1]! | 0;
      const dLo = (lo - pLo) >>> 0;
      const dHi = (hi - pHi - (lo < pLo ? 1 : 0)) | 0;
      pLo = lo;
      pHi = hi;
      if (hi < minHi || (hi === minHi && lo < minLo)) {
        minHi = hi;
        minLo = lo;
      }
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi;
        maxLo = lo;
      }
      deltasLo[k] = dLo;
      deltasHi[k] = dHi;
      // the delta is an int32 when its high half is its low half's sign
      narrow &&= dHi === (dLo | 0) >> 31;
      if (dHi < mHi || (dHi === mHi && dLo < mLo)) {
        mHi = dHi;
        mLo = dLo;
      }
    }
    out.zigzag64(mHi, mLo);
    if (narrow) {
      unsignedFromMin32(n, mLo | 0);
      writeMiniblocks(out, n, false);
    } else {
      widths.fill(0);
      for (let m = 0; m * MINI < n; m++) {
        let orLo = 0;
        let orHi = 0;
        for (let k = m * MINI, e = Math.min(n, k + MINI); k < e; k++) {
          const dLo = deltasLo[k]!;
          const uLo = (dLo - mLo) >>> 0;
          const uHi = ((deltasHi[k]! | 0) - mHi - (dLo < mLo ? 1 : 0)) >>> 0;
          deltasLo[k] = uLo;
          deltasHi[k] = uHi;
          orLo |= uLo;
          orHi |= uHi;
        }
        widths[m] = orHi ? 32 + bitLength(orHi) : bitLength(orLo);
      }
      writeMiniblocks(out, n, true);
    }
    i += n;
  }
  range.minHi = minHi;
  range.minLo = minLo;
  range.maxHi = maxHi;
  range.maxLo = maxLo;
}
