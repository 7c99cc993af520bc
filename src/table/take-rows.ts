/**
 * Rows of a table by index, as a table of one batch per column: the Arrow buffers gathered
 * directly (fixed-width values, validity bits, dictionary keys with their dictionary, UTF-8
 * offsets and bytes), no row turned into a JavaScript value. For the columns the iolineage tables
 * use: integers, floats, booleans, UTF-8 strings and dictionary-encoded strings.
 */
import { batchType, Column, columnFromArray, Table, Type, utf8, type Batch, type DataType } from '@uwdata/flechette';
import { mergeDictionaries } from './merge-dictionaries.js';

type Values = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | Float32Array | Float64Array;

const bit = (bits: Uint8Array, i: number): boolean => (bits[i >>> 3]! & (1 << (i & 7))) !== 0;

/** For each wanted row (ascending), its batch and its index in the batch. */
function locate(column: Column<unknown>, rows: Int32Array): { batch: Int32Array; at: Int32Array } {
  const batch = new Int32Array(rows.length);
  const at = new Int32Array(rows.length);
  let b = 0;
  let base = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    while (r >= base + column.data[b]!.length) base += column.data[b++]!.length;
    batch[i] = b;
    at[i] = r - base;
  }
  return { batch, at };
}

interface DictionaryBatchLike {
  values: Values;
  dictionary: Column<unknown>;
}

/** The largest key a key array can hold. */
const maxKey = (keys: Values): number => 2 ** (8 * keys.BYTES_PER_ELEMENT - 1) - 1;

function takeColumn(column: Column<unknown>, rows: Int32Array, where: string): Column<unknown> {
  const type = column.type as DataType;
  const n = rows.length;
  const { batch, at } = locate(column, rows);
  const data = column.data as Batch<unknown>[];
  let nullCount = 0;
  let validity: Uint8Array | null = null;
  if (column.nullCount > 0) {
    validity = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) {
      const src = data[batch[i]!]!;
      if (src.nullCount > 0 && src.validity && !bit(src.validity as Uint8Array, at[i]!)) nullCount++;
      else validity[i >>> 3]! |= 1 << (i & 7);
    }
  }
  const base = { length: n, nullCount, type, validity: nullCount ? validity : null };
  // the input's batch class, so that values read as they did (64-bit as BigInt in iolineage's tables)
  const Ctor = (data[0]?.constructor as ReturnType<typeof batchType> | undefined) ?? batchType(type, { useBigInt: true });
  switch (type.typeId) {
    case Type.Int:
    case Type.Float: {
      const values = new (((data[0]?.values as Values | undefined)?.constructor as (new (n: number) => Values) | undefined) ?? Int32Array)(
        n,
      );
      for (let i = 0; i < n; i++) values[i] = (data[batch[i]!]!.values as Values)[at[i]!]!;
      return new Column([new Ctor({ ...base, values })], type);
    }
    case Type.Dictionary: {
      // batches may each have their own dictionary (Arrow allows a replacement): one merged
      // dictionary, and each batch's keys remapped into it
      const { values: dictionary, remaps } = mergeDictionaries((data as unknown as DictionaryBatchLike[]).map((b) => b.dictionary));
      const Keys = ((data[0]?.values as Values | undefined)?.constructor as (new (n: number) => Values) | undefined) ?? Int32Array;
      const values = new Keys(n);
      if (dictionary.length - 1 > maxKey(values))
        throw new Error(`${where}: the merged dictionary has ${dictionary.length} values, more than its key type holds`);
      for (let i = 0; i < n; i++) {
        const b = data[batch[i]!] as unknown as DictionaryBatchLike;
        const key = (b.values as Values)[at[i]!] as number;
        values[i] = remaps.get(b.dictionary)![key]!;
      }
      const out = new Ctor({ ...base, values }) as Batch<unknown> & { setDictionary: (d: Column<unknown>) => unknown };
      out.setDictionary(columnFromArray(dictionary, utf8()) as Column<unknown>);
      return new Column([out], type);
    }
    case Type.Bool: {
      const values = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) if (bit(data[batch[i]!]!.values as Uint8Array, at[i]!)) values[i >>> 3]! |= 1 << (i & 7);
      return new Column([new Ctor({ ...base, values })], type);
    }
    case Type.Utf8: {
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        const o = data[batch[i]!]!.offsets as Int32Array;
        offsets[i + 1] = offsets[i]! + o[at[i]! + 1]! - o[at[i]!]!;
      }
      const values = new Uint8Array(offsets[n]!);
      for (let i = 0; i < n; i++) {
        const src = data[batch[i]!]!;
        const o = src.offsets as Int32Array;
        values.set((src.values as Uint8Array).subarray(o[at[i]!]!, o[at[i]! + 1]!), offsets[i]!);
      }
      return new Column([new Ctor({ ...base, offsets, values })], type);
    }
  }
  throw new Error(`${where}: cannot take rows of a column of Arrow type ${JSON.stringify(type)}`);
}

/** The table's rows at these indices (ascending, each below numRows). */
export function takeRows(table: Table, rows: Int32Array, where: string): Table {
  const children = table.children.map((c, i) => takeColumn(c as Column<unknown>, rows, `${where}: column ${table.schema.fields[i]!.name}`));
  return new Table(table.schema, children);
}
