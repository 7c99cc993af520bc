import { describe, expect, it } from 'vitest';
import { CHUNK_ROWS, Int64ColumnBuilder, NumberColumnBuilder, StringColumnBuilder } from '../../src/table/column-builders.js';
import { appendInt64, appendNumbers } from '../../src/table/column-fill.js';

/** Chunks of a builder as plain arrays (values, validity bytes, null counts). */
function dump(b: { finishChunks(): { values: ArrayLike<unknown>[]; validity: (Uint8Array | null)[]; nullCounts: number[] } }) {
  const c = b.finishChunks();
  return {
    values: c.values.map((v) => Array.from(v)),
    validity: c.validity.map((v) => (v ? Array.from(v) : null)),
    nullCounts: c.nullCounts,
  };
}

describe('column-fill', () => {
  const n = CHUNK_ROWS * 2 + 1234;

  it('appendNumbers gives the chunks pushing each value (or null) would, conversions included', () => {
    const src = new Float64Array(n);
    const nulls = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      src[i] = ((i * 7919) % 70000) - 1000;
      nulls[i] = i % 97 === 0 ? 1 : 0;
    }
    const pushed = new NumberColumnBuilder(Int16Array);
    for (let i = 0; i < n; i++)
      if (nulls[i]) pushed.pushNull();
      else pushed.push(src[i]!);
    const filled = new NumberColumnBuilder(Int16Array);
    for (let from = 0; from < n; from += CHUNK_ROWS) {
      const len = Math.min(CHUNK_ROWS, n - from);
      appendNumbers(filled, src, from, len, nulls.subarray(from, from + len));
    }
    expect(dump(filled)).toEqual(dump(pushed));
  });

  it('appendNumbers without nulls keeps validity null, for dictionary keys too', () => {
    const keys = new Int32Array(300).map((_, i) => i % 3);
    const pushed = new StringColumnBuilder('int8');
    const filled = new StringColumnBuilder('int8');
    for (const s of ['a', 'b', 'c']) {
      pushed.intern(s);
      filled.intern(s);
    }
    for (const k of keys) pushed.pushKey(k);
    appendNumbers(filled, keys, 0, keys.length);
    expect(dump(filled)).toEqual(dump(pushed));
  });

  it('appendInt64 writes times relative to a base exactly, as BigInt where the sum is past 2^53, and NaN as null', () => {
    const base = 2n ** 62n + 12345n; // not a safe integer: every value takes the exact BigInt sum
    const src = new Float64Array([0, 1, NaN, 2 ** 40 + 1, 2 ** 53 - 1]);
    const b = new Int64ColumnBuilder();
    appendInt64(b, src, 0, src.length, null, base);
    const c = b.finishChunks();
    expect(Array.from(c.values[0]!)).toEqual([base, base + 1n, 0n, base + 2n ** 40n + 1n, base + 2n ** 53n - 1n]);
    expect(c.nullCounts[0]).toBe(1);
    expect(c.validity[0]![0]).toBe(0b11011);
  });

  it('appendInt64 without a base gives what pushSafeInteger gives, nulls where asked', () => {
    const src = new Float64Array([5, -1, 2 ** 33 + 7, 2 ** 53 - 1, 0]);
    const nulls = new Uint8Array([0, 1, 0, 0, 0]);
    const pushed = new Int64ColumnBuilder();
    for (let i = 0; i < src.length; i++)
      if (nulls[i]) pushed.pushNull();
      else pushed.pushSafeInteger(src[i]!);
    const filled = new Int64ColumnBuilder();
    appendInt64(filled, src, 0, src.length, nulls);
    expect(dump(filled)).toEqual(dump(pushed));
  });
});
