/**
 * The big-table helpers against Arquero's own verbs on the same random tables: lookup against
 * `lookup`, semijoin and antijoin against Arquero's, rank against `orderby` + `row_number` per group, runningSum against a rolling sum over
 * the ordered table; filtered and ordered inputs included (the added columns follow the rows).
 */
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { antijoin, lookup, rank, runningSum, semijoin } from '../../src/notebook/big-table.js';
import { singleBatchTable } from '../../src/notebook/single-batch.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

const { op } = aq;

function randomTable(n: number, seed: number) {
  const rnd = mulberry32(seed);
  return aq.table({
    id: Array.from({ length: n }, (_, i) => i),
    ref: Array.from({ length: n }, () => Math.floor(rnd() * n * 1.2)),
    layer: Array.from({ length: n }, () => (rnd() < 0.5 ? 'guest' : 'host')),
    t: Array.from({ length: n }, () => (rnd() < 0.05 ? null : Math.floor(rnd() * 1000))),
    delta: Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : -1)),
  });
}

describe('big-table helpers', () => {
  const t = randomTable(3000, 5).filter((d) => d.id % 7 !== 3);
  const other = randomTable(2000, 6).derive({ name: (d) => `r${d.id}` }).select('id', 'name', 't');

  it('lookup adds what Arquero lookup adds, dense and sparse keys', () => {
    expect(lookup(t, other, ['ref', 'id'], ['name', 't']).objects()).toEqual(t.lookup(other, ['ref', 'id'], 'name', 't').objects());
    const sparse = other.derive({ key: (d) => `k${d.id}` });
    const left = t.derive({ key: (d) => `k${d.ref}` });
    expect(lookup(left, sparse, ['key', 'key'], ['name']).objects()).toEqual(left.lookup(sparse, ['key', 'key'], 'name').objects());
  });

  it('rank equals orderby + row_number within each group (ties in table order, nulls null)', () => {
    const ours = rank(t, 't', { groupby: ['layer'], as: 'r' }).objects() as { id: number; r: number | null }[];
    const theirs = t.filter((d) => d.t !== null).groupby('layer').orderby('t', 'id').derive({ r: op.row_number() }).ungroup().objects() as { id: number; r: number }[];
    const want = new Map(theirs.map((r) => [r.id, r.r]));
    for (const r of ours) expect(r.r, `row ${r.id}`).toBe(want.get(r.id) ?? null);
  });

  it('runningSum equals a rolling sum over the ordered table', () => {
    const u = t.filter((d) => d.t !== null);
    const ours = runningSum(u, { orderby: 't', then: 'delta', value: 'delta', as: 's' }).objects() as { id: number; s: number }[];
    const theirs = u.orderby('t', 'delta', 'id').derive({ s: aq.rolling((d: { delta: number }) => op.sum(d.delta)) }).objects() as { id: number; s: number }[];
    const want = new Map(theirs.map((r) => [r.id, r.s]));
    for (const r of ours) expect(r.s, `row ${r.id}`).toBe(want.get(r.id));
  });

  it('runningSum puts the rows with no order value after every other (by `then`, then table order)', () => {
    const ours = runningSum(t, { orderby: 't', then: 'delta', value: 'delta', as: 's' }).objects() as { id: number; t: number | null; delta: number; s: number }[];
    const ordered = t
      .filter((d) => d.t !== null)
      .orderby('t', 'delta', 'id')
      .objects() as { id: number; delta: number }[];
    let s = 0;
    const want = new Map<number, number>();
    for (const r of ordered) want.set(r.id, (s += r.delta));
    const last = t
      .filter((d) => d.t === null)
      .orderby('delta', 'id')
      .objects() as { id: number; delta: number }[];
    for (const r of last) want.set(r.id, (s += r.delta));
    expect(ours.some((r) => r.t === null)).toBe(true);
    for (const r of ours) expect(r.s, `row ${r.id}`).toBe(want.get(r.id));
  });

  it('names the missing column', () => {
    expect(() => rank(t, 'nope')).toThrow(/no column "nope"/);
    expect(() => antijoin(t, other, ['ref', 'nope'])).toThrow(/antijoin: the table has no column "nope"/);
    expect(() => lookup(t, other, ['ref', 'id'], ['nope'])).toThrow(/lookup: the table has no column "nope"/);
  });

  it('semijoin and antijoin keep the rows Arquero keeps: filtered, ordered, grouped, null and string keys', () => {
    const right = other.filter((d) => d.id % 3 !== 0);
    const cases: [aq.ColumnTable, aq.ColumnTable, [string, string]][] = [
      [t, right, ['ref', 'id']],
      [t.orderby(aq.desc('t'), 'id'), right, ['ref', 'id']],
      [t.groupby('layer'), other, ['t', 't']],
      [t, other.derive({ t: (d) => (d.t === null ? null : d.t * 1e6) }), ['t', 't']],
      [t.derive({ k: (d) => (d.ref % 5 === 0 ? null : `k${d.ref}`) }), other.derive({ k: (d) => (d.id % 4 === 0 ? null : `k${d.id}`) }), ['k', 'k']],
      [t.derive({ k: (d) => (d.ref % 5 === 0 ? NaN : d.ref + 0.5) }), other.derive({ k: (d) => (d.id % 4 === 0 ? NaN : d.id + 0.5) }), ['k', 'k']],
    ];
    for (const [l, r, on] of cases) {
      expect(semijoin(l, r, on).objects()).toEqual(l.semijoin(r, on).objects());
      expect(antijoin(l, r, on).objects()).toEqual(l.antijoin(r, on).objects());
      expect(antijoin(l, r, on).groups()?.names).toEqual(l.antijoin(r, on).groups()?.names);
    }
    expect(semijoin(t, other.rename({ id: 'ref' }), 'ref').numRows()).toBe(t.semijoin(other.rename({ id: 'ref' }), 'ref').numRows());
    expect(() => semijoin(t, other, ['ref'] as never)).toThrow(/one column name or \[left column, right column\]/);
  });

  it('reads Arrow-backed columns with nulls as Arquero does (a null never matches, never reads as 0)', () => {
    const n = 5000;
    const rnd = mulberry32(9);
    const ids = Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : i));
    const arrowTable = singleBatchTable(
      new arrow.Table({
        id: arrow.vectorFromArray(ids, new arrow.Int32()),
        v: arrow.vectorFromArray(
          ids.map((x) => (x === null || rnd() < 0.1 ? null : x * 2)),
          new arrow.Float64(),
        ),
        seq: arrow.vectorFromArray(
          ids.map((_, i) => 3 * i),
          new arrow.Int32(),
        ),
      }),
    );
    const right = aq.fromArrow(arrowTable as never);
    const left = aq.table({ ref: Array.from({ length: 3000 }, (_, i) => (i % 13 === 0 ? null : i * 2)) });
    expect(semijoin(left, right, ['ref', 'id']).objects()).toEqual(left.semijoin(right, ['ref', 'id']).objects());
    expect(antijoin(right, left, ['id', 'ref']).objects()).toEqual(right.antijoin(left, ['id', 'ref']).objects());
    expect(antijoin(right, left, ['v', 'ref']).objects()).toEqual(right.antijoin(left, ['v', 'ref']).objects());
    expect(semijoin(left, right, ['ref', 'seq']).objects()).toEqual(left.semijoin(right, ['ref', 'seq']).objects());
    expect(lookup(left, right, ['ref', 'seq'], ['v', 'id']).objects()).toEqual(left.lookup(right, ['ref', 'seq'], 'v', 'id').objects());
    expect(lookup(left, right, ['ref', 'id'], ['v']).objects()).toEqual(left.lookup(right, ['ref', 'id'], 'v').objects());
    expect(lookup(left, right.filter((d) => d.id % 2 === 0), ['ref', 'id'], ['v']).objects()).toEqual(
      left.lookup(right.filter((d) => d.id % 2 === 0), ['ref', 'id'], 'v').objects(),
    );
  });
});
