/**
 * Decoding of strace's quoted strings and -y path decorations. strace prints bytes C-style
 * (strace(1) "-x", print_quoted_string in strace's util.c): printable ASCII as is, "\t \n \v \f
 * \r \\ \"", other bytes as octal escapes of 1-3 digits (3 when a digit follows), or "\xHH" with
 * -x/-xx; inside a -y decoration "<" and ">" are escaped as "\74" and "\76". The bytes are then
 * read as UTF-8.
 */

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Whether `word` occurs in `text` at index i (i >= 0). A loop of charCodeAt: for the short words
 * and paths compared per line it is several times cheaper than String.prototype.startsWith.
 */
export function matchAt(text: string, i: number, word: string): boolean {
  const n = word.length;
  if (i + n > text.length) return false;
  for (let k = 0; k < n; k++) if (text.charCodeAt(i + k) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Index of `word` in text[s, e), or -1. Lines are ranges of a large chunk string: an unbounded
 * indexOf would scan the rest of the chunk for every miss.
 */
export function findIn(text: string, word: string, s: number, e: number): number {
  const first = word.charCodeAt(0);
  const last = e - word.length;
  for (let i = s; i <= last; i++) {
    if (text.charCodeAt(i) === first && matchAt(text, i, word)) return i;
  }
  return -1;
}

/** Decode the C-escaped text in [start, end) (without quotes) to a string. */
export function decodeCEscapes(text: string, start: number, end: number): string {
  const bs = findIn(text, '\\', start, end);
  if (bs < 0) return text.slice(start, end);
  const bytes: number[] = [];
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 92) {
      if (c < 0x80) bytes.push(c);
      else for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
      continue;
    }
    const d = text.charCodeAt(++i);
    if (d >= 48 && d <= 55) { // octal, up to 3 digits
      let v = d - 48; let n = 1;
      while (n < 3 && i + 1 < end) {
        const e = text.charCodeAt(i + 1);
        if (e < 48 || e > 55) break;
        v = v * 8 + (e - 48); i++; n++;
      }
      bytes.push(v & 0xff);
    } else if (d === 120) { // \xHH
      const h = text.slice(i + 1, i + 3);
      const v = parseInt(h, 16);
      if (h.length === 2 && !Number.isNaN(v)) { bytes.push(v); i += 2; } else bytes.push(120);
    } else {
      switch (d) {
        case 110: bytes.push(10); break; // \n
        case 116: bytes.push(9); break; // \t
        case 114: bytes.push(13); break; // \r
        case 118: bytes.push(11); break; // \v
        case 102: bytes.push(12); break; // \f
        case 97: bytes.push(7); break; // \a
        case 98: bytes.push(8); break; // \b
        default: if (!Number.isNaN(d)) bytes.push(d); // \\ \" \' \?
      }
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

/**
 * Find the -y decoration of an fd token such as `3</mnt/data/f1>` or `3</dev/loop4<block 7:4>>`
 * (-yy) or `4</x/f>(deleted)`: returns the raw inner range [s, e) of the outer "<...>" without a
 * -yy "<block ...>"/"<char ...>" suffix, or s = -1 when the token has no decoration.
 */
export function decorationRange(text: string, start: number, end: number, out: Int32Array): void {
  out[0] = -1; out[1] = -1;
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 60) break;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || c === 45)) return;
    i++;
  }
  if (i >= end) return;
  const s = i + 1;
  // the decoration ends at the '>' that balances the first '<'
  let depth = 0; let j = i; let inner = -1;
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c === 60) { depth++; if (depth === 2 && inner < 0) inner = j; } else if (c === 62) { depth--; if (depth === 0) break; } else if (c === 91) {
      const close = findIn(text, ']', j + 1, end);
      if (close < 0) return;
      j = close;
    } else if (c === 92) j++;
    j++;
  }
  if (j >= end) return;
  out[0] = s;
  out[1] = inner >= 0 ? inner : j;
}
