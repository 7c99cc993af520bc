import { describe, expect, it } from 'vitest';
import { LineSplitter, forEachLineOfText } from '../../src/io/line-splitter.js';

function collect(feed: (s: LineSplitter) => void): [string, number][] {
  const out: [string, number][] = [];
  const s = new LineSplitter((t, a, b, n) => out.push([t.slice(a, b), n]));
  feed(s);
  s.finish();
  return out;
}

const sample = 'first\r\nsecond\n\nfourth é ü 漢\r\nlast without newline';
const expected: [string, number][] = [
  ['first', 1],
  ['second', 2],
  ['', 3],
  ['fourth é ü 漢', 4],
  ['last without newline', 5],
];

describe('LineSplitter', () => {
  it('frames lines from one string, dropping CR before LF', () => {
    expect(collect((s) => s.pushText(sample))).toEqual(expected);
  });

  it('gives the same lines for every byte stride, down to 1 byte (split CRLF and split UTF-8)', () => {
    const bytes = new TextEncoder().encode(sample);
    for (const stride of [1, 2, 3, 5, 7, 64]) {
      const got = collect((s) => {
        for (let i = 0; i < bytes.length; i += stride) s.pushBytes(bytes.subarray(i, i + stride));
      });
      expect(got, `stride ${stride}`).toEqual(expected);
    }
  });

  it('counts lines in text helpers', () => {
    expect(forEachLineOfText('a\nb\n', () => {})).toBe(2);
    expect(forEachLineOfText('', () => {})).toBe(0);
  });
});

describe('LineSplitter bounds', () => {
  it('refuses a line longer than MAX_LINE_BYTES characters with an InputError naming the file', () => {
    const s = new LineSplitter(() => {}, 'junk.bin');
    const chunk = new Uint8Array(1 << 16).fill(0x41);
    expect(() => {
      for (let i = 0; i < 20; i++) s.pushBytes(chunk);
    }).toThrow(/junk\.bin:line 1: not a text log: line 1 is longer than 1048576 characters/);
  });
});
