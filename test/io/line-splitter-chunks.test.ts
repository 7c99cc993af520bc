/**
 * LineSplitter frames the same lines whatever the chunk boundaries, for ASCII chunks (latin1 fast
 * path) and UTF-8 ones (TextDecoder), as a plain split of the whole decoded text does.
 */
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/io/line-splitter.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';

function frame(
  make: (onLine: (t: string, s: number, e: number, n: number) => void) => { pushBytes(b: Uint8Array): void; finish(): void },
  bytes: Uint8Array,
  cuts: number[],
): string[] {
  const out: string[] = [];
  const s = make((t, a, b, n) => out.push(`${n}:${t.slice(a, b)}`));
  let p = 0;
  for (const c of [...cuts, bytes.length]) {
    s.pushBytes(bytes.subarray(p, c));
    p = c;
  }
  s.finish();
  return out;
}

/** The reference: decode everything at once, split at LF, drop CR before LF, no empty last line. */
function reference(bytes: Uint8Array): string[] {
  const text = new TextDecoder('utf-8').decode(bytes);
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((l, i) => `${i + 1}:${l.endsWith('\r') ? l.slice(0, -1) : l}`);
}

describe('LineSplitter over chunks', () => {
  it('frames ASCII and UTF-8 text (paths with é, 日本, 🙂) cut at every kind of place like a whole-text split', () => {
    const lines = [
      '41000 1795697843.000043 openat(AT_FDCWD</mnt/data>, "/mnt/données/日本.dat", O_RDONLY) = 5</mnt/données/日本.dat> <0.000173>',
      '41000 1795697843.000044 pread64(5</mnt/données/日本.dat>, "\\233[\\234"..., 4096, 0) = 4096 <0.000008>',
      '41000 1795697843.000045 write(1</dev/pts/0>, "🙂\\n", 5) = 5\r',
      '',
      'x\r',
      '41000 1795697843.000046 close(5</mnt/data/f>) = 0',
    ];
    const r = rng(7);
    for (const tail of ['', '\n', '\r\n', 'last line without newline é']) {
      const text = lines.join('\n') + '\n' + tail;
      const bytes = new TextEncoder().encode(text);
      for (let round = 0; round < 200; round++) {
        const cuts: number[] = [];
        const n = Math.floor(r() * 6);
        for (let k = 0; k < n; k++) cuts.push(Math.floor(r() * bytes.length));
        cuts.sort((a, b) => a - b);
        expect(frame((f) => new LineSplitter(f), bytes, cuts)).toEqual(reference(bytes));
      }
    }
  });

  it('an invalid UTF-8 byte becomes U+FFFD as with TextDecoder', () => {
    const bytes = Uint8Array.from([...new TextEncoder().encode('a\nb'), 0xc3, 0x0a, 0xe2, 0x82, ...new TextEncoder().encode('\nc\n')]);
    for (let c = 0; c <= bytes.length; c++) {
      expect(frame((f) => new LineSplitter(f), bytes, [c])).toEqual(reference(bytes));
    }
  });
});
