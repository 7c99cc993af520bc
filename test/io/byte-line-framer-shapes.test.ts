import { describe, expect, it } from 'vitest';
import { ByteLineFramer, MAX_LINE_BYTES } from '../../src/io/byte-line-framer.js';

/** Frame `chunks` and return the lines as text with their numbers, and the array types seen. */
function frame(chunks: (Uint8Array | Buffer)[]): { lines: string[]; types: Set<string> } {
  const lines: string[] = [];
  const types = new Set<string>();
  const f = new ByteLineFramer('x', (b, s, e, n) => {
    types.add(b.constructor.name);
    lines.push(`${n}:${Buffer.from(b.subarray(s, e)).toString('latin1')}`);
  });
  for (const c of chunks) f.push(c);
  f.finish();
  return { lines, types };
}
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('ByteLineFramer', () => {
  it('frames lines cut anywhere by chunks, drops CR before LF (also across a cut) and reports a last line without LF', () => {
    const text = 'a b\r\nccc\n\nd\r\n\re\r\nlast';
    const want = ['1:a b', '2:ccc', '3:', '4:d', '5:\re', '6:last'];
    for (let step = 1; step <= text.length; step++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < text.length; i += step) chunks.push(enc(text.slice(i, i + step)));
      expect(frame(chunks).lines, `chunks of ${step}`).toEqual(want);
    }
  });

  it('hands over plain Uint8Arrays for Buffer input and for lines spanning chunks', () => {
    const r = frame([Buffer.from('x\ny'), Buffer.from('z\n')]);
    expect(r.lines).toEqual(['1:x', '2:yz']);
    expect([...r.types]).toEqual(['Uint8Array']);
  });

  it('refuses a line longer than MAX_LINE_BYTES with an InputError at its offset', () => {
    const big = new Uint8Array(MAX_LINE_BYTES + 10).fill(65);
    expect(() => frame([enc('ok\n'), big.subarray(0, 1000), big.subarray(1000)])).toThrowError(
      /x:byte offset 3 \(0x3\) \(line\): not a text trace: line 2 is longer than/,
    );
  });
});
