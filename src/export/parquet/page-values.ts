/**
 * The values of one data page (parquet-format, Encodings.md): integers DELTA_BINARY_PACKED,
 * dictionary keys RLE_DICTIONARY, booleans, floats and strings PLAIN; only the non-null values,
 * whose rows the definition levels mark. Each writer reads its Arrow batch's buffers directly and
 * keeps the chunk's min and max (Statistics, in the column type's order).
 */
import type { Batch, Column } from '@uwdata/flechette';
import { ByteSink } from './byte-sink.js';
import { bitLength, BitPacker, writeRleHybrid } from './bit-packing.js';
import { writeDeltaInt32, writeDeltaInt64 } from './delta-binary-packed.js';
import { Encoding, type ParquetColumnType } from './parquet-schema.js';
import { ThriftCompactWriter } from './thrift-compact.js';
import { mergeDictionaries } from '../../table/merge-dictionaries.js';

/** Rows per data page: pages are the unit a reader decompresses at once. */
export const PAGE_ROWS = 1 << 16;

export interface ChunkStatistics {
  nullCount: number;
  min?: Uint8Array;
  max?: Uint8Array;
}

/** Scratch memory reused from chunk to chunk (one per writer). */
export class ChunkScratch {
  readonly page = new ByteSink(1 << 20);
  readonly packed = new ByteSink(1 << 20);
  readonly header = new ThriftCompactWriter();
  ints = new Int32Array(0);
  words = new Uint32Array(0);

  intsOf(n: number): Int32Array {
    if (this.ints.length < n) this.ints = new Int32Array(n);
    return this.ints;
  }
  wordsOf(n: number): Uint32Array {
    if (this.words.length < 2 * n) this.words = new Uint32Array(2 * n);
    return this.words;
  }
}

export const isValid = (validity: Uint8Array, i: number): boolean => (validity[i >>> 3]! & (1 << (i & 7))) !== 0;

export function nullsIn(validity: Uint8Array, from: number, to: number): number {
  let nulls = 0;
  for (let i = from; i < to; i++) nulls += isValid(validity, i) ? 0 : 1;
  return nulls;
}

/** Min and max of a chunk's values, kept as the kind needs them. */
export class MinMax {
  // int32 / float: numbers; int64: hi (signed) and lo halves
  min = Infinity;
  max = -Infinity;
  minHi = 0x7fffffff;
  minLo = 0xffffffff;
  maxHi = -0x80000000;
  maxLo = 0;
  any = false;
  used: Uint8Array | null = null;
}

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v | 0, true);
  return b;
}

/** What a page's values are written from and into: rows [from, to) of one batch. */
export interface PageValues {
  out: ByteSink;
  batch: Batch<unknown>;
  from: number;
  to: number;
  /** The batch's validity bits, null when every row of it is valid. */
  validity: Uint8Array | null;
  type: ParquetColumnType;
  scratch: ChunkScratch;
  mm: MinMax;
  dict: ChunkDictionary | null;
}

/** A slice of one batch that goes into one page. */
export interface Slice {
  batch: Batch<unknown>;
  from: number;
  to: number;
}

/** The slices of rows [start, end) of a column, at most PAGE_ROWS each. */
export function* pageSlices(column: Column<unknown>, start: number, end: number): Generator<Slice> {
  let base = 0;
  for (const batch of column.data) {
    const len = batch.length;
    const lo = Math.max(start, base);
    const hi = Math.min(end, base + len);
    for (let s = lo; s < hi; s += PAGE_ROWS) yield { batch, from: s - base, to: Math.min(hi, s + PAGE_ROWS) - base };
    base += len;
    if (base >= end) break;
  }
}

/** The non-null rows of a slice, or null when every row is valid. */
export function validRows(s: Slice): Uint8Array | null {
  const { batch } = s;
  return batch.nullCount > 0 && batch.validity ? (batch.validity as Uint8Array) : null;
}

/**
 * The dictionary shared by a chunk's batches: its Utf8 batches, and for batches with another
 * dictionary (Arrow allows a replacement), a remap of their keys into the merged dictionary.
 */
export interface ChunkDictionary {
  entries: Uint8Array[];
  remaps: Map<unknown, Int32Array | null>;
}

function utf8Entries(dictionary: Column<unknown>): Uint8Array[] {
  const entries: Uint8Array[] = [];
  for (const b of dictionary.data) {
    const offsets = b.offsets as Int32Array;
    const bytes = b.values as Uint8Array;
    for (let i = 0; i < b.length; i++) entries.push(bytes.subarray(offsets[i]!, offsets[i + 1]!));
  }
  return entries;
}

export function chunkDictionary(column: Column<unknown>, start: number, end: number): ChunkDictionary {
  const dicts: Column<unknown>[] = [];
  for (const s of pageSlices(column, start, end)) {
    const d = (s.batch as unknown as { dictionary: Column<unknown> }).dictionary;
    if (!dicts.includes(d)) dicts.push(d);
  }
  if (dicts.length <= 1) return { entries: dicts.length ? utf8Entries(dicts[0]!) : [], remaps: new Map(dicts.map((d) => [d, null])) };
  const merged = mergeDictionaries(dicts);
  const utf8 = new TextEncoder();
  return { entries: merged.values.map((v) => utf8.encode(v ?? '')), remaps: merged.remaps };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function int32Values(v: PageValues): number {
  const { out, scratch, mm, batch, from, to, validity } = v;
  const n = to - from;

  // every integer type of up to 32 bits as int32 values (UInt8 and UInt16 fit), so that the
  // loops below see one array type
  const src = batch.values as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array;
  let values: Int32Array;
  if (src instanceof Int32Array) values = src.subarray(from, to);
  else {
    values = scratch.intsOf(n).subarray(0, n);
    values.set(src.subarray(from, to));
  }
  let count = n;
  if (validity) {
    const ints = scratch.intsOf(n);
    count = 0;
    for (let i = 0; i < n; i++) if (isValid(validity, from + i)) ints[count++] = values[i]!;
    values = ints;
  }
  writeDeltaInt32(out, values, count, mm);
  mm.any ||= count > 0;
  return Encoding.DELTA_BINARY_PACKED;
}

function int64Values(v: PageValues): number {
  const { out, scratch, mm, batch, from, to, validity } = v;
  const n = to - from;

  // a UInt32 column is written as INT64 (parquet-schema.ts): its values widened, high halves 0
  const src = batch.values as BigInt64Array | Uint32Array;
  let words: Uint32Array;
  let start = from;
  if (src instanceof Uint32Array) {
    words = scratch.wordsOf(n).fill(0, 0, 2 * n);
    for (let i = 0; i < n; i++) words[2 * i] = src[from + i]!;
    start = 0;
  } else words = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  let count = n;
  if (validity) {
    const w = scratch.wordsOf(n);
    count = 0;
    // in place when the words are already the scratch array (a widened UInt32 column)
    for (let i = 0; i < n; i++)
      if (isValid(validity, from + i)) {
        w[2 * count] = words[2 * (start + i)]!;
        w[2 * count + 1] = words[2 * (start + i) + 1]!;
        count++;
      }
    words = w;
    start = 0;
  }
  writeDeltaInt64(out, words, start, count, mm);
  mm.any ||= count > 0;
  return Encoding.DELTA_BINARY_PACKED;
}

function dictionaryValues(v: PageValues): number {
  const { out, scratch, mm, dict, batch, from, to, validity } = v;
  const n = to - from;

  const src = batch.values as Int8Array | Int16Array | Int32Array;
  const remap = dict!.remaps.get((batch as unknown as { dictionary: unknown }).dictionary) ?? null;
  const keys = scratch.intsOf(n);
  let count = n;
  if (!validity && !remap) keys.set(src.subarray(from, to));
  else {
    count = 0;
    for (let i = from; i < to; i++) {
      if (validity && !isValid(validity, i)) continue;
      keys[count++] = remap ? remap[src[i]!]! : src[i]!;
    }
  }
  const used = (mm.used ??= new Uint8Array(dict!.entries.length));
  for (let i = 0; i < count; i++) used[keys[i]!] = 1;
  mm.any ||= count > 0;
  const width = Math.max(1, bitLength(Math.max(0, dict!.entries.length - 1)));
  out.u8(width);
  writeRleHybrid(out, keys, 0, count, width);
  return Encoding.RLE_DICTIONARY;
}

function boolValues(v: PageValues): number {
  const { out, mm, batch, from, to, validity } = v;
  const n = to - from;

  const bits = batch.values as Uint8Array;
  const packer = new BitPacker(out);
  packer.reserve(Math.ceil(n / 8));
  let count = 0;
  for (let i = from; i < to; i++) {
    if (validity && !isValid(validity, i)) continue;
    const v = isValid(bits, i) ? 1 : 0;
    packer.put(v, 1);
    mm.min = Math.min(mm.min, v);
    mm.max = Math.max(mm.max, v);
    count++;
  }
  for (; count % 8; count++) packer.put(0, 1);
  packer.flush();
  mm.any ||= mm.max >= 0;
  return Encoding.PLAIN;
}

function floatValues(v: PageValues): number {
  const { out, type, mm, batch, from, to, validity } = v;
  const n = to - from;

  const src = batch.values as Float64Array | Float32Array;
  const width = type.kind === 'double' ? 8 : 4;
  const Ctor = type.kind === 'double' ? Float64Array : Float32Array;
  const vals = new Ctor(n);
  let count = 0;
  for (let i = from; i < to; i++) {
    if (validity && !isValid(validity, i)) continue;
    const v = src[i]!;
    vals[count++] = v;
    if (v < mm.min) mm.min = v;
    if (v > mm.max) mm.max = v;
  }
  mm.any ||= mm.min <= mm.max;
  out.raw(new Uint8Array(vals.buffer, 0, count * width));
  return Encoding.PLAIN;
}

function utf8Values(v: PageValues): number {
  const { out, batch, from, to, validity } = v;

  const offsets = batch.offsets as Int32Array;
  const bytes = batch.values as Uint8Array;
  for (let i = from; i < to; i++) {
    if (validity && !isValid(validity, i)) continue;
    out.u32le(offsets[i + 1]! - offsets[i]!);
    out.raw(bytes.subarray(offsets[i]!, offsets[i + 1]!));
  }
  return Encoding.PLAIN;
}

/** The values of one slice, PLAIN or delta- or dictionary-encoded, into `out`; min/max kept. Returns the encoding. */
export const VALUE_WRITERS = {
  int32: int32Values,
  int64: int64Values,
  dictionary: dictionaryValues,
  bool: boolValues,
  float: floatValues,
  double: floatValues,
  utf8: utf8Values,
} as const;

/**
 * A zero bound is written as -0.0 when a minimum and +0.0 when a maximum (parquet.thrift,
 * ColumnOrder: a reader may not assume which zero a chunk holds).
 */
const zeroMin = (v: number): number => (v === 0 ? -0 : v);
const zeroMax = (v: number): number => (v === 0 ? 0 : v);

export function statistics(type: ParquetColumnType, mm: MinMax, nullCount: number, dict: ChunkDictionary | null): ChunkStatistics {
  const stats: ChunkStatistics = { nullCount };
  if (!mm.any) return stats;
  switch (type.kind) {
    case 'int32':
      stats.min = le32(mm.min);
      stats.max = le32(mm.max);
      break;
    case 'int64': {
      const b = new Uint8Array(16);
      const v = new DataView(b.buffer);
      v.setUint32(0, mm.minLo, true);
      v.setInt32(4, mm.minHi, true);
      v.setUint32(8, mm.maxLo, true);
      v.setInt32(12, mm.maxHi, true);
      stats.min = b.subarray(0, 8);
      stats.max = b.subarray(8, 16);
      break;
    }
    case 'bool':
      stats.min = Uint8Array.of(mm.min);
      stats.max = Uint8Array.of(mm.max);
      break;
    case 'float':
    case 'double': {
      if (Number.isNaN(mm.min) || Number.isNaN(mm.max)) break;
      const width = type.kind === 'double' ? 8 : 4;
      const b = new Uint8Array(2 * width);
      const v = new DataView(b.buffer);
      if (width === 8) {
        v.setFloat64(0, zeroMin(mm.min), true);
        v.setFloat64(8, zeroMax(mm.max), true);
      } else {
        v.setFloat32(0, zeroMin(mm.min), true);
        v.setFloat32(4, zeroMax(mm.max), true);
      }
      stats.min = b.subarray(0, width);
      stats.max = b.subarray(width);
      break;
    }
    case 'dictionary': {
      let min: Uint8Array | undefined;
      let max: Uint8Array | undefined;
      dict!.entries.forEach((e, k) => {
        if (!mm.used![k]) return;
        if (!min || compareBytes(e, min) < 0) min = e;
        if (!max || compareBytes(e, max) > 0) max = e;
      });
      stats.min = min;
      stats.max = max;
      break;
    }
  }
  return stats;
}
