import { describe, expect, it } from 'vitest';
import { countInversions, reorderingStats } from '../../src/metrics/reordering.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';

function bruteInversions(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) if (a[i]! > a[j]!) n++;
  return n;
}

describe('reordering', () => {
  it('counts inversions like the O(n^2) definition, ties included', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const n = Math.floor(r() * 300);
      const a = Array.from({ length: n }, () => Math.floor(r() * (seed % 3 === 0 ? 5 : 1000)));
      expect(countInversions(a)).toBe(bruteInversions(a));
    }
  });

  it('gives tau 1 for the same order, -1 for the reverse, and the textbook values in between', () => {
    const issue = Float64Array.from([1, 2, 3, 4, 5]);
    expect(reorderingStats(issue, Float64Array.from([10, 20, 30, 40, 50])).kendall_tau).toBe(1);
    const rev = reorderingStats(issue, Float64Array.from([50, 40, 30, 20, 10]));
    expect(rev.kendall_tau).toBe(-1);
    expect(rev.inversions).toBe(10);
    expect(rev.max_displacement).toBe(4);
    // one adjacent swap: 1 discordant pair of 10 → tau = 0.8; two I/Os moved by one place
    const swap = reorderingStats(issue, Float64Array.from([10, 30, 20, 40, 50]));
    expect(swap.inversions).toBe(1);
    expect(swap.kendall_tau).toBeCloseTo(0.8, 12);
    expect(swap.mean_displacement).toBeCloseTo(2 / 5, 12);
    expect(swap.displaced_fraction).toBeCloseTo(2 / 5, 12);
  });

  it('leaves out I/Os that never reached the layer and filters by op', () => {
    const issue = Float64Array.from([1, 2, 3, 4]);
    const proc = Float64Array.from([4, NaN, 1, 2]);
    const all = reorderingStats(issue, proc);
    expect(all.n).toBe(3);
    expect(all.inversions).toBe(2);
    const some = reorderingStats(issue, proc, (i) => i !== 0);
    expect(some.n).toBe(2);
    expect(some.inversions).toBe(0);
  });

  it('matches a brute-force Kendall tau on seeded random permutations', () => {
    const r = rng(7);
    const n = 400;
    const issue = Float64Array.from({ length: n }, (_, i) => i);
    const proc = Float64Array.from({ length: n }, (_, i) => i + r() * 60);
    const s = reorderingStats(issue, proc);
    let conc = 0,
      disc = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        if (proc[j]! > proc[i]!) conc++;
        else disc++;
      }
    expect(s.kendall_tau).toBeCloseTo((conc - disc) / ((n * (n - 1)) / 2), 12);
  });
});
