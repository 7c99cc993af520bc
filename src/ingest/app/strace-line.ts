/**
 * Tokenizer of one strace output line (strace 4.x-6.x, `strace -f [-tt|-ttt] [-T] [-y|-yy]`).
 * It reports positions into the line text, never substrings, into one reusable StraceLine: no
 * object is made per line. Line anatomy (strace(1), "Output format"):
 *
 *   [PID ][TIMESTAMP ]NAME(ARG, ARG, ...) = RET[ ERRNO (TEXT)][ <DURATION>]
 *   [PID ][TIMESTAMP ]NAME(ARG, ... <unfinished ...>
 *   [PID ][TIMESTAMP ]<... NAME resumed>ARG, ...) = RET ...
 *   [PID ][TIMESTAMP ]--- SIGNAME {siginfo} ---
 *   [PID ][TIMESTAMP ]+++ exited with N +++   |   +++ killed by SIGNAME +++
 *
 * PID is "123 " (-f with -o) or "[pid  123] " (-f to stderr). TIMESTAMP is "HH:MM:SS[.frac]"
 * (-t/-tt, local time of day) or "SECONDS.frac" (-ttt, Unix epoch); frac has 6 digits, or 9 with
 * --timestamps=...,ns. DURATION is "<SECONDS.frac>" (-T). File descriptors may carry the -y
 * decoration "N<path>" (nested "<...>" and "[...]" with -yy); paths escape "<" and ">" in octal.
 */

/** What a line is. */
export const LineKind = {
  /** A complete system call. */
  Call: 0,
  /** The first part of a split call: `... <unfinished ...>`. */
  Unfinished: 1,
  /** The second part of a split call: `<... NAME resumed>...`. */
  Resumed: 2,
  /** A signal delivery: `--- SIG... ---`. */
  Signal: 3,
  /** The task ended: `+++ exited with N +++` / `+++ killed by SIG +++`. */
  Exit: 4,
  /** Nothing after the prefix. */
  Blank: 5,
  /** Not a line shape strace prints (garbage, a truncated line, a message of strace itself). */
  Malformed: 6,
} as const;
export type LineKind = (typeof LineKind)[keyof typeof LineKind];

/** How the line's timestamp was written. */
export const TimeFormat = {
  None: 0,
  /** -t / -tt: local time of day. */
  TimeOfDay: 1,
  /** -ttt / --timestamps=unix: seconds since the Unix epoch. */
  Epoch: 2,
} as const;
export type TimeFormat = (typeof TimeFormat)[keyof typeof TimeFormat];

export const MAX_ARGS = 16;
/** Largest thread id (pid_max is at most 2^22 on Linux; the column is int32). */
const MAX_TID = 0x7fffffff;
const UNFINISHED = ' <unfinished ...>';
const RESUMED = ' resumed>';

/**
 * The token positions both lanes find in a line: the text tokenizer (StraceLine, positions into a
 * string) and the byte lane (ByteLine in strace-bytes.ts, positions into the input bytes).
 */
export class LineTokens {
  /** Thread id from the pid column; -1 when the line has none. */
  tid = -1;
  timeFormat: TimeFormat = TimeFormat.None;
  /** Whole seconds of the timestamp (of the day for TimeOfDay, of the epoch for Epoch). */
  tsSec = 0;
  /** Nanoseconds within that second. */
  tsFrac = 0;
  /** Syscall name [nameStart, nameEnd). */
  nameStart = 0;
  nameEnd = 0;
  /** Where the arguments start (after "(" or after "resumed>"), and where the text to join ends for Unfinished (before " <unfinished ...>"). */
  bodyStart = 0;
  bodyEnd = 0;
  /** Argument ranges (trimmed). Only filled for calls. */
  argc = 0;
  readonly argStart = new Int32Array(MAX_ARGS);
  readonly argEnd = new Int32Array(MAX_ARGS);
  /** -T duration in ns; -1 when absent. */
  durNs = -1;
}

/** The tokens of one line, as positions into `text`. Reused from line to line. */
export class StraceLine extends LineTokens {
  text = '';
  start = 0;
  end = 0;
  kind: LineKind = LineKind.Blank;
  /** Return value token [retStart, retEnd) including a -y decoration; retStart = -1 when absent. */
  retStart = -1;
  retEnd = -1;
  /** errno name [errStart, errEnd); errStart = -1 when none. */
  errStart = -1;
  errEnd = -1;
  /** For Resumed lines: the rest says `<unfinished ...>) = ?` (the task died inside the call). */
  resumedUnfinished = false;

  name(): string { return this.text.slice(this.nameStart, this.nameEnd); }
  arg(i: number): string { return this.text.slice(this.argStart[i]!, this.argEnd[i]!); }
}
import { findIn, matchAt } from './strace-string.js';

/** ASCII digit (a char code or a byte). */
export function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
/** A character of a syscall name: [A-Za-z0-9_] (a char code or a byte). */
export function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || isDigit(c) || c === 95 || (c >= 65 && c <= 90);
}

/** What parseLinePrefix found: the pid column and the timestamp of a line. */
export class LinePrefix {
  /** Thread id from the pid column; -1 when the line has none. */
  tid = -1;
  timeFormat: TimeFormat = TimeFormat.None;
  tsSec = 0;
  tsFrac = 0;
}

/**
 * The prefix of a line, as bytes: an optional pid column ("[pid  123] " with -f to stderr, "123 "
 * with -o), then an optional timestamp ("HH:MM:SS[.frac] " with -t/-tt, "SECONDS[.frac] " with
 * -ttt; frac up to 9 digits, scaled to ns). Returns the index after it (where the call, signal or
 * exit starts), or -1 when it is malformed. The prefix is ASCII; one byte at b[end] is read (a line
 * terminator, or a 0 the caller puts there). Both tokenizers take the prefix from here.
 */
export function parseLinePrefix(b: Uint8Array, start: number, end: number, out: LinePrefix): number {
  out.tid = -1; out.timeFormat = TimeFormat.None;
  let i = start;
  let c = b[i]!;
  if (c === 91) {
    if (b[i + 1] !== 112 || b[i + 2] !== 105 || b[i + 3] !== 100) return -1;
    i += 4;
    while (b[i] === 32) i++;
    let v = 0; const s = i;
    while (i < end && isDigit(c = b[i]!)) { v = v * 10 + (c - 48); i++; }
    if (i === s || i - s > 10 || b[i] !== 93 || v > MAX_TID) return -1;
    out.tid = v;
    i++;
    while (b[i] === 32) i++;
  } else if (isDigit(c)) {
    let v = 0; const s = i;
    while (i < end && isDigit(c = b[i]!)) { v = v * 10 + (c - 48); i++; }
    if (c === 32 && i - s <= 10 && i < end) {
      if (v > MAX_TID) return -1;
      out.tid = v;
      while (b[i] === 32) i++;
    } else i = s; // a timestamp, not a pid
  }
  c = b[i]!;
  if (isDigit(c)) {
    let v = 0; const s = i;
    while (i < end && isDigit(c = b[i]!)) { v = v * 10 + (c - 48); i++; }
    if (c === 58) { // ':' time of day
      if (i + 6 > end || i - s !== 2 || v > 23 || b[i + 3] !== 58 || !isDigit(b[i + 1]!) || !isDigit(b[i + 2]!) || !isDigit(b[i + 4]!) || !isDigit(b[i + 5]!)) return -1;
      const m = (b[i + 1]! - 48) * 10 + (b[i + 2]! - 48);
      const sec = (b[i + 4]! - 48) * 10 + (b[i + 5]! - 48);
      if (m >= 60 || sec >= 61) return -1;
      out.tsSec = v * 3600 + m * 60 + sec;
      out.timeFormat = TimeFormat.TimeOfDay;
      i += 6;
    } else {
      if (i - s > 12) return -1;
      out.tsSec = v;
      out.timeFormat = TimeFormat.Epoch;
    }
    out.tsFrac = 0;
    if (b[i] === 46) { // '.'
      i++;
      let f = 0; let n = 0;
      while (i < end && isDigit(c = b[i]!)) { if (n < 9) { f = f * 10 + (c - 48); n++; } i++; }
      if (n === 0) return -1;
      for (; n < 9; n++) f *= 10;
      out.tsFrac = f;
    }
    if (b[i] !== 32) return -1;
    i++;
  }
  return i;
}

/** Characters a line prefix is made of: digits, space, "[pid]", ":" and ".". */
const PREFIX_CHAR = new Uint8Array(128);
for (const ch of '0123456789 [pid]:.') PREFIX_CHAR[ch.charCodeAt(0)] = 1;
let prefixBytes = new Uint8Array(64);
const prefix = new LinePrefix();

/**
 * Skip a -y decoration that starts at `i` (text[i] === '<'); returns the index after its closing
 * '>'. Nested "<...>" (-yy "<block 7:4>") count; "[...]" (socket addresses "[1->2]") hides '>'.
 */
export function skipDecoration(text: string, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 60) depth++; // <
    else if (c === 62) { // >
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 91) { // [
      const close = findIn(text, ']', i + 1, end);
      if (close < 0) return end;
      i = close;
    } else if (c === 92) i++; // backslash escape
    i++;
  }
  return end;
}

/**
 * Skip a C string starting at the opening quote; returns the index after the closing quote (a
 * quote preceded by an even number of backslashes), or `end` when the string is cut.
 */
function skipString(text: string, i: number, end: number): number {
  let j = i + 1;
  for (;;) {
    // native search; it may look past `end` only as far as the next quote
    const q = text.indexOf('"', j);
    if (q < 0 || q >= end) return end;
    let b = q - 1;
    while (b > i && text.charCodeAt(b) === 92) b--;
    if (((q - 1 - b) & 1) === 0) return q + 1;
    j = q + 1;
  }
}

/** Parse the prefix (pid, timestamp) and classify the line. Fills `out`; returns out.kind. */
export function tokenizeStraceLine(text: string, start: number, end: number, out: StraceLine): LineKind {
  out.text = text; out.start = start; out.end = end;
  out.argc = 0;
  out.retStart = -1; out.retEnd = -1; out.errStart = -1; out.errEnd = -1; out.durNs = -1;
  out.resumedUnfinished = false;
  // the prefix through parseLinePrefix, on a copy as bytes of the characters that can belong to it
  // (the first other one, as 0, ends the copy: no part of the prefix accepts it)
  let n = 0;
  for (;;) {
    if (n + 1 >= prefixBytes.length) { const g = new Uint8Array(prefixBytes.length * 2); g.set(prefixBytes); prefixBytes = g; }
    const ch = start + n < end ? text.charCodeAt(start + n) : 0;
    if (ch >= 128 || PREFIX_CHAR[ch] === 0) { prefixBytes[n] = 0; break; }
    prefixBytes[n++] = ch;
  }
  const p = parseLinePrefix(prefixBytes, 0, n, prefix);
  out.tid = prefix.tid; out.timeFormat = prefix.timeFormat; out.tsSec = prefix.tsSec; out.tsFrac = prefix.tsFrac;
  if (p < 0) return (out.kind = LineKind.Malformed);
  let i = start + p;
  let c: number;
  if (i >= end) return (out.kind = LineKind.Blank);
  c = text.charCodeAt(i);
  if (c === 45 && matchAt(text, i, '--- ')) return (out.kind = LineKind.Signal);
  if (c === 43 && matchAt(text, i, '+++ ')) return (out.kind = LineKind.Exit);
  if (c === 60) {
    if (!matchAt(text, i, '<... ')) return (out.kind = LineKind.Malformed);
    const ns = i + 5;
    let j = ns;
    while (j < end && isNameChar(text.charCodeAt(j))) j++;
    if (j === ns || !matchAt(text, j, RESUMED)) return (out.kind = LineKind.Malformed);
    out.nameStart = ns; out.nameEnd = j;
    out.bodyStart = j + RESUMED.length;
    out.bodyEnd = end;
    if (matchAt(text, out.bodyStart, UNFINISHED)) out.resumedUnfinished = true;
    return (out.kind = LineKind.Resumed);
  }
  const ns = i;
  while (i < end && isNameChar(text.charCodeAt(i))) i++;
  if (i === ns || text.charCodeAt(i) !== 40) return (out.kind = LineKind.Malformed);
  out.nameStart = ns; out.nameEnd = i;
  out.bodyStart = i + 1;
  // "... <unfinished ...>" at the end of the line (a -T "<0.000008>" ends in a digit before ">")
  if (end - UNFINISHED.length >= out.bodyStart && text.charCodeAt(end - 1) === 62 && text.charCodeAt(end - 2) === 46 && matchAt(text, end - UNFINISHED.length, UNFINISHED)) {
    out.bodyEnd = end - UNFINISHED.length;
    return (out.kind = LineKind.Unfinished);
  }
  out.bodyEnd = end;
  return (out.kind = LineKind.Call);
}

/**
 * Split the arguments of a call whose argument list starts at `bodyStart` (after "(") and parse
 * the return part. The text may be a joined unfinished + resumed call. Returns false when the
 * line is cut (no closing parenthesis or no " = ").
 */
export function parseCallBody(out: StraceLine, text: string, bodyStart: number, end: number): boolean {
  out.text = text;
  let i = bodyStart;
  let depth = 0;
  let argc = 0;
  const as = out.argStart; const ae = out.argEnd;
  while (i < end && text.charCodeAt(i) === 32) i++;
  as[0] = i;
  let close = -1;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 34) { i = skipString(text, i, end); continue; }
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) {
      if (depth === 0) {
        if (c === 41) { close = i; break; }
      } else depth--;
    } else if (c === 44 && depth === 0) { // ','
      if (argc < MAX_ARGS - 1) {
        let e = i; while (e > as[argc]! && text.charCodeAt(e - 1) === 32) e--;
        ae[argc] = e;
        argc++;
        let s = i + 1; while (s < end && text.charCodeAt(s) === 32) s++;
        as[argc] = s;
      }
    } else if (c === 60) { // '<' of a -y decoration after an fd number or AT_FDCWD
      const p = i > bodyStart ? text.charCodeAt(i - 1) : 0;
      if (isNameChar(p)) { i = skipDecoration(text, i, end); continue; }
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) { // "/*" comment of -X verbose
      const e = findIn(text, '*/', i + 2, end);
      i = e < 0 ? end : e + 2;
      continue;
    }
    i++;
  }
  if (close < 0) return false;
  {
    let e = close; while (e > as[argc]! && text.charCodeAt(e - 1) === 32) e--;
    ae[argc] = e;
    out.argc = e > as[argc]! || argc > 0 ? argc + 1 : 0;
  }
  // " = RET" (padded with spaces to column 40 when the call is short)
  i = close + 1;
  while (i < end && text.charCodeAt(i) === 32) i++;
  if (text.charCodeAt(i) !== 61 || text.charCodeAt(i + 1) !== 32) return false;
  i += 2;
  const rs = i;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 32) break;
    if (c === 60) { i = skipDecoration(text, i, end); continue; }
    i++;
  }
  if (i === rs) return false;
  out.retStart = rs; out.retEnd = i;
  // " ERRNO (text)" after -1 or ?
  if (i + 1 < end && text.charCodeAt(i) === 32) {
    const c = text.charCodeAt(i + 1);
    if (c >= 65 && c <= 90) {
      let j = i + 1;
      while (j < end && isNameChar(text.charCodeAt(j))) j++;
      out.errStart = i + 1; out.errEnd = j;
    }
  }
  // " <SECONDS.frac>" at the end (-T)
  if (text.charCodeAt(end - 1) === 62) {
    let j = end - 2; let dot = -1;
    while (j > i) {
      const c = text.charCodeAt(j);
      if (c === 46) { if (dot >= 0) break; dot = j; } else if (!isDigit(c)) break;
      j--;
    }
    if (dot > 0 && text.charCodeAt(j) === 60 && text.charCodeAt(j - 1) === 32) {
      let sec = 0;
      for (let k = j + 1; k < dot; k++) sec = sec * 10 + (text.charCodeAt(k) - 48);
      let f = 0; let n = 0;
      for (let k = dot + 1; k < end - 1 && n < 9; k++, n++) f = f * 10 + (text.charCodeAt(k) - 48);
      for (; n < 9; n++) f *= 10;
      out.durNs = sec * 1e9 + f;
    }
  }
  return true;
}

/**
 * Fast path of parseCallBody for calls shaped `NAME(FD[<path>], [MIDDLE, ]A1, ..., Ak) = RET ...`
 * whose last k arguments are plain tokens (numbers, SEEK_SET): read, write, pread64, pwrite64,
 * lseek. It reads the fd from the left and the rest from the right, so the data string in the
 * middle is never scanned. Fills the same argument indexes as parseCallBody (the middle, when
 * `middle`, is argument 1). Returns false when the line is not of that shape (use parseCallBody).
 */
export function parseCallFast(out: StraceLine, text: string, bodyStart: number, end: number, k: number, middle: boolean): boolean {
  out.text = text;
  // " <SECONDS.frac>" (-T)
  let e = end;
  out.durNs = -1;
  if (text.charCodeAt(e - 1) === 62) {
    let j = e - 2; let dot = -1;
    while (j > bodyStart) {
      const c = text.charCodeAt(j);
      if (c === 46) { if (dot >= 0) return false; dot = j; } else if (!isDigit(c)) break;
      j--;
    }
    if (dot < 0 || text.charCodeAt(j) !== 60 || text.charCodeAt(j - 1) !== 32) return false;
    let sec = 0;
    for (let q = j + 1; q < dot; q++) sec = sec * 10 + (text.charCodeAt(q) - 48);
    let f = 0; let n = 0;
    for (let q = dot + 1; q < e - 1 && n < 9; q++, n++) f = f * 10 + (text.charCodeAt(q) - 48);
    for (; n < 9; n++) f *= 10;
    out.durNs = sec * 1e9 + f;
    e = j - 1;
  }
  // ") = RET[ ERRNO (text)]"
  // the last ") = " (the return part after it holds none); a short backward scan
  let close = e - 4;
  while (close >= bodyStart && !(text.charCodeAt(close) === 41 && text.charCodeAt(close + 1) === 32 && text.charCodeAt(close + 2) === 61 && text.charCodeAt(close + 3) === 32)) close--;
  if (close < bodyStart) return false;
  const rs = close + 4;
  let i = rs;
  while (i < e && text.charCodeAt(i) !== 32) i++;
  if (i === rs) return false;
  out.retStart = rs; out.retEnd = i;
  out.errStart = -1; out.errEnd = -1;
  if (i + 1 < e) {
    const c = text.charCodeAt(i + 1);
    if (c >= 65 && c <= 90) {
      let j = i + 1;
      while (j < e && isNameChar(text.charCodeAt(j))) j++;
      out.errStart = i + 1; out.errEnd = j;
    } else return false;
  }
  // fd (with its -y decoration) from the left
  const as = out.argStart; const ae = out.argEnd;
  let p = bodyStart;
  if (text.charCodeAt(p) === 45) p++;
  while (p < close && isDigit(text.charCodeAt(p))) p++;
  if (p === bodyStart) return false;
  if (text.charCodeAt(p) === 60) {
    // a plain -y path ends at the first '>' followed by ", " (paths escape '>' as \76); -yy
    // nesting, socket addresses and "(deleted)" take the careful way
    const gt = text.indexOf('>', p);
    if (gt > 0 && gt < close && text.charCodeAt(gt + 1) === 44 && text.charCodeAt(gt + 2) === 32 && text.charCodeAt(p + 1) === 47) p = gt + 1;
    else p = skipDecoration(text, p, close);
  }
  as[0] = bodyStart; ae[0] = p;
  if (text.charCodeAt(p) !== 44 || text.charCodeAt(p + 1) !== 32) return false;
  const restStart = p + 2;
  // the last k arguments from the right
  let q = close;
  const first = middle ? 2 : 1;
  for (let a = first + k - 1; a >= first; a--) {
    const te = q;
    while (q > restStart) {
      const c = text.charCodeAt(q - 1);
      if (c === 32 || c === 44 || c === 34 || c === 93 || c === 125 || c === 41) break;
      q--;
    }
    if (q === te) return false;
    as[a] = q; ae[a] = te;
    if (a > first || middle) {
      if (text.charCodeAt(q - 1) !== 32 || text.charCodeAt(q - 2) !== 44) return false;
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
