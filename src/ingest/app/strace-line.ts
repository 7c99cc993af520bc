/**
 * The strace line grammar, part 1: the line tokenizer (strace 4.x-6.x, `strace -f [-tt|-ttt] [-T]
 * [-y|-yy]`). Line anatomy (strace(1), "Output format"):
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
 *
 * The grammar reads the raw bytes of the input (text given as a string is encoded to UTF-8 once,
 * before it gets here). Every structural character is ASCII and UTF-8 never uses ASCII bytes
 * inside a multi-byte sequence, so byte positions delimit the tokens; values that are text (paths,
 * errno names) are decoded from their token's bytes. It reports positions, never substrings, into
 * one reusable StraceLine: no object is made per line. The argument list and return part of a call
 * are split by strace-call.ts.
 */
import { decodeBytes } from './strace-bytes.js';
import { FNV_OFFSET, FNV_PRIME } from './strace-syscalls.js';

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
/** " <unfinished ...>" */
const UNFINISHED = [32, 60, 117, 110, 102, 105, 110, 105, 115, 104, 101, 100, 32, 46, 46, 46, 62];
/** " resumed>" */
const RESUMED = [32, 114, 101, 115, 117, 109, 101, 100, 62];

/** The tokens of one line (or of a joined unfinished + resumed call), as positions into `bytes`. Reused from line to line. */
export class StraceLine {
  bytes: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  kind: LineKind = LineKind.Blank;
  /** Thread id from the pid column; -1 when the line has none. */
  tid = -1;
  timeFormat: TimeFormat = TimeFormat.None;
  /** Whole seconds of the timestamp (of the day for TimeOfDay, of the epoch for Epoch). */
  tsSec = 0;
  /** Nanoseconds within that second. */
  tsFrac = 0;
  /** Syscall name [nameStart, nameEnd) and its FNV-1a hash (nameHash in strace-syscalls.ts). */
  nameStart = 0;
  nameEnd = 0;
  nameHash = 0;
  /** Where the arguments start (after "(" or after "resumed>"), and where the text to join ends for Unfinished (before " <unfinished ...>"). */
  bodyStart = 0;
  bodyEnd = 0;
  /** For Resumed lines: the rest says `<unfinished ...>) = ?` (the task died inside the call). */
  resumedUnfinished = false;
  /** Argument ranges (trimmed), filled by the call splitters of strace-call.ts. */
  argc = 0;
  readonly argStart = new Int32Array(MAX_ARGS);
  readonly argEnd = new Int32Array(MAX_ARGS);
  /** Return value token [retStart, retEnd) including a -y decoration; retStart = -1 when absent. */
  retStart = -1;
  retEnd = -1;
  /** errno name [errStart, errEnd); errStart = -1 when none. */
  errStart = -1;
  errEnd = -1;
  /** -T duration in ns; -1 when absent. */
  durNs = -1;
  /** Set by parseCallFast: the return value when it is a plain decimal below 2^53 with nothing after it (no errno), else -1. */
  plainRet = -1;
  /** Set by parseCallFast: argument 0 when it is a plain fd number ("N" or "N<...>", at most 9 digits), else -1. */
  plainFd = -1;
  /**
   * Set by parseCallFast for argument 0: index of the '<' of a plain -y decoration (an absolute
   * path closed by the first '>'), -1 when there is none, -2 when it is another kind (-yy nesting,
   * sockets, pipes).
   */
  decoAt = -1;

  name(): string {
    return decodeBytes(this.bytes, this.nameStart, this.nameEnd);
  }
  arg(i: number): string {
    return decodeBytes(this.bytes, this.argStart[i]!, this.argEnd[i]!);
  }
}

/** ASCII digit (a byte). */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** A character of a syscall name: [A-Za-z0-9_]. */
export function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || isDigit(c) || c === 95 || (c >= 65 && c <= 90);
}

function matchBytes(b: Uint8Array, i: number, end: number, word: readonly number[]): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

/**
 * The prefix of a line: an optional pid column ("[pid  123] " with -f to stderr, "123 " with -o),
 * then an optional timestamp ("HH:MM:SS[.frac] " with -t/-tt, "SECONDS[.frac] " with -ttt; frac
 * up to 9 digits, scaled to ns). Fills tid and the time fields of `out`; returns the index after
 * the prefix (where the call, signal or exit starts), or -1 when it is malformed. Nothing at or
 * after `end` is read.
 */
function parseLinePrefix(b: Uint8Array, start: number, end: number, out: StraceLine): number {
  out.tid = -1;
  out.timeFormat = TimeFormat.None;
  let i = start;
  let c = i < end ? b[i]! : 0;
  if (c === 91) {
    if (i + 4 > end || b[i + 1] !== 112 || b[i + 2] !== 105 || b[i + 3] !== 100) return -1;
    i += 4;
    while (i < end && b[i] === 32) i++;
    let v = 0;
    const s = i;
    while (i < end && isDigit((c = b[i]!))) {
      v = v * 10 + (c - 48);
      i++;
    }
    if (i === s || i - s > 10 || i >= end || b[i] !== 93 || v > MAX_TID) return -1;
    out.tid = v;
    i++;
    while (i < end && b[i] === 32) i++;
  } else if (isDigit(c)) {
    let v = 0;
    const s = i;
    while (i < end && isDigit((c = b[i]!))) {
      v = v * 10 + (c - 48);
      i++;
    }
    if (i < end && c === 32 && i - s <= 10) {
      if (v > MAX_TID) return -1;
      out.tid = v;
      while (i < end && b[i] === 32) i++;
    } else i = s; // a timestamp, not a pid
  }
  c = i < end ? b[i]! : 0;
  if (isDigit(c)) {
    let v = 0;
    const s = i;
    while (i < end && isDigit((c = b[i]!))) {
      v = v * 10 + (c - 48);
      i++;
    }
    if (i < end && c === 58) {
      // ':' time of day
      if (
        i + 6 > end ||
        i - s !== 2 ||
        v > 23 ||
        b[i + 3] !== 58 ||
        !isDigit(b[i + 1]!) ||
        !isDigit(b[i + 2]!) ||
        !isDigit(b[i + 4]!) ||
        !isDigit(b[i + 5]!)
      )
        return -1;
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
    if (i < end && b[i] === 46) {
      // '.'
      i++;
      let f = 0;
      let n = 0;
      while (i < end && isDigit((c = b[i]!))) {
        if (n < 9) {
          f = f * 10 + (c - 48);
          n++;
        }
        i++;
      }
      if (n === 0) return -1;
      for (; n < 9; n++) f *= 10;
      out.tsFrac = f;
    }
    if (i >= end || b[i] !== 32) return -1;
    i++;
  }
  return i;
}

/** Parse the prefix (pid, timestamp) and classify the line b[start, end). Fills `out`; returns out.kind. */
export function tokenizeStraceLine(b: Uint8Array, start: number, end: number, out: StraceLine): LineKind {
  // the argument and return fields are set by the call splitters (strace-call.ts)
  out.bytes = b;
  out.start = start;
  out.end = end;
  out.resumedUnfinished = false;
  let i = parseLinePrefix(b, start, end, out);
  if (i < 0) return (out.kind = LineKind.Malformed);
  if (i >= end) return (out.kind = LineKind.Blank);
  let c = b[i]!;
  // "--- SIG... ---" and "+++ exited ... +++"
  if (c === 45)
    return (out.kind = i + 4 <= end && b[i + 1] === 45 && b[i + 2] === 45 && b[i + 3] === 32 ? LineKind.Signal : LineKind.Malformed);
  if (c === 43)
    return (out.kind = i + 4 <= end && b[i + 1] === 43 && b[i + 2] === 43 && b[i + 3] === 32 ? LineKind.Exit : LineKind.Malformed);
  let h = FNV_OFFSET;
  if (c === 60) {
    // "<... NAME resumed>"
    if (i + 5 > end || b[i + 1] !== 46 || b[i + 2] !== 46 || b[i + 3] !== 46 || b[i + 4] !== 32) return (out.kind = LineKind.Malformed);
    const ns = i + 5;
    let j = ns;
    while (j < end && isNameChar((c = b[j]!))) {
      h = Math.imul(h ^ c, FNV_PRIME);
      j++;
    }
    if (j === ns || !matchBytes(b, j, end, RESUMED)) return (out.kind = LineKind.Malformed);
    out.nameStart = ns;
    out.nameEnd = j;
    out.nameHash = h >>> 0;
    out.bodyStart = j + RESUMED.length;
    out.bodyEnd = end;
    if (matchBytes(b, out.bodyStart, end, UNFINISHED)) out.resumedUnfinished = true;
    return (out.kind = LineKind.Resumed);
  }
  const ns = i;
  while (i < end && isNameChar((c = b[i]!))) {
    h = Math.imul(h ^ c, FNV_PRIME);
    i++;
  }
  if (i === ns || i >= end || c !== 40) return (out.kind = LineKind.Malformed);
  out.nameStart = ns;
  out.nameEnd = i;
  out.nameHash = h >>> 0;
  out.bodyStart = i + 1;
  // "... <unfinished ...>" at the end of the line (a -T "<0.000008>" ends in a digit before ">")
  if (
    end - UNFINISHED.length >= out.bodyStart &&
    b[end - 1] === 62 &&
    b[end - 2] === 46 &&
    matchBytes(b, end - UNFINISHED.length, end, UNFINISHED)
  ) {
    out.bodyEnd = end - UNFINISHED.length;
    return (out.kind = LineKind.Unfinished);
  }
  out.bodyEnd = end;
  return (out.kind = LineKind.Call);
}
