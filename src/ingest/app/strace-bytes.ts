/**
 * Values inside the tokens of a strace line, read from its bytes: decimal numbers, constants as
 * -X raw prints them, symbolic flag names ("O_RDWR|O_APPEND", strace(1) "-X"), -y decorations,
 * and the text of a token. Token boundaries are ASCII, so decoding a token's bytes gives the same
 * text as decoding the whole line and cutting it there.
 */
import { Buffer } from 'node:buffer';

/** Decimal digits always below 2^53 (larger values are read as a BigInt). */
export const SAFE_DIGITS = 15;
const NULL = Number.NaN;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Lines are decoded one at a time: a byte order mark inside the log is text, not stripped. */
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
/** Buffer's latin1 decoder, which takes any Uint8Array as `this` (not in the Node typings). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/**
 * The text of b[s, e): one-byte (latin1) when all ASCII, else UTF-8 (invalid sequences become
 * U+FFFD). The string is flat and its own: it keeps no input chunk alive.
 */
export function decodeBytes(b: Uint8Array, s: number, e: number): string {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return utf8.decode(b.subarray(s, e));
  return latin1Slice.call(b, s, e);
}

/** Whether b[s, ...) starts with the characters of `word` (ASCII), within `end`. */
export function bytesEqual(b: Uint8Array, s: number, word: string, end = b.length): boolean {
  const n = word.length;
  if (s + n > end) return false;
  for (let k = 0; k < n; k++) if (b[s + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** Index of `word` (ASCII) in b[s, e), or -1. */
export function findBytes(b: Uint8Array, word: string, s: number, e: number): number {
  const first = word.charCodeAt(0);
  const last = e - word.length;
  for (let i = s; i <= last; i++) if (b[i] === first && bytesEqual(b, i, word, e)) return i;
  return -1;
}

/**
 * A signed decimal token b[s, e) of the fast path (optional '-', digits up to the first
 * non-digit); NaN when it has no digit, and Infinity when it has more digits than are always
 * exact (the general path then makes a BigInt).
 */
export function decimalBytes(b: Uint8Array, s: number, e: number): number {
  let neg = false;
  if (b[s] === 45) {
    neg = true;
    s++;
  }
  let v = 0;
  let i = s;
  for (; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (i === s) return NULL;
  if (i - s > SAFE_DIGITS) return Number.POSITIVE_INFINITY;
  return neg ? -v : v;
}

/** Signed decimal in b[s, e) (stops at a non-digit); a bigint beyond 2^53; 0 for a 0x pointer; NaN if none. */
export function intAt(b: Uint8Array, s: number, e: number): number | bigint {
  let neg = false;
  if (s < e && b[s] === 45) {
    neg = true;
    s++;
  }
  let v = 0;
  let i = s;
  for (; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (i === s) {
    if (s + 1 < e && b[s] === 48 && b[s + 1] === 120) return 0; // 0x... pointer
    return NULL;
  }
  if (v > MAX_SAFE) {
    const n = BigInt(decodeBytes(b, s, i));
    const signed = neg ? -n : n;
    // the values read here (loff_t offsets, ssize_t results, sizes) are signed 64-bit in the kernel:
    // a longer number is a damaged line, and the value is unknown rather than wrapped into int64
    return signed < INT64_MIN || signed > INT64_MAX ? NULL : signed;
  }
  return neg ? -v : v;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** A number as -X raw prints constants: "0x1f" hex, "0644" octal, "12" decimal; NaN otherwise. */
export function rawNumber(b: Uint8Array, s: number, e: number): number {
  const c0 = s < e ? b[s]! : 0;
  if (c0 < 48 || c0 > 57) return NULL;
  let j = s;
  if (c0 === 48 && s + 1 < e && b[s + 1] === 120) {
    j = s + 2;
    while (j < e && isHexDigit(b[j]!)) j++;
    return j > s + 2 ? parseInt(decodeBytes(b, s + 2, j), 16) : NULL;
  }
  while (j < e && b[j]! >= 48 && b[j]! <= 57) j++;
  return c0 === 48 && j > s + 1 ? parseInt(decodeBytes(b, s, j), 8) : parseInt(decodeBytes(b, s, j), 10);
}

function isFlagNameChar(x: number): boolean {
  return (x >= 65 && x <= 90) || (x >= 48 && x <= 57) || x === 95 || (x >= 97 && x <= 122);
}

/** True when `word` occurs in b[s, e) as a whole flag name (O_DIRECT but not O_DIRECTORY). */
export function hasFlag(b: Uint8Array, s: number, e: number, word: string): boolean {
  let k = findBytes(b, word, s, e);
  while (k >= 0) {
    // the byte at e ends the token (a delimiter, never a name character)
    const after = k + word.length < e ? b[k + word.length]! : 0;
    const before = k > 0 ? b[k - 1]! : 0;
    if (!isFlagNameChar(after) && !isFlagNameChar(before)) return true;
    k = findBytes(b, word, k + 1, e);
  }
  return false;
}

/**
 * Find the -y decoration of an fd token such as `3</mnt/data/f1>` or `3</dev/loop4<block 7:4>>`
 * (-yy) or `4</x/f>(deleted)`: returns the raw inner range [s, e) of the outer "<...>" without a
 * -yy "<block ...>"/"<char ...>" suffix, or s = -1 when the token has no decoration.
 */
export function decorationRange(b: Uint8Array, start: number, end: number, out: Int32Array): void {
  out[0] = -1;
  out[1] = -1;
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c === 60) break;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || c === 45)) return;
    i++;
  }
  if (i >= end) return;
  const s = i + 1;
  // the decoration ends at the '>' that balances the first '<'
  let depth = 0;
  let j = i;
  let inner = -1;
  while (j < end) {
    const c = b[j]!;
    if (c === 60) {
      depth++;
      if (depth === 2 && inner < 0) inner = j;
    } else if (c === 62) {
      depth--;
      if (depth === 0) break;
    } else if (c === 91) {
      let close = j + 1;
      while (close < end && b[close] !== 93) close++;
      if (close >= end) return;
      j = close;
    } else if (c === 92) j++;
    j++;
  }
  if (j >= end) return;
  out[0] = s;
  out[1] = inner >= 0 ? inner : j;
}
