/**
 * Values of the arguments of a split call (StraceLine after parseCallBody/parseCallFast), as
 * strace prints them (strace(1) "-X": symbolic constants and flag sets by default, numbers with
 * -X raw; pointers to an offset as "[N]", "[N] => [M]" when the kernel changed it).
 */
import { findBytes, hasFlag, intAt, rawNumber } from './strace-bytes.js';
import type { StraceLine } from './strace-line.js';

const NULL = Number.NaN;

/** open(2) flags this parser uses, as bits of its own. */
export const F_APPEND = 1,
  F_DIRECT = 2,
  F_TRUNC = 4,
  F_CLOEXEC = 8,
  F_EXCL = 16,
  F_WRITE = 32;

/** Signed decimal value of argument i; a bigint beyond 2^53; NaN when absent or not a number. */
export function argInt(L: StraceLine, i: number): number | bigint {
  if (i >= L.argc) return NULL;
  return intAt(L.bytes, L.argStart[i]!, L.argEnd[i]!);
}

/** The return value (a bigint beyond 2^53; NaN when absent or "?"). */
export function retInt(L: StraceLine): number | bigint {
  return L.retStart >= 0 ? intAt(L.bytes, L.retStart, L.retEnd) : NULL;
}

/** The value inside "[N]" or "[N] => [M]" (an offset pointer argument); NaN for NULL. */
export function bracketInt(L: StraceLine, i: number): number | bigint {
  if (i >= L.argc) return NULL;
  const s = L.argStart[i]!;
  if (L.bytes[s] !== 91) return NULL;
  return intAt(L.bytes, s + 1, L.argEnd[i]!);
}

/** An fd argument: its number, -1 for -1 (AT_FDCWD-less "no fd"), -2 when it is none. */
export function fdArg(L: StraceLine, i: number): number {
  const v = argInt(L, i);
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= -1 && v < 0x7fffffff ? v : -2;
}

function argHas(L: StraceLine, i: number, word: string): boolean {
  if (i >= L.argc) return false;
  return hasFlag(L.bytes, L.argStart[i]!, L.argEnd[i]!, word);
}

/** Numeric value of a flags/constant argument as -X raw prints it (0x hex, 0 octal, decimal); NaN if symbolic. */
function argRaw(L: StraceLine, i: number): number {
  if (i >= L.argc) return NULL;
  return rawNumber(L.bytes, L.argStart[i]!, L.argEnd[i]!);
}

/** Flag `name` (value `bit`) set in arg i, symbolic or numeric. */
export function argFlag(L: StraceLine, i: number, name: string, bit: number): boolean {
  if (argHas(L, i, name)) return true;
  const v = argRaw(L, i);
  return !Number.isNaN(v) && (v & bit) !== 0;
}

/** Arg i is the constant `name` (value `value`), symbolic or numeric. */
export function argIs(L: StraceLine, i: number, name: string, value: number): boolean {
  if (argHas(L, i, name)) return true;
  return argRaw(L, i) === value;
}

/** Open-flag bits (F_*) from a symbolic ("O_RDWR|O_APPEND") or numeric (-X raw) flags argument. */
export function openFlags(L: StraceLine, i: number): number {
  if (i >= L.argc) return 0;
  const s = L.argStart[i]!;
  const e = L.argEnd[i]!;
  const t = L.bytes;
  if (findBytes(t, 'O_', s, e) >= 0) {
    return (
      (hasFlag(t, s, e, 'O_APPEND') ? F_APPEND : 0) |
      (hasFlag(t, s, e, 'O_DIRECT') ? F_DIRECT : 0) |
      (hasFlag(t, s, e, 'O_TRUNC') ? F_TRUNC : 0) |
      (hasFlag(t, s, e, 'O_CLOEXEC') ? F_CLOEXEC : 0) |
      (hasFlag(t, s, e, 'O_EXCL') ? F_EXCL : 0) |
      (hasFlag(t, s, e, 'O_WRONLY') || hasFlag(t, s, e, 'O_RDWR') ? F_WRITE : 0)
    );
  }
  // -X raw: numeric flags (x86_64 and generic values of asm-generic/fcntl.h, octal)
  let k = findBytes(t, 'flags=', s, e);
  k = k >= 0 ? k + 6 : s;
  const n = rawNumber(t, k, e);
  if (Number.isNaN(n)) return 0;
  return (
    (n & 0o2000 ? F_APPEND : 0) |
    (n & 0o40000 ? F_DIRECT : 0) |
    (n & 0o1000 ? F_TRUNC : 0) |
    (n & 0o2000000 ? F_CLOEXEC : 0) |
    (n & 0o200 ? F_EXCL : 0) |
    (n & 3 ? F_WRITE : 0)
  );
}

/** clone(2) flags (linux/sched.h) this parser uses. */
export const CLONE_FILES = 0x400,
  CLONE_THREAD = 0x10000;

/**
 * The clone flags after "flags=" in b[s, e) as a number (symbolic names or -X raw hex); -1 when
 * "flags=" is not there. strace prints clone(child_stack=..., flags=...) and clone3({flags=...,
 * ...}, size).
 */
export function cloneFlagsIn(b: Uint8Array, s: number, e: number): number {
  let k = findBytes(b, 'flags=', s, e);
  if (k < 0) return -1;
  k += 6;
  let j = k;
  while (j < e) {
    const c = b[j]!;
    if (c === 44 || c === 125 || c === 32) break;
    j++;
  }
  const n = rawNumber(b, k, j);
  if (!Number.isNaN(n)) return n;
  return (hasFlag(b, k, j, 'CLONE_FILES') ? CLONE_FILES : 0) | (hasFlag(b, k, j, 'CLONE_THREAD') ? CLONE_THREAD : 0);
}

/** The flags of a clone/clone3 call (arguments 0-1); 0 when not printed. */
export function cloneFlags(L: StraceLine): number {
  const fl = cloneFlagsIn(L.bytes, L.argStart[0]!, L.argEnd[L.argc > 1 ? 1 : 0]!);
  return fl < 0 ? 0 : fl;
}

/** Sum of iov_len in an iovec array argument; NaN when strace abbreviated the array ("...]"). */
export function iovBytes(L: StraceLine, i: number): number | bigint {
  if (i >= L.argc) return NULL;
  const t = L.bytes;
  const s = L.argStart[i]!;
  const e = L.argEnd[i]!;
  if (e - s >= 4 && t[e - 1] === 93 && t[e - 2] === 46 && t[e - 3] === 46) return NULL;
  let sum = 0;
  let k = findBytes(t, 'iov_len=', s, e);
  if (k < 0) return NULL;
  while (k >= 0) {
    const v = intAt(t, k + 8, e);
    if (typeof v !== 'number' || Number.isNaN(v)) return NULL;
    sum += v;
    k = findBytes(t, 'iov_len=', k + 8, e);
  }
  return sum;
}
