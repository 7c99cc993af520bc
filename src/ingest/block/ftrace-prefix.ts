/**
 * Tokenizer of the ftrace line prefix (kernel/trace/trace_output.c), as the tracefs `trace` and
 * `trace_pipe` files and `trace-cmd report` print it:
 *   `<comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <sec>.<usec>: <event>: <body>`
 * comm is right-aligned in 16 columns and may contain '-', '/', ':' and spaces (split at the last
 * '-' before the pid); pid is padded to 7 (6.x) or 5 (older) columns; `(tgid)` appears with
 * options/record-tgid; the flags column (4 chars before ~5.13, 5 after) disappears with
 * options/irq-info=0; `<...>` is a comm the saved-cmdlines cache lost. trace-cmd adds an
 * `<instance>:` before the comm and, with -l, a `<cpu><flags>` column without brackets.
 * Timestamps are seconds with 6 decimals (9 with trace-cmd -t), converted to integer nanoseconds
 * with integer arithmetic only; counter clocks (x86-tsc, counter) print a count without a point.
 */
import { colonSpace, findByteBack, isDigit, latin1 } from '../text/byte-scanner.js';
import { NONE } from './block-events-builder.js';
import type { ByteRangeInterner } from './range-interners.js';

/** The fields of one line's prefix, filled in place by parse() (or the fast path), valid until the next line. */
export class FtracePrefix {
  /** Event time in nanoseconds (counter clocks: the count as printed); -1 when it is in tsBig. */
  ts = 0;
  /** The time when it is not a safe integer, else null. */
  tsBig: bigint | null = null;
  cpu = 0;
  pid = 0;
  /** The comm column t[commS, commE). */
  commS = 0;
  commE = 0;
  /** The event name t[evS, evE). */
  evS = 0;
  evE = 0;
  /** Offset of the timestamp's colon in the line last parsed by parse() (the first place to look in the next). */
  colonAt = 0;
  /** The last timestamp had no decimal point (a counter clock): stored as printed. */
  rawTs = false;

  /** The time as BlockEventRow.ts takes it. */
  time(): number | bigint {
    return this.tsBig ?? this.ts;
  }

  /** Key of the prefix comm (the task that was running; `<...>` = unknown: NONE). */
  commKey(comm: ByteRangeInterner, t: Uint8Array): number {
    const s = this.commS;
    return this.commE - s === 5 && t[s]! === 60 /* < */ && t[s + 1] === 46 && t[s + 4] === 62 ? NONE : comm.lookup(t, s, this.commE);
  }

  /**
   * Parse the ftrace prefix of t[s, e). Returns the position of the event body, or -1 when the
   * line has no `<ts>: <event>:` part. `traceCmd` accepts trace-cmd's `<instance>:` line prefix and
   * its `-l` latency column (`0.....`: cpu digits then flags, no brackets).
   */
  parse(t: Uint8Array, s: number, e: number, traceCmd: boolean): number {
    let i = s;
    while (i < e && t[i]! === 32) i++;
    // the timestamp is the first "<digits>.<digits>: " (or "<digits>: " for counter clocks); the
    // prefix columns have fixed widths, so the colon of the previous line is tried first
    const guess = s + this.colonAt;
    let c = -1;
    let k = -1;
    if (this.colonAt > 0 && guess + 1 < e && t[guess] === 58 && t[guess + 1] === 32) {
      k = timestampStart(t, i, guess);
      if (k >= 0) c = guess;
    }
    if (c < 0) {
      c = colonSpace(t, i, e);
      while (c >= 0 && c < e) {
        k = timestampStart(t, i, c);
        if (k >= 0) break;
        c = colonSpace(t, c + 1, e);
      }
      if (c < 0 || c >= e) return -1;
    }
    this.colonAt = c - s;
    // timestamp t[k+1, c)
    if (!this.timestamp(t, k + 1, c)) return -1;
    // event name up to the next ':'
    this.evS = c + 2;
    let colon = this.evS;
    while (colon < e && t[colon]! !== 58 && t[colon]! !== 32) colon++;
    if (colon >= e || t[colon]! !== 58 || colon === this.evS) return -1;
    this.evE = colon;
    let body = colon + 1;
    while (body < e && t[body]! === 32) body++;
    // backwards from the timestamp: [flags] [cpu] [(tgid)] pid '-' comm
    let q = k;
    while (q > i && t[q]! === 32) q--;
    if (t[q]! !== 93 /* ] */) {
      // a flags column (irq-info), or trace-cmd -l "cpu+flags"
      let a = q;
      while (a > i && t[a - 1]! !== 32) a--;
      if (traceCmd && isDigit(t[a]!)) {
        let v = 0;
        let d = a;
        while (d <= q && isDigit(t[d]!)) {
          v = v * 10 + t[d]! - 48;
          d++;
        }
        this.cpu = v;
        q = a - 1;
        while (q > i && t[q]! === 32) q--;
        return this.taskPid(t, i, q, traceCmd) ? body : -1;
      }
      if (q - a + 1 > 6) return -1;
      q = a - 1;
      while (q > i && t[q]! === 32) q--;
      if (t[q]! !== 93) return -1;
    }
    // [cpu]
    let b = q - 1;
    let v = 0;
    let mul = 1;
    while (b > i && isDigit(t[b]!)) {
      v += (t[b]! - 48) * mul;
      mul *= 10;
      b--;
    }
    if (b === q - 1 || t[b]! !== 91 /* [ */) return -1;
    this.cpu = v;
    q = b - 1;
    while (q > i && t[q]! === 32) q--;
    return this.taskPid(t, i, q, traceCmd) ? body : -1;
  }

  /** TASK-PID ending at q (inclusive), optionally followed by `(tgid)`; sets pid, commS, commE. */
  private taskPid(t: Uint8Array, i: number, q: number, traceCmd: boolean): boolean {
    if (t[q]! === 41 /* ) */) {
      const open = findByteBack(t, 40 /* ( */, q, i);
      if (open <= i) return false;
      q = open - 1;
      while (q > i && t[q]! === 32) q--;
    }
    let v = 0;
    let mul = 1;
    const pe = q;
    while (q > i && isDigit(t[q]!)) {
      v += (t[q]! - 48) * mul;
      mul *= 10;
      q--;
    }
    if (q === pe || t[q]! !== 45 /* - */) return false;
    this.pid = v;
    this.commE = q;
    this.commS = i;
    if (traceCmd) {
      // "<instance>: <comm>": an instance name has no spaces and is followed by ':' and spaces
      let x = i;
      while (x < q && t[x]! !== 32 && t[x]! !== 58) x++;
      if (x < q && t[x]! === 58 && t[x + 1]! === 32) {
        x++;
        while (x < q && t[x]! === 32) x++;
        this.commS = x;
      }
    }
    return this.commE > this.commS;
  }

  /** Seconds with 0..9 decimals in t[s, e) to integer nanoseconds in ts (or tsBig). */
  private timestamp(t: Uint8Array, s: number, e: number): boolean {
    let sec = 0;
    let i = s;
    while (i < e) {
      const c = t[i]! - 48;
      if (c < 0 || c > 9) break;
      sec = sec * 10 + c;
      i++;
    }
    const secDigits = i - s;
    if (secDigits === 0 || secDigits > 20) return false;
    this.rawTs = i === e;
    if (this.rawTs) {
      // no decimal point: a counter trace clock (x86-tsc, counter) printed as a raw count
      if (secDigits <= 15) {
        this.ts = sec;
        this.tsBig = null;
        return true;
      }
      this.tsBig = BigInt(latin1(t, s, e));
      if (this.tsBig > 0x7fffffffffffffffn) return false;
      this.ts = -1;
      return true;
    }
    if (secDigits > 15) return false;
    let frac = 0;
    let fd = 0;
    if (i < e) {
      if (t[i]! !== 46) return false;
      i++;
      while (i < e) {
        const c = t[i]! - 48;
        if (c < 0 || c > 9) return false;
        frac = frac * 10 + c;
        fd++;
        i++;
      }
      if (fd === 0 || fd > 9) return false;
    }
    for (let d = fd; d < 9; d++) frac *= 10;
    // 9007199 s (104 days) is the last whole second whose nanoseconds are a safe integer
    if (sec < 9007199) {
      this.ts = sec * 1e9 + frac;
      this.tsBig = null;
    } else {
      this.tsBig = BigInt(sec) * 1000000000n + BigInt(frac);
      this.ts = -1;
    }
    return true;
  }
}

/** Where the timestamp ending at the colon c starts (the space before it), or -1 when t[.., c) is no timestamp. */
function timestampStart(t: Uint8Array, i: number, c: number): number {
  let k = c - 1;
  let dots = 0;
  while (k >= i) {
    const ch = t[k]!;
    if (ch === 46) {
      if (++dots > 1) break;
    } else if (!isDigit(ch)) break;
    k--;
  }
  return k < c - 1 && k >= i && t[k]! === 32 && isDigit(t[k + 1]!) && isDigit(t[c - 1]!) ? k : -1;
}
