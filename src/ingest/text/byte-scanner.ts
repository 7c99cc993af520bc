/**
 * The byte scanner shared by the text readers that parse lines as bytes (tracefs, trace-cmd
 * report, blkparse): decimal fields, single-byte expectations and searches on a line held in a
 * Uint8Array. A string input is encoded once at the edge (line-driver.ts), so one scanner serves
 * files and in-memory text alike.
 *
 * A field reader returns its value and leaves what else it found in the scanner's fields (`p`,
 * `decEnd`, `big`): one scanner per reader instance, so a line is parsed without allocating and
 * two readers never share a cursor.
 */

/** Returned by readDec for a number of 16+ digits past 2^53 - 1 (the value is in `big`). */
export const BIG_VALUE = -2;

/** The largest safe integer as a bigint. */
const MAX_SAFE = 9007199254740991n;

export class ByteScanner {
  /** Cursor of the readers that work at a position (readDec, readSigned, expect, skipSpaces). */
  p = 0;
  /** End of the number read by decAt. */
  decEnd = 0;
  /** The value of the last readDec that returned BIG_VALUE. */
  big = 0n;

  skipSpaces(t: Uint8Array, e: number): void {
    let p = this.p;
    while (p < e && t[p]! === 32) p++;
    this.p = p;
  }

  /** True and past it when the byte at p is `c`. */
  expect(t: Uint8Array, c: number): boolean {
    if (t[this.p]! === c) {
      this.p++;
      return true;
    }
    return false;
  }

  /** Unsigned decimal at p: the value, -1 when no digit, BIG_VALUE past 2^53 - 1 (see `big`). */
  readDec(t: Uint8Array, e: number): number {
    const s = this.p;
    let p = s;
    let v = 0;
    while (p < e) {
      const c = t[p]! - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      p++;
    }
    this.p = p;
    if (p === s) return -1;
    if (p - s > 15) {
      const big = BigInt(latin1(t, s, p));
      this.big = big;
      return big <= MAX_SAFE ? Number(big) : BIG_VALUE;
    }
    return v;
  }

  /** Signed decimal at p (an errno): the value, or NaN when there is none. */
  readSigned(t: Uint8Array, e: number): number {
    let neg = false;
    if (this.p < e && t[this.p]! === 45) {
      neg = true;
      this.p++;
    }
    const v = this.readDec(t, e);
    if (v < 0) return NaN;
    return neg ? -v : v;
  }

  /**
   * Unsigned decimal of 1..15 digits at `at` (not the cursor): the value with `decEnd` after its
   * last digit, or -1 (no digit, or more than 15).
   */
  decAt(t: Uint8Array, at: number, e: number): number {
    let v = 0;
    let q = at;
    while (q < e) {
      const c = t[q]! - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      q++;
    }
    this.decEnd = q;
    return q === at || q - at > 15 ? -1 : v;
  }
}

/** The first byte `b` in t[from, e), or -1. */
export function findByte(t: Uint8Array, b: number, from: number, e: number): number {
  for (let i = from; i < e; i++) if (t[i] === b) return i;
  return -1;
}

/** The last byte `b` in t[stop, from], or -1. */
export function findByteBack(t: Uint8Array, b: number, from: number, stop: number): number {
  for (let i = from; i >= stop; i--) if (t[i] === b) return i;
  return -1;
}

/** The first ": " in t[from, e), or -1 (a bounded scan: a line without one costs its length only). */
export function colonSpace(t: Uint8Array, from: number, e: number): number {
  for (let c = from; c + 1 < e; c++) if (t[c] === 58 && t[c + 1] === 32) return c;
  return -1;
}

/** True for the ASCII digits 0-9. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** 10^k, k = 0..9 (scales a fraction of 1..9 digits to nanoseconds). */
export const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** Text of a byte range (for messages and examples, off the hot path). */
export function textOf(t: Uint8Array, s: number, e: number): string {
  return utf8.decode(t.subarray(s, e));
}

/** ASCII digits of a byte range as a string (for BigInt). */
export function latin1(t: Uint8Array, s: number, e: number): string {
  return String.fromCharCode(...t.subarray(s, e));
}

/** Unsigned decimal t[s, e) of up to 20 digits as a bigint when it fits 64 bits, else -1. */
export function u64Digits(t: Uint8Array, s: number, e: number): bigint | -1 {
  if (e - s > 20) return -1;
  const b = BigInt(latin1(t, s, e));
  return b > 0xffffffffffffffffn ? -1 : b;
}
