/**
 * The Parquet writer (src/export/parquet/) read back by two independent readers: hyparquet (pure
 * JavaScript, with its own snappy, delta and RLE decoders) and DuckDB (read_parquet,
 * parquet_schema, parquet_metadata). Every value is compared exactly (64-bit integers as BigInt,
 * NaN, -0 and null kept) for: Int64 extremes, sorted ns times, random 64-bit values (deltas wider
 * than 32 bits), runs and nulls; Int8/16/32 extremes; UInt8/16/32 written as the next wider signed
 * type (no UINT_* converted type); dictionary strings (one entry, > 256 entries, RLE runs, nulls,
 * batches with different dictionaries, empty and non-ASCII strings); plain strings, booleans and
 * doubles; batches off the row groups (777 and 1000 rows a group, pages starting at validity bits
 * not a multiple of 8), > 65536 rows in one batch (several pages a chunk); snappy and uncompressed;
 * zero-row, one-row and all-null tables. Per row group, DuckDB's statistics (min/max value, null
 * count) equal those computed here from the data; the schema's physical, converted and logical
 * types, the chunks' codecs and encodings are the ones meant; parquetFileWriter (a descriptor)
 * writes the same bytes as parquetFileBlocks (a worker's blocks). snappyCompress alone: hyparquet's snappyUncompress
 * gives back the input (empty, tiny, incompressible, repetitive, several 64 KiB blocks, matches
 * longer than 64 bytes, 1-byte-offset copies).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { snappyUncompress } from 'hyparquet';
import {
  bool,
  Column,
  columnFromArray,
  dictionary,
  field,
  float64,
  int16,
  int32,
  int64,
  int8,
  Table,
  Type,
  uint16,
  uint32,
  uint8,
  utf8,
  type Batch,
  type DataType,
} from '@uwdata/flechette';
import { parquetFileBlocks, parquetFileWriter, type ParquetWriteOptions } from '../../src/export/parquet/parquet-file.js';

/** The file as one buffer, from the blocks a worker thread hands over. */
const parquetFileBytes = (...a: Parameters<typeof parquetFileBlocks>): Uint8Array => new Uint8Array(Buffer.concat(parquetFileBlocks(...a)));
import { ByteSink } from '../../src/export/parquet/byte-sink.js';
import { snappyCompress, snappyMaxLength } from '../../src/export/parquet/snappy.js';
import { mulberry32 } from '../../src/util/seeded-random.js';
import { readParquetMetadata, readParquetRows } from './parquet-read.js';

const MIN64 = -(1n << 63n);
const MAX64 = (1n << 63n) - 1n;
/** Rows of the small cases: more than 128, not a multiple of 128 (nor of 8). */
const N = 3041;

/** A seeded generator of the values below. */
function gen(seed: number) {
  const r = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const u32 = (): number => Math.floor(r() * 2 ** 32);
  const i64 = (): bigint => BigInt.asIntN(64, (BigInt(u32()) << 32n) | BigInt(u32()));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const chance = (p: number) => (): boolean => r() < p;
  /** An extreme of [lo, hi] (or 0, -1, lo + 1, hi - 1) half the time, else a random value. */
  const edgy = (lo: number, hi: number) => (): number => (r() < 0.5 ? pick([lo, hi, 0, Math.max(lo, -1), lo + 1, hi - 1]) : int(lo, hi));
  return { r, int, i64, pick, chance, edgy };
}

/** n values f(i), null where nullAt(i). */
function fill<T>(n: number, f: (i: number) => T, nullAt: (i: number) => boolean = () => false): (T | null)[] {
  return Array.from({ length: n }, (_, i) => (nullAt(i) ? null : f(i)));
}

/** n values in runs: a long run (8 to maxRun) half the time, else a single value. */
function runs<T>(g: ReturnType<typeof gen>, n: number, value: () => T, maxRun = 400): T[] {
  const out: T[] = [];
  while (out.length < n) {
    const v = value();
    const len = g.r() < 0.5 ? g.int(8, maxRun) : 1;
    for (let k = 0; k < len && out.length < n; k++) out.push(v);
  }
  return out;
}

/** A column: its values as given to flechette, and its batches. */
interface Spec {
  name: string;
  type: DataType;
  values: unknown[];
  /** Batch lengths, each batch built on its own (a dictionary batch with its own dictionary). */
  batches?: number[];
  /** Or one build cut into batches of this many rows (one dictionary shared by the batches). */
  maxBatchRows?: number;
}

function buildColumn(s: Spec): Column<unknown> {
  if (s.maxBatchRows) return columnFromArray(s.values, s.type, { maxBatchRows: s.maxBatchRows }) as Column<unknown>;
  const data: Batch<unknown>[] = [];
  let at = 0;
  for (const n of s.batches ?? [s.values.length])
    data.push(...(columnFromArray(s.values.slice(at, (at += n)), s.type).data as Batch<unknown>[]));
  if (at !== s.values.length) throw new Error(`${s.name}: batches of ${at} rows, not ${s.values.length}`);
  return new Column(data, s.type);
}

function tableOf(specs: Spec[]): Table {
  const fields = specs.map((s) => field(s.name, s.type, s.values.includes(null)));
  return new Table({ version: 5, endianness: 0, fields, metadata: null } as unknown as Table['schema'], specs.map(buildColumn));
}

/** An integer type's Parquet width (unsigned: twice as wide, signed). */
const intBits = (t: DataType): number | null => (t.typeId === Type.Int ? (t.signed ? t.bitWidth : 2 * t.bitWidth) : null);

/** What both readers give for a value: INT64 columns as BigInt. */
const readBack = (s: Spec): unknown[] => s.values.map((v) => (v !== null && intBits(s.type) === 64 ? BigInt(v as number | bigint) : v));

/** [physical, converted, hyparquet logical type, DuckDB type, DuckDB encoding of the values]. */
function parquetType(t: DataType): [string, string | undefined, object | undefined, string, string] {
  const bits = intBits(t);
  if (bits) {
    const duck = { 8: 'TINYINT', 16: 'SMALLINT', 32: 'INTEGER', 64: 'BIGINT' }[bits as 8 | 16 | 32 | 64];
    const logical = { type: 'INTEGER', bitWidth: bits, isSigned: true };
    return [bits === 64 ? 'INT64' : 'INT32', `INT_${bits}`, logical, duck, 'DELTA_BINARY_PACKED'];
  }
  if (t.typeId === Type.Bool) return ['BOOLEAN', undefined, undefined, 'BOOLEAN', 'PLAIN'];
  if (t.typeId === Type.Float) return ['DOUBLE', undefined, undefined, 'DOUBLE', 'PLAIN'];
  const dict = t.typeId === Type.Dictionary;
  return ['BYTE_ARRAY', 'UTF8', { type: 'STRING' }, 'VARCHAR', dict ? 'RLE_DICTIONARY' : 'PLAIN'];
}

const show = (v: unknown): string =>
  typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : Object.is(v, -0) ? '-0' : String(v);

/** Where two value lists first differ (Object.is: 1n is not 1, NaN is NaN, -0 is not 0), or null. */
function firstDifference(actual: readonly unknown[], expected: readonly unknown[]): string | null {
  if (actual.length !== expected.length) return `${actual.length} values, expected ${expected.length}`;
  const i = actual.findIndex((v, k) => !Object.is(v, expected[k]));
  return i < 0 ? null : `row ${i}: ${show(actual[i])}, expected ${show(expected[i])}`;
}

/** Null count of values[from, to), and min and max of an integer (by value) or dictionary (by UTF-8 bytes) column. */
function expectedStats(s: Spec, from: number, to: number): { min: string | null; max: string | null; nulls: number } {
  const slice = s.values.slice(from, to);
  const present = slice.filter((v) => v !== null);
  let sorted: string[] = [];
  if (intBits(s.type))
    sorted = present
      .map((v) => BigInt(v as number | bigint))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map(String);
  else if (s.type.typeId === Type.Dictionary) sorted = (present as string[]).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return { min: sorted[0] ?? null, max: sorted.at(-1) ?? null, nulls: slice.length - present.length };
}

function int64Case(): Spec[] {
  const g = gen(1);
  const extremes = [MIN64, MAX64, 0n, -1n, 1n, MIN64 + 1n, MAX64 - 1n];
  let t = 1_700_000_000_000_000_000n;
  // sorted ns times: equal times, small steps, now and then a step wider than 32 bits
  const step = (): bigint => (g.r() < 0.2 ? 0n : BigInt(g.int(1, 2_000_000)) * (g.r() < 0.01 ? 1n << 30n : 1n));
  return [
    { name: 'extremes', type: int64(), values: fill(N, () => (g.r() < 0.7 ? g.pick(extremes) : g.i64())), batches: [1, 700, 1540, 800] },
    { name: 'ts', type: int64(), values: fill(N, () => (t += step())) },
    { name: 'random', type: int64(), values: fill(N, g.i64), batches: [1024, 2017] },
    { name: 'runs', type: int64(), values: runs(g, N, () => (g.r() < 0.5 ? BigInt(g.int(-5, 5)) : g.i64())), maxBatchRows: 1000 },
    {
      name: 'nulls',
      type: int64(),
      values: fill(N, g.i64, (i) => i === 0 || i === N - 1 || (i >= 1000 && i < 1300) || g.r() < 0.3),
      batches: [5, 1995, 1041],
    },
  ];
}

function narrowIntCase(): Spec[] {
  const g = gen(2);
  const sparse = (): boolean => g.r() < 0.1;
  return [
    { name: 'i32', type: int32(), values: fill(N, g.edgy(-(2 ** 31), 2 ** 31 - 1)), batches: [99, N - 99] },
    { name: 'i32_nulls', type: int32(), values: fill(N, g.edgy(-(2 ** 31), 2 ** 31 - 1), sparse), batches: [1001, 1001, 1039] },
    { name: 'i16', type: int16(), values: fill(N, g.edgy(-32768, 32767), sparse), maxBatchRows: 600 },
    { name: 'i8', type: int8(), values: fill(N, g.edgy(-128, 127)) },
    { name: 'u8', type: uint8(), values: fill(N, g.edgy(0, 255), sparse), batches: [3, N - 3] },
    { name: 'u16', type: uint16(), values: fill(N, g.edgy(0, 65535)) },
    { name: 'u32', type: uint32(), values: fill(N, g.edgy(0, 4294967295), sparse), batches: [1500, 1541] },
  ];
}

function stringCase(): Spec[] {
  const g = gen(3);
  // '\uff5e' sorts before '😀' by UTF-8 bytes but after it by UTF-16 code units
  const words = ['', 'a', 'é', 'naïve', '日本語', '😀', '\uff5e', 'zz', 'read', 'write', 'fsync'];
  const many = Array.from({ length: 700 }, (_, i) => `key-${(i * 7919) % 700}`);
  // batches with dictionaries of other entries in other orders
  const merged = [300, 1, 1740, 1000].flatMap((n, b) => fill(n, () => g.pick(words.slice(b, b + 6)), g.chance(0.05)));
  const doubles = [NaN, -0, 0, Infinity, -Infinity, 5e-324, -1.7976931348623157e308];
  return [
    { name: 'vm', type: dictionary(utf8(), int8()), values: fill(N, () => 'vm-1'), maxBatchRows: 1000 },
    { name: 'many', type: dictionary(utf8(), int16()), values: fill(N, () => g.pick(many), g.chance(0.01)), maxBatchRows: 1200 },
    { name: 'runs', type: dictionary(utf8(), int32()), values: runs(g, N, () => (g.r() < 0.1 ? null : g.pick(words)), 500) },
    { name: 'merged', type: dictionary(utf8(), int8()), values: merged, batches: [300, 1, 1740, 1000] },
    { name: 'plain', type: utf8(), values: fill(N, () => g.pick(words) + g.pick(words), g.chance(0.2)), batches: [2000, 1041] },
    { name: 'flag', type: bool(), values: fill(N, g.chance(0.5), g.chance(0.2)), batches: [13, N - 13] },
    { name: 'x', type: float64(), values: fill(N, () => (g.r() < 0.3 ? g.pick(doubles) : (g.r() - 0.5) * 1e6), g.chance(0.1)) },
  ];
}

/** One batch of more than 2 * 65536 rows: several pages a chunk, pages of more than 512 KiB. */
function bigCase(): Spec[] {
  const g = gen(4);
  const n = 140_001;
  let t = 0n;
  return [
    { name: 'ts', type: int64(), values: fill(n, () => (t += BigInt(g.int(0, 5000)))) },
    { name: 'random', type: int64(), values: fill(n, g.i64, (i) => i % 1000 === 7) },
    { name: 'n', type: int32(), values: fill(n, () => g.int(-1000, 1000), g.chance(0.05)) },
    { name: 'op', type: dictionary(utf8(), int8()), values: runs(g, n, () => (g.r() < 0.1 ? null : g.pick(['read', 'write', 'é'])), 5000) },
    { name: 'x', type: float64(), values: fill(n, () => g.r()) },
  ];
}

const ALL_TYPES: DataType[] = [int64(), int32(), uint32(), dictionary(utf8(), int8()), utf8(), bool(), float64()];
const CASES: { name: string; specs: () => Spec[] }[] = [
  { name: 'int64', specs: int64Case },
  { name: 'narrow-ints', specs: narrowIntCase },
  { name: 'strings-bools-doubles', specs: stringCase },
  { name: 'big', specs: bigCase },
  {
    name: 'one-row',
    specs: () => [MIN64, null, 4294967295, 'only', null, true, -0].map((v, i) => ({ name: `c${i}`, type: ALL_TYPES[i]!, values: [v] })),
  },
  {
    name: 'all-null',
    specs: () => ALL_TYPES.map((type, i) => ({ name: `c${i}`, type, values: Array(1000).fill(null), batches: [500, 500] })),
  },
  { name: 'zero-rows', specs: () => ALL_TYPES.map((type, i) => ({ name: `c${i}`, type, values: [] })) },
];
const OPTIONS = [
  { rowGroupRows: 777, compress: true },
  { rowGroupRows: 1000, compress: false },
  { rowGroupRows: 99_999, compress: true },
];

const fileOptions = (o: (typeof OPTIONS)[number]): ParquetWriteOptions => ({
  ...o,
  keyValue: new Map([['note', 'written by parquet-writer.test']]),
  createdBy: 'parquet-writer.test',
});

describe('Parquet writer, read back by hyparquet and DuckDB', () => {
  let dir = '';
  let duck: DuckDBInstance;
  let db: DuckDBConnection;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iol-parquet-writer-'));
    duck = await DuckDBInstance.create(':memory:');
    db = await duck.connect();
  });
  afterAll(() => {
    db?.closeSync();
    duck?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const sqlPath = (p: string): string => `'${p.replaceAll("'", "''")}'`;
  const rowsOf = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjects();

  for (const c of CASES) {
    describe(c.name, () => {
      const specs = c.specs();
      const n = specs[0]!.values.length;
      const names = specs.map((s) => s.name);
      const table = tableOf(specs);
      const files = new Map<(typeof OPTIONS)[number], { path: string; bytes: Uint8Array }>();
      const written = (o: (typeof OPTIONS)[number]) => {
        let f = files.get(o);
        if (!f) {
          const bytes = parquetFileBytes(table, c.name, fileOptions(o));
          const path = join(dir, `${c.name}-${o.rowGroupRows}-${o.compress ? 'snappy' : 'plain'}.parquet`);
          writeFileSync(path, bytes);
          files.set(o, (f = { path, bytes }));
        }
        return f;
      };

      for (const o of OPTIONS) {
        const label = `${o.rowGroupRows} rows a group, ${o.compress ? 'snappy' : 'uncompressed'}`;

        it(`${label}: every value read back equal by hyparquet and by DuckDB`, async () => {
          const { path } = written(o);
          const meta = readParquetMetadata(path);
          expect(meta.schema.slice(1).map((e) => e.name)).toEqual(names);
          expect(meta.num_rows).toBe(BigInt(n));
          expect(meta.created_by).toBe('parquet-writer.test');
          expect(meta.key_value_metadata).toEqual([{ key: 'note', value: 'written by parquet-writer.test' }]);
          const rows = await readParquetRows(path);
          expect(rows.length).toBe(n);
          const column = (name: string): unknown[] => rows.map((r) => r[name]);
          for (const s of specs) expect(firstDifference(column(s.name), readBack(s)), `hyparquet, column ${s.name}`).toBeNull();

          const result = await db.runAndReadAll(
            `SELECT * FROM read_parquet(${sqlPath(path)}, file_row_number = true) ORDER BY file_row_number`,
          );
          expect(result.columnNames()).toEqual([...names, 'file_row_number']);
          const cols = result.getColumnsObject();
          for (const s of specs) expect(firstDifference(cols[s.name] ?? [], readBack(s)), `DuckDB, column ${s.name}`).toBeNull();
        });

        it(`${label}: types, row groups, codecs, encodings and statistics`, async () => {
          const { path } = written(o);
          const hyp = readParquetMetadata(path).schema.slice(1);
          const duckSchema = await rowsOf(`SELECT * FROM parquet_schema(${sqlPath(path)}) WHERE num_children IS NULL`);
          specs.forEach((s, i) => {
            const [physical, converted, logical, duckType] = parquetType(s.type);
            const repetition = s.values.includes(null) ? 'OPTIONAL' : 'REQUIRED';
            const h = hyp[i]!;
            expect([h.type, h.converted_type, h.logical_type, h.repetition_type], s.name).toEqual([
              physical,
              converted,
              logical,
              repetition,
            ]);
            const d = duckSchema[i]!;
            expect([d.name, d.type, d.converted_type, d.duckdb_type], 'DuckDB').toEqual([s.name, physical, converted ?? null, duckType]);
          });
          expect(hyp.filter((e) => String(e.converted_type).startsWith('UINT'))).toEqual([]);

          const chunks = await rowsOf(`SELECT * FROM parquet_metadata(${sqlPath(path)}) ORDER BY row_group_id, column_id`);
          const groups = Math.ceil(n / o.rowGroupRows);
          expect(chunks.length).toBe(groups * specs.length);
          const codecs = new Set(chunks.map((k) => k.compression));
          if (!o.compress) expect([...codecs]).toEqual(n ? ['UNCOMPRESSED'] : []);
          else if (n > 1) expect(codecs).toContain('SNAPPY');
          for (const k of chunks) {
            const g = Number(k.row_group_id);
            const s = specs[Number(k.column_id)]!;
            const from = g * o.rowGroupRows;
            const to = Math.min(n, from + o.rowGroupRows);
            const where = `row group ${g}, column ${s.name}`;
            expect([k.path_in_schema, k.row_group_num_rows], where).toEqual([s.name, BigInt(to - from)]);
            expect(['SNAPPY', 'UNCOMPRESSED'], where).toContain(k.compression);
            expect(String(k.encodings).split(', '), where).toContain(parquetType(s.type)[4]);
            const want = expectedStats(s, from, to);
            expect(k.stats_null_count, `${where}: null count`).toBe(BigInt(want.nulls));
            if (intBits(s.type) || s.type.typeId === Type.Dictionary)
              expect([k.stats_min_value, k.stats_max_value], `${where}: min, max`).toEqual([want.min, want.max]);
          }
        });
      }

      it('writes the same bytes to a descriptor (parquetFileWriter) as in blocks (parquetFileBlocks)', () => {
        for (const o of OPTIONS) {
          const { path, bytes } = written(o);
          const fdPath = `${path}.fd`;
          const fd = openSync(fdPath, 'w');
          try {
            parquetFileWriter(table, c.name, fileOptions(o))(fd);
          } finally {
            closeSync(fd);
          }
          const fromFd = readFileSync(fdPath);
          const firstDifferentByte = fromFd.findIndex((b, i) => b !== bytes[i]);
          const label = `${o.rowGroupRows} rows a group, compress ${o.compress}`;
          expect({ length: fromFd.length, firstDifferentByte }, label).toEqual({ length: bytes.length, firstDifferentByte: -1 });
        }
      });
    });
  }
});

/** A snappy stream's length header, its literals, and its copies (tag 1: 1-byte offset, tag 2: 2-byte offset). */
function snappyElements(z: Uint8Array): { length: number; literals: number; copies: { tag: number; len: number; offset: number }[] } {
  const out = { length: 0, literals: 0, copies: [] as { tag: number; len: number; offset: number }[] };
  let p = 0;
  for (let shift = 0; ; shift += 7) {
    const b = z[p++]!;
    out.length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  while (p < z.length) {
    const tag = z[p++]!;
    if ((tag & 3) === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        let v = 0;
        for (let k = 0; k < len - 60; k++) v += z[p + k]! * 256 ** k;
        p += len - 60;
        len = v + 1;
      }
      p += len;
      out.literals++;
    } else if ((tag & 3) === 1) out.copies.push({ tag: 1, len: ((tag >>> 2) & 7) + 4, offset: ((tag >>> 5) << 8) | z[p++]! });
    else if ((tag & 3) === 2) {
      out.copies.push({ tag: 2, len: (tag >>> 2) + 1, offset: z[p]! | (z[p + 1]! << 8) });
      p += 2;
    } else throw new Error('a copy with a 4-byte offset');
  }
  expect(p, 'elements end with the stream').toBe(z.length);
  return out;
}

describe('snappyCompress, decoded by hyparquet', () => {
  const g = gen(5);
  const random = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => g.int(0, 255));
  const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
  const text = (n: number): Uint8Array => {
    const words = ['read ', 'write ', 'fsync ', 'vm-1 ', 'sector ', '4096 ', 'ext4 '];
    return new TextEncoder().encode(Array.from({ length: n }, () => g.pick(words)).join('')).subarray(0, n);
  };
  type Elements = ReturnType<typeof snappyElements>;
  const copies = (e: Elements, tag: number, when: (c: { len: number; offset: number }) => boolean = () => true): number =>
    e.copies.filter((c) => c.tag === tag && when(c)).length;
  const key = random(8);
  // runs of n bytes 'xyxy...' (a pair of its own each), ended by random bytes: one copy of n - 3 bytes at
  // offset 2 each, which goes out in pieces of 64 and, where 65-67 bytes are left, one of 60
  const runLengths = [20, 67, 68, 69, 70, 71, 100, 131, 200, 1000];
  const pairRun = (n: number, k: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => 2 * k + 1 + (i % 2));
  const longMatches = concat(...runLengths.map((n, k) => concat(pairRun(n, k), random(16))));
  const closeRepeats = concat(random(50), ...Array.from({ length: 40 }, () => concat(random(6), Uint8Array.of(1, 2, 3, 4, 5))));
  const inputs: [string, Uint8Array, (e: Elements, z: Uint8Array) => void][] = [
    ['empty', new Uint8Array(0), (_, z) => expect([...z]).toEqual([0])],
    ['1 byte', Uint8Array.of(0x42), (e) => expect([e.literals, e.copies.length]).toEqual([1, 0])],
    ['14 bytes (literal only)', random(14), (e) => expect([e.literals, e.copies.length]).toEqual([1, 0])],
    ['16 repeated bytes', new Uint8Array(16).fill(7), (e) => expect(e.copies.length).toBeGreaterThan(0)],
    ['random bytes (incompressible, 3 blocks)', random(150_000), (_, z) => expect(z.length).toBeLessThan(150_000 * 1.01 + 16)],
    [
      'one byte repeated (offset 1)',
      new Uint8Array(100_000).fill(0x61),
      (e, z) => expect([copies(e, 2, (c) => c.offset === 1) > 1000, z.length < 5000]).toEqual([true, true]),
    ],
    [
      'repetitive text, several 64 KiB blocks',
      text(300_000),
      (e, z) => expect([copies(e, 1) > 1000, z.length < 100_000]).toEqual([true, true]),
    ],
    ['65536 bytes (one whole block)', text(65_536), (e) => expect(copies(e, 1)).toBeGreaterThan(100)],
    ['65537 bytes (a 1-byte last block)', text(65_537), (e) => expect(e.literals).toBeGreaterThan(1)],
    [
      'matches of 17 to 997 bytes (pieces of 64 and 60)',
      longMatches,
      (e) => expect([copies(e, 2, (c) => c.len === 64) >= 15, copies(e, 2, (c) => c.len === 60) >= 3]).toEqual([true, true]),
    ],
    [
      'a short match 2108 bytes back (2-byte offset)',
      concat(key, new Uint8Array(2100).fill(0x61), key, Uint8Array.of(0)),
      (e) => expect(copies(e, 2, (c) => c.len < 12 && c.offset >= 2048)).toBe(1),
    ],
    [
      'short repeats close by (1-byte offset)',
      closeRepeats,
      (e) => expect(copies(e, 1, (c) => c.offset === 11 && c.len === 5)).toBeGreaterThanOrEqual(20),
    ],
  ];

  it.each(inputs)('%s', (_, src, check) => {
    const sink = new ByteSink(16);
    snappyCompress(sink, src);
    const z = sink.view().slice();
    expect(z.length).toBeLessThanOrEqual(snappyMaxLength(src.length));
    const e = snappyElements(z);
    expect(e.length, 'the length header').toBe(src.length);
    const back = new Uint8Array(src.length);
    snappyUncompress(z, back);
    const at = back.findIndex((b, i) => b !== src[i]);
    expect(at, 'first byte that differs').toBe(-1);
    check(e, z);
  });
});
