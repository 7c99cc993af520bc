/**
 * Reader of blkparse's default text output (blktrace 1.2.0, blkparse_fmt.c). Every event line is
 *   `%3d,%-3d %2d %8d %5d.%09lu %5u %2s %3s <trailer>`
 *   = device (major,minor), CPU, sequence, seconds.nanoseconds since the first event, pid,
 *     action letter(s), RWBS
 * and the trailer depends on the action:
 *   Q I D B (fs)  `sector + nsectors [process]`, or `[process]` when bytes == 0
 *   Q I D (pc)    `bytes (cdb hex) [process]`
 *   M F G S       `sector + nsectors [process]`, or `[process]`
 *   C R (fs)      `sector + nsectors [error]`, or `sector [error]` when bytes == 0
 *   C R (pc)      `(cdb hex) [error]`
 *   P `[process]`;  U UT `[process] depth`;  X `sector / new_sector [process]`
 *   A `sector + nsectors <- (major,minor) old_sector`;  m `message text`
 * With -t, `(elapsed)` is inserted before the bracket of C, D and I. The error is the 16-bit
 * blk_io_trace.error printed unsigned (a negative errno shows as 65536 - errno) and is stored
 * signed. After the events blkparse prints per-CPU and total statistics; those lines (and its
 * "Input file ... added" notes) are skipped. Times are relative to the first event, so the table
 * metadata says so.
 */
import type { IngestStats } from '../ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
import { InputError } from '../../util/errors.js';
import { BlockAction, NONE, type BlockEventsBuilder } from './block-events-builder.js';
import { BlockOp } from './rwbs.js';
import { BlockTextContext, blockTextFastPath, decAt, DEC_END, MAJ, majMinAt, MIN, findByte, findByteBack, parseTextLines, readTextLines, textOf, type BlockTextFileSummary, type BlockTextLineParser } from './tracefs-text.js';

/** Cursor and the last big value (see tracefs-text.ts: module scalars, no object per line). */
let P = 0;

function skipSpaces(t: Uint8Array, e: number): void {
  while (P < e && t[P] === 32) P++;
}

/** Unsigned decimal at P (at most 2^53 - 1): the value or -1; -2 when longer than 15 digits. */
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
  return P - s > 15 ? -2 : v;
}

/** Unsigned 64-bit decimal at P: number, bigint beyond 2^53, or -1. */
function readU64(t: Uint8Array, e: number): number | bigint {
  const s = P;
  const v = readDec(t, e);
  if (v !== -2) return v;
  if (P - s > 20) return -1;
  const b = BigInt(String.fromCharCode(...t.subarray(s, P)));
  if (b > 0xffffffffffffffffn) return -1;
  return b <= 9007199254740991n ? Number(b) : b;
}

/** Action letter(s) t[s, e) → block_events action key, or -1. */
function actionKey(t: Uint8Array, s: number, e: number): number {
  const c = t[s]!;
  if (e - s === 2) return c === 85 && t[s + 1] === 84 ? BlockAction.UT : -1; // UT
  if (e - s !== 1) return -1;
  switch (c) {
    case 81: return BlockAction.Q;
    case 71: return BlockAction.G;
    case 73: return BlockAction.I;
    case 68: return BlockAction.D;
    case 67: return BlockAction.C;
    case 77: return BlockAction.M;
    case 70: return BlockAction.F;
    case 88: return BlockAction.X;
    case 65: return BlockAction.A;
    case 82: return BlockAction.R;
    case 80: return BlockAction.P;
    case 85: return BlockAction.U;
    case 83: return BlockAction.S;
    case 66: return BlockAction.B;
    case 84: return BlockAction.T;
    case 109: return BlockAction.m;
    default: return -1;
  }
}

/** Actions whose lines the fast path reads: those with `sector + nsectors` (and X's `sector / new_sector`). */
const FAST_ACTION: boolean[] = [];
for (const a of [BlockAction.Q, BlockAction.G, BlockAction.I, BlockAction.D, BlockAction.C, BlockAction.M, BlockAction.F,
  BlockAction.X, BlockAction.R, BlockAction.S, BlockAction.B, BlockAction.T]) FAST_ACTION[a] = true;

/**
 * Fast path for the common event lines: `Q G I D M F S B T C R` with `sector + nsectors` and
 * `X` with `sector / new_sector`, times below 2^53 ns. It accepts exactly what `event` accepts
 * for those shapes and adds the same row; any other line (P, U, A, m, pc requests, -t, `[process]`
 * without a sector, 16+ digit numbers) returns false and goes to `event`. Nothing is interned
 * before the whole line has been checked.
 */
function fastBlkparseLine(ctx: BlockTextContext, t: Uint8Array, s: number, e: number): boolean {
  let p = s;
  while (p < e && t[p] === 32) p++;
  if (!majMinAt(t, p, e)) return false;
  const major = MAJ, minor = MIN;
  p = DEC_END;
  while (p < e && t[p] === 32) p++;
  const cpu = decAt(t, p, e);
  p = DEC_END;
  if (cpu < 0 || cpu > 32767 || t[p] !== 32) return false;
  while (p < e && t[p] === 32) p++;
  if (decAt(t, p, e) < 0) return false; // sequence
  p = DEC_END;
  if (t[p] !== 32) return false;
  while (p < e && t[p] === 32) p++;
  const sec = decAt(t, p, e);
  p = DEC_END;
  if (sec < 0 || sec >= 9007199 || t[p] !== 46) return false;
  const nsec = decAt(t, p + 1, e);
  if (nsec < 0 || DEC_END - p !== 10) return false;
  p = DEC_END;
  if (t[p] !== 32) return false;
  while (p < e && t[p] === 32) p++;
  const pid = decAt(t, p, e);
  p = DEC_END;
  if (pid < 0 || pid > 0x7fffffff || t[p] !== 32) return false;
  while (p < e && t[p] === 32) p++;
  // one action letter of the shapes this path reads
  if (t[p + 1] !== 32) return false;
  const action = actionKey(t, p, p + 1);
  if (action < 0 || !FAST_ACTION[action]) return false;
  p += 2;
  while (p < e && t[p] === 32) p++;
  const rs = p;
  while (p < e && t[p] !== 32) p++;
  const re = p;
  while (p < e && t[p] === 32) p++;
  const sector = decAt(t, p, e);
  p = DEC_END;
  if (sector < 0) return false;
  while (p < e && t[p] === 32) p++;
  let nr = 0;
  let newSector = NONE;
  if (t[p] === 43) {
    p++;
    while (p < e && t[p] === 32) p++;
    nr = decAt(t, p, e);
    p = DEC_END;
    if (nr < 0 || nr > 0x7fffff) return false;
    while (p < e && t[p] === 32) p++;
  } else if (t[p] === 47 && action === BlockAction.X) {
    p++;
    while (p < e && t[p] === 32) p++;
    newSector = decAt(t, p, e);
    p = DEC_END;
    if (newSector < 0) return false;
    while (p < e && t[p] === 32) p++;
  } else if (!(action === BlockAction.C || action === BlockAction.R) || t[p] === 40) {
    return false;
  }
  if (action === BlockAction.X && newSector < 0) return false;
  if (t[p] !== 91 || t[e - 1] !== 93) return false;
  const completion = action === BlockAction.C || action === BlockAction.R;
  let error = 0;
  if (completion) {
    const v = decAt(t, p + 1, e);
    if (v < 0 || v > 0xffff || DEC_END !== e - 1) return false;
    error = v > 0x7fff ? v - 0x10000 : v;
  }
  // the line is valid: intern in the order of `event` (rwbs, dev, comm)
  const rwbs = ctx.rwbs.lookup(t, rs, re);
  if (rwbs < 0) return false;
  const b = ctx.builder;
  const packed = b.rwbsOpFlags(rwbs);
  const op = packed & 7;
  const flags = packed >> 3;
  const dev = ctx.devKey(major, minor);
  const ts = sec * 1e9 + nsec;
  if (completion) {
    b.add(ts, cpu, pid, NONE, dev, action, rwbs, op, flags, op === BlockOp.flush && nr === 0 ? NONE : sector, nr, NONE, error, NONE, NONE, NONE, NONE);
    return true;
  }
  const comm = e - 1 - (p + 1) > 0 ? ctx.comm.lookup(t, p + 1, e - 1) : NONE;
  if (action === BlockAction.X) b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, 0, 0, null, newSector, NONE, NONE, NONE);
  else b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, op === BlockOp.flush && nr === 0 ? NONE : sector, nr, NONE, null, NONE, NONE, NONE, NONE);
  return true;
}

/** Parses blkparse default-format lines into a BlockEventsBuilder. */
export class BlkparseTextParser implements BlockTextLineParser {
  readonly ctx: BlockTextContext;
  private inSummary = false;
  private firstBad = '';
  private firstBadLine = 0;
  private readonly messages: number;
  constructor(builder: BlockEventsBuilder, stats: IngestStats, file: string) {
    this.ctx = new BlockTextContext(builder, stats, file);
    this.messages = builder.internRwbs('N');
  }

  line(t: Uint8Array, s: number, e: number, lineNo: number): void {
    const ctx = this.ctx;
    ctx.lines++;
    while (e > s && t[e - 1] === 32) e--;
    if (e === s) return;
    if (!this.inSummary && blockTextFastPath.enabled && fastBlkparseLine(ctx, t, s, e)) { ctx.events++; return; }
    if (this.inSummary || !this.event(t, s, e)) {
      if (this.summaryLine(t, s, e)) { ctx.ignored++; return; }
      if (!this.firstBad) { this.firstBad = textOf(t, s, Math.min(e, s + 120)); this.firstBadLine = lineNo; }
      ctx.problem('blkparse_text.unparsable_line', 'line is not a blkparse event line', t, s, e, lineNo);
      return;
    }
    ctx.events++;
  }

  /** blkparse's statistics after the events, and its notes; true when the line is one. */
  private summaryLine(t: Uint8Array, s: number, e: number): boolean {
    const line = textOf(t, s, Math.min(e, s + 160));
    if (/^(CPU\d+|Total) \(.*\):$/.test(line)) { this.inSummary = true; return true; }
    if (!this.inSummary) return /^Input file .* added$/.test(line);
    return /^ [A-Z][A-Za-z ()/]+:/.test(line) || /^(Throughput|Events|Skips)\b/.test(line) || /^Input file .* added$/.test(line);
  }

  /** Parse one event line and add it; false when the line is not one. */
  private event(t: Uint8Array, s: number, e: number): boolean {
    const ctx = this.ctx;
    const b = ctx.builder;
    P = s;
    skipSpaces(t, e);
    const major = readDec(t, e);
    if (major < 0 || t[P] !== 44) return false;
    P++;
    const minor = readDec(t, e);
    if (minor < 0 || t[P] !== 32) return false;
    skipSpaces(t, e);
    const cpu = readDec(t, e);
    if (cpu < 0 || cpu > 32767 || t[P] !== 32) return false;
    skipSpaces(t, e);
    if (readDec(t, e) < 0 || t[P] !== 32) return false; // sequence
    skipSpaces(t, e);
    const sec = readDec(t, e);
    if (sec < 0 || t[P] !== 46) return false;
    P++;
    const fs = P;
    const nsec = readDec(t, e);
    if (nsec < 0 || P - fs !== 9 || t[P] !== 32) return false;
    const ts: number | bigint = sec < 9007199 ? sec * 1e9 + nsec : BigInt(sec) * 1000000000n + BigInt(nsec);
    skipSpaces(t, e);
    const pid = readDec(t, e);
    if (pid < 0 || pid > 0x7fffffff || t[P] !== 32) return false;
    skipSpaces(t, e);
    const as = P;
    while (P < e && t[P] !== 32) P++;
    const action = actionKey(t, as, P);
    if (action < 0) return false;
    skipSpaces(t, e);
    const rs = P;
    while (P < e && t[P] !== 32) P++;
    const rwbs = ctx.rwbs.lookup(t, rs, P);
    if (rwbs < 0) return false;
    const packed = b.rwbsOpFlags(rwbs);
    const op = packed & 7;
    const flags = packed >> 3;
    const dev = ctx.devKey(major, minor);
    if (action === BlockAction.m) {
      // a message (notify record): the text is not kept; the row marks where it was
      b.add(ts, cpu, pid, NONE, dev, action, this.messages, BlockOp.other, 0, NONE, 0, 0, null, NONE, NONE, NONE, NONE);
      return true;
    }
    skipSpaces(t, e);
    // trailer
    if (action === BlockAction.P || action === BlockAction.U || action === BlockAction.UT) {
      if (t[P] !== 91) return false;
      const close = action === BlockAction.P ? e - 1 : findByteBack(t, 93, e - 1, P);
      if (close < P || t[close] !== 93) return false;
      const comm = close - P > 1 ? ctx.comm.lookup(t, P + 1, close) : NONE;
      let depth = NONE;
      if (action !== BlockAction.P) {
        P = close + 1;
        skipSpaces(t, e);
        depth = readDec(t, e);
        if (depth < 0 || depth > 0x7fffffff || P !== e) return false;
      }
      b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, NONE, 0, 0, null, NONE, NONE, depth, NONE);
      return true;
    }
    const completion = action === BlockAction.C || action === BlockAction.R;
    let sector: number | bigint = NONE;
    let nr = 0;
    let bytes = NONE;
    if (t[P] === 40) {
      // (cdb) of a passthrough completion
      if (!completion) return false;
      const close = findByte(t, 41, P, e);
      if (close < 0) return false;
      P = close + 1;
      skipSpaces(t, e);
      bytes = 0;
    } else if (t[P] !== 91) {
      sector = readU64(t, e);
      if (sector === -1) return false;
      skipSpaces(t, e);
      if (t[P] === 43) { // + nsectors
        P++;
        skipSpaces(t, e);
        nr = readDec(t, e);
        if (nr < 0 || nr > 0x7fffff) return false;
        skipSpaces(t, e);
      } else if (t[P] === 47) { // X: / new_sector
        if (action !== BlockAction.X) return false;
        P++;
        skipSpaces(t, e);
        const newSector = readU64(t, e);
        if (newSector === -1) return false;
        skipSpaces(t, e);
        const comm = this.bracketComm(t, e);
        if (comm === -3) return false;
        b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, 0, 0, null, newSector, NONE, NONE, NONE);
        return true;
      } else if (t[P] === 40 && !completion) {
        // pc request: `bytes (cdb) [process]`: the number was the byte count, not a sector
        bytes = typeof sector === 'number' && sector <= 0xffffffff ? sector : -1;
        if (bytes < 0) return false;
        sector = NONE;
        const close = findByte(t, 41, P, e);
        if (close < 0) return false;
        P = close + 1;
        skipSpaces(t, e);
      } else if (!completion) {
        return false;
      }
    }
    if (action === BlockAction.A) {
      // <- (major,minor) old_sector
      if (!(t[P] === 60 && t[P + 1] === 45 && t[P + 2] === 32 && t[P + 3] === 40)) return false;
      P += 4;
      const oMajor = readDec(t, e);
      if (oMajor < 0 || t[P] !== 44) return false;
      P++;
      const oMinor = readDec(t, e);
      if (oMinor < 0 || t[P] !== 41) return false;
      P++;
      skipSpaces(t, e);
      const oldSector = readU64(t, e);
      if (oldSector === -1 || P !== e) return false;
      b.add(ts, cpu, pid, NONE, dev, action, rwbs, op, flags, sector, nr, NONE, null, oldSector, ctx.devKey(oMajor, oMinor), NONE, NONE);
      return true;
    }
    // -t: (elapsed) before the bracket
    if (t[P] === 40) {
      const close = findByte(t, 41, P, e);
      if (close < 0) return false;
      P = close + 1;
      skipSpaces(t, e);
    }
    if (op === BlockOp.flush && nr === 0) sector = NONE;
    if (completion) {
      if (t[P] !== 91 || t[e - 1] !== 93) return false;
      P++;
      const v = readDec(t, e);
      if (v < 0 || v > 0xffff || P !== e - 1) return false;
      const error = v > 0x7fff ? v - 0x10000 : v;
      b.add(ts, cpu, pid, NONE, dev, action, rwbs, op, flags, sector, nr, bytes, error, NONE, NONE, NONE, NONE);
      return true;
    }
    const comm = this.bracketComm(t, e);
    if (comm === -3) return false;
    b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, nr, bytes, null, NONE, NONE, NONE, NONE);
    return true;
  }

  /** `[process]` closing the line: its comm key, NONE when blank, -3 when malformed. */
  private bracketComm(t: Uint8Array, e: number): number {
    if (t[P] !== 91 || t[e - 1] !== 93) return -3;
    return e - 1 - (P + 1) > 0 ? this.ctx.comm.lookup(t, P + 1, e - 1) : NONE;
  }

  finish(): BlockTextFileSummary {
    const ctx = this.ctx;
    if (ctx.events === 0 && ctx.bad > 0) {
      throw new InputError(ctx.file, `not blkparse text: no line is an event line of the form "MAJ,MIN CPU SEQ SECONDS.NANOS PID ACTION RWBS ..." (${ctx.bad} lines tried; first: "${this.firstBad}")`, { line: this.firstBadLine });
    }
    return { file: ctx.file, format: 'blkparse', lines: ctx.lines, events: ctx.events, bad: ctx.bad, ignored: ctx.ignored };
  }
}

/** Read blkparse default text output into `builder`. */
export function readBlkparseText(
  path: string, builder: BlockEventsBuilder, stats: IngestStats, onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  return readTextLines(path, new BlkparseTextParser(builder, stats, path), onProgress);
}

/** Parse blkparse text held in memory; `file` names it in messages. */
export function parseBlkparseText(text: string | Uint8Array, file: string, builder: BlockEventsBuilder, stats: IngestStats): BlockTextFileSummary {
  return parseTextLines(text, file, new BlkparseTextParser(builder, stats, file));
}
