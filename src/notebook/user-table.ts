/**
 * Tables as users' tools take them: an iolineage Arrow file read by apache-arrow (the reference
 * JavaScript implementation) and handed out as an apache-arrow Table that `aq.fromArrow` accepts,
 * with values a user can compute with:
 *  - 64-bit integer columns (bytes, sectors, offsets, counts) become Float64 when every value is
 *    exact (|v| <= 2^53, "Number.MAX_SAFE_INTEGER"); a column holding a value past that stays
 *    Int64 (BigInt values), and its field metadata says so ("iolineage.bigint").
 *  - time columns (field metadata "clock", unit ns) become Float64 nanoseconds since the capture's
 *    start on that clock (`TimeBases`); the absolute base of each column is kept in its field
 *    metadata ("iolineage.time_base_ns", decimal) and the origin in the schema metadata.
 * Nulls stay nulls; strings stay dictionary-encoded; the file's record batches are joined into one
 * (single-batch.ts), so that Arquero reads each column as one buffer.
 */
import * as arrow from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { int64Words } from '../table/column-arrays.js';
import { InputError } from '../util/errors.js';
import { singleBatchTable } from './single-batch.js';

/** What arquero's fromArrow takes besides bytes (its `ArrowTable` interface). */
type ArqueroArrowTable = Exclude<Parameters<typeof import('arquero').fromArrow>[0], ArrayBuffer | Uint8Array>;

/**
 * An apache-arrow Table that arquero's `fromArrow` accepts under strict type checks too (apache-arrow
 * declares `getChild` as possibly null, arquero's interface does not).
 */
export type UserTable = arrow.Table & ArqueroArrowTable;

/** Clock domains of the capture's time columns. */
export type ClockDomain = 'app' | 'guest' | 'host' | 'trace';

/**
 * The absolute value (ns, on the column's own clock) that becomes 0 in a time column, per clock
 * domain and VM (app and guest clocks are per VM; host and a lone trace's clock are not).
 */
export interface TimeBases {
  /** Base for a column of this domain in rows of this VM (null vm: the table has no vm column). */
  base(domain: ClockDomain, vm: string | null): bigint | null;
  /** One line for the schema metadata: what 0 is. */
  readonly origin: string;
}

/**
 * Clock domain of a column from its "clock" field metadata (docs/tables.md, "unit / clock") and
 * the table it is in: "trace clock" is the clock of the table's own block trace.
 */
export function clockDomainOf(clock: string, tableFile: string): ClockDomain | null {
  const c = clock.toLowerCase();
  if (c.startsWith('strace') || c.startsWith('application')) return 'app';
  if (c.startsWith('guest')) return 'guest';
  if (c.startsWith('host')) return 'host';
  if (c.startsWith('trace clock')) {
    if (tableFile.startsWith('guest_')) return 'guest';
    if (tableFile.startsWith('host_')) return 'host';
    return 'trace';
  }
  return null;
}

const TWO32 = 4294967296;
/** High words (signed) within which hi·2^32 + lo is below 2^53 in magnitude. */
const HI_LIMIT = 1 << 21;

/** Split an int64 into the two 32-bit words of its two's-complement little-endian layout. */
function halves(v: bigint): { hi: number; lo: number } {
  return { hi: Number(BigInt.asIntN(32, v >> 32n)), lo: Number(BigInt.asUintN(32, v)) };
}

const isInt64 = (t: arrow.DataType): boolean => arrow.DataType.isInt(t) && t.bitWidth === 64;

/** Arrow validity bitmap bit (Arrow columnar format, "Validity bitmaps": LSB numbering). */
const validAt = (data: arrow.Data, i: number): boolean => {
  const bm = data.nullBitmap;
  if (data.nullCount === 0 || !bm || bm.length === 0) return true;
  const j = data.offset + i;
  return ((bm[j >> 3]! >> (j & 7)) & 1) === 1;
};

/** The 32-bit words of an int64 chunk (apache-arrow fixed-width buffers start at the Data's first row). */
const wordsOf = (data: arrow.Data) => int64Words(data.values as BigInt64Array | BigUint64Array);

/** Whether every valid value of an int64 column is an exact JavaScript number. */
function int64FitsNumber(chunks: readonly arrow.Data[], unsigned: boolean): boolean {
  for (const d of chunks) {
    const { hi } = wordsOf(d);
    for (let i = 0; i < d.length; i++) {
      const h = hi[2 * i + 1]!;
      if ((unsigned ? h >>> 0 : h) >= HI_LIMIT || h < -HI_LIMIT) {
        if (validAt(d, i)) return false;
      }
    }
  }
  return true;
}

/**
 * Bases of a chunk's rows: one base for every row (keys null), or per row through the row's key
 * (its `vm` dictionary code; the last slot for a null vm). A slot without a base gives null.
 */
interface RowBases {
  keys: ArrayLike<number> | null;
  nullKey: number;
  hi: Float64Array;
  lo: Float64Array;
  has: Uint8Array;
}

/** An int64 chunk as Float64 values, minus the row's base when given (exact: callers checked the range). */
function float64Chunk(d: arrow.Data, unsigned: boolean, bases: RowBases | null, keyData: arrow.Data | null): arrow.Data<arrow.Float64> {
  const n = d.length;
  const out = new Float64Array(n);
  const { lo, hi } = wordsOf(d);
  let nulls = d.nullCount;
  let bitmap = d.nullBitmap && d.nullCount > 0 ? copyBitmap(d) : undefined;
  if (bases === null) {
    if (unsigned) for (let i = 0; i < n; i++) out[i] = (hi[2 * i + 1]! >>> 0) * TWO32 + lo[2 * i]!;
    else for (let i = 0; i < n; i++) out[i] = hi[2 * i + 1]! * TWO32 + lo[2 * i]!;
    return arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: nulls, nullBitmap: bitmap, data: out });
  }
  const valid = bitmap ?? null;
  const keys = bases.keys;
  const keyNulls = keyData && keyData.nullCount > 0 && keyData.nullBitmap && keyData.nullBitmap.length > 0 ? keyData : null;
  for (let i = 0; i < n; i++) {
    if (valid !== null && !((valid[i >> 3]! >> (i & 7)) & 1)) continue;
    const k = keys === null ? 0 : keyNulls !== null && !validAt(keyNulls, i) ? bases.nullKey : keys[i]!;
    if (!bases.has[k]) {
      // a row whose clock has no base (its VM has no such layer): null rather than a wrong time
      bitmap ??= allValidBitmap(n);
      bitmap[i >> 3]! &= ~(1 << (i & 7));
      nulls++;
      continue;
    }
    const h = unsigned ? hi[2 * i + 1]! >>> 0 : hi[2 * i + 1]!;
    out[i] = (h - bases.hi[k]!) * TWO32 + (lo[2 * i]! - bases.lo[k]!);
  }
  return arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: nulls, nullBitmap: bitmap, data: out });
}

function allValidBitmap(n: number): Uint8Array {
  return new Uint8Array((n + 7) >> 3).fill(0xff);
}

function copyBitmap(d: arrow.Data): Uint8Array {
  const out = new Uint8Array((d.length + 7) >> 3);
  for (let i = 0; i < d.length; i++) if (validAt(d, i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** The VM names of a `vm` dictionary chunk, by key (apache-arrow Data: keys in values, names in dictionary). */
function vmNames(vmData: arrow.Data): (string | null)[] {
  const dict = vmData.dictionary;
  const names: (string | null)[] = [];
  if (dict) for (let k = 0; k < dict.length; k++) names.push(dict.get(k) as string | null);
  return names;
}

export interface UserTableOptions {
  /** File the table came from (error messages, and the clock of "trace clock" columns). */
  file: string;
  /** Bases of the time columns; without them time columns stay absolute (Float64 when exact). */
  timeBases?: TimeBases | null;
  /** The VM of the table's rows when it has no `vm` column (a per-VM table such as app_io_vm1). */
  vm?: string | null;
}

/** Read an Arrow IPC file with apache-arrow and convert it (see the header). */
export function readUserTable(path: string, options: Omit<UserTableOptions, 'file'> = {}): UserTable {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return toUserTable(parseArrowBytes(bytes, path), { ...options, file: path });
}

/** apache-arrow's reader over the bytes of an Arrow IPC file or stream. */
export function parseArrowBytes(bytes: Uint8Array, path: string): arrow.Table {
  try {
    return arrow.tableFromIPC(bytes);
  } catch (e) {
    throw new InputError(path, `not a readable Arrow IPC file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Convert a table read by apache-arrow (see the header). */
export function toUserTable(source: arrow.Table, options: UserTableOptions): UserTable {
  const fileStem = options.file.replace(/^.*\//, '').replace(/\.arrow$/, '');
  const bases = options.timeBases ?? null;
  const fields = source.schema.fields;
  const vmIndex = fields.findIndex((f) => f.name === 'vm');
  const plans = fields.map((f, c) => {
    if (!isInt64(f.type)) return { field: f, convert: 'keep' as const };
    const unsigned = !(f.type as arrow.Int).isSigned;
    const chunks = source.batches.map((b) => b.data.children[c]!);
    const clock = f.metadata.get('clock');
    const domain = clock && f.metadata.get('unit') === 'ns' ? clockDomainOf(clock, fileStem) : null;
    if (domain && bases) return { field: f, convert: 'time' as const, domain, unsigned };
    if (int64FitsNumber(chunks, unsigned)) return { field: f, convert: 'number' as const, unsigned };
    const meta = new Map(f.metadata);
    meta.set(
      'iolineage.bigint',
      'values past 2^53 in this file: kept as Int64 (JavaScript BigInt); convert with Number() only where exactness does not matter',
    );
    return { field: new arrow.Field(f.name, f.type, f.nullable, meta), convert: 'keep' as const };
  });
  const outFields = plans.map((p) => {
    if (p.convert === 'keep') return p.field;
    const meta = new Map(p.field.metadata);
    if (p.convert === 'time') {
      meta.set('iolineage.time', `ns since the capture's start on the ${p.domain} clock (float64)`);
      const b0 = vmIndex >= 0 ? bases!.base(p.domain, null) : bases!.base(p.domain, options.vm ?? null);
      if (b0 !== null) meta.set('iolineage.time_base_ns', b0.toString());
    }
    return new arrow.Field(p.field.name, new arrow.Float64(), true, meta);
  });
  const schemaMeta = new Map(source.schema.metadata);
  if (bases && plans.some((p) => p.convert === 'time')) schemaMeta.set('iolineage.time_origin', bases.origin);
  const schema = new arrow.Schema(outFields, schemaMeta);

  const batches = source.batches.map((batch) => {
    const vmData = vmIndex >= 0 ? batch.data.children[vmIndex]! : null;
    const children = plans.map((p, c) => {
      const d = batch.data.children[c]!;
      if (p.convert === 'keep') return d;
      if (p.convert === 'number') return float64Chunk(d, p.unsigned, null, null);
      // one base per VM of the chunk's vm dictionary (plus null), or the table's VM
      const names = vmData ? [...vmNames(vmData), null] : [options.vm ?? null];
      const rb: RowBases = {
        keys: vmData ? (vmData.values as ArrayLike<number>) : null,
        nullKey: names.length - 1,
        hi: new Float64Array(names.length),
        lo: new Float64Array(names.length),
        has: new Uint8Array(names.length),
      };
      names.forEach((vm, k) => {
        const b = bases!.base(p.domain, vm);
        if (b === null) return;
        const w = halves(b);
        rb.hi[k] = w.hi;
        rb.lo[k] = w.lo;
        rb.has[k] = 1;
      });
      const out = float64Chunk(d, p.unsigned, rb, vmData);
      checkTimeRange(out, d, p.field.name, options.file);
      return out;
    });
    const struct = arrow.makeData({ type: new arrow.Struct(outFields), length: batch.numRows, nullCount: 0, children });
    return new arrow.RecordBatch(schema, struct);
  });
  return singleBatchTable(new arrow.Table(schema, batches)) as UserTable;
}

/**
 * A relative time is exact when below 2^53 ns (104 days); a larger one means the base is of
 * another clock than the value (a mislabelled column), which must not pass as a number.
 */
function checkTimeRange(out: arrow.Data<arrow.Float64>, src: arrow.Data, column: string, file: string): void {
  const v = out.values;
  for (let i = 0; i < v.length; i++) {
    if (Math.abs(v[i]!) > Number.MAX_SAFE_INTEGER && validAt(src, i)) {
      throw new InputError(
        file,
        `column ${column}, row ${i}: time ${v[i]} ns from the capture's start is past 2^53 ns: its clock is not the one the capture's base was taken on`,
      );
    }
  }
}
