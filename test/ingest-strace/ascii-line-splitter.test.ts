/** AsciiLineSplitter frames the same lines as io/LineSplitter, whatever the chunk boundaries. */
import { describe, expect, it } from 'vitest';
import { AsciiLineSplitter } from '../../src/ingest/app/ascii-line-splitter.js';
import { LineSplitter } from '../../src/io/line-splitter.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';


function frame(make: (onLine: (t: string, s: number, e: number, n: number) => void) => { pushBytes(b: Uint8Array): void; finish(): void }, bytes: Uint8Array, cuts: number[]): string[] {
  const out: string[] = [];
  const s = make((t, a, b, n) => out.push(`${n}:${t.slice(a, b)}`));
  let p = 0;
  for (const c of [...cuts, bytes.length]) { s.pushBytes(bytes.subarray(p, c)); p = c; }
  s.finish();
  return out;
}

describe('AsciiLineSplitter', () => {
  it('matches LineSplitter on ASCII and UTF-8 text (paths with é, 日本, 🙂) cut at every kind of place', () => {
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
        const want = frame((f) => new LineSplitter(f), bytes, cuts);
        const got = frame((f) => new AsciiLineSplitter(f), bytes, cuts);
        expect(got).toEqual(want);
      }
    }
  });

  it('an invalid UTF-8 byte becomes U+FFFD as with TextDecoder', () => {
    const bytes = Uint8Array.from([...new TextEncoder().encode('a\nb'), 0xc3, 0x0a, 0xe2, 0x82, ...new TextEncoder().encode('\nc\n')]);
    for (let c = 0; c <= bytes.length; c++) {
      expect(frame((f) => new AsciiLineSplitter(f), bytes, [c])).toEqual(frame((f) => new LineSplitter(f), bytes, [c]));
    }
  });
});
