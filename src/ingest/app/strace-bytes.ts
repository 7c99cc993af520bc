/**
 * Byte-level tokenizer for the line shapes that make up almost all of an I/O trace (strace(1),
 * "Output format"; the anatomy is in strace-line.ts):
 *
 *   [PID ][TIMESTAMP ]NAME(ARGS) = RET[ <DURATION>]
 *   [PID ][TIMESTAMP ]NAME(ARGS <unfinished ...>
 *   [PID ][TIMESTAMP ]<... NAME resumed>ARGS) = RET[ <DURATION>]
 *
 * It reads the raw bytes of the input, so no string is made per line. Every structural character
 * is ASCII and UTF-8 never uses ASCII bytes inside a multi-byte sequence, so byte positions
 * delimit the same tokens as character positions in the decoded text. For the lines it accepts it
 * yields the same values as tokenizeStraceLine and parseCallFast (strace-line.ts) on the decoded
 * line; anything else (another shape, an errno, a number beyond 2^53, -yy nesting) is refused, and
 * the caller hands the line to the text tokenizer.
 */
import { Buffer } from 'node:buffer';
import { isDigit, isNameChar, LinePrefix, LineTokens, parseLinePrefix } from './strace-line.js';
import { FNV_OFFSET, FNV_PRIME } from './strace-syscalls.js';

/** What tokenizeStraceBytes found. */
export const ByteKind = {
  /** Not one of the shapes above, or a detail this tokenizer leaves to the text tokenizer. */
  Other: 0,
  Call: 1,
  Unfinished: 2,
  Resumed: 3,
} as const;
export type ByteKind = (typeof ByteKind)[keyof typeof ByteKind];

/** Decimal digits always below 2^53 (larger values take the text path, which makes BigInts). */
const SAFE_DIGITS = 15;
/** " <unfinished ...>" */
const UNFINISHED = [32, 60, 117, 110, 102, 105, 110, 105, 115, 104, 101, 100, 32, 46, 46, 46, 62];
/** " resumed>" */
const RESUMED = [32, 114, 101, 115, 117, 109, 101, 100, 62];

/** The pid column and timestamp of the line being tokenized (parseLinePrefix). */
const prefix = new LinePrefix();

/** The tokens of one line, as positions into the bytes. Reused from line to line. */
export class ByteLine extends LineTokens {
  kind: ByteKind = ByteKind.Other;
  /** FNV-1a of the name (nameHash in strace-syscalls.ts). */
  nameHash = 0;
  /** Set by parseCallBytes with the argument ranges and durNs: the return value. */
  ret = 0;
  /** Index of the '<' of the fd's -y decoration in argument 0; -1 when none. */
  decoAt = -1;
}

function matchBytes(b: Uint8Array, i: number, word: readonly number[]): boolean {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

/**
 * Parse the prefix (pid, timestamp) and classify the line; fills `out`. Returns Other for every
 * line the text tokenizer would call Malformed, Blank, Signal or Exit, and for prefixes it does
 * not know.
 */
export function tokenizeStraceBytes(b: Uint8Array, start: number, end: number, out: ByteLine): ByteKind {
  const P = prefix;
  let i = parseLinePrefix(b, start, end, P);
  out.tid = P.tid; out.timeFormat = P.timeFormat; out.tsSec = P.tsSec; out.tsFrac = P.tsFrac;
  if (i < 0) return (out.kind = ByteKind.Other);
  let c: number;
  if (i >= end) return (out.kind = ByteKind.Other);
  c = b[i]!;
  if (c === 60) {
    // "<... NAME resumed>"
    if (b[i + 1] !== 46 || b[i + 2] !== 46 || b[i + 3] !== 46 || b[i + 4] !== 32) return (out.kind = ByteKind.Other);
    const ns = i + 5;
    let j = ns;
    let h = FNV_OFFSET;
    while (j < end && isNameChar(c = b[j]!)) { h = Math.imul(h ^ c, FNV_PRIME); j++; }
    if (j === ns || j + RESUMED.length > end || !matchBytes(b, j, RESUMED)) return (out.kind = ByteKind.Other);
    out.nameStart = ns; out.nameEnd = j;
    out.nameHash = h >>> 0;
    out.bodyStart = j + RESUMED.length;
    out.bodyEnd = end;
    // "<... NAME resumed> <unfinished ...>) = ?": the task died inside the call (text path)
    if (out.bodyStart + UNFINISHED.length <= end && matchBytes(b, out.bodyStart, UNFINISHED)) return (out.kind = ByteKind.Other);
    return (out.kind = ByteKind.Resumed);
  }
  const ns = i;
  let h = FNV_OFFSET;
  while (i < end && isNameChar(c = b[i]!)) { h = Math.imul(h ^ c, FNV_PRIME); i++; }
  if (i === ns || c !== 40 || i >= end) return (out.kind = ByteKind.Other);
  out.nameStart = ns; out.nameEnd = i;
  out.nameHash = h >>> 0;
  out.bodyStart = i + 1;
  if (end - UNFINISHED.length >= out.bodyStart && b[end - 1] === 62 && b[end - 2] === 46 && matchBytes(b, end - UNFINISHED.length, UNFINISHED)) {
    out.bodyEnd = end - UNFINISHED.length;
    return (out.kind = ByteKind.Unfinished);
  }
  out.bodyEnd = end;
  return (out.kind = ByteKind.Call);
}


/**
 * parseCallFast (strace-line.ts) on bytes, for `NAME(FD[<path>], [MIDDLE, ]A1, ..., Ak) = RET[
 * <DURATION>]` whose last k arguments are plain tokens: the fd from the left, the rest from the
 * right, the data string in the middle never scanned. Stricter than parseCallFast: RET must be a
 * plain decimal below 2^53 (no errno, no "?"), the fd a plain decimal, and its -y decoration, if
 * any, a plain absolute path; otherwise false (use the text path). Fills argStart/argEnd with the
 * same indexes, `ret`, `durNs` and `decoAt`.
 */
export function parseCallBytes(out: ByteLine, b: Uint8Array, bodyStart: number, end: number, k: number, middle: boolean): boolean {
  // " <SECONDS.frac>" (-T)
  let e = end;
  out.durNs = -1;
  if (b[e - 1] === 62) {
    let j = e - 2; let dot = -1;
    while (j > bodyStart) {
      const c = b[j]!;
      if (c === 46) { if (dot >= 0) return false; dot = j; } else if (!isDigit(c)) break;
      j--;
    }
    if (dot < 0 || b[j] !== 60 || b[j - 1] !== 32) return false;
    let sec = 0;
    for (let q = j + 1; q < dot; q++) sec = sec * 10 + (b[q]! - 48);
    let f = 0; let n = 0;
    for (let q = dot + 1; q < e - 1 && n < 9; q++, n++) f = f * 10 + (b[q]! - 48);
    for (; n < 9; n++) f *= 10;
    out.durNs = sec * 1e9 + f;
    e = j - 1;
  }
  // ") = RET": the last ") = " (the return part after it holds none), then digits to the end
  let close = e - 4;
  while (close >= bodyStart && !(b[close] === 41 && b[close + 1] === 32 && b[close + 2] === 61 && b[close + 3] === 32)) close--;
  if (close < bodyStart) return false;
  const rs = close + 4;
  if (e - rs < 1 || e - rs > SAFE_DIGITS) return false;
  let ret = 0;
  for (let i = rs; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return false;
    ret = ret * 10 + c;
  }
  out.ret = ret;
  // fd (with its -y decoration) from the left
  const as = out.argStart; const ae = out.argEnd;
  let p = bodyStart;
  while (p < close && isDigit(b[p]!)) p++;
  if (p === bodyStart || p - bodyStart > 9) return false;
  out.decoAt = -1;
  if (b[p] === 60) {
    // a plain -y path ends at the first '>' (paths escape '>' as \76), followed by ", "
    if (b[p + 1] !== 47) return false;
    out.decoAt = p;
    let gt = p + 2;
    while (gt < close && b[gt] !== 62) gt++;
    if (gt >= close || b[gt + 1] !== 44 || b[gt + 2] !== 32) return false;
    p = gt + 1;
  }
  as[0] = bodyStart; ae[0] = p;
  if (b[p] !== 44 || b[p + 1] !== 32) return false;
  const restStart = p + 2;
  // the last k arguments from the right
  let q = close;
  const first = middle ? 2 : 1;
  for (let a = first + k - 1; a >= first; a--) {
    const te = q;
    while (q > restStart) {
      const c = b[q - 1]!;
      if (c === 32 || c === 44 || c === 34 || c === 93 || c === 125 || c === 41) break;
      q--;
    }
    if (q === te) return false;
    as[a] = q; ae[a] = te;
    if (a > first || middle) {
      if (b[q - 1] !== 32 || b[q - 2] !== 44) return false;
      q -= 2;
    } else if (q !== restStart) return false;
  }
  if (middle) {
    if (q < restStart) return false;
    as[1] = restStart; ae[1] = q;
  }
  out.argc = first + k;
  return true;
}

/**
 * A signed decimal token b[s, e) as Parser.int reads it (optional '-', digits up to the first
 * non-digit), for tokens parseCallBytes delimited; NaN when it has no digit (as there), and
 * Infinity when it has more digits than are always exact (the text path then makes a BigInt).
 */
export function decimalBytes(b: Uint8Array, s: number, e: number): number {
  let neg = false;
  if (b[s] === 45) { neg = true; s++; }
  let v = 0; let i = s;
  for (; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (i === s) return Number.NaN;
  if (i - s > SAFE_DIGITS) return Number.POSITIVE_INFINITY;
  return neg ? -v : v;
}

/** Whether b[s, e) equals the characters of `str`. */
export function bytesEqual(b: Uint8Array, s: number, str: string): boolean {
  const n = str.length;
  if (s + n > b.length) return false;
  for (let k = 0; k < n; k++) if (b[s + k] !== str.charCodeAt(k)) return false;
  return true;
}

/** Lines are decoded one at a time: a byte order mark inside the log is text, not stripped. */
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
/** Buffer's latin1 decoder, which takes any Uint8Array as `this` (not in the Node typings). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/**
 * The text of b[s, e): one-byte (latin1) when all ASCII, else UTF-8 (invalid sequences become
 * U+FFFD, as the text line splitter decodes them).
 */
export function decodeBytes(b: Uint8Array, s: number, e: number): string {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return utf8.decode(b.subarray(s, e));
  return latin1Slice.call(b, s, e);
}
