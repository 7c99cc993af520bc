/**
 * Input bytes and text quoted in messages, made safe for a terminal: control characters (ESC
 * sequences, NUL, CR, the C1 range) are written as \xNN, and bytes that are mostly not text are
 * shown as hex instead of a wall of replacement characters.
 */

/** `text` with every control character but the tab written as \xNN (\u{NNNN} above 0xff). */
export function printable(text: string): string {
  // C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what is shown
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The start of some input bytes for a message: its first line, quoted and printable, at most
 * `maxChars` characters; or, when more than a tenth of the first bytes are neither printable
 * ASCII, whitespace nor part of UTF-8 text, the first 16 bytes in hex, marked as binary.
 */
export function excerptOfBytes(bytes: Uint8Array, maxChars = 80): string {
  const head = bytes.subarray(0, 256);
  const text = utf8.decode(head);
  let odd = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd || (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f)) odd++;
  }
  if (odd * 10 > text.length) {
    const hex = [...bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return `bytes ${hex}${bytes.length > 16 ? ' …' : ''} (binary, not text)`;
  }
  const line = text.split('\n')[0]!.replace(/\r$/, '');
  const cut = [...line].length > maxChars ? [...line].slice(0, maxChars).join('') + '…' : line;
  return `"${printable(cut)}"`;
}
