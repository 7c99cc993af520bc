/**
 * Fast path of the tracefs / trace-cmd report readers: the common event lines in one pass (bio
 * queue/getrq/merges, rq insert/issue/merge/complete/requeue, split; a
 * `comm-pid [cpu] flags sec.frac: ` prefix; values below 2^53). It accepts exactly what the
 * general path (ftrace-prefix.ts, tracefs-event-parser.ts) accepts for those shapes and gives
 * the same row; any other shape (tgid column, -l latency column, counter clocks, 16+ digit
 * numbers, raw fields, plug/unplug, remap, bio_complete) returns false and the line goes to the
 * general path. Nothing is interned before the whole line has been checked, so a line the fast
 * path gives up on leaves no trace in the dictionaries.
 */
import { findByte, POW10, type ByteScanner } from '../text/byte-scanner.js';
import { NONE, type BlockEventRow } from './block-events-builder.js';
import type { BlockTextContext } from './block-text-context.js';
import { ACTION_OF, BlockTracepoint, type TracepointNames } from './block-tracepoints.js';
import { FtracePrefix } from './ftrace-prefix.js';
import { BlockOp } from './rwbs.js';

/** Reads the common event lines of one reader; `line` returns false for any other line. */
export class TracefsFastPath {
  private readonly scan: ByteScanner;
  private readonly row: BlockEventRow;
  /** The prefix fields of the line being read (this path's own: a line it gives up on leaves the general path's untouched). */
  private readonly pre = new FtracePrefix();
  /** Body fields checked by `body`, interned and written by `commit`. */
  private rwbsS = 0;
  private rwbsE = 0;
  private ioprioS = -1;
  private ioprioE = -1;
  private major = 0;
  private minor = 0;
  private sector = 0;
  private nr = 0;
  private bytes = NONE;
  private newSector = NONE;
  private error = 0;
  /** Position of the `[` of the closing `[comm]` / `[error]`. */
  private bracket = 0;

  /**
   * `general` is the general path's prefix tokenizer: its timestamp colon offset (fixed-width
   * prefix columns) is where this path looks first, and the only place it looks.
   */
  constructor(
    private readonly ctx: BlockTextContext,
    private readonly names: TracepointNames,
    private readonly general: FtracePrefix,
    private readonly traceCmd: boolean,
  ) {
    this.scan = ctx.scan;
    this.row = ctx.row;
  }

  /** True when the line was a common block event and was added; false leaves it to the general path. */
  line(t: Uint8Array, s: number, e: number): boolean {
    const body = this.prefix(t, s, e);
    if (body < 0) return false;
    const pre = this.pre;
    const tp = this.names.id(t, pre.evS, pre.evE);
    const rq = tp === BlockTracepoint.rq_insert || tp === BlockTracepoint.rq_issue || tp === BlockTracepoint.rq_merge;
    const done = tp === BlockTracepoint.rq_complete || tp === BlockTracepoint.rq_requeue;
    const split = tp === BlockTracepoint.split;
    if (!(rq || done || split || (tp >= BlockTracepoint.bio_queue && tp <= BlockTracepoint.bio_bounce))) return false;
    if (!this.body(t, body, e, rq, done, split)) return false;
    return this.commit(t, e, tp, rq, done, split);
  }

  /** `comm-pid [cpu] [flags] sec.frac: event: ` into `pre`: the body's position, or -1. */
  private prefix(t: Uint8Array, s: number, e: number): number {
    const colonAt = this.general.colonAt;
    const c = s + colonAt;
    if (colonAt === 0 || c + 2 >= e || t[c] !== 58 || t[c + 1] !== 32) return -1;
    let i = s;
    while (t[i] === 32) i++;
    // timestamp "<sec>.<frac>" ending at c, read backwards
    let k = c - 1;
    let frac = 0;
    let mul = 1;
    let d = t[k]! - 48;
    while (d >= 0 && d <= 9) {
      frac += d * mul;
      mul *= 10;
      d = t[--k]! - 48;
    }
    const fd = c - 1 - k;
    if (fd === 0 || fd > 9 || t[k] !== 46) return -1;
    const dot = k;
    k--;
    let sec = 0;
    mul = 1;
    d = t[k]! - 48;
    while (d >= 0 && d <= 9 && k > i) {
      sec += d * mul;
      mul *= 10;
      d = t[--k]! - 48;
    }
    if (k === dot - 1 || dot - 1 - k > 15 || t[k] !== 32 || k < i || sec >= 9007199) return -1;
    const pre = this.pre;
    pre.ts = sec * 1e9 + frac * POW10[9 - fd]!;
    // event name up to ':'
    const evS = c + 2;
    let p = evS;
    while (p < e && t[p] !== 58 && t[p] !== 32) p++;
    if (p >= e || t[p] !== 58 || p === evS) return -1;
    pre.evS = evS;
    pre.evE = p;
    p++;
    while (p < e && t[p] === 32) p++;
    const body = p;
    // backwards from the timestamp: [flags] [cpu] pid '-' comm
    let q = k;
    while (q > i && t[q] === 32) q--;
    if (t[q] !== 93) {
      let a = q;
      while (a > i && t[a - 1] !== 32) a--;
      if (this.traceCmd && t[a]! >= 48 && t[a]! <= 57) return -1;
      if (q - a + 1 > 6) return -1;
      q = a - 1;
      while (q > i && t[q] === 32) q--;
      if (t[q] !== 93) return -1;
    }
    let b = q - 1;
    let cpu = 0;
    mul = 1;
    d = t[b]! - 48;
    while (d >= 0 && d <= 9 && b > i) {
      cpu += d * mul;
      mul *= 10;
      d = t[--b]! - 48;
    }
    if (b === q - 1 || t[b] !== 91) return -1;
    pre.cpu = cpu;
    q = b - 1;
    while (q > i && t[q] === 32) q--;
    return this.taskPid(t, i, q) ? body : -1;
  }

  /** `comm-pid` ending at q (trace-cmd: after an optional `<instance>: `) into `pre`. */
  private taskPid(t: Uint8Array, i: number, q: number): boolean {
    const pe = q;
    let pid = 0;
    let mul = 1;
    let d = t[q]! - 48;
    while (d >= 0 && d <= 9 && q > i) {
      pid += d * mul;
      mul *= 10;
      d = t[--q]! - 48;
    }
    if (q === pe || t[q] !== 45) return false;
    const commE = q;
    let commS = i;
    if (this.traceCmd) {
      let x = i;
      while (x < q && t[x] !== 32 && t[x] !== 58) x++;
      if (x < q && t[x] === 58 && t[x + 1] === 32) {
        x++;
        while (x < q && t[x] === 32) x++;
        commS = x;
      }
    }
    const pre = this.pre;
    pre.pid = pid;
    pre.commS = commS;
    pre.commE = commE;
    return commE > commS;
  }

  /** Check the body t[p, e) of a common event without interning anything; its fields stay in this object. */
  private body(t: Uint8Array, p: number, e: number, rq: boolean, done: boolean, split: boolean): boolean {
    const scan = this.scan;
    // M,m RWBS
    this.major = scan.decAt(t, p, e);
    if (this.major < 0 || t[scan.decEnd] !== 44) return false;
    this.minor = scan.decAt(t, scan.decEnd + 1, e);
    if (this.minor < 0 || t[scan.decEnd] !== 32) return false;
    p = scan.decEnd;
    while (p < e && t[p] === 32) p++;
    this.rwbsS = p;
    while (p < e && t[p] !== 32) p++;
    this.rwbsE = p;
    while (p < e && t[p] === 32) p++;
    this.bytes = NONE;
    if (rq) {
      this.bytes = scan.decAt(t, p, e);
      p = scan.decEnd;
      if (this.bytes < 0 || t[p] !== 32) return false;
      p++;
    }
    if (rq || done) {
      // (cmd)
      if (t[p] !== 40) return false;
      p = findByte(t, 41, p + 1, e);
      if (p < 0 || t[p + 1] !== 32) return false;
      p += 2;
    }
    this.sector = scan.decAt(t, p, e);
    p = scan.decEnd;
    if (this.sector < 0) return false;
    this.nr = 0;
    this.newSector = NONE;
    if (split) {
      while (p < e && t[p] === 32) p++;
      if (t[p] !== 47) return false;
      p++;
      while (p < e && t[p] === 32) p++;
      this.newSector = scan.decAt(t, p, e);
      p = scan.decEnd;
      if (this.newSector < 0) return false;
    } else {
      if (t[p] !== 32 || t[p + 1] !== 43 || t[p + 2] !== 32) return false;
      this.nr = scan.decAt(t, p + 3, e);
      p = scan.decEnd;
      if (this.nr < 0 || this.nr > 0xffffffff) return false;
    }
    while (p < e && t[p] === 32) p++;
    // [ioprio] of rq events (6.11+): `class,hint,level`
    this.ioprioS = -1;
    if ((rq || done) && p < e && t[p] !== 91) {
      this.ioprioS = p;
      while (p < e && t[p] !== 32) p++;
      this.ioprioE = p;
      while (p < e && t[p] === 32) p++;
    }
    if (t[p] !== 91) return false;
    this.bracket = p;
    return done ? this.errno(t, p, e) : t[e - 1] === 93;
  }

  /** `[error]` at p closing the line, into `error`. */
  private errno(t: Uint8Array, p: number, e: number): boolean {
    const scan = this.scan;
    let x = p + 1;
    const neg = t[x] === 45;
    if (neg) x++;
    const v = scan.decAt(t, x, e);
    if (v < 0 || t[scan.decEnd] !== 93 || scan.decEnd + 1 !== e) return false;
    this.error = neg ? -v : v;
    return this.error >= -32768 && this.error <= 32767;
  }

  /** Intern the checked line's texts in the general path's order (dev, rwbs, ioprio, comm) and add its row. */
  private commit(t: Uint8Array, e: number, tp: number, rq: boolean, done: boolean, split: boolean): boolean {
    const ctx = this.ctx;
    const dev = ctx.devKey(this.major, this.minor);
    const rwbs = ctx.rwbs.lookup(t, this.rwbsS, this.rwbsE);
    if (rwbs < 0) return false;
    const bld = ctx.builder;
    const packed = bld.rwbsOpFlags(rwbs);
    const op = packed & 7;
    const pre = this.pre;
    const row = this.row;
    row.ts = pre.ts;
    row.cpu = pre.cpu;
    row.pid = pre.pid;
    row.dev = dev;
    row.action = ACTION_OF[tp]!;
    row.rwbs = rwbs;
    row.op = op;
    row.flags = packed >> 3;
    if (this.ioprioS >= 0) row.ioprio = ctx.ioprio.lookup(t, this.ioprioS, this.ioprioE);
    row.comm = done ? pre.commKey(ctx.comm, t) : ctx.comm.lookup(t, this.bracket + 1, e - 1);
    const nr = this.nr;
    if (split) {
      row.sector = this.sector;
      row.newSector = this.newSector;
    } else {
      row.sector = op === BlockOp.flush && nr === 0 ? NONE : this.sector;
      row.nrSectors = nr;
      // 4.x printed 0 bytes for file-system requests (only passthrough requests had a count)
      if (rq) row.bytes = this.bytes === 0 && nr > 0 ? NONE : this.bytes;
      if (done) row.error = this.error;
    }
    bld.commit();
    return true;
  }
}
