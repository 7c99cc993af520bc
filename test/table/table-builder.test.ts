import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as aq from 'arquero';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';
import { defineTable } from '../../src/table/table-spec.js';
import { TableBuilder } from '../../src/table/table-builder.js';
import { readArrowFile, tableMetadata, writeArrowFile } from '../../src/table/arrow-file.js';

const spec = defineTable({
  name: 'demo',
  doc: 'test table',
  columns: [
    { name: 'ts_ns', type: 'int64', doc: 'time', unit: 'ns' },
    { name: 'cpu', type: 'int16', doc: 'cpu' },
    { name: 'name', type: 'string', doc: 'name', nullable: true },
    { name: 'ok', type: 'bool', doc: 'flag' },
    { name: 'end', type: 'int64', doc: 'maybe null', nullable: true },
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'iol-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TableBuilder', () => {
  it('round-trips values across several chunks, with nulls and 64-bit values, through an Arrow file', () => {
    const tb = new TableBuilder(spec);
    const n = CHUNK_ROWS * 2 + 17;
    const big = 2n ** 62n + 5n;
    for (let i = 0; i < n; i++) {
      tb.int64('ts_ns').push(i === 1 ? big : i * 1000);
      tb.number('cpu').push(i % 3);
      if (i % 5 === 0) tb.string('name').pushNull();
      else tb.string('name').push(`n${i % 7}`);
      tb.bool('ok').push(i % 2 === 0);
      if (i === n - 1) tb.int64('end').pushNull();
      else tb.int64('end').push(-i);
    }
    const file = join(dir, 'demo.arrow');
    writeArrowFile(file, tb.finish({ clock: 'test' }));
    const t = readArrowFile(file);
    expect(t.numRows).toBe(n);
    expect(tableMetadata(t)).toMatchObject({ 'iolineage.table': 'demo', clock: 'test' });
    const ts = t.getChild('ts_ns').toArray() as BigInt64Array;
    expect(ts[1]).toBe(big);
    expect(ts[n - 1]).toBe(BigInt((n - 1) * 1000));
    expect(t.getChild('name').at(0)).toBeNull();
    expect(t.getChild('name').at(CHUNK_ROWS + 1)).toBe(`n${(CHUNK_ROWS + 1) % 7}`);
    expect(t.getChild('ok').at(CHUNK_ROWS * 2 + 1)).toBe(false);
    expect(t.getChild('end').at(n - 1)).toBeNull();
    expect(t.getChild('end').at(n - 2)).toBe(BigInt(-(n - 2)));
    expect(t.schema.fields.find((f) => f.name === 'ts_ns')?.metadata?.get('unit')).toBe('ns');
  });

  it('loads into Arquero for notebooks', () => {
    const tb = new TableBuilder(spec);
    for (let i = 0; i < 10; i++) {
      tb.int64('ts_ns').push(i);
      tb.number('cpu').push(i % 2);
      tb.string('name').push(i < 5 ? 'a' : 'b');
      tb.bool('ok').push(true);
      tb.int64('end').push(i);
    }
    const file = join(dir, 'small.arrow');
    writeArrowFile(file, tb.finish());
    const t = aq.fromArrow(readArrowFile(file) as never);
    const counts = t.groupby('name').count().orderby('name').objects();
    expect(counts).toEqual([
      { name: 'a', count: 5 },
      { name: 'b', count: 5 },
    ]);
  });

  it('refuses columns of different lengths', () => {
    const tb = new TableBuilder(spec);
    tb.int64('ts_ns').push(1);
    expect(() => tb.finish()).toThrow(/column cpu has 0 rows, expected 1/);
  });
});

describe('column builders grow their first chunk', () => {
  it('keeps every value and null as the first array doubles to a chunk and rolls past it', async () => {
    const { Int64ColumnBuilder, NumberColumnBuilder } = await import('../../src/table/column-builders.js');
    const i64 = new Int64ColumnBuilder();
    const i32 = new NumberColumnBuilder(Int32Array);
    const n = CHUNK_ROWS + 5000;
    for (let r = 0; r < n; r++) {
      if (r % 997 === 0) {
        i64.pushNull();
        i32.pushNull();
      } else {
        // values past 2^32 exercise both halves of pushSafeInteger
        if (r % 2) i64.pushSafeInteger(r * 2 ** 33 + r);
        else i64.push(BigInt(r) * 2n ** 33n + BigInt(r));
        i32.push(-r);
      }
    }
    // a value set after the first array was replaced lands in the current one
    i32.set(1500, 42);
    const { values, validity } = i64.finishChunks();
    expect(values.map((v) => v.length)).toEqual([CHUNK_ROWS, 5000]);
    const cols = i32.finishChunks();
    for (let r = 0; r < n; r++) {
      const c = Math.floor(r / CHUNK_ROWS);
      const k = r % CHUNK_ROWS;
      const valid = (validity[c]![k >> 3]! >> (k & 7)) & 1;
      expect(valid).toBe(r % 997 === 0 ? 0 : 1);
      if (valid) expect(values[c]![k]).toBe(BigInt(r) * 2n ** 33n + BigInt(r));
      if (valid && r !== 1500) expect(cols.values[c]![k]).toBe(-r);
    }
    expect(cols.values[0]![1500]).toBe(42);
  });
});
