/**
 * sortedOrder against a stable comparator sort on the same keys, at sizes on both sides of each
 * switch (comparator below 512 keys, 8-bit radix digits below 2^16, 16-bit above): negative and
 * positive values, infinities, many ties, values that differ only in their low bits.
 */
import { describe, expect, it } from 'vitest';
import { lowerBound, sortedOrder, upperBound } from '../../src/util/sorted.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

function reference(key: Float64Array): Int32Array {
  return Int32Array.from({ length: key.length }, (_, i) => i).sort((a, b) => key[a]! - key[b]! || a - b);
}

describe('sortedOrder', () => {
  const rnd = mulberry32(11);
  const shapes: Record<string, (i: number) => number> = {
    'wide range': () => (rnd() - 0.5) * 1e18,
    ties: () => Math.floor(rnd() * 20) - 10,
    'low bits': () => 1.7e15 + Math.floor(rnd() * 4096),
    'with infinities': () => (rnd() < 0.01 ? (rnd() < 0.5 ? -Infinity : Infinity) : rnd() * 100 - 50),
    fractions: () => rnd() * 1e-300 * (rnd() < 0.5 ? -1 : 1),
    'already sorted': (i) => i * 3,
  };
  for (const n of [0, 1, 511, 512, 513, 4099, 65535, 65536, 70001]) {
    for (const [shape, value] of Object.entries(shapes)) {
      it(`${n} keys, ${shape}`, () => {
        const key = Float64Array.from({ length: n }, (_, i) => value(i));
        expect(Array.from(sortedOrder(key))).toEqual(Array.from(reference(key)));
      });
    }
  }

  it('sorts only the first n keys when n is given', () => {
    const key = Float64Array.from({ length: 3000 }, () => rnd());
    expect(Array.from(sortedOrder(key, 2000))).toEqual(Array.from(reference(key.slice(0, 2000))));
  });

  it('lowerBound and upperBound bracket equal keys', () => {
    const keys = [1, 2, 2, 2, 5, 9];
    expect([lowerBound(keys, 2), upperBound(keys, 2)]).toEqual([1, 4]);
    expect([lowerBound(keys, 0), upperBound(keys, 10)]).toEqual([0, 6]);
    expect([lowerBound(keys, 3), upperBound(keys, 3)]).toEqual([4, 4]);
  });
});
