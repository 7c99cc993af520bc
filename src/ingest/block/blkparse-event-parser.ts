/**
 * Parser of blkparse's default event lines (blktrace 1.2.0, blkparse_fmt.c):
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
 * signed. This is the general path: every shape, any value width; the fast path
 * (blkparse-fast-path.ts) reads the common shapes first and must give the same rows.
 */
import { findByte, findByteBack, u64Digits, type ByteScanner } from '../text/byte-scanner.js';
import { BlockAction, NONE, type BlockEventRow } from './block-events-builder.js';
import type { BlockTextContext } from './block-text-context.js';
import { BlockOp } from './rwbs.js';

/** A `[process]` that is not one (distinct from NONE and every key). */
const FAIL = -3;

/** Action letter(s) t[s, e) (blkparse's %a) → block_events action key, or -1. */
export function actionKey(t: Uint8Array, s: number, e: number): number {
  const c = t[s]!;
  if (e - s === 2) return c === 85 && t[s + 1] === 84 ? BlockAction.UT : -1; // UT
  if (e - s !== 1) return -1;
  switch (c) {
    case 81:
      return BlockAction.Q;
    case 71:
      return BlockAction.G;
    case 73:
      return BlockAction.I;
    case 68:
      return BlockAction.D;
    case 67:
      return BlockAction.C;
    case 77:
      return BlockAction.M;
    case 70:
      return BlockAction.F;
    case 88:
      return BlockAction.X;
    case 65:
      return BlockAction.A;
    case 82:
      return BlockAction.R;
    case 80:
      return BlockAction.P;
    case 85:
      return BlockAction.U;
    case 83:
      return BlockAction.S;
    case 66:
      return BlockAction.B;
    case 84:
      return BlockAction.T;
    case 109:
      return BlockAction.m;
    default:
      return -1;
  }
}

/** Reads whole blkparse event lines of one reader into its builder's row. */
export class BlkparseEventParser {
  private readonly scan: ByteScanner;
  private readonly row: BlockEventRow;
  /** The rwbs key of message lines (blkparse prints `N` for them). */
  private readonly messages: number;

  constructor(private readonly ctx: BlockTextContext) {
    this.scan = ctx.scan;
    this.row = ctx.row;
    this.messages = ctx.builder.internRwbs('N');
  }

  /** Parse one event line t[s, e) and add it; false when the line is not one (nothing added then). */
  add(t: Uint8Array, s: number, e: number): boolean {
    this.scan.p = s;
    const ok = this.header(t, e) && this.trailer(t, e);
    if (ok) this.ctx.builder.commit();
    else this.row.clear();
    return ok;
  }

  /** `major,minor cpu sequence sec.nsec pid action rwbs` into the row. */
  private header(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const ctx = this.ctx;
    const row = this.row;
    scan.skipSpaces(t, e);
    const major = this.dec(t, e);
    if (major < 0 || t[scan.p] !== 44) return false;
    scan.p++;
    const minor = this.dec(t, e);
    if (minor < 0 || t[scan.p] !== 32) return false;
    scan.skipSpaces(t, e);
    row.cpu = this.dec(t, e);
    if (row.cpu < 0 || row.cpu > 32767 || t[scan.p] !== 32) return false;
    scan.skipSpaces(t, e);
    if (this.dec(t, e) < 0 || t[scan.p] !== 32) return false; // sequence
    scan.skipSpaces(t, e);
    const sec = this.dec(t, e);
    if (sec < 0 || t[scan.p] !== 46) return false;
    scan.p++;
    const fs = scan.p;
    const nsec = this.dec(t, e);
    if (nsec < 0 || scan.p - fs !== 9 || t[scan.p] !== 32) return false;
    row.ts = sec < 9007199 ? sec * 1e9 + nsec : BigInt(sec) * 1000000000n + BigInt(nsec);
    scan.skipSpaces(t, e);
    row.pid = this.dec(t, e);
    if (row.pid < 0 || row.pid > 0x7fffffff || t[scan.p] !== 32) return false;
    scan.skipSpaces(t, e);
    const as = scan.p;
    while (scan.p < e && t[scan.p] !== 32) scan.p++;
    row.action = actionKey(t, as, scan.p);
    if (row.action < 0) return false;
    scan.skipSpaces(t, e);
    const rs = scan.p;
    while (scan.p < e && t[scan.p] !== 32) scan.p++;
    const rwbs = ctx.rwbs.lookup(t, rs, scan.p);
    if (rwbs < 0) return false;
    const packed = ctx.builder.rwbsOpFlags(rwbs);
    row.rwbs = rwbs;
    row.op = packed & 7;
    row.flags = packed >> 3;
    row.dev = ctx.devKey(major, minor);
    return true;
  }

  /** What follows the RWBS column, by action. */
  private trailer(t: Uint8Array, e: number): boolean {
    const row = this.row;
    const action = row.action;
    if (action === BlockAction.m) {
      // a message (notify record): the text is not kept; the row marks where it was
      row.rwbs = this.messages;
      row.op = BlockOp.other;
      row.flags = 0;
      return true;
    }
    this.scan.skipSpaces(t, e);
    if (action === BlockAction.P || action === BlockAction.U || action === BlockAction.UT) return this.plug(t, e);
    return this.io(t, e);
  }

  /** P `[process]`; U UT `[process] depth`. */
  private plug(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const row = this.row;
    if (t[scan.p] !== 91) return false;
    const close = row.action === BlockAction.P ? e - 1 : findByteBack(t, 93, e - 1, scan.p);
    if (close < scan.p || t[close] !== 93) return false;
    row.comm = close - scan.p > 1 ? this.ctx.comm.lookup(t, scan.p + 1, close) : NONE;
    if (row.action !== BlockAction.P) {
      scan.p = close + 1;
      scan.skipSpaces(t, e);
      row.count = this.dec(t, e);
      if (row.count < 0 || row.count > 0x7fffffff || scan.p !== e) return false;
    }
    return true;
  }

  /** Events with a sector range, a passthrough command or only a bracket (see the file comment). */
  private io(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const row = this.row;
    const action = row.action;
    const completion = action === BlockAction.C || action === BlockAction.R;
    if (t[scan.p] === 40) {
      // (cdb) of a passthrough completion
      if (!completion) return false;
      const close = findByte(t, 41, scan.p, e);
      if (close < 0) return false;
      scan.p = close + 1;
      scan.skipSpaces(t, e);
      row.bytes = 0;
    } else if (t[scan.p] !== 91) {
      row.sector = this.u64(t, e);
      if (row.sector === -1) return false;
      scan.skipSpaces(t, e);
      if (t[scan.p] === 43) {
        // + nsectors
        scan.p++;
        scan.skipSpaces(t, e);
        row.nrSectors = this.dec(t, e);
        if (row.nrSectors < 0 || row.nrSectors > 0x7fffff) return false;
        scan.skipSpaces(t, e);
      } else if (t[scan.p] === 47) {
        // X: / new_sector
        return action === BlockAction.X && this.split(t, e);
      } else if (t[scan.p] === 40 && !completion) {
        // pc request: `bytes (cdb) [process]`: the number was the byte count, not a sector
        const sector = row.sector;
        row.bytes = typeof sector === 'number' && sector <= 0xffffffff ? sector : -1;
        if (row.bytes < 0) return false;
        row.sector = NONE;
        const close = findByte(t, 41, scan.p, e);
        if (close < 0) return false;
        scan.p = close + 1;
        scan.skipSpaces(t, e);
      } else if (!completion) {
        return false;
      }
    }
    if (action === BlockAction.A) return this.remap(t, e);
    return this.bracket(t, e, completion);
  }

  /** X: `/ new_sector [process]` after the sector. */
  private split(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const row = this.row;
    scan.p++;
    scan.skipSpaces(t, e);
    row.newSector = this.u64(t, e);
    if (row.newSector === -1) return false;
    scan.skipSpaces(t, e);
    row.comm = this.bracketComm(t, e);
    return row.comm !== FAIL;
  }

  /** A: `<- (major,minor) old_sector` after the sector range. */
  private remap(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const row = this.row;
    if (!(t[scan.p] === 60 && t[scan.p + 1] === 45 && t[scan.p + 2] === 32 && t[scan.p + 3] === 40)) return false;
    scan.p += 4;
    const oMajor = this.dec(t, e);
    if (oMajor < 0 || t[scan.p] !== 44) return false;
    scan.p++;
    const oMinor = this.dec(t, e);
    if (oMinor < 0 || t[scan.p] !== 41) return false;
    scan.p++;
    scan.skipSpaces(t, e);
    row.newSector = this.u64(t, e);
    if (row.newSector === -1 || scan.p !== e) return false;
    row.bytes = NONE;
    row.oldDev = this.ctx.devKey(oMajor, oMinor);
    return true;
  }

  /** `[(elapsed)] [process]` or, for C and R, `[error]` closing the line. */
  private bracket(t: Uint8Array, e: number, completion: boolean): boolean {
    const scan = this.scan;
    const row = this.row;
    // -t: (elapsed) before the bracket
    if (t[scan.p] === 40) {
      const close = findByte(t, 41, scan.p, e);
      if (close < 0) return false;
      scan.p = close + 1;
      scan.skipSpaces(t, e);
    }
    if (row.op === BlockOp.flush && row.nrSectors === 0) row.sector = NONE;
    if (!completion) {
      row.comm = this.bracketComm(t, e);
      return row.comm !== FAIL;
    }
    if (t[scan.p] !== 91 || t[e - 1] !== 93) return false;
    scan.p++;
    const v = this.dec(t, e);
    if (v < 0 || v > 0xffff || scan.p !== e - 1) return false;
    row.error = v > 0x7fff ? v - 0x10000 : v;
    return true;
  }

  /** `[process]` closing the line: its comm key, NONE when blank, FAIL when malformed. */
  private bracketComm(t: Uint8Array, e: number): number {
    const p = this.scan.p;
    if (t[p] !== 91 || t[e - 1] !== 93) return FAIL;
    return e - 1 - (p + 1) > 0 ? this.ctx.comm.lookup(t, p + 1, e - 1) : NONE;
  }

  /** Unsigned decimal at p of at most 15 digits: the value, -1 when none, -2 when longer. */
  private dec(t: Uint8Array, e: number): number {
    const scan = this.scan;
    const s = scan.p;
    const v = scan.decAt(t, s, e);
    scan.p = scan.decEnd;
    if (scan.p === s) return -1;
    return v < 0 ? -2 : v;
  }

  /** Unsigned 64-bit decimal at p: number, bigint beyond 2^53, or -1. */
  private u64(t: Uint8Array, e: number): number | bigint {
    const s = this.scan.p;
    const v = this.dec(t, e);
    if (v !== -2) return v;
    const b = u64Digits(t, s, this.scan.p);
    if (b === -1) return -1;
    return b <= 9007199254740991n ? Number(b) : b;
  }
}
