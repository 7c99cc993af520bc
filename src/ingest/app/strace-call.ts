/**
 * The strace line grammar, part 2: the argument list and return part of a call (strace(1),
 * "Output format"), on the bytes of a line or of a joined unfinished + resumed call:
 *
 *   ARG, ARG, ...) = RET[ ERRNO (TEXT)][ <SECONDS.frac>]
 *
 * Arguments may hold C strings ("..." with backslash escapes, "..." after a cut one), structures
 * and arrays ({...} [...]), -y decorations after an fd ("3</path>", nested with -yy: "3</dev/sda<block
 * 8:0>>", sockets "6<UNIX:[1->2]>") and -X verbose comments ("/* O_RDONLY *\/"). Short calls are
 * padded with spaces before " = " to column 40. parseCallBody is the general splitter;
 * parseCallFast reads the shape of the hot transfer calls without scanning their data string.
 */
import { SAFE_DIGITS } from './strace-bytes.js';
import { isDigit, isNameChar, MAX_ARGS, type StraceLine } from './strace-line.js';

/**
 * Skip a -y decoration that starts at `i` (b[i] === '<'); returns the index after its closing
 * '>'. Nested "<...>" (-yy "<block 7:4>") count; "[...]" (socket addresses "[1->2]") hides '>'.
 */
export function skipDecoration(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === 60)
      depth++; // <
    else if (c === 62) {
      // >
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 91) {
      // [
      let close = i + 1;
      while (close < end && b[close] !== 93) close++;
      if (close >= end) return end;
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
function skipString(b: Uint8Array, i: number, end: number): number {
  let q = i + 1;
  for (;;) {
    while (q < end && b[q] !== 34) q++;
    if (q >= end) return end;
    let k = q - 1;
    while (k > i && b[k] === 92) k--;
    if (((q - 1 - k) & 1) === 0) return q + 1;
    q++;
  }
}

/** Index of the "*\/" that closes a -X verbose comment, from `i`; -1 when there is none before `end`. */
function commentEnd(b: Uint8Array, i: number, end: number): number {
  for (; i + 1 < end; i++) if (b[i] === 42 && b[i + 1] === 47) return i;
  return -1;
}

/**
 * Split the arguments of a call whose argument list starts at `bodyStart` (after "(") and parse
 * the return part. The bytes may be a joined unfinished + resumed call. Returns false when the
 * call is cut (no closing parenthesis or no " = ").
 */
export function parseCallBody(out: StraceLine, b: Uint8Array, bodyStart: number, end: number): boolean {
  out.bytes = b;
  out.durNs = -1;
  out.errStart = -1;
  out.retStart = -1;
  let i = bodyStart;
  let depth = 0;
  let argc = 0;
  const as = out.argStart;
  const ae = out.argEnd;
  while (i < end && b[i] === 32) i++;
  as[0] = i;
  let close = -1;
  while (i < end) {
    const c = b[i]!;
    if (c === 34) {
      i = skipString(b, i, end);
      continue;
    }
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) {
      if (depth === 0) {
        if (c === 41) {
          close = i;
          break;
        }
      } else depth--;
    } else if (c === 44 && depth === 0) {
      // ','
      if (argc < MAX_ARGS - 1) {
        let e = i;
        while (e > as[argc]! && b[e - 1] === 32) e--;
        ae[argc] = e;
        argc++;
        let s = i + 1;
        while (s < end && b[s] === 32) s++;
        as[argc] = s;
      }
    } else if (c === 60) {
      // '<' of a -y decoration after an fd number or AT_FDCWD
      const p = i > bodyStart ? b[i - 1]! : 0;
      if (isNameChar(p)) {
        i = skipDecoration(b, i, end);
        continue;
      }
    } else if (c === 47 && i + 1 < end && b[i + 1] === 42) {
      // "/*" comment of -X verbose
      const e = commentEnd(b, i + 2, end);
      i = e < 0 ? end : e + 2;
      continue;
    }
    i++;
  }
  if (close < 0) return false;
  {
    let e = close;
    while (e > as[argc]! && b[e - 1] === 32) e--;
    ae[argc] = e;
    out.argc = e > as[argc]! || argc > 0 ? argc + 1 : 0;
  }
  // " = RET" (padded with spaces to column 40 when the call is short)
  i = close + 1;
  while (i < end && b[i] === 32) i++;
  if (i + 1 >= end || b[i] !== 61 || b[i + 1] !== 32) return false;
  i += 2;
  const rs = i;
  while (i < end) {
    const c = b[i]!;
    if (c === 32) break;
    if (c === 60) {
      i = skipDecoration(b, i, end);
      continue;
    }
    i++;
  }
  if (i === rs) return false;
  out.retStart = rs;
  out.retEnd = i;
  // " ERRNO (text)" after -1 or ?
  if (i + 1 < end && b[i] === 32) {
    const c = b[i + 1]!;
    if (c >= 65 && c <= 90) {
      let j = i + 1;
      while (j < end && isNameChar(b[j]!)) j++;
      out.errStart = i + 1;
      out.errEnd = j;
    }
  }
  // " <SECONDS.frac>" at the end (-T)
  if (b[end - 1] === 62) {
    let j = end - 2;
    let dot = -1;
    while (j > i) {
      const c = b[j]!;
      if (c === 46) {
        if (dot >= 0) break;
        dot = j;
      } else if (!isDigit(c)) break;
      j--;
    }
    if (dot > 0 && b[j] === 60 && b[j - 1] === 32) out.durNs = durationNs(b, j + 1, dot, end - 1);
  }
  return true;
}

/** A -T duration "SECONDS.frac": the digits of [s, dot) and of (dot, e), in ns (frac up to 9 digits). */
function durationNs(b: Uint8Array, s: number, dot: number, e: number): number {
  let sec = 0;
  for (let q = s; q < dot; q++) sec = sec * 10 + (b[q]! - 48);
  let f = 0;
  let n = 0;
  for (let q = dot + 1; q < e && n < 9; q++, n++) f = f * 10 + (b[q]! - 48);
  for (; n < 9; n++) f *= 10;
  return sec * 1e9 + f;
}

/**
 * Fast path of parseCallBody for calls shaped `NAME(FD[<path>], [MIDDLE, ]A1, ..., Ak) = RET ...`
 * whose last k arguments are plain tokens (numbers, SEEK_SET): read, write, pread64, pwrite64,
 * lseek. It reads the fd from the left and the rest from the right, so the data string in the
 * middle is never scanned. Fills the same argument indexes as parseCallBody (the middle, when
 * `middle`, is argument 1), and also plainRet, plainFd and decoAt. Returns false when the call is not of
 * that shape (use parseCallBody).
 */
export function parseCallFast(out: StraceLine, b: Uint8Array, bodyStart: number, end: number, k: number, middle: boolean): boolean {
  out.bytes = b;
  // " <SECONDS.frac>" (-T)
  let e = end;
  out.durNs = -1;
  if (b[e - 1] === 62) {
    let j = e - 2;
    let dot = -1;
    while (j > bodyStart) {
      const c = b[j]!;
      if (c === 46) {
        if (dot >= 0) return false;
        dot = j;
      } else if (!isDigit(c)) break;
      j--;
    }
    if (dot < 0 || b[j] !== 60 || b[j - 1] !== 32) return false;
    out.durNs = durationNs(b, j + 1, dot, e - 1);
    e = j - 1;
  }
  // ") = RET[ ERRNO (text)]": the last ") = " (the return part after it holds none); a short backward scan
  let close = e - 4;
  while (close >= bodyStart && !(b[close] === 41 && b[close + 1] === 32 && b[close + 2] === 61 && b[close + 3] === 32)) close--;
  if (close < bodyStart) return false;
  const rs = close + 4;
  let i = rs;
  let ret = 0;
  let digits = true;
  for (let c = 0; i < e && (c = b[i]!) !== 32; i++) {
    if (c >= 48 && c <= 57) ret = ret * 10 + (c - 48);
    else digits = false;
  }
  if (i === rs) return false;
  out.retStart = rs;
  out.retEnd = i;
  out.plainRet = digits && i === e && i - rs <= SAFE_DIGITS ? ret : -1;
  out.errStart = -1;
  out.errEnd = -1;
  if (i + 1 < e) {
    const c = b[i + 1]!;
    if (c >= 65 && c <= 90) {
      let j = i + 1;
      while (j < e && isNameChar(b[j]!)) j++;
      out.errStart = i + 1;
      out.errEnd = j;
    } else return false;
  }
  const p = fastFdEnd(out, b, bodyStart, close);
  if (p < 0) return false;
  return splitFromRight(out, b, p + 2, close, k, middle);
}

/**
 * Argument 0 (an fd with its -y decoration) of a fast-path call: sets its range and decoAt;
 * returns its end, or -1 when ", " does not follow it.
 */
function fastFdEnd(out: StraceLine, b: Uint8Array, bodyStart: number, close: number): number {
  let p = bodyStart;
  if (b[p] === 45) p++;
  let fd = 0;
  for (let c = 0; p < close && isDigit((c = b[p]!)); p++) fd = fd * 10 + (c - 48);
  if (p === bodyStart) return -1;
  // a plain fd: digits only (no "-1"), no more than an int32 holds
  out.plainFd = b[bodyStart] !== 45 && p - bodyStart <= 9 ? fd : -1;
  out.decoAt = -1;
  if (b[p] === 60) {
    // a plain -y path ends at the first '>' followed by ", " (paths escape '>' as \76); -yy
    // nesting, socket addresses and "(deleted)" take the careful way
    let gt = p + 1;
    while (gt < close && b[gt] !== 62) gt++;
    if (gt < close && b[gt + 1] === 44 && b[gt + 2] === 32 && b[p + 1] === 47) {
      out.decoAt = p;
      p = gt + 1;
    } else {
      out.decoAt = -2;
      p = skipDecoration(b, p, close);
    }
  }
  out.argStart[0] = bodyStart;
  out.argEnd[0] = p;
  if (b[p] !== 44 || b[p + 1] !== 32) return -1;
  return p;
}

/** The last k arguments of a fast-path call, read from `close` leftwards to `restStart`; then the middle one. */
function splitFromRight(out: StraceLine, b: Uint8Array, restStart: number, close: number, k: number, middle: boolean): boolean {
  const as = out.argStart;
  const ae = out.argEnd;
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
    as[a] = q;
    ae[a] = te;
    if (a > first || middle) {
      if (b[q - 1] !== 32 || b[q - 2] !== 44) return false;
      q -= 2;
    } else if (q !== restStart) return false;
  }
  if (middle) {
    if (q < restStart) return false;
    as[1] = restStart;
    ae[1] = q;
  }
  out.argc = first + k;
  return true;
}
