/**
 * takeRows gathers rows of every column type the iolineage tables use (integers of each width,
 * 64-bit values, floats, booleans, UTF-8 and dictionary strings, with nulls) across several
 * batches into one batch per column; valueRows (the dataset's split by VM) gives each value's
 * rows in order, null last. Both are compared with the values flechette reads row by row.
 */
import { describe, expect, it } from 'vitest';
import {
  bool,
  Column,
  columnFromArray,
  dictionary,
  field,
  float64,
  int16,
  int64,
  int8,
  Table,
  uint32,
  utf8,
  type DataType,
} from '@uwdata/flechette';
import { takeRows } from '../../src/table/take-rows.js';
import { valueRows } from '../../src/export/table-files.js';

const N = 1000;
const at = (i: number) => (i * 7919) % 13;

/** A column made of batches of 3, 250 and the rest rows, each built on its own. */
function batched<T>(values: T[], type: DataType): Column<unknown> {
  const cuts = [0, 3, 253, values.length];
  const parts = cuts.slice(1).map((end, k) => columnFromArray(values.slice(cuts[k], end), type, { useBigInt: true }) as Column<unknown>);
  return new Column(parts.flatMap((p) => p.data));
}

function table(): Table {
  const cols: [string, DataType, unknown[]][] = [
    ['i8', int8(), Array.from({ length: N }, (_, i) => (i % 11 === 0 ? null : at(i) - 6))],
    ['i16', int16(), Array.from({ length: N }, (_, i) => -32768 + i * 61)],
    ['u32', uint32(), Array.from({ length: N }, (_, i) => (i % 5 === 0 ? 4294967295 : i))],
    ['i64', int64(), Array.from({ length: N }, (_, i) => (i % 9 === 0 ? null : BigInt(i) * 123456789012345n - 2n ** 62n))],
    ['f64', float64(), Array.from({ length: N }, (_, i) => (i % 17 === 0 ? null : i / 3))],
    ['flag', bool(), Array.from({ length: N }, (_, i) => (i % 23 === 0 ? null : i % 3 === 0))],
    ['text', utf8(), Array.from({ length: N }, (_, i) => (i % 29 === 0 ? null : `t${at(i)}é`))],
    ['vm', dictionary(utf8(), int8()), Array.from({ length: N }, (_, i) => (i % 31 === 0 ? null : `vm${at(i) % 3}`))],
  ];
  const schema = { version: 5, endianness: 0, fields: cols.map(([n, t]) => field(n, t, true)), metadata: null };
  return new Table(
    schema as unknown as Table['schema'],
    cols.map(([, t, v]) => batched(v, t)),
  );
}

const rowsOf = (t: Table) => Array.from({ length: t.numRows }, (_, i) => t.schema.fields.map((f) => t.getChild(f.name)!.at(i)));

describe('takeRows and valueRows', () => {
  it('takeRows gives the rows at the indices, every column type, nulls kept, across batches', () => {
    const t = table();
    const wanted = Int32Array.from({ length: N }, (_, i) => i).filter((i) => i % 4 !== 1 && i !== 500);
    const got = takeRows(t, wanted, 'test');
    expect(got.numRows).toBe(wanted.length);
    for (const c of got.children) expect(c.data.length).toBe(1);
    const all = rowsOf(t);
    expect(rowsOf(got)).toEqual(Array.from(wanted, (i) => all[i]));
    expect(rowsOf(takeRows(t, new Int32Array(0), 'test'))).toEqual([]);
  });

  it('valueRows: the rows of each value of a dictionary column, in value order, null last', () => {
    const t = table();
    const groups = valueRows(t, 'vm');
    expect([...groups.keys()]).toEqual(['vm0', 'vm1', 'vm2', null]);
    const vm = t.getChild('vm')!;
    for (const [value, rows] of groups) {
      const expected = Array.from({ length: N }, (_, i) => i).filter((i) => (vm.at(i) ?? null) === value);
      expect(Array.from(rows), String(value)).toEqual(expected);
    }
    // a plain string column the same way
    const text = valueRows(t, 'text');
    expect([...text.values()].reduce((n, r) => n + r.length, 0)).toBe(N);
    expect(Array.from(text.get(null)!)).toEqual(Array.from({ length: N }, (_, i) => i).filter((i) => i % 29 === 0));
  });
});
