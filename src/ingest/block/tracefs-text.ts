/**
 * Reader of block tracepoints in ftrace text: the tracefs `trace` / `trace_pipe` files
 * (kernel/trace/trace_output.c line prefix, include/trace/events/block.h TP_printk bodies).
 * The line-prefix and event-body parsers are shared with the trace-cmd report reader.
 *
 * Prefix (6.x default):  `<comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <sec>.<usec>: <event>: <body>`
 *   comm is right-aligned in 16 columns and may contain '-', '/', ':' and spaces (split at the
 *   last '-' before the pid); pid is padded to 7 (6.x) or 5 (older) columns; `(tgid)` appears with
 *   options/record-tgid; the flags column (4 chars before ~5.13, 5 after) disappears with
 *   options/irq-info=0; `<...>` is a comm the saved-cmdlines cache lost.
 * Bodies (block.h, 4.x to 6.18; `[ioprio]` = `class,hint,level` on 6.11+):
 *   bio events     `M,m RWBS sector + nr [comm]`
 *   rq insert/issue/merge  `M,m RWBS bytes (cmd) sector + nr [ioprio] [comm]`
 *   rq complete/requeue/error  `M,m RWBS (cmd) sector + nr [ioprio] [error]`
 *   bio_complete   `M,m RWBS sector + nr [error]`
 *   split          `M,m RWBS sector / new_sector [comm]`
 *   bio_remap      `M,m RWBS sector + nr <- (M,m) old_sector`, rq_remap adds ` nr_bios`
 *   plug `[comm]`, unplug `[comm] depth`
 * Timestamps are seconds with 6 decimals (9 with trace-cmd -t) and are converted to integer
 * nanoseconds with integer arithmetic only.
 */
import { InputError } from '../../util/errors.js';
import type { IngestStats } from '../ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
import { openFileChunks } from '../../io/file-chunks.js';
import { PrefaultPool } from './prefault-pool.js';
import { availableParallelism } from 'node:os';
import { ByteLineFramer } from '../../io/byte-line-framer.js';
import { BlockAction, ByteRangeInterner, EVENT_CHUNK_BYTES, IOPRIO_CLASS_NAMES, NONE, type BlockEventsBuilder } from './block-events-builder.js';
import { BlockOp } from './rwbs.js';

/** Tracepoint ids (0 = not a block tracepoint this reader knows). */
export const BlockTracepoint = {
  unknown: 0,
  bio_queue: 1, getrq: 2, sleeprq: 3, bio_backmerge: 4, bio_frontmerge: 5, bio_bounce: 6,
  rq_insert: 7, rq_issue: 8, rq_merge: 9,
  rq_complete: 10, rq_requeue: 11, rq_error: 12,
  bio_complete: 13, split: 14, bio_remap: 15, rq_remap: 16, plug: 17, unplug: 18,
  // block tracepoints that are not block I/O actions: counted and skipped
  io_start: 19, io_done: 20, touch_buffer: 21, dirty_buffer: 22,
} as const;

const TRACEPOINT_BY_NAME: Record<string, number> = {
  block_bio_queue: BlockTracepoint.bio_queue,
  block_getrq: BlockTracepoint.getrq,
  block_sleeprq: BlockTracepoint.sleeprq,
  block_bio_backmerge: BlockTracepoint.bio_backmerge,
  block_bio_frontmerge: BlockTracepoint.bio_frontmerge,
  block_bio_bounce: BlockTracepoint.bio_bounce,
  block_rq_insert: BlockTracepoint.rq_insert,
  block_rq_issue: BlockTracepoint.rq_issue,
  block_rq_merge: BlockTracepoint.rq_merge,
  block_rq_complete: BlockTracepoint.rq_complete,
  block_rq_requeue: BlockTracepoint.rq_requeue,
  block_rq_error: BlockTracepoint.rq_error,
  block_bio_complete: BlockTracepoint.bio_complete,
  block_split: BlockTracepoint.split,
  block_bio_remap: BlockTracepoint.bio_remap,
  block_rq_remap: BlockTracepoint.rq_remap,
  block_plug: BlockTracepoint.plug,
  block_unplug: BlockTracepoint.unplug,
  block_io_start: BlockTracepoint.io_start,
  block_io_done: BlockTracepoint.io_done,
  block_touch_buffer: BlockTracepoint.touch_buffer,
  block_dirty_buffer: BlockTracepoint.dirty_buffer,
};

/** Known names by length, as bytes: a name is found by comparing bytes, without hashing. */
const NAMES_BY_LENGTH: { bytes: Uint8Array; id: number }[][] = [];
for (const [name, id] of Object.entries(TRACEPOINT_BY_NAME)) {
  (NAMES_BY_LENGTH[name.length] ??= []).push({ bytes: new TextEncoder().encode(name), id });
}

/** Id of the tracepoint named t[s, e) (BlockTracepoint.unknown for any other event). */
function tracepointId(ctx: BlockTextContext, t: Uint8Array, s: number, e: number): number {
  const candidates = NAMES_BY_LENGTH[e - s];
  if (candidates !== undefined) {
    for (let c = 0; c < candidates.length; c++) {
      const n = candidates[c]!.bytes;
      // every name starts with "block_": compare from the end, where the names differ
      let k = n.length - 1;
      while (k >= 0 && n[k] === t[s + k]) k--;
      if (k < 0) return candidates[c]!.id;
    }
  }
  return ctx.tracepoint.lookup(t, s, e);
}

/** blkparse action letter (block_events action key) per tracepoint id. */
const ACTION_OF: number[] = [];
ACTION_OF[BlockTracepoint.bio_queue] = BlockAction.Q;
ACTION_OF[BlockTracepoint.getrq] = BlockAction.G;
ACTION_OF[BlockTracepoint.sleeprq] = BlockAction.S;
ACTION_OF[BlockTracepoint.bio_backmerge] = BlockAction.M;
ACTION_OF[BlockTracepoint.bio_frontmerge] = BlockAction.F;
ACTION_OF[BlockTracepoint.bio_bounce] = BlockAction.B;
ACTION_OF[BlockTracepoint.rq_insert] = BlockAction.I;
ACTION_OF[BlockTracepoint.rq_issue] = BlockAction.D;
ACTION_OF[BlockTracepoint.rq_merge] = BlockAction.T;
ACTION_OF[BlockTracepoint.rq_complete] = BlockAction.C;
ACTION_OF[BlockTracepoint.rq_requeue] = BlockAction.R;
ACTION_OF[BlockTracepoint.bio_complete] = BlockAction.C;
ACTION_OF[BlockTracepoint.split] = BlockAction.X;
ACTION_OF[BlockTracepoint.bio_remap] = BlockAction.A;
ACTION_OF[BlockTracepoint.rq_remap] = BlockAction.A;
ACTION_OF[BlockTracepoint.plug] = BlockAction.P;
ACTION_OF[BlockTracepoint.unplug] = BlockAction.U;

const SKIPPED_TRACEPOINT: Record<number, string> = {
  [BlockTracepoint.io_start]: 'block_io_start (request accounting start, duplicates insert/issue)',
  [BlockTracepoint.io_done]: 'block_io_done (request accounting end, duplicates complete)',
  [BlockTracepoint.touch_buffer]: 'block_touch_buffer (buffer-head access, not a block I/O)',
  [BlockTracepoint.dirty_buffer]: 'block_dirty_buffer (buffer-head dirtied, not a block I/O)',
  [BlockTracepoint.rq_error]: 'block_rq_error (a failed request; block_rq_complete reports it too)',
};

const SKIPPED_COUNTER: Record<number, string> = Object.fromEntries(
  Object.entries(SKIPPED_TRACEPOINT).map(([k, v]) => [k, 'block_text.skipped_' + v.split(' ')[0]]),
);

// ---------------------------------------------------------------------------------------------
// Cursor state of the field parsers: module-level scalars instead of result objects, so that a
// line is parsed without allocating (one reader runs at a time: parsing is synchronous per line).

/** Cursor: position in the current line. */
let P = 0;
/** The value of the last readDec/readSigned that returned BIG_VALUE. */
let BIG = 0n;
/** Returned by readDec when the value does not fit a safe integer (then BIG holds it). */
const BIG_VALUE = -2;

function skipSpaces(t: Uint8Array, e: number): void {
  while (P < e && t[P]! === 32) P++;
}

/** Unsigned decimal at P: the value, -1 when no digit, BIG_VALUE beyond 15 digits (see BIG). */
function readDec(t: Uint8Array, e: number): number {
  const s = P;
  let v = 0;
  while (P < e) {
    const c = t[P]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    P++;
  }
  if (P === s) return -1;
  if (P - s > 15) {
    BIG = BigInt(latin1(t, s, P));
    if (BIG <= 9007199254740991n) return Number(BIG);
    return BIG_VALUE;
  }
  return v;
}

/** Signed decimal at P (errno values): the value, or NaN when there is none. */
function readSigned(t: Uint8Array, e: number): number {
  let neg = false;
  if (P < e && t[P]! === 45) { neg = true; P++; }
  const v = readDec(t, e);
  if (v < 0) return NaN;
  return neg ? -v : v;
}

function expect(t: Uint8Array, c: number): boolean {
  if (t[P]! === c) { P++; return true; }
  return false;
}

/** The first ": " in t[from, e), or -1 (a bounded scan: a line without one costs its length only). */
function colonSpace(t: Uint8Array, from: number, e: number): number {
  for (let c = from; c + 1 < e; c++) if (t[c] === 58 && t[c + 1] === 32) return c;
  return -1;
}

/** The last byte `b` in t[stop, from], or -1. */
export function findByteBack(t: Uint8Array, b: number, from: number, stop: number): number {
  for (let i = from; i >= stop; i--) if (t[i] === b) return i;
  return -1;
}

/** The first byte `b` in t[from, e), or -1. */
export function findByte(t: Uint8Array, b: number, from: number, e: number): number {
  for (let i = from; i < e; i++) if (t[i] === b) return i;
  return -1;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
/** Text of a byte range (for messages and examples, off the hot path). */
export function textOf(t: Uint8Array, s: number, e: number): string { return utf8.decode(t.subarray(s, e)); }
/** ASCII digits of a byte range as a string (for BigInt). */
function latin1(t: Uint8Array, s: number, e: number): string { return String.fromCharCode(...t.subarray(s, e)); }

// ---------------------------------------------------------------------------------------------

/** Interners and counters of one reader run over one file. */
export class BlockTextContext {
  readonly comm: ByteRangeInterner;
  readonly rwbs: ByteRangeInterner;
  readonly ioprio: ByteRangeInterner;
  readonly tracepoint: ByteRangeInterner;
  private lastMajor = -1;
  private lastMinor = -1;
  private lastDevKey = -1;
  /** Lines read, events written, lines skipped as known non-I/O records. */
  lines = 0;
  events = 0;
  bad = 0;
  ignored = 0;
  constructor(readonly builder: BlockEventsBuilder, readonly stats: IngestStats, readonly file: string) {
    this.comm = builder.commByteInterner();
    this.rwbs = builder.rwbsByteInterner();
    this.ioprio = new ByteRangeInterner((raw) => builder.internIoprio(normaliseIoprio(raw)), 4096);
    this.tracepoint = new ByteRangeInterner((raw) => TRACEPOINT_BY_NAME[raw] ?? BlockTracepoint.unknown, 256);
  }

  devKey(major: number, minor: number): number {
    if (major === this.lastMajor && minor === this.lastMinor) return this.lastDevKey;
    this.lastMajor = major; this.lastMinor = minor;
    this.lastDevKey = this.builder.internDev(major, minor);
    return this.lastDevKey;
  }

  /** Count a line that could not be used, with its file:line and text. */
  problem(name: string, description: string, t: Uint8Array, s: number, e: number, lineNo: number, severity: 'info' | 'data_loss' = 'data_loss'): void {
    if (severity === 'data_loss') this.bad++; else this.ignored++;
    this.stats.count(name, severity, description, { file: this.file, line: lineNo, text: textOf(t, s, Math.min(e, s + 200)) });
  }
}

/** `class,hint,level` with the class as a name; trace-cmd prints the class number in hex (0x2,0,4). */
export function normaliseIoprio(raw: string): string {
  if (/^\d+$/.test(raw)) {
    // IOPRIO_PRIO_VALUE (include/uapi/linux/ioprio.h): class in bits 13-15, hint 3-12, level 0-2
    const v = Number(raw);
    if (v > 0xffff) return 'invalid';
    return `${IOPRIO_CLASS_NAMES[v >> 13]!},${(v >> 3) & 0x3ff},${v & 7}`;
  }
  if (raw.startsWith('0x')) {
    const comma = raw.indexOf(',');
    const cls = Number.parseInt(raw.slice(2, comma < 0 ? raw.length : comma), 16);
    const name = Number.isInteger(cls) && cls >= 0 && cls < 8 ? IOPRIO_CLASS_NAMES[cls]! : 'invalid';
    return comma < 0 ? name : name + raw.slice(comma);
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// The ftrace line prefix. Results in module scalars (see P above).

let PID = 0;
let CPU = 0;
let COMM_S = 0;
let COMM_E = 0;
let TS = 0;
let TS_BIG: bigint | null = null;
let EV_S = 0;
let EV_E = 0;
/** Offset of the timestamp's colon in the previous line (the first place to look in the next). */
let COLON_AT = 0;
/** The last timestamp had no decimal point (a counter clock): stored as printed. */
let RAW_TS = false;

/** The prefix of the line being parsed (one shared object, updated in place: no object per line). */
export interface FtracePrefix { ts: number | bigint; cpu: number; pid: number; commS: number; commE: number }
const PREFIX: FtracePrefix = { ts: 0, cpu: 0, pid: 0, commS: 0, commE: 0 };
/** The prefix values of the line last parsed by parseFtracePrefix (valid until the next line). */
export function currentPrefix(): FtracePrefix {
  PREFIX.ts = TS_BIG ?? TS; PREFIX.cpu = CPU; PREFIX.pid = PID; PREFIX.commS = COMM_S; PREFIX.commE = COMM_E;
  return PREFIX;
}

/** True for 0-9. */
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }

/**
 * Parse the ftrace prefix of t[s, e). Returns the position of the event body, or -1 when the
 * line has no `<ts>: <event>:` part. `traceCmd` accepts trace-cmd's `<instance>:` line prefix and
 * its `-l` latency column (`0.....`: cpu digits then flags, no brackets).
 */
export function parseFtracePrefix(t: Uint8Array, s: number, e: number, traceCmd: boolean): number {
  let i = s;
  while (i < e && t[i]! === 32) i++;
  // the timestamp is the first "<digits>.<digits>: " (or "<digits>: " for counter clocks); the
  // prefix columns have fixed widths, so the colon of the previous line is tried first
  const guess = s + COLON_AT;
  let c = -1;
  let k = -1;
  if (COLON_AT > 0 && guess + 1 < e && t[guess] === 58 && t[guess + 1] === 32) {
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
  COLON_AT = c - s;
  // timestamp t[k+1, c)
  if (!parseTimestamp(t, k + 1, c)) return -1;
  // event name up to the next ':'
  EV_S = c + 2;
  let colon = EV_S;
  while (colon < e && t[colon]! !== 58 && t[colon]! !== 32) colon++;
  if (colon >= e || t[colon]! !== 58 || colon === EV_S) return -1;
  EV_E = colon;
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
      while (d <= q && isDigit(t[d]!)) { v = v * 10 + t[d]! - 48; d++; }
      CPU = v;
      q = a - 1;
      while (q > i && t[q]! === 32) q--;
      return finishTaskPid(t, i, q, traceCmd) ? body : -1;
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
  while (b > i && isDigit(t[b]!)) { v += (t[b]! - 48) * mul; mul *= 10; b--; }
  if (b === q - 1 || t[b]! !== 91 /* [ */) return -1;
  CPU = v;
  q = b - 1;
  while (q > i && t[q]! === 32) q--;
  return finishTaskPid(t, i, q, traceCmd) ? body : -1;
}

/** Where the timestamp ending at the colon c starts (the space before it), or -1 when t[.., c) is no timestamp. */
function timestampStart(t: Uint8Array, i: number, c: number): number {
  let k = c - 1;
  let dots = 0;
  while (k >= i) {
    const ch = t[k]!;
    if (ch === 46) { if (++dots > 1) break; } else if (!isDigit(ch)) break;
    k--;
  }
  return k < c - 1 && k >= i && t[k]! === 32 && isDigit(t[k + 1]!) && isDigit(t[c - 1]!) ? k : -1;
}

/** TASK-PID ending at q (inclusive), optionally followed by `(tgid)`; sets PID, COMM_S, COMM_E. */
function finishTaskPid(t: Uint8Array, i: number, q: number, traceCmd: boolean): boolean {
  if (t[q]! === 41 /* ) */) {
    const open = findByteBack(t, 40 /* ( */, q, i);
    if (open <= i) return false;
    q = open - 1;
    while (q > i && t[q]! === 32) q--;
  }
  let v = 0;
  let mul = 1;
  const pe = q;
  while (q > i && isDigit(t[q]!)) { v += (t[q]! - 48) * mul; mul *= 10; q--; }
  if (q === pe || t[q]! !== 45 /* - */) return false;
  PID = v;
  COMM_E = q;
  COMM_S = i;
  if (traceCmd) {
    // "<instance>: <comm>": an instance name has no spaces and is followed by ':' and spaces
    let x = i;
    while (x < q && t[x]! !== 32 && t[x]! !== 58) x++;
    if (x < q && t[x]! === 58 && t[x + 1]! === 32) {
      x++;
      while (x < q && t[x]! === 32) x++;
      COMM_S = x;
    }
  }
  return COMM_E > COMM_S;
}

/** Seconds with 0..9 decimals in t[s, e) to integer nanoseconds in TS (or TS_BIG). */
function parseTimestamp(t: Uint8Array, s: number, e: number): boolean {
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
  RAW_TS = i === e;
  if (RAW_TS) {
    // no decimal point: a counter trace clock (x86-tsc, counter) printed as a raw count
    if (secDigits <= 15) { TS = sec; TS_BIG = null; return true; }
    TS_BIG = BigInt(latin1(t, s, e));
    if (TS_BIG > 0x7fffffffffffffffn) return false;
    TS = -1;
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
  if (sec < 9007199) { TS = sec * 1e9 + frac; TS_BIG = null; } else { TS_BIG = BigInt(sec) * 1000000000n + BigInt(frac); TS = -1; }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Event bodies

/**
 * Parse the body t[p, e) of a block tracepoint `tp` and add the event. The prefix values (ts,
 * cpu, pid, comm range) come from the module scalars set by the prefix parser. Returns false
 * when the body does not match the tracepoint's format (nothing is added then).
 */
export function addBlockEvent(ctx: BlockTextContext, tp: number, t: Uint8Array, p: number, e: number): boolean {
  const b = ctx.builder;
  const ts: number | bigint = TS_BIG ?? TS;
  P = p;
  if (tp === BlockTracepoint.plug || tp === BlockTracepoint.unplug) {
    // [comm] or [comm] depth
    if (!expect(t, 91)) return false;
    let close: number;
    let depth = NONE;
    if (tp === BlockTracepoint.plug) {
      close = e - 1;
      if (t[close]! !== 93) return false;
    } else {
      close = findByteBack(t, 93 /* ] */, e - 1, P);
      if (close < P) return false;
      P = close + 1;
      skipSpaces(t, e);
      depth = readDec(t, e);
      if (depth < 0 || P !== e) return false;
    }
    const comm = ctx.comm.lookup(t, p + 1, close);
    b.add(ts, CPU, PID, comm, NONE, ACTION_OF[tp]!, NONE, BlockOp.other, 0, NONE, 0, 0, null, NONE, NONE, depth, NONE);
    return true;
  }
  // M,m RWBS
  const major = readDec(t, e);
  if (major < 0 || !expect(t, 44)) return false;
  const minor = readDec(t, e);
  if (minor < 0 || !expect(t, 32)) return false;
  const dev = ctx.devKey(major, minor);
  skipSpaces(t, e);
  const rs = P;
  while (P < e && t[P]! !== 32) P++;
  const rwbs = ctx.rwbs.lookup(t, rs, P);
  if (rwbs < 0) return false;
  const packed = b.rwbsOpFlags(rwbs);
  const op = packed & 7;
  const flags = packed >> 3;
  skipSpaces(t, e);
  let bytes = NONE;
  switch (tp) {
    case BlockTracepoint.rq_insert: case BlockTracepoint.rq_issue: case BlockTracepoint.rq_merge: {
      bytes = readDec(t, e);
      if (bytes < 0 || !expect(t, 32)) return false;
      if (!skipCmd(t, e)) return false;
      // fallthrough to the sector range, then [ioprio] [comm]
      const sector = readSectorRange(t, e);
      if (sector === FAIL) return false;
      const nr = NR;
      const ioprio = readIoprio(ctx, t, e);
      const comm = readBracketComm(ctx, t, e);
      if (comm === FAIL) return false;
      // 4.x printed 0 bytes for file-system requests (only passthrough requests had a count)
      if (bytes === 0 && nr > 0) bytes = NONE;
      b.add(ts, CPU, PID, comm, dev, ACTION_OF[tp]!, rwbs, op, flags, flushSector(op, nr, sector), nr, bytes, null, NONE, NONE, NONE, ioprio);
      return true;
    }
    case BlockTracepoint.rq_complete: case BlockTracepoint.rq_requeue: {
      if (!skipCmd(t, e)) return false;
      const sector = readSectorRange(t, e);
      if (sector === FAIL) return false;
      const nr = NR;
      const ioprio = readIoprio(ctx, t, e);
      const error = readBracketNumber(t, e);
      if (Number.isNaN(error)) return false;
      b.add(ts, CPU, PID, prefixCommKey(ctx, t), dev, ACTION_OF[tp]!, rwbs, op, flags, flushSector(op, nr, sector), nr, NONE, error, NONE, NONE, NONE, ioprio);
      return true;
    }
    case BlockTracepoint.bio_complete: {
      const sector = readSectorRange(t, e);
      if (sector === FAIL) return false;
      const nr = NR;
      const error = readBracketNumber(t, e);
      if (Number.isNaN(error)) return false;
      b.add(ts, CPU, PID, prefixCommKey(ctx, t), dev, BlockAction.C, rwbs, op, flags, flushSector(op, nr, sector), nr, NONE, error, NONE, NONE, NONE, NONE);
      return true;
    }
    case BlockTracepoint.split: {
      const sector = readU64(t, e);
      if (sector === FAIL) return false;
      skipSpaces(t, e);
      if (!expect(t, 47 /* / */)) return false;
      skipSpaces(t, e);
      const newSector = readU64(t, e);
      if (newSector === FAIL) return false;
      skipSpaces(t, e);
      const comm = readBracketComm(ctx, t, e);
      if (comm === FAIL) return false;
      b.add(ts, CPU, PID, comm, dev, BlockAction.X, rwbs, op, flags, sector, 0, 0, null, newSector, NONE, NONE, NONE);
      return true;
    }
    case BlockTracepoint.bio_remap: case BlockTracepoint.rq_remap: {
      const sector = readSectorRange(t, e);
      if (sector === FAIL) return false;
      const nr = NR;
      if (!(expect(t, 60) && expect(t, 45) && expect(t, 32) && expect(t, 40))) return false; // "<- ("
      const oMajor = readDec(t, e);
      if (oMajor < 0 || !expect(t, 44)) return false;
      const oMinor = readDec(t, e);
      if (oMinor < 0 || !expect(t, 41) || !expect(t, 32)) return false;
      const oldSector = readU64(t, e);
      if (oldSector === FAIL) return false;
      let nrBios = NONE;
      if (tp === BlockTracepoint.rq_remap) {
        skipSpaces(t, e);
        nrBios = readDec(t, e);
        if (nrBios < 0) return false;
      }
      if (P !== e) return false;
      b.add(ts, CPU, PID, prefixCommKey(ctx, t), dev, BlockAction.A, rwbs, op, flags, sector, nr, NONE, null, oldSector, ctx.devKey(oMajor, oMinor), nrBios, NONE);
      return true;
    }
    default: {
      // bio_queue, getrq, sleeprq, backmerge, frontmerge, bounce: sector + nr [comm]
      const sector = readSectorRange(t, e);
      if (sector === FAIL) return false;
      const nr = NR;
      const comm = readBracketComm(ctx, t, e);
      if (comm === FAIL) return false;
      b.add(ts, CPU, PID, comm, dev, ACTION_OF[tp]!, rwbs, op, flags, sector, nr, NONE, null, NONE, NONE, NONE, NONE);
      return true;
    }
  }
}

/** The comm of the line prefix (resolved when the trace was read; `<...>` = unknown → NONE). */
function prefixCommKey(ctx: BlockTextContext, t: Uint8Array): number {
  return COMM_E - COMM_S === 5 && t[COMM_S]! === 60 /* < */ && t[COMM_S + 1] === 46 && t[COMM_S + 4] === 62 ? NONE : ctx.comm.lookup(t, COMM_S, COMM_E);
}

/** A failed field (distinct from NONE = -1 and from every valid value). */
const FAIL = -3;
/** nr_sectors of the last readSectorRange. */
let NR = 0;

/** `sector + nr ` at P: the sector (number, bigint beyond 2^53) or FAIL; NR gets nr. */
function readSectorRange(t: Uint8Array, e: number): number | bigint {
  const sector = readU64(t, e);
  if (sector === FAIL) return FAIL;
  if (!(expect(t, 32) && expect(t, 43) && expect(t, 32))) return FAIL;
  const nr = readDec(t, e);
  if (nr < 0 || nr > 0xffffffff) return FAIL;
  NR = nr;
  skipSpaces(t, e);
  return sector;
}

/** An unsigned 64-bit decimal at P: number, bigint beyond 2^53, FAIL beyond 2^64-1 or none. */
function readU64(t: Uint8Array, e: number): number | bigint {
  const v = readDec(t, e);
  if (v === -1) return FAIL;
  if (v === BIG_VALUE) return BIG > 0xffffffffffffffffn ? FAIL : BIG;
  return v;
}

/** Flush requests print sector 0 (issue) or (sector_t)-1 (complete) and no length: no sector. */
function flushSector(op: number, nr: number, sector: number | bigint): number | bigint {
  return op === BlockOp.flush && nr === 0 ? NONE : sector;
}

/** `(cmd) ` at P: empty on 5.x/6.x, a hex dump of a passthrough command on 4.x. */
function skipCmd(t: Uint8Array, e: number): boolean {
  if (!expect(t, 40)) return false;
  const close = findByte(t, 41 /* ) */, P, e);
  if (close < 0) return false;
  P = close + 1;
  return expect(t, 32);
}

/** An optional ioprio `class,hint,level ` at P (6.11+): its key or NONE. */
function readIoprio(ctx: BlockTextContext, t: Uint8Array, e: number): number {
  if (P >= e || t[P]! === 91) return NONE;
  const s = P;
  while (P < e && t[P]! !== 32) P++;
  const key = ctx.ioprio.lookup(t, s, P);
  skipSpaces(t, e);
  return key;
}

/** `[comm]` closing the line: the comm key, or FAIL. */
function readBracketComm(ctx: BlockTextContext, t: Uint8Array, e: number): number {
  if (!expect(t, 91) || t[e - 1]! !== 93) return FAIL;
  const key = ctx.comm.lookup(t, P, e - 1);
  P = e;
  return key;
}

/** `[n]` closing the line (an errno), or NaN. */
function readBracketNumber(t: Uint8Array, e: number): number {
  if (!expect(t, 91)) return NaN;
  const v = readSigned(t, e);
  if (!expect(t, 93) || P !== e || v < -32768 || v > 32767) return NaN;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Fast path: the common event lines in one pass with local cursors (bio queue/getrq/merges,
// rq insert/issue/merge/complete/requeue, split; `comm-pid [cpu] flags sec.frac: ` prefix,
// values below 2^53). It accepts exactly what the general path above accepts for those shapes
// and gives the same row; any other shape (tgid column, -l latency column, counter clocks,
// 16+ digit numbers, raw fields, plug/unplug, remap, bio_complete) returns false and the line
// goes to the general path. Nothing is interned before the whole line has been checked, so a
// line the fast path gives up on leaves no trace in the dictionaries.

/** Switch for the fast paths of the text readers (tests run both paths and compare the tables). */
export const blockTextFastPath = { enabled: true };

/** 10^k, k = 0..9 (scales a fraction of 1..9 digits to nanoseconds). */
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
/** End of the number read by decAt (module scalar: set once per number, not per byte; read by blkparse-text too). */
export let DEC_END = 0;

/** Unsigned decimal of 1..15 digits at p: the value (DEC_END after it), or -1. */
export function decAt(t: Uint8Array, p: number, e: number): number {
  let v = 0;
  let q = p;
  while (q < e) {
    const c = t[q]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    q++;
  }
  DEC_END = q;
  return q === p || q - p > 15 ? -1 : v;
}

/** Device numbers read by majMinAt. */
export let MAJ = 0;
export let MIN = 0;

/** "MAJ,MIN " at p (both unsigned decimals, as the kernel prints a dev_t): true with MAJ, MIN set and DEC_END at the space. */
export function majMinAt(t: Uint8Array, p: number, e: number): boolean {
  const major = decAt(t, p, e);
  if (major < 0 || t[DEC_END] !== 44) return false;
  const minor = decAt(t, DEC_END + 1, e);
  if (minor < 0 || t[DEC_END] !== 32) return false;
  MAJ = major; MIN = minor;
  return true;
}

/** True when the line was a common block event and was added; false leaves it to the general path. */
function fastFtraceLine(ctx: BlockTextContext, t: Uint8Array, s: number, e: number, traceCmd: boolean): boolean {
  // the timestamp's ": " where the previous line had it (fixed-width prefix columns)
  const c = s + COLON_AT;
  if (COLON_AT === 0 || c + 2 >= e || t[c] !== 58 || t[c + 1] !== 32) return false;
  let i = s;
  while (t[i] === 32) i++;
  // timestamp "<sec>.<frac>" ending at c, read backwards
  let k = c - 1;
  let frac = 0;
  let mul = 1;
  let d = t[k]! - 48;
  while (d >= 0 && d <= 9) { frac += d * mul; mul *= 10; d = t[--k]! - 48; }
  const fd = c - 1 - k;
  if (fd === 0 || fd > 9 || t[k] !== 46) return false;
  const dot = k;
  k--;
  let sec = 0;
  mul = 1;
  d = t[k]! - 48;
  while (d >= 0 && d <= 9 && k > i) { sec += d * mul; mul *= 10; d = t[--k]! - 48; }
  if (k === dot - 1 || dot - 1 - k > 15 || t[k] !== 32 || k < i || sec >= 9007199) return false;
  const ts = sec * 1e9 + frac * POW10[9 - fd]!;
  // event name up to ':'
  const evS = c + 2;
  let p = evS;
  while (p < e && t[p] !== 58 && t[p] !== 32) p++;
  if (p >= e || t[p] !== 58 || p === evS) return false;
  const evE = p;
  p++;
  while (p < e && t[p] === 32) p++;
  const body = p;
  // backwards from the timestamp: [flags] [cpu] pid '-' comm
  let q = k;
  while (q > i && t[q] === 32) q--;
  if (t[q] !== 93) {
    let a = q;
    while (a > i && t[a - 1] !== 32) a--;
    if (traceCmd && t[a]! >= 48 && t[a]! <= 57) return false;
    if (q - a + 1 > 6) return false;
    q = a - 1;
    while (q > i && t[q] === 32) q--;
    if (t[q] !== 93) return false;
  }
  let b = q - 1;
  let cpu = 0;
  mul = 1;
  d = t[b]! - 48;
  while (d >= 0 && d <= 9 && b > i) { cpu += d * mul; mul *= 10; d = t[--b]! - 48; }
  if (b === q - 1 || t[b] !== 91) return false;
  q = b - 1;
  while (q > i && t[q] === 32) q--;
  const pe = q;
  let pid = 0;
  mul = 1;
  d = t[q]! - 48;
  while (d >= 0 && d <= 9 && q > i) { pid += d * mul; mul *= 10; d = t[--q]! - 48; }
  if (q === pe || t[q] !== 45) return false;
  const commE = q;
  let commS = i;
  if (traceCmd) {
    let x = i;
    while (x < q && t[x] !== 32 && t[x] !== 58) x++;
    if (x < q && t[x] === 58 && t[x + 1] === 32) {
      x++;
      while (x < q && t[x] === 32) x++;
      commS = x;
    }
  }
  if (commE <= commS) return false;

  const tp = tracepointId(ctx, t, evS, evE);
  const rq = tp === BlockTracepoint.rq_insert || tp === BlockTracepoint.rq_issue || tp === BlockTracepoint.rq_merge;
  const done = tp === BlockTracepoint.rq_complete || tp === BlockTracepoint.rq_requeue;
  const split = tp === BlockTracepoint.split;
  if (!(rq || done || split || (tp >= BlockTracepoint.bio_queue && tp <= BlockTracepoint.bio_bounce))) return false;

  // M,m RWBS
  if (!majMinAt(t, body, e)) return false;
  const major = MAJ, minor = MIN;
  p = DEC_END;
  while (p < e && t[p] === 32) p++;
  const rs = p;
  while (p < e && t[p] !== 32) p++;
  const re = p;
  while (p < e && t[p] === 32) p++;
  let bytes = NONE;
  if (rq) {
    bytes = decAt(t, p, e);
    p = DEC_END;
    if (bytes < 0 || t[p] !== 32) return false;
    p++;
  }
  if (rq || done) {
    // (cmd)
    if (t[p] !== 40) return false;
    p = findByte(t, 41, p + 1, e);
    if (p < 0 || t[p + 1] !== 32) return false;
    p += 2;
  }
  const sector = decAt(t, p, e);
  p = DEC_END;
  if (sector < 0) return false;
  let nr = 0;
  let newSector = NONE;
  if (split) {
    while (p < e && t[p] === 32) p++;
    if (t[p] !== 47) return false;
    p++;
    while (p < e && t[p] === 32) p++;
    newSector = decAt(t, p, e);
    p = DEC_END;
    if (newSector < 0) return false;
  } else {
    if (t[p] !== 32 || t[p + 1] !== 43 || t[p + 2] !== 32) return false;
    nr = decAt(t, p + 3, e);
    p = DEC_END;
    if (nr < 0 || nr > 0xffffffff) return false;
  }
  while (p < e && t[p] === 32) p++;
  // [ioprio] of rq events (6.11+): `class,hint,level`
  let ios = -1;
  let ioe = -1;
  if ((rq || done) && p < e && t[p] !== 91) {
    ios = p;
    while (p < e && t[p] !== 32) p++;
    ioe = p;
    while (p < e && t[p] === 32) p++;
  }
  if (t[p] !== 91) return false;
  let error = 0;
  if (done) {
    // [error] closes the line
    let x = p + 1;
    const neg = t[x] === 45;
    if (neg) x++;
    const v = decAt(t, x, e);
    if (v < 0 || t[DEC_END] !== 93 || DEC_END + 1 !== e) return false;
    error = neg ? -v : v;
    if (error < -32768 || error > 32767) return false;
  } else if (t[e - 1] !== 93) return false;

  // the line is valid: intern in the general path's order (dev, rwbs, ioprio, comm)
  const dev = ctx.devKey(major, minor);
  const rwbs = ctx.rwbs.lookup(t, rs, re);
  if (rwbs < 0) return false;
  const bld = ctx.builder;
  const packed = bld.rwbsOpFlags(rwbs);
  const op = packed & 7;
  const flags = packed >> 3;
  const ioprio = ios >= 0 ? ctx.ioprio.lookup(t, ios, ioe) : NONE;
  const comm = done
    ? (commE - commS === 5 && t[commS] === 60 && t[commS + 1] === 46 && t[commS + 4] === 62 ? NONE : ctx.comm.lookup(t, commS, commE))
    : ctx.comm.lookup(t, p + 1, e - 1);
  const action = ACTION_OF[tp]!;
  if (split) {
    bld.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, 0, 0, null, newSector, NONE, NONE, NONE);
  } else if (rq) {
    // 4.x printed 0 bytes for file-system requests (only passthrough requests had a count)
    if (bytes === 0 && nr > 0) bytes = NONE;
    bld.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, op === BlockOp.flush && nr === 0 ? NONE : sector, nr, bytes, null, NONE, NONE, NONE, ioprio);
  } else if (done) {
    bld.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, op === BlockOp.flush && nr === 0 ? NONE : sector, nr, NONE, error, NONE, NONE, NONE, ioprio);
  } else {
    bld.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, nr, NONE, null, NONE, NONE, NONE, NONE);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The tracefs reader

/** What one file contributed. */
export interface BlockTextFileSummary {
  file: string;
  format: string;
  lines: number;
  events: number;
  /** Lines that could not be used (counted in IngestStats with their reasons). */
  bad: number;
  /** Records skipped on purpose (other tracepoints, header lines). */
  ignored: number;
}

/** A line handler that also reports the end of the input. */
export interface BlockTextLineParser {
  readonly ctx: BlockTextContext;
  line(t: Uint8Array, s: number, e: number, lineNo: number): void;
  /** Called after the last line: throws InputError when the file had nothing usable. */
  finish(): BlockTextFileSummary;
}

/** Parses tracefs `trace` / `trace_pipe` lines into a BlockEventsBuilder. */
export class TracefsTextParser implements BlockTextLineParser {
  readonly ctx: BlockTextContext;
  private firstBad = '';
  private firstBadLine = 0;
  constructor(builder: BlockEventsBuilder, stats: IngestStats, file: string, private readonly traceCmd = false) {
    this.ctx = new BlockTextContext(builder, stats, file);
  }

  line(t: Uint8Array, s: number, e: number, lineNo: number): void {
    const ctx = this.ctx;
    ctx.lines++;
    while (e > s && t[e - 1]! === 32) e--;
    if (e === s) return;
    if (blockTextFastPath.enabled && fastFtraceLine(ctx, t, s, e, this.traceCmd)) { ctx.events++; return; }
    const body = parseFtracePrefix(t, s, e, this.traceCmd);
    if (body < 0) {
      if (this.headerLine(t, s, e, lineNo)) return;
      if (!this.firstBad) { this.firstBad = textOf(t, s, Math.min(e, s + 120)); this.firstBadLine = lineNo; }
      ctx.problem('block_text.unparsable_line', 'line is not an ftrace event line', t, s, e, lineNo);
      return;
    }
    const tp = tracepointId(ctx, t, EV_S, EV_E);
    if (tp === BlockTracepoint.unknown) {
      ctx.problem('block_text.other_tracepoint', 'event is not a block I/O tracepoint (skipped)', t, s, e, lineNo, 'info');
      return;
    }
    const skipped = SKIPPED_TRACEPOINT[tp];
    if (skipped !== undefined) {
      ctx.problem(SKIPPED_COUNTER[tp]!, skipped + ': skipped', t, s, e, lineNo, 'info');
      return;
    }
    if (RAW_TS) {
      const name = 'block_text.counter_clock_timestamps';
      ctx.stats.count(name, 'info', 'timestamps without a decimal point (a counter trace clock such as x86-tsc or counter): stored as printed, not nanoseconds',
        ctx.stats.get(name) < 5 ? { file: ctx.file, line: lineNo, text: textOf(t, s, Math.min(e, s + 200)) } : undefined);
    }
    if (this.body(tp, t, body, e)) ctx.events++;
    else ctx.problem('block_text.bad_event_fields', 'block event text does not match the tracepoint format', t, s, e, lineNo);
  }

  /** Parse an event body; trace-cmd overrides it for raw (-R) fields. */
  protected body(tp: number, t: Uint8Array, p: number, e: number): boolean {
    return addBlockEvent(this.ctx, tp, t, p, e);
  }

  /** Header, comment and marker lines of the ftrace output; true when the line was one. */
  protected headerLine(t: Uint8Array, s: number, e: number, lineNo: number): boolean {
    const ctx = this.ctx;
    let i = s;
    while (i < e && t[i]! === 32) i++;
    if (t[i]! === 35 /* # */) {
      // "# entries-in-buffer/entries-written: 1089/1089   #P:2": written > in buffer = overwritten
      const m = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)/.exec(textOf(t, i, e));
      if (m) {
        const lost = Number(m[2]) - Number(m[1]);
        if (lost > 0) ctx.stats.count('block_text.overwritten_events', 'data_loss', 'events overwritten in the ring buffer before it was read (trace header entries-written minus entries-in-buffer)', { file: ctx.file, line: lineNo, text: textOf(t, i, e) }, lost);
      }
      return true;
    }
    const line = textOf(t, i, Math.min(e, i + 200));
    // "CPU:1 [LOST 120 EVENTS]" (tracefs), "CPU:1 [120 EVENTS DROPPED]" (trace-cmd)
    const lost = /^CPU:\s*\d+\s*\[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED)\]/.exec(line);
    if (lost) {
      ctx.stats.count('block_text.lost_events', 'data_loss', 'events the kernel dropped (ring buffer full) as reported in the trace', { file: ctx.file, line: lineNo, text: line }, Number(lost[1] ?? lost[2]));
      ctx.ignored++;
      return true;
    }
    if (/^#{5} CPU \d+ buffer started #{4}/.test(line) || /^cpus=\d+$/.test(line) || /^CPU \d+ is empty$/.test(line) || /^version = \d+/.test(line)) {
      ctx.ignored++;
      return true;
    }
    return false;
  }

  finish(): BlockTextFileSummary {
    const ctx = this.ctx;
    if (ctx.events === 0 && ctx.bad > 0 && ctx.ignored === 0) {
      throw new InputError(ctx.file, `not ${this.traceCmd ? 'trace-cmd report' : 'tracefs'} text: no line is an event line of the form "<comm>-<pid> [<cpu>] <seconds>.<micros>: <event>: ..." (${ctx.bad} lines tried; first: "${this.firstBad}")`, { line: this.firstBadLine });
    }
    return { file: ctx.file, format: this.traceCmd ? 'trace-cmd' : 'tracefs', lines: ctx.lines, events: ctx.events, bad: ctx.bad, ignored: ctx.ignored };
  }
}


/**
 * The parser's line handler, followed by the builder's range check: an event the builder refused
 * (BlockEventsBuilder.refused: a sector or time past what request reconstruction holds exactly)
 * is counted as an unusable line with its file:line instead of an event.
 */
function checkedLines(parser: BlockTextLineParser): (t: Uint8Array, s: number, e: number, lineNo: number) => void {
  const ctx = parser.ctx;
  const builder = ctx.builder;
  return (t, s, e, lineNo) => {
    parser.line(t, s, e, lineNo);
    if (builder.refused === null) return;
    ctx.events--;
    ctx.problem('block_text.value_out_of_range', `event not stored: ${builder.refused}`, t, s, e, lineNo);
    builder.refused = null;
  };
}

/** Inputs from this size on (bytes on disk) take their table chunks from a PrefaultPool. */
const PREFAULT_MIN_BYTES = 32 << 20;

/** Drive a line parser over a (possibly compressed) file. */
export async function readTextLines(
  path: string,
  parser: BlockTextLineParser,
  onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  const input = openFileChunks(path);
  const framer = new ByteLineFramer(path, checkedLines(parser));
  // a large input fills many table chunks: their first-touch page faults go to another core
  const builder = parser.ctx.builder;
  const pool = input.fileSize >= PREFAULT_MIN_BYTES && availableParallelism() >= 2 ? new PrefaultPool([EVENT_CHUNK_BYTES]) : null;
  if (pool) builder.useChunkMemory((bytes) => pool.take(bytes));
  try {
    for await (const chunk of input) {
      framer.push(chunk);
      onProgress?.(input);
    }
    framer.finish();
  } finally {
    if (pool) { builder.useChunkMemory(null); await pool.close(); }
  }
  return parser.finish();
}

/** Run a line parser over text held in memory (tests, notebooks). */
export function parseTextLines(text: string | Uint8Array, file: string, parser: BlockTextLineParser): BlockTextFileSummary {
  const framer = new ByteLineFramer(file, checkedLines(parser));
  framer.push(typeof text === 'string' ? new TextEncoder().encode(text) : text);
  framer.finish();
  return parser.finish();
}

/** Read a tracefs `trace` / `trace_pipe` text file into `builder`. */
export function readTracefsText(
  path: string, builder: BlockEventsBuilder, stats: IngestStats, onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  return readTextLines(path, new TracefsTextParser(builder, stats, path), onProgress);
}

/** Parse tracefs text held in memory (tests, notebooks); `file` names it in messages. */
export function parseTracefsText(text: string | Uint8Array, file: string, builder: BlockEventsBuilder, stats: IngestStats): BlockTextFileSummary {
  return parseTextLines(text, file, new TracefsTextParser(builder, stats, file));
}
