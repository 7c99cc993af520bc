/**
 * readArrowColumns reads a file's wanted columns from their buffers alone: checked against the
 * whole-file decoder (flechette) on a written table of several record batches with nulls, strings
 * and booleans, and on the tables of a real ingest; a truncated or damaged file gives null (the
 * whole-file reader then says what is wrong), never an exception.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';
import { defineTable } from '../../src/table/table-spec.js';
import { TableBuilder } from '../../src/table/table-builder.js';
import { readArrowFile, writeArrowFile } from '../../src/table/arrow-file.js';
import { readArrowColumns } from '../../src/table/arrow-column-reader.js';
import { run as ingest } from '../../src/cli/ingest.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-column-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = defineTable({
  name: 'demo',
  doc: 'test table',
  columns: [
    { name: 'name', type: 'string', doc: 'name', nullable: true },
    { name: 'ts_ns', type: 'int64', doc: 'time', unit: 'ns', clock: 'trace clock' },
    { name: 'ok', type: 'bool', doc: 'flag' },
    { name: 'cpu', type: 'int16', doc: 'cpu' },
    { name: 'end_ns', type: 'int64', doc: 'maybe null', unit: 'ns', clock: 'trace clock', nullable: true },
  ],
});

/** Every column's batches as the whole-file decoder gives them: values bytes and validity bits. */
function decoded(path: string): Map<string, { length: number; nullCount: number; valid: (i: number) => boolean; bytes: Uint8Array }[]> {
  const t = readArrowFile(path);
  const out = new Map();
  for (const f of t.schema.fields) {
    out.set(
      f.name,
      (
        t.getChild(f.name).data as unknown as { length: number; nullCount: number; validity: Uint8Array | null; values: ArrayBufferView }[]
      ).map((b) => ({
        length: b.length,
        nullCount: b.nullCount,
        valid: (i: number) => b.nullCount === 0 || ((b.validity![i >> 3]! >> (i & 7)) & 1) === 1,
        bytes: new Uint8Array(b.values.buffer, b.values.byteOffset, b.values.byteLength),
      })),
    );
  }
  return out;
}

/** The reader's chunks equal the decoder's batches for every fixed-width column (values compared where valid). */
function expectSameColumns(path: string): number {
  const r = readArrowColumns(path, () => true);
  expect(r, path).not.toBeNull();
  const want = decoded(path);
  let compared = 0;
  for (const f of r!.fields) {
    if (f.typeId === 5 && !f.dictionary) continue; // plain utf8: values are its offsets here
    const chunks = r!.columns.get(f.name)!;
    const batches = want.get(f.name)!;
    expect(chunks.length, `${path} ${f.name}`).toBe(batches.length);
    chunks.forEach((c, k) => {
      const b = batches[k]!;
      expect(c.length).toBe(b.length);
      expect(c.nullCount).toBe(b.nullCount);
      const width = f.typeId === 6 ? 0 : b.bytes.length / Math.max(1, b.length);
      const bad: number[] = [];
      for (let i = 0; i < c.length && bad.length < 5; i++) {
        const valid = c.validity === null || ((c.validity[i >> 3]! >> (i & 7)) & 1) === 1;
        if (valid !== b.valid(i)) bad.push(i);
        if (!valid) continue;
        if (width === 0) {
          if (((c.values[i >> 3]! >> (i & 7)) & 1) !== ((b.bytes[i >> 3]! >> (i & 7)) & 1)) bad.push(i);
        } else for (let j = i * width; j < (i + 1) * width; j++) if (c.values[j] !== b.bytes[j]) bad.push(i);
      }
      expect(bad, `${path} ${f.name} batch ${k}: rows that differ`).toEqual([]);
      compared += c.length;
    });
  }
  return compared;
}

describe('readArrowColumns', () => {
  it('reads the columns of a table of several record batches as the whole-file decoder does', () => {
    const tb = new TableBuilder(spec);
    const n = CHUNK_ROWS + 4321;
    for (let i = 0; i < n; i++) {
      if (i % 5 === 0) tb.string('name').pushNull();
      else tb.string('name').push(`n${i % 7}`);
      tb.int64('ts_ns').push(BigInt(i) * 1000n + 2n ** 60n);
      tb.bool('ok').push(i % 3 === 0);
      tb.number('cpu').push(i % 4);
      if (i % 11 === 0) tb.int64('end_ns').pushNull();
      else tb.int64('end_ns').push(-i);
    }
    const file = join(dir, 'demo.arrow');
    writeArrowFile(file, tb.finish({}));
    expect(expectSameColumns(file)).toBeGreaterThan(4 * n);
    const r = readArrowColumns(file, (f) => f.metadata.get('unit') === 'ns');
    expect([...r!.columns.keys()]).toEqual(['ts_ns', 'end_ns']);
    expect(r!.fields.find((f) => f.name === 'ts_ns')).toMatchObject({ typeId: 2, bitWidth: 64, dictionary: false });
    expect(r!.fields.find((f) => f.name === 'name')?.dictionary).toBe(true);
  });

  it('reads every table of a real ingest', async () => {
    const out = join(dir, 'ingest');
    const code = await ingest([join(__dirname, '..', 'fixtures', 'block', 'ext3.blkparse.txt.gz'), '-o', out]);
    expect(code).toBe(0);
    const tables = readdirSync(out).filter((f) => f.endsWith('.arrow'));
    expect(tables.length).toBeGreaterThanOrEqual(3);
    for (const t of tables) expect(expectSameColumns(join(out, t))).toBeGreaterThan(0);
  });

  it('gives null, never an exception, for a truncated, damaged or foreign file', () => {
    const tb = new TableBuilder(spec);
    for (let i = 0; i < 1000; i++) {
      tb.string('name').push('x');
      tb.int64('ts_ns').push(i);
      tb.bool('ok').push(true);
      tb.number('cpu').push(1);
      tb.int64('end_ns').push(i);
    }
    const file = join(dir, 'small.arrow');
    writeArrowFile(file, tb.finish({}));
    const bytes = readFileSync(file);
    const rand = mulberry32(5);
    const bad = join(dir, 'bad.arrow');
    for (let trial = 0; trial < 300; trial++) {
      const b = Uint8Array.from(bytes);
      if (trial % 3 === 0) writeFileSync(bad, b.subarray(0, Math.floor(rand() * b.length)));
      else {
        for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        writeFileSync(bad, b);
      }
      // a damaged file may still read (a byte in a value); it must not throw
      expect(() => readArrowColumns(bad, () => true)).not.toThrow();
    }
    writeFileSync(bad, 'not arrow at all');
    expect(readArrowColumns(bad, () => true)).toBeNull();
    expect(readArrowColumns(join(dir, 'missing.arrow'), () => true)).toBeNull();
    expect(readArrowColumns(join(__dirname, '..', 'fixtures', 'damaged', 'odd-vtable.block_events.arrow'), () => true)).toBeNull();
  });
});
