/**
 * 64-bit values (sectors, byte offsets, nanosecond timestamps, inode numbers) are carried as
 * bigint or in BigInt64Array columns. Conversion to a JS number is allowed only when exact.
 */

import { UsageError } from './errors.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);

/** Convert a bigint to a number, throwing a RangeError when it is not exactly representable. */
export function toSafeNumber(value: bigint, what = 'value'): number {
  if (value > MAX || value < MIN) {
    throw new RangeError(`${what} ${value} exceeds Number.MAX_SAFE_INTEGER; use the bigint value`);
  }
  return Number(value);
}

/** Check that a number is a safe integer (no silent rounding happened before it reached us). */
export function assertSafeInteger(value: number, what = 'value'): number {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} ${value} is not a safe integer`);
  }
  return value;
}

/**
 * Parse an unsigned decimal integer from text[start, end) as a bigint-exact value.
 * Returns a number when the value is at most 2^53-1, else a bigint. Returns -1 when a
 * character is not a digit or the range is empty.
 */
export function parseUnsignedDecimal(text: string, start: number, end: number): number | bigint {
  if (end <= start) return -1;
  if (end - start <= 15) {
    let v = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return -1;
      v = v * 10 + c;
    }
    return v;
  }
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
  }
  const b = BigInt(text.slice(start, end));
  return b <= MAX ? Number(b) : b;
}

/** Parse a size such as "128M", "1G", "4096", "64k" (binary multiples) into bytes. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a size (a number with an optional K, M, G or T suffix, e.g. 512M, 1G)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const v = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what}: size out of range: "${text}"`);
  return v;
}

/** Format a byte count for humans, e.g. "1.5 MiB". */
export function formatBytes(bytes: number | bigint): string {
  let v = Number(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}
