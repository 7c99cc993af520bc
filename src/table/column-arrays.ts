/**
 * Whole-column access to flechette tables for notebook computations, batch by batch (Arrow record
 * batches), without an object or a boxed value per row: 64-bit columns as BigInt64Array plus a
 * byte-per-row validity, numeric columns as Float64Array, strings as dictionary codes + labels.
 */
import type { Table } from '@uwdata/flechette';

interface RawBatch {
  length: number;
  nullCount: number;
  values: ArrayLike<number | bigint>;
  validity?: Uint8Array | null;
  cache?: unknown[];
  dictionary?: unknown;
}

function batchesOf(table: Table, name: string): RawBatch[] {
  const col = table.getChild(name);
  if (!col) {
    const have = table.schema.fields.map((f) => f.name).join(', ');
    throw new Error(`table ${tableName(table)} has no column "${name}" (columns: ${have})`);
  }
  return col.data as unknown as RawBatch[];
}

/** The table's name from its schema metadata ("iolineage.table"), or "?" */
export function tableName(table: Table): string {
  return table.schema.metadata?.get('iolineage.table') ?? '?';
}

/** Arrow validity bitmap bit i (LSB numbering, Arrow columnar format "Validity bitmaps"). */
const bit = (bitmap: Uint8Array, i: number) => (bitmap[i >> 3]! >> (i & 7)) & 1;

/**
 * An int64 column: values (0 where null) and, when the column has nulls, one byte per row (1 = valid).
 * The values may be a view of the table's own buffer: read them, do not write them.
 */
export interface Int64Values {
  values: BigInt64Array;
  valid: Uint8Array | null;
}

export function int64Column(table: Table, name: string): Int64Values {
  const batches = batchesOf(table, name);
  const n = batches.reduce((s, b) => s + b.length, 0);
  // one batch without nulls (the usual file written by one builder chunk): a view, no copy
  const only = batches.length === 1 ? batches[0]! : null;
  if (only && only.nullCount === 0 && only.values instanceof BigInt64Array) {
    return { values: only.values.subarray(0, only.length), valid: null };
  }
  const values = new BigInt64Array(n);
  const hasNulls = batches.some((b) => b.nullCount > 0);
  const valid = hasNulls ? new Uint8Array(n) : null;
  let at = 0;
  for (const b of batches) {
    const src = b.values;
    if (!(src instanceof BigInt64Array || src instanceof BigUint64Array)) {
      throw new Error(`column "${name}" of ${tableName(table)} is not a 64-bit integer column (read the file with BigInt values)`);
    }
    values.set(src.subarray(0, b.length) as BigInt64Array, at);
    if (valid) {
      if (b.nullCount === 0 || !b.validity || b.validity.length === 0) valid.fill(1, at, at + b.length);
      else for (let i = 0; i < b.length; i++) valid[at + i] = bit(b.validity, i);
    }
    at += b.length;
  }
  return { values, valid };
}

/** The smallest non-null value of the int64 columns `names` (a time base), or 0n when all are empty. */
export function minInt64(table: Table, names: string[]): bigint {
  let m: bigint | undefined;
  for (const name of names) {
    const { values, valid } = int64Column(table, name);
    for (let i = 0; i < values.length; i++) if ((!valid || valid[i]) && (m === undefined || values[i]! < m)) m = values[i]!;
  }
  return m ?? 0n;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A numeric column as Float64Array, nulls as NaN. A 64-bit column is read relative to `base` (a
 * time base, 0n otherwise) and must stay within 2^53 of it: a value that float64 cannot hold exactly
 * throws instead of being rounded.
 */
export function numberColumn(table: Table, name: string, base = 0n): Float64Array {
  const batches = batchesOf(table, name);
  const out = new Float64Array(batches.reduce((s, b) => s + b.length, 0));
  const baseNum = Number(base);
  const baseSafe = base <= MAX_SAFE && base >= -MAX_SAFE;
  let at = 0;
  for (const b of batches) {
    const hasNulls = b.nullCount > 0 && b.validity && b.validity.length > 0;
    const v = b.values;
    if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
      const { hi, lo } = int64Words(v.subarray(0, b.length));
      const signed = v instanceof BigInt64Array;
      for (let i = 0; i < b.length; i++) {
        if (hasNulls && !bit(b.validity!, i)) {
          out[at + i] = NaN;
          continue;
        }
        const h = hi[2 * i + 1]!;
        // |v| < 2^53 and a safe base: the difference of two exact doubles is exact below 2^53
        if (baseSafe && (signed || h >= 0) && h < 0x200000 && h >= -0x200000) {
          const d = h * 4294967296 + lo[2 * i]! - baseNum;
          if (d <= Number.MAX_SAFE_INTEGER && d >= -Number.MAX_SAFE_INTEGER) {
            out[at + i] = d;
            continue;
          }
        }
        const d = BigInt(v[i]!) - base;
        if (d > MAX_SAFE || d < -MAX_SAFE)
          throw new RangeError(`column "${name}" of ${tableName(table)}: ${d} (row ${at + i}, relative to ${base}) does not fit in 2^53`);
        out[at + i] = Number(d);
      }
    } else {
      for (let i = 0; i < b.length; i++) out[at + i] = hasNulls && !bit(b.validity!, i) ? NaN : (v[i] as number);
    }
    at += b.length;
  }
  return out;
}

/** A dictionary-encoded string column: per-row codes into `labels` (-1 where null). */
export interface StringCodes {
  codes: Int32Array;
  labels: string[];
}

export function stringColumn(table: Table, name: string): StringCodes {
  const batches = batchesOf(table, name);
  const codes = new Int32Array(batches.reduce((s, b) => s + b.length, 0));
  const labels: string[] = [];
  const index = new Map<string, number>();
  let at = 0;
  for (const b of batches) {
    const dict = b.cache;
    if (!Array.isArray(dict)) throw new Error(`column "${name}" of ${tableName(table)} is not a dictionary-encoded string column`);
    // map this batch's dictionary keys to codes shared across batches
    const remap = new Int32Array(dict.length);
    dict.forEach((v, k) => {
      const s = String(v);
      let c = index.get(s);
      if (c === undefined) {
        c = labels.length;
        labels.push(s);
        index.set(s, c);
      }
      remap[k] = c;
    });
    const hasNulls = b.nullCount > 0 && b.validity && b.validity.length > 0;
    for (let i = 0; i < b.length; i++) {
      codes[at + i] = hasNulls && !bit(b.validity!, i) ? -1 : remap[Number(b.values[i])]!;
    }
    at += b.length;
  }
  return { codes, labels };
}

/** A bool column as one byte per row: 1 true, 0 false or null. */
export function boolColumn(table: Table, name: string): Uint8Array {
  const batches = batchesOf(table, name);
  const out = new Uint8Array(batches.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of batches) {
    // Arrow bool values are a bitmap (LSB numbering), as validity is
    const v = b.values;
    if (!(v instanceof Uint8Array)) throw new Error(`column "${name}" of ${tableName(table)} is not a bool column`);
    const hasNulls = b.nullCount > 0 && b.validity && b.validity.length > 0;
    for (let i = 0; i < b.length; i++) out[at + i] = bit(v, i) && (!hasNulls || bit(b.validity!, i)) ? 1 : 0;
    at += b.length;
  }
  return out;
}

/** Whether the table has a column of that name. */
export function hasColumn(table: Table, name: string): boolean {
  return table.schema.fields.some((f) => f.name === name);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The 32-bit words of int64 values, so that values and differences can be formed exactly in
 * float64 without a BigInt per row: v = hi[2i + 1] * 2^32 + lo[2i] (hi signed, lo unsigned).
 * Views of the values' own buffer on little-endian hosts (Arrow buffers are little-endian); a
 * copy made through BigInt elsewhere.
 */
export function int64Words(values: BigInt64Array | BigUint64Array): { hi: Int32Array; lo: Uint32Array } {
  if (LITTLE_ENDIAN) {
    return {
      hi: new Int32Array(values.buffer, values.byteOffset, values.length * 2),
      lo: new Uint32Array(values.buffer, values.byteOffset, values.length * 2),
    };
  }
  const hi = new Int32Array(values.length * 2),
    lo = new Uint32Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    hi[2 * i + 1] = Number(BigInt.asIntN(32, values[i]! >> 32n));
    lo[2 * i] = Number(BigInt.asUintN(32, values[i]!));
  }
  return { hi, lo };
}
