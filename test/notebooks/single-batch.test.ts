/**
 * singleBatchTable joins a table's record batches into one and hands out Vectors whose `at` reads
 * the buffer: every value, null and dictionary entry equals what apache-arrow's own `get` reads from
 * the original batches, for every column type the project writes, and Arquero computes the same.
 */
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { singleBatchTable } from '../../src/notebook/single-batch.js';
import { toUserTable } from '../../src/notebook/user-table.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

/** Columns of every type the project writes, cut into chunks of odd lengths (slices: non-zero offsets). */
function chunkedTable(n: number, cuts: number[], rnd: () => number): arrow.Table {
  const maybe = <T>(v: () => T): T | null => (rnd() < 0.2 ? null : v());
  const columns: Record<string, arrow.Vector> = {
    f64: arrow.vectorFromArray(Array.from({ length: n }, () => maybe(() => rnd() * 1e12)), new arrow.Float64()),
    i32: arrow.vectorFromArray(Array.from({ length: n }, () => maybe(() => Math.floor(rnd() * 2e9) - 1e9)), new arrow.Int32()),
    i8: arrow.vectorFromArray(Array.from({ length: n }, () => Math.floor(rnd() * 200) - 100), new arrow.Int8()),
    i64: arrow.vectorFromArray(Array.from({ length: n }, () => maybe(() => BigInt(Math.floor(rnd() * 1e12)) * 1000n - 5n * 10n ** 14n)), new arrow.Int64()),
    bool: arrow.vectorFromArray(Array.from({ length: n }, () => maybe(() => rnd() < 0.5)), new arrow.Bool()),
    op: arrow.vectorFromArray(Array.from({ length: n }, () => maybe(() => ['read', 'write', 'flush'][Math.floor(rnd() * 3)]!)), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
  };
  const bounds = [0, ...cuts, n];
  const chunked: Record<string, arrow.Vector> = {};
  for (const [name, v] of Object.entries(columns)) {
    const parts = bounds.slice(1).map((end, k) => v.slice(bounds[k]!, end));
    chunked[name] = parts.slice(1).reduce((a, b) => a.concat(b), parts[0]!);
  }
  return new arrow.Table(chunked);
}

describe('singleBatchTable', () => {
  it('reads every value of a many-batch table as apache-arrow does, odd batch lengths and nulls included', () => {
    const rnd = mulberry32(7);
    const table = chunkedTable(1025, [13, 21, 1022], rnd);
    expect(table.batches.length).toBe(4);
    const one = singleBatchTable(table);
    expect(one.batches.length).toBe(1);
    expect(one.numRows).toBe(table.numRows);
    for (const f of table.schema.fields) {
      const want = table.getChild(f.name)!;
      const fast = one.getChild(f.name)!;
      for (let i = 0; i < table.numRows; i++) {
        expect(fast.at(i), `${f.name}[${i}] at`).toEqual(want.get(i));
        expect(fast.get(i), `${f.name}[${i}] get`).toEqual(want.get(i));
      }
    }
    const viaArquero = aq.fromArrow(one).groupby('op').rollup({ n: aq.op.count(), s: aq.op.sum('f64'), t: aq.op.sum('bool') }).orderby('op').objects();
    const reference = aq.from(table.toArray().map((r) => r.toJSON())).groupby('op').rollup({ n: aq.op.count(), s: aq.op.sum('f64'), t: aq.op.sum('bool') }).orderby('op').objects();
    expect(viaArquero).toEqual(reference);
  });

  it('converts int64 chunks with offsets to exact numbers (toUserTable)', () => {
    const table = chunkedTable(700, [5, 6, 333], mulberry32(3));
    const user = toUserTable(table, { file: 'chunks.arrow' });
    const want = table.getChild('i64')!;
    const got = user.getChild('i64')!;
    expect(String(got.type)).toBe('Float64');
    for (let i = 0; i < table.numRows; i++) {
      const w = want.get(i) as bigint | null;
      expect(got.at(i), `i64[${i}]`).toEqual(w === null ? null : Number(w));
    }
  });
});
