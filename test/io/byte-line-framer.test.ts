import { describe, expect, it } from 'vitest';
import { ByteLineFramer, MAX_LINE_BYTES } from '../../src/io/byte-line-framer.js';
import { InputError } from '../../src/util/errors.js';

function frame(chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  const f = new ByteLineFramer('x', (b, s, e, n) => out.push(`${n}:${new TextDecoder().decode(b.subarray(s, e))}`));
  for (const c of chunks) f.push(c);
  f.finish();
  return out;
}
const enc = (s: string) => new TextEncoder().encode(s);

describe('ByteLineFramer', () => {
  it('gives the same lines whatever the chunking (CRLF dropped, last line without terminator kept)', () => {
    const text = 'alpha\r\nbeta\n\ngamma-δ\r\nlast';
    const expected = ['1:alpha', '2:beta', '3:', '4:gamma-δ', '5:last'];
    const bytes = enc(text);
    for (let size = 1; size <= bytes.length; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(frame(chunks), `chunks of ${size}`).toEqual(expected);
    }
  });

  it('stops a line longer than MAX_LINE_BYTES with an InputError at its offset', () => {
    const big = new Uint8Array(MAX_LINE_BYTES + 10).fill(65);
    expect(() => frame([enc('ok\n'), big.subarray(0, 1000), big.subarray(1000)])).toThrowError(InputError);
    expect(() => frame([enc('ok\n'), big])).toThrowError(/x:byte offset 3 \(0x3\) \(line\): not a text trace: line 2 is longer than/);
  });
});
