/**
 * Decoding of strace's quoted strings and -y path decorations (the decoration's text, found by
 * decorationRange in strace-bytes.ts). strace prints bytes C-style
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
    if (d >= 48 && d <= 55) {
      // octal, up to 3 digits
      let v = d - 48;
      let n = 1;
      while (n < 3 && i + 1 < end) {
        const e = text.charCodeAt(i + 1);
        if (e < 48 || e > 55) break;
        v = v * 8 + (e - 48);
        i++;
        n++;
      }
      bytes.push(v & 0xff);
    } else if (d === 120) {
      // \xHH
      const h = text.slice(i + 1, i + 3);
      const v = parseInt(h, 16);
      if (h.length === 2 && !Number.isNaN(v)) {
        bytes.push(v);
        i += 2;
      } else bytes.push(120);
    } else {
      switch (d) {
        case 110:
          bytes.push(10);
          break; // \n
        case 116:
          bytes.push(9);
          break; // \t
        case 114:
          bytes.push(13);
          break; // \r
        case 118:
          bytes.push(11);
          break; // \v
        case 102:
          bytes.push(12);
          break; // \f
        case 97:
          bytes.push(7);
          break; // \a
        case 98:
          bytes.push(8);
          break; // \b
        default:
          if (!Number.isNaN(d)) bytes.push(d); // \\ \" \' \?
      }
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}
