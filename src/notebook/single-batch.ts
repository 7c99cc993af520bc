/**
 * An apache-arrow Table as one record batch, with column accessors Arquero reads fast.
 *
 * Arquero reads a column row by row through `column.at(row)`. On an apache-arrow Vector that is a
 * search for the row's chunk and a type visitor per call; on one contiguous buffer it can be an
 * index into a typed array. So the chunks of each column are joined into one buffer (Arrow
 * columnar format: fixed-width values, bit-packed validity and booleans, dictionary keys), and the
 * table hands out, through getChild/getChildAt, Vectors whose `at` reads that buffer directly. They
 * stay apache-arrow Vectors (get, toArray, iteration, type and data are apache-arrow's own).
 */
import * as arrow from 'apache-arrow';

const bitAt = (bits: Uint8Array, i: number): number => (bits[i >> 3]! >> (i & 7)) & 1;

/** Copy `n` bits from `src` starting at bit `from` into `dst` starting at bit `to`. */
function copyBits(dst: Uint8Array, to: number, src: Uint8Array | null, from: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const on = src === null || src.length === 0 ? 1 : bitAt(src, from + i);
    if (on) dst[(to + i) >> 3]! |= 1 << ((to + i) & 7);
  }
}

/** The chunks of one column as one Data (fixed-width, boolean and dictionary types). */
function concatData(chunks: readonly arrow.Data[]): arrow.Data {
  if (chunks.length === 1 && chunks[0]!.offset === 0) return chunks[0]!;
  const first = chunks[0]!;
  const type = first.type;
  const length = chunks.reduce((s, d) => s + d.length, 0);
  const nullCount = chunks.reduce((s, d) => s + d.nullCount, 0);
  let nullBitmap: Uint8Array | undefined;
  if (nullCount > 0) {
    nullBitmap = new Uint8Array((length + 7) >> 3);
    let at = 0;
    for (const d of chunks) {
      copyBits(nullBitmap, at, d.nullCount > 0 ? (d.nullBitmap ?? null) : null, d.offset, d.length);
      at += d.length;
    }
  }
  if (arrow.DataType.isBool(type)) {
    const bits = new Uint8Array((length + 7) >> 3);
    let at = 0;
    for (const d of chunks) {
      copyBits(bits, at, d.values as Uint8Array, d.offset, d.length);
      at += d.length;
    }
    // a bit left clear by copyBits for an all-ones source is set; clear the false ones
    at = 0;
    for (const d of chunks) {
      for (let i = 0; i < d.length; i++) if (!bitAt(d.values as Uint8Array, d.offset + i)) bits[(at + i) >> 3]! &= ~(1 << ((at + i) & 7));
      at += d.length;
    }
    return arrow.makeData({ type, length, nullCount, nullBitmap, data: bits });
  }
  const Ctor = (first.values as unknown as { constructor: new (n: number) => unknown }).constructor;
  const stride = first.stride;
  const values = new Ctor(length * stride) as unknown as { set(a: ArrayLike<unknown>, at: number): void };
  let at = 0;
  for (const d of chunks) {
    // fixed-width buffers of a sliced Data start at its first row; bitmaps start at bit `offset`
    values.set((d.values as unknown as { subarray(a: number, b: number): ArrayLike<unknown> }).subarray(0, d.length * stride), at * stride);
    at += d.length;
  }
  if (arrow.DataType.isDictionary(type)) {
    // each batch carries the dictionary as of that batch (IPC delta dictionaries only append): the
    // last one holds every key
    const dictionary = chunks[chunks.length - 1]!.dictionary;
    return arrow.makeData({ type, length, nullCount, nullBitmap, data: values as never, dictionary } as never);
  }
  return arrow.makeData({ type, length, nullCount, nullBitmap, data: values as never } as never);
}

/** Whether a column's chunks can be joined here (else the table keeps its batches). */
function joinable(t: arrow.DataType): boolean {
  return arrow.DataType.isInt(t) || arrow.DataType.isFloat(t) || arrow.DataType.isBool(t) || arrow.DataType.isDictionary(t);
}

/** A Vector over one Data whose `at` indexes the buffer (see the header). */
function fastVector(data: arrow.Data): arrow.Vector {
  const v = arrow.makeVector(data);
  const values = data.values as ArrayLike<unknown>;
  const nulls = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  let at: ((i: number) => unknown) | null = null;
  if (arrow.DataType.isBool(data.type)) {
    const bits = data.values as Uint8Array;
    at = nulls ? (i) => (bitAt(nulls, i) ? bitAt(bits, i) === 1 : null) : (i) => bitAt(bits, i) === 1;
  } else if ((arrow.DataType.isInt(data.type) || arrow.DataType.isFloat(data.type)) && data.stride === 1) {
    at = nulls ? (i) => (bitAt(nulls, i) ? values[i] : null) : (i) => values[i];
  }
  if (at) Object.defineProperty(v, 'at', { value: (i: number) => (i >= 0 && i < data.length ? at!(i) : undefined), enumerable: false });
  return v;
}

/** The table as one record batch whose columns Arquero reads fast (the table itself when a column type is not handled). */
export function singleBatchTable<T extends arrow.Table>(table: T): T {
  const fields = table.schema.fields;
  if (!fields.every((f) => joinable(f.type)) || table.numRows === 0) return table;
  const children = fields.map((_, c) => concatData(table.batches.map((b) => b.data.children[c]!)));
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: table.numRows, nullCount: 0, children });
  const one = new arrow.Table(table.schema, [new arrow.RecordBatch(table.schema, struct)]) as T;
  const vectors = children.map((d) => fastVector(d));
  Object.defineProperty(one, 'getChildAt', { value: (i: number) => vectors[i] ?? null, enumerable: false });
  Object.defineProperty(one, 'getChild', {
    value: (name: string) => vectors[fields.findIndex((f) => f.name === name)] ?? null,
    enumerable: false,
  });
  return one;
}
