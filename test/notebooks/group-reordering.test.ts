/**
 * groupReordering against a direct count: per group, inversions are the pairs (i, j) issued in one
 * order and processed in the other, counted pair by pair; Kendall's tau follows from them.
 */
import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { groupReordering } from '../../src/notebook/group-reordering.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

describe('groupReordering', () => {
  it('counts the inversions of every group as a pair-by-pair count does', () => {
    const rnd = mulberry32(11);
    const n = 600;
    const rows = Array.from({ length: n }, (_, i) => ({
      layer: rnd() < 0.5 ? 'guest' : 'host', op: rnd() < 0.3 ? 'read' : 'write',
      issued: i * 10 + Math.floor(rnd() * 5), processed: rnd() < 0.1 ? null : i * 10 + Math.floor(rnd() * 400),
    }));
    const result = groupReordering(aq.from(rows), { groupby: ['layer', 'op'], issue: 'issued', processed: 'processed' }).objects() as { layer: string; op: string; n: number; inversions: number; kendall_tau: number }[];
    expect(result.length).toBe(4);
    for (const g of result) {
      const members = rows.filter((r) => r.layer === g.layer && r.op === g.op && r.processed !== null);
      let inv = 0;
      for (let i = 0; i < members.length; i++) {
        for (let j = i + 1; j < members.length; j++) {
          const a = members[i]!, b = members[j]!;
          if ((a.issued - b.issued) * (a.processed! - b.processed!) < 0) inv++;
        }
      }
      expect(g.n, `${g.layer}/${g.op}`).toBe(members.length);
      expect(g.inversions, `${g.layer}/${g.op}`).toBe(inv);
      const pairs = members.length * (members.length - 1) / 2;
      expect(g.kendall_tau).toBeCloseTo(1 - 2 * inv / pairs, 12);
    }
  });

  it("has the groups of Arquero's groupby, in its order, on a filtered and ordered table with null and numeric keys", () => {
    const rnd = mulberry32(12);
    const t = aq
      .table({
        w: Array.from({ length: 5000 }, () => (rnd() < 0.05 ? null : Math.floor(rnd() * 30) * 2)),
        layer: Array.from({ length: 5000 }, () => (rnd() < 0.5 ? 'guest' : rnd() < 0.5 ? 'host' : null)),
        issued: Array.from({ length: 5000 }, (_, i) => i),
        processed: Array.from({ length: 5000 }, (_, i) => (rnd() < 0.1 ? null : i + Math.floor(rnd() * 50))),
      })
      .filter((d) => d.issued % 3 !== 0)
      .orderby(aq.desc('issued'));
    const ours = groupReordering(t, { groupby: ['w', 'layer'], issue: 'issued', processed: 'processed' });
    const theirs = t.groupby('w', 'layer').rollup({ n: aq.op.valid('processed') });
    expect(ours.select('w', 'layer', 'n').objects()).toEqual(theirs.objects());
    expect(ours.numRows()).toBeGreaterThan(90);
  });

  it('refuses BigInt times rather than rounding them', () => {
    const t = aq.table({ g: [1, 1], issued: [1n, 2n], processed: [2n ** 60n, 2n ** 60n + 1n] });
    expect(() => groupReordering(t, { groupby: ['g'], issue: 'issued', processed: 'processed' })).toThrow(/column "issued" holds 64-bit integers past 2\^53/);
  });
});
