/**
 * Columns into column builders a chunk at a time (appendChunk), for tables whose rows are all
 * known before the table is built (block_requests, block_bios): one typed-array copy per chunk
 * instead of a call per value, record batch after record batch (so a builder that spills full
 * batches to a scratch file holds one batch). The builders end up holding what the same values pushed one
 * by one would give (the same chunks, the same validity bitmaps, nulls as 0 in the value slot), so
 * the tables and files are byte-identical.
 */
import { CHUNK_ROWS, type Int64ColumnBuilder, type NumberColumnBuilder, type StringColumnBuilder } from './column-builders.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type NumArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** Scratch rows of one chunk: values with nulls zeroed, and which rows are null. */
const scratchValues = new Float64Array(CHUNK_ROWS);
const scratchNulls = new Uint8Array(CHUNK_ROWS);

/** The validity bitmap of one chunk from its null rows (1 = null) in scratchNulls[0, len). */
function bitmapOf(len: number): Uint8Array {
  const validity = new Uint8Array(CHUNK_ROWS >> 3);
  for (let i = 0; i < len; i++) if (scratchNulls[i] === 0) validity[i >> 3]! |= 1 << (i & 7);
  return validity;
}

/** A chunk as a record batch takes it: validity null when no row is null. */
export interface FilledChunk {
  validity: Uint8Array | null;
  nullCount: number;
}

/**
 * Write values src[from, from + len) (len <= CHUNK_ROWS) into dst[0, len), each stored as dst's
 * typed array stores it (as push does), rows where nulls[0, len) is 1 as nulls holding 0 (as
 * pushNull leaves them). dst may be reused: every slot in [0, len) is written.
 */
export function fillNumbers(
  dst: NumArray,
  src: Int32Array | Float64Array,
  from: number,
  len: number,
  nulls: Uint8Array | null = null,
): FilledChunk {
  let nullCount = 0;
  if (nulls) for (let i = 0; i < len; i++) nullCount += nulls[i]!;
  if (nullCount === 0) {
    dst.set(src.subarray(from, from + len));
    return { validity: null, nullCount: 0 };
  }
  for (let i = 0; i < len; i++) {
    const isNull = nulls![i]!;
    scratchNulls[i] = isNull;
    scratchValues[i] = isNull ? 0 : src[from + i]!;
  }
  dst.set(scratchValues.subarray(0, len));
  return { validity: bitmapOf(len), nullCount };
}

/**
 * Write values src[from, from + len) into the int64 dst[0, len): integers below 2^53 (as
 * pushSafeInteger stores them), or, with `base`, times relative to it: base + value, exact (a
 * BigInt sum where the number is not a safe integer). NaN and rows where nulls[0, len) is 1 are
 * nulls holding 0. dst may be reused: every slot in [0, len) is written.
 */
export function fillInt64(
  dst: BigInt64Array,
  src: Float64Array,
  from: number,
  len: number,
  nulls: Uint8Array | null = null,
  base: bigint | null = null,
): FilledChunk {
  // two loops of their own (each keeps one kind of type feedback): plain values, and times
  const nullCount = base === null ? fillPlainInt64(dst, src, from, len, nulls) : fillTimes(dst, src, from, len, nulls, base);
  return { validity: nullCount ? bitmapOf(len) : null, nullCount };
}

/** fillInt64 without a base; returns the null count (null rows marked in scratchNulls). */
function fillPlainInt64(dst: BigInt64Array, src: Float64Array, from: number, len: number, nulls: Uint8Array | null): number {
  const words = LITTLE_ENDIAN ? new Uint32Array(dst.buffer, dst.byteOffset, len * 2) : null;
  let nullCount = 0;
  for (let i = 0; i < len; i++) {
    const v = src[from + i]!;
    if (v !== v || (nulls !== null && nulls[i] === 1)) {
      scratchNulls[i] = 1;
      nullCount++;
      if (words) {
        words[2 * i] = 0;
        words[2 * i + 1] = 0;
      } else dst[i] = 0n;
      continue;
    }
    scratchNulls[i] = 0;
    if (words) {
      words[2 * i] = v >>> 0;
      words[2 * i + 1] = Math.floor(v / 4294967296) >>> 0;
    } else dst[i] = BigInt(v);
  }
  return nullCount;
}

/** fillInt64 of times relative to `base`; returns the null count (null rows marked in scratchNulls). */
function fillTimes(dst: BigInt64Array, src: Float64Array, from: number, len: number, nulls: Uint8Array | null, base: bigint): number {
  const baseNum = Number(base);
  const baseSafe = Number.isSafeInteger(baseNum);
  const words = LITTLE_ENDIAN ? new Uint32Array(dst.buffer, dst.byteOffset, len * 2) : null;
  let nullCount = 0;
  for (let i = 0; i < len; i++) {
    const v = src[from + i]!;
    if (v !== v || (nulls !== null && nulls[i] === 1)) {
      scratchNulls[i] = 1;
      nullCount++;
      if (words) {
        words[2 * i] = 0;
        words[2 * i + 1] = 0;
      } else dst[i] = 0n;
      continue;
    }
    scratchNulls[i] = 0;
    const abs = baseNum + v;
    // Number.isSafeInteger(abs), spelled out for the hot loop; else the exact BigInt sum
    if (!(baseSafe && abs <= MAX_SAFE && abs >= -MAX_SAFE && Math.floor(abs) === abs)) {
      dst[i] = exactSum(base, v);
      continue;
    }
    if (words) {
      words[2 * i] = abs >>> 0;
      words[2 * i + 1] = Math.floor(abs / 4294967296) >>> 0;
    } else dst[i] = BigInt(abs);
  }
  return nullCount;
}

function exactSum(base: bigint, v: number): bigint {
  return base + BigInt(v);
}

/** fillNumbers into a new chunk appended to a column at a chunk boundary (consecutive ranges build what pushing every value would). */
export function appendNumbers(
  b: NumberColumnBuilder<NumArray> | StringColumnBuilder,
  src: Int32Array | Float64Array,
  from: number,
  len: number,
  nulls: Uint8Array | null = null,
): void {
  const chunk = b.newChunk();
  const { validity, nullCount } = fillNumbers(chunk, src, from, len, nulls);
  (b as NumberColumnBuilder<NumArray>).appendChunk(chunk as never, len, validity, nullCount);
}

/** fillInt64 into a new chunk appended to an int64 column at a chunk boundary. */
export function appendInt64(
  b: Int64ColumnBuilder,
  src: Float64Array,
  from: number,
  len: number,
  nulls: Uint8Array | null = null,
  base: bigint | null = null,
): void {
  const chunk = b.newChunk();
  const { validity, nullCount } = fillInt64(chunk, src, from, len, nulls, base);
  b.appendChunk(chunk, len, validity, nullCount);
}
