/**
 * Fast path of the blkparse text reader for the common event lines (blkparse_fmt.c default
 * format): `Q G I D M F S B T C R` with `sector + nsectors` and `X` with `sector / new_sector`,
 * times below 2^53 ns. It accepts exactly what the general path (blkparse-event-parser.ts)
 * accepts for those shapes and adds the same row; any other line (P, U, A, m, pc requests, -t,
 * `[process]` without a sector, 16+ digit numbers) returns false and goes to the general path.
 * Nothing is interned before the whole line has been checked.
 */
import type { ByteScanner } from '../text/byte-scanner.js';
import { BlockAction, NONE, type BlockEventRow } from './block-events-builder.js';
import type { BlockTextContext } from './block-text-context.js';
import { actionKey } from './blkparse-event-parser.js';
import { BlockOp } from './rwbs.js';

/** Actions whose lines the fast path reads: those with `sector + nsectors` (and X's `sector / new_sector`). */
const FAST_ACTION: boolean[] = [];
for (const a of [
  BlockAction.Q,
  BlockAction.G,
  BlockAction.I,
  BlockAction.D,
  BlockAction.C,
  BlockAction.M,
  BlockAction.F,
  BlockAction.X,
  BlockAction.R,
  BlockAction.S,
  BlockAction.B,
  BlockAction.T,
])
  FAST_ACTION[a] = true;

/** Reads the common blkparse event lines of one reader; `line` returns false for any other line. */
export class BlkparseFastPath {
  private readonly scan: ByteScanner;
  private readonly row: BlockEventRow;
  /** Fields of the line checked by `header` and `trailer`, interned and written by `commit`. */
  private major = 0;
  private minor = 0;
  private cpu = 0;
  private ts = 0;
  private pid = 0;
  private action = 0;
  private rwbsS = 0;
  private rwbsE = 0;
  private sector = 0;
  private nr = 0;
  private newSector = NONE;
  private error = 0;
  /** Position of the `[` closing the line. */
  private bracket = 0;

  constructor(private readonly ctx: BlockTextContext) {
    this.scan = ctx.scan;
    this.row = ctx.row;
  }

  /** True when the line was a common event and was added; false leaves it to the general path. */
  line(t: Uint8Array, s: number, e: number): boolean {
    const p = this.header(t, s, e);
    return p >= 0 && this.trailer(t, p, e) && this.commit(t, e);
  }

  /** `major,minor cpu sequence sec.nsec pid action rwbs `: the position after it, or -1. */
  private header(t: Uint8Array, s: number, e: number): number {
    const scan = this.scan;
    let p = s;
    while (p < e && t[p] === 32) p++;
    this.major = scan.decAt(t, p, e);
    if (this.major < 0 || t[scan.decEnd] !== 44) return -1;
    this.minor = scan.decAt(t, scan.decEnd + 1, e);
    if (this.minor < 0 || t[scan.decEnd] !== 32) return -1;
    p = scan.decEnd;
    while (p < e && t[p] === 32) p++;
    this.cpu = scan.decAt(t, p, e);
    p = scan.decEnd;
    if (this.cpu < 0 || this.cpu > 32767 || t[p] !== 32) return -1;
    while (p < e && t[p] === 32) p++;
    if (scan.decAt(t, p, e) < 0) return -1; // sequence
    p = scan.decEnd;
    if (t[p] !== 32) return -1;
    while (p < e && t[p] === 32) p++;
    const sec = scan.decAt(t, p, e);
    p = scan.decEnd;
    if (sec < 0 || sec >= 9007199 || t[p] !== 46) return -1;
    const nsec = scan.decAt(t, p + 1, e);
    if (nsec < 0 || scan.decEnd - p !== 10) return -1;
    this.ts = sec * 1e9 + nsec;
    p = scan.decEnd;
    if (t[p] !== 32) return -1;
    while (p < e && t[p] === 32) p++;
    this.pid = scan.decAt(t, p, e);
    p = scan.decEnd;
    if (this.pid < 0 || this.pid > 0x7fffffff || t[p] !== 32) return -1;
    while (p < e && t[p] === 32) p++;
    // one action letter of the shapes this path reads
    if (t[p + 1] !== 32) return -1;
    this.action = actionKey(t, p, p + 1);
    if (this.action < 0 || !FAST_ACTION[this.action]) return -1;
    p += 2;
    while (p < e && t[p] === 32) p++;
    this.rwbsS = p;
    while (p < e && t[p] !== 32) p++;
    this.rwbsE = p;
    while (p < e && t[p] === 32) p++;
    return p;
  }

  /** `sector + nsectors [process]`, `sector [error]`, `sector / new_sector [process]` at p. */
  private trailer(t: Uint8Array, p: number, e: number): boolean {
    const scan = this.scan;
    const action = this.action;
    this.sector = scan.decAt(t, p, e);
    p = scan.decEnd;
    if (this.sector < 0) return false;
    while (p < e && t[p] === 32) p++;
    this.nr = 0;
    this.newSector = NONE;
    if (t[p] === 43) {
      p++;
      while (p < e && t[p] === 32) p++;
      this.nr = scan.decAt(t, p, e);
      p = scan.decEnd;
      if (this.nr < 0 || this.nr > 0x7fffff) return false;
      while (p < e && t[p] === 32) p++;
    } else if (t[p] === 47 && action === BlockAction.X) {
      p++;
      while (p < e && t[p] === 32) p++;
      this.newSector = scan.decAt(t, p, e);
      p = scan.decEnd;
      if (this.newSector < 0) return false;
      while (p < e && t[p] === 32) p++;
    } else if (!(action === BlockAction.C || action === BlockAction.R) || t[p] === 40) {
      return false;
    }
    if (action === BlockAction.X && this.newSector < 0) return false;
    if (t[p] !== 91 || t[e - 1] !== 93) return false;
    this.bracket = p;
    if (action === BlockAction.C || action === BlockAction.R) {
      // the 16-bit blk_io_trace.error printed unsigned
      const v = scan.decAt(t, p + 1, e);
      if (v < 0 || v > 0xffff || scan.decEnd !== e - 1) return false;
      this.error = v > 0x7fff ? v - 0x10000 : v;
    }
    return true;
  }

  /** Intern the checked line's texts in the general path's order (rwbs, dev, comm) and add its row. */
  private commit(t: Uint8Array, e: number): boolean {
    const ctx = this.ctx;
    const rwbs = ctx.rwbs.lookup(t, this.rwbsS, this.rwbsE);
    if (rwbs < 0) return false;
    const b = ctx.builder;
    const packed = b.rwbsOpFlags(rwbs);
    const op = packed & 7;
    const row = this.row;
    const action = this.action;
    row.ts = this.ts;
    row.cpu = this.cpu;
    row.pid = this.pid;
    row.dev = ctx.devKey(this.major, this.minor);
    row.action = action;
    row.rwbs = rwbs;
    row.op = op;
    row.flags = packed >> 3;
    if (action === BlockAction.X) {
      row.sector = this.sector;
      row.newSector = this.newSector;
    } else {
      row.sector = op === BlockOp.flush && this.nr === 0 ? NONE : this.sector;
      row.nrSectors = this.nr;
    }
    if (action === BlockAction.C || action === BlockAction.R) {
      row.error = this.error;
    } else {
      const open = this.bracket;
      row.comm = e - 1 - (open + 1) > 0 ? ctx.comm.lookup(t, open + 1, e - 1) : NONE;
    }
    b.commit();
    return true;
  }
}
