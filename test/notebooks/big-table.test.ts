/**
 * The big-table helpers against Arquero's own verbs on the same random tables: lookup against
 * `lookup`, rank against `orderby` + `row_number` per group, runningSum against a rolling sum over
 * the ordered table; filtered and ordered inputs included (the added columns follow the rows).
 */
import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { lookup, rank, runningSum } from '../../src/notebook/big-table.js';
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
  });
});
