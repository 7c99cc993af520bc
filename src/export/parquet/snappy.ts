/**
 * A Snappy compressor (google/snappy, format_description.txt; Parquet's SNAPPY codec is the raw
 * format, no framing): the uncompressed length as a varint, then literals (tag 00) and copies
 * with a 2-byte offset (tag 10, lengths 1-64) or a 1-byte offset (tag 01, lengths 4-11, offsets
 * below 2048). Input is matched in 64 KiB blocks through a hash table of 4-byte sequences, and
 * after 32 misses in a row the search steps further ahead each time, as the reference compressor
 * does, so incompressible input passes at copying speed.
 */
import type { ByteSink } from './byte-sink.js';

const BLOCK = 1 << 16;
const HASH_BITS = 14;
const table = new Int32Array(1 << HASH_BITS);

const load32 = (a: Uint8Array, i: number): number => a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24);
const hash = (v: number): number => Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);

/** Most bytes snappy may take for n input bytes (the reference's MaxCompressedLength). */
export const snappyMaxLength = (n: number): number => 32 + n + Math.floor(n / 6);

function literal(out: ByteSink, src: Uint8Array, from: number, to: number): void {
  const n = to - from;
  if (n === 0) return;
  const b = out.bytes;
  let o = out.length;
  const m = n - 1;
  if (m < 60) b[o++] = m << 2;
  else if (m < 0x100) {
    b[o++] = 60 << 2;
    b[o++] = m;
  } else if (m < 0x10000) {
    b[o++] = 61 << 2;
    b[o++] = m;
    b[o++] = m >>> 8;
  } else {
    b[o++] = 62 << 2;
    b[o++] = m;
    b[o++] = m >>> 8;
    b[o++] = m >>> 16;
  }
  if (n < 16) for (let i = from; i < to; i++) b[o++] = src[i]!;
  else {
    b.set(src.subarray(from, to), o);
    o += n;
  }
  out.length = o;
}

function copy(out: ByteSink, offset: number, length: number): void {
  const b = out.bytes;
  let o = out.length;
  // lengths above 64 in pieces of 64, leaving at least 4 for the last piece
  while (length >= 68) {
    b[o++] = (63 << 2) | 2;
    b[o++] = offset;
    b[o++] = offset >>> 8;
    length -= 64;
  }
  if (length > 64) {
    b[o++] = (59 << 2) | 2;
    b[o++] = offset;
    b[o++] = offset >>> 8;
    length -= 60;
  }
  if (length < 12 && offset < 2048) {
    b[o++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    b[o++] = offset;
  } else {
    b[o++] = 2 | ((length - 1) << 2);
    b[o++] = offset;
    b[o++] = offset >>> 8;
  }
  out.length = o;
}

/** One block (at most 64 KiB) of src[start, end). */
function compressBlock(out: ByteSink, src: Uint8Array, start: number, end: number): void {
  const n = end - start;
  if (n < 15) {
    literal(out, src, start, end);
    return;
  }
  table.fill(-1);
  const limit = end - 4; // last position a 4-byte load may start at
  let next = start; // first byte not yet emitted
  let ip = start + 1;
  let skip = 32;
  while (ip <= limit) {
    const v = load32(src, ip);
    const h = hash(v);
    const candidate = table[h]!;
    table[h] = ip;
    if (candidate < start || load32(src, candidate) !== v) {
      ip += skip++ >>> 5;
      continue;
    }
    skip = 32;
    literal(out, src, next, ip);
    let len = 4;
    while (ip + len < end && src[candidate + len] === src[ip + len]) len++;
    copy(out, ip - candidate, len);
    ip += len;
    next = ip;
    if (ip <= limit) table[hash(load32(src, ip - 1))] = ip - 1;
  }
  literal(out, src, next, end);
}

/** src compressed, appended to out. */
export function snappyCompress(out: ByteSink, src: Uint8Array): void {
  out.reserve(snappyMaxLength(src.length));
  out.varint(src.length);
  for (let s = 0; s < src.length; s += BLOCK) compressBlock(out, src, s, Math.min(src.length, s + BLOCK));
}
