/**
 * Whole-column reads of small derived tables (block_requests, block_bios) into typed arrays for
 * metric sweeps: int64 times become float64 ns relative to a bigint base (exact while the span
 * stays under 2^53 ns), nulls become NaN (numbers) or -1 (keys), strings become dictionary codes.
 */
import type { Table } from '@uwdata/flechette';

interface AnyBatch {
  length: number;
  nullCount: number;
  validity: Uint8Array | null;
  values: ArrayLike<number | bigint>;
  cache?: ArrayLike<string>;
}

function batches(table: Table, name: string): AnyBatch[] {
  const c = table.getChild(name);
  if (!c) throw new Error(`table ${table.schema.metadata?.get('iolineage.table') ?? ''} has no column ${name}`);
  return c.data as unknown as AnyBatch[];
}

function isValid(b: AnyBatch, i: number): boolean {
  if (!b.nullCount || !b.validity || b.validity.length === 0) return true;
  return (b.validity[i >> 3]! & (1 << (i & 7))) !== 0;
}

/** The smallest non-null value of int64 columns (the time base), or 0n. */
export function minInt64(table: Table, names: string[]): bigint {
  let m: bigint | undefined;
  for (const name of names) {
    for (const b of batches(table, name)) {
      const v = b.values as BigInt64Array;
      for (let i = 0; i < b.length; i++) if (isValid(b, i) && (m === undefined || v[i]! < m)) m = v[i]!;
    }
  }
  return m ?? 0n;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A numeric column (int64 relative to `base`) as float64, NaN for nulls. */
export function numberColumn(table: Table, name: string, base = 0n): Float64Array {
  const out = new Float64Array(table.numRows);
  const baseNum = Number(base);
  const baseSafe = base <= MAX_SAFE && base >= -MAX_SAFE;
  let k = 0;
  for (const b of batches(table, name)) {
    const v = b.values;
    const big = v instanceof BigInt64Array;
    const words = big && LE && baseSafe ? new Int32Array((v as BigInt64Array).buffer, (v as BigInt64Array).byteOffset, b.length * 2) : null;
    const check = b.nullCount > 0;
    for (let i = 0; i < b.length; i++, k++) {
      if (check && !isValid(b, i)) { out[k] = NaN; continue; }
      if (words) {
        // little-endian words, exact below 2^53
        const hi = words[2 * i + 1]!;
        if (hi < 0x200000 && hi >= -0x200000) { out[k] = hi * 4294967296 + (words[2 * i]! >>> 0) - baseNum; continue; }
      }
      if (big) {
        const d = (v as BigInt64Array)[i]! - base;
        if (d > MAX_SAFE || d < -MAX_SAFE) throw new RangeError(`column ${name}: ${d} does not fit in 2^53 relative to ${base}`);
        out[k] = Number(d);
      } else out[k] = v[i] as number;
    }
  }
  return out;
}

/** A dictionary column as codes into the returned names (-1 for nulls). */
export function codeColumn(table: Table, name: string): { codes: Int32Array; names: string[] } {
  const out = new Int32Array(table.numRows);
  const names: string[] = [];
  const index = new Map<string, number>();
  let k = 0;
  for (const b of batches(table, name)) {
    const cache = b.cache ?? [];
    const remap = new Int32Array(cache.length);
    for (let j = 0; j < cache.length; j++) {
      const s = cache[j]!;
      let c = index.get(s);
      if (c === undefined) { c = names.length; names.push(s); index.set(s, c); }
      remap[j] = c;
    }
    const v = b.values as ArrayLike<number>;
    for (let i = 0; i < b.length; i++, k++) out[k] = isValid(b, i) ? remap[v[i]!]! : -1;
  }
  return { codes: out, names };
}
