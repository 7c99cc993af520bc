import { describe, expect, it } from 'vitest';
import { SectorMap } from '../../src/ingest/block/sector-map.js';

/** Entries of a SectorMap in its iteration order. */
function entries(m: SectorMap): [number, number][] {
  const out: [number, number][] = [];
  for (let e = m.first(); e < m.end(); e++) if (m.isLive(e)) out.push([m.keyAt(e), m.valueAt(e)]);
  return out;
}

describe('SectorMap', () => {
  it('behaves as a Map<number, number> under random sets, puts, deletes (plain, conditional, take, by entry) and evictions of the oldest key (order included)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const m = new SectorMap(16);
    const ref = new Map<number, number>();
    // keys: small sectors, sectors past 2^32 and close to 2^53 (the high word matters), and 0/-1
    const keyOf = (k: number) => [k * 8, 2 ** 32 + k * 8, 2 ** 52 + k, -1, 0][k % 5]!;
    for (let step = 0; step < 40_000; step++) {
      const op = rnd(10);
      const k = keyOf(rnd(3000));
      if (op < 4) {
        const v = rnd(1 << 30);
        m.set(k, v);
        ref.set(k, v);
      } else if (op < 5) {
        const v = rnd(1 << 30);
        expect(m.put(k, v)).toBe(ref.has(k));
        ref.set(k, v);
      } else if (op < 6) expect(m.delete(k)).toBe(ref.delete(k));
      else if (op < 7) {
        // deleteIf with the value there, or with another one
        const v = rnd(2) === 0 ? (ref.get(k) ?? 5) : rnd(1 << 30);
        const there = ref.get(k) === v;
        expect(m.deleteIf(k, v)).toBe(there);
        if (there) ref.delete(k);
      } else if (op < 8) {
        expect(m.take(k)).toBe(ref.get(k) ?? -1);
        ref.delete(k);
      } else if (op < 9) {
        const e = m.entryOf(k);
        expect(e >= 0).toBe(ref.has(k));
        if (e >= 0) {
          expect(m.valueAt(e)).toBe(ref.get(k));
          m.deleteAt(e);
          ref.delete(k);
        }
      } else if (ref.size > 0) {
        const oldest = ref.keys().next().value as number;
        expect(m.oldestKey()).toBe(oldest);
        m.delete(oldest);
        ref.delete(oldest);
      }
      expect(m.size).toBe(ref.size);
      expect(m.get(k)).toBe(ref.get(k) ?? -1);
      expect(m.has(k)).toBe(ref.has(k));
      if (step % 5000 === 0) expect(entries(m)).toEqual([...ref]);
    }
    expect(entries(m)).toEqual([...ref]);
  });

  it('keeps the place of a key set again, moves a key deleted and set again to the end, and takes -0 as 0', () => {
    const m = new SectorMap();
    m.set(10, 1);
    m.set(20, 2);
    m.set(30, 3);
    m.set(10, 4);
    expect(entries(m)).toEqual([
      [10, 4],
      [20, 2],
      [30, 3],
    ]);
    m.delete(10);
    m.set(10, 5);
    expect(entries(m)).toEqual([
      [20, 2],
      [30, 3],
      [10, 5],
    ]);
    expect(m.oldestKey()).toBe(20);
    m.set(-0, 6);
    expect(m.get(0)).toBe(6);
    expect(Object.is(m.keyAt(m.end() - 1), 0)).toBe(true);
    m.clear();
    expect(m.size).toBe(0);
    expect(entries(m)).toEqual([]);
  });

  it('finds no NaN and refuses to store one', () => {
    const m = new SectorMap();
    expect(m.get(NaN)).toBe(-1);
    expect(m.has(NaN)).toBe(false);
    expect(() => m.set(NaN, 1)).toThrow(RangeError);
  });
});
