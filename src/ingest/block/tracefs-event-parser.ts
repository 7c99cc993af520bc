/**
 * Parser of the bodies of the block tracepoints in ftrace text (the TP_printk formats of
 * include/trace/events/block.h, 4.x to 6.18; `[ioprio]` = `class,hint,level` on 6.11+):
 *   bio events                 `M,m RWBS sector + nr [comm]`
 *   rq insert/issue/merge      `M,m RWBS bytes (cmd) sector + nr [ioprio] [comm]`
 *   rq complete/requeue/error  `M,m RWBS (cmd) sector + nr [ioprio] [error]`
 *   bio_complete               `M,m RWBS sector + nr [error]`
 *   split                      `M,m RWBS sector / new_sector [comm]`
 *   bio_remap                  `M,m RWBS sector + nr <- (M,m) old_sector`, rq_remap adds ` nr_bios`
 *   plug `[comm]`, unplug `[comm] depth`
 * This is the general path: every shape, any value width. The fast path (tracefs-fast-path.ts)
 * reads the common shapes first and must give the same rows.
 */
import { BIG_VALUE, findByte, findByteBack, type ByteScanner } from '../text/byte-scanner.js';
import { NONE, type BlockEventRow } from './block-events-builder.js';
import type { BlockTextContext } from './block-text-context.js';
import { ACTION_OF, BlockTracepoint } from './block-tracepoints.js';
import type { FtracePrefix } from './ftrace-prefix.js';
import { BlockOp } from './rwbs.js';

/** A failed field (distinct from NONE = -1 and from every valid value). */
const FAIL = -3;

/** Reads event bodies of one reader's lines into its builder's row. */
export class TracefsEventParser {
  private readonly scan: ByteScanner;
  private readonly row: BlockEventRow;
  /** nr_sectors of the last sectorRange. */
  private nr = 0;

  constructor(
    private readonly ctx: BlockTextContext,
    private readonly prefix: FtracePrefix,
  ) {
    this.scan = ctx.scan;
    this.row = ctx.row;
  }

  /**
   * Parse the body t[p, e) of tracepoint `tp` and add the event (the prefix fields come from
   * `prefix`). False when the body does not match the tracepoint's format (nothing added then).
   */
  add(tp: number, t: Uint8Array, p: number, e: number): boolean {
    const row = this.row;
    const pre = this.prefix;
    this.scan.p = p;
    row.ts = pre.time();
    row.cpu = pre.cpu;
    row.pid = pre.pid;
    row.action = ACTION_OF[tp]!;
    const ok =
      tp === BlockTracepoint.plug || tp === BlockTracepoint.unplug ? this.plug(tp, t, e) : this.devRwbs(t, e) && this.afterRwbs(tp, t, e);
    if (ok) this.ctx.builder.commit();
    else row.clear();
    return ok;
  }

  /** The fields after `M,m RWBS `, by tracepoint. */
  private afterRwbs(tp: number, t: Uint8Array, e: number): boolean {
    switch (tp) {
      case BlockTracepoint.rq_insert:
      case BlockTracepoint.rq_issue:
      case BlockTracepoint.rq_merge:
        return this.rqQueued(t, e);
      case BlockTracepoint.rq_complete:
      case BlockTracepoint.rq_requeue:
        return this.rqDone(t, e);
      case BlockTracepoint.bio_complete:
        return this.bioComplete(t, e);
      case BlockTracepoint.split:
        return this.split(t, e);
      case BlockTracepoint.bio_remap:
      case BlockTracepoint.rq_remap:
        return this.remap(tp, t, e);
      // bio_queue, getrq, sleeprq, backmerge, frontmerge, bounce
      default:
        return this.bio(t, e);
    }
  }

  /** plug `[comm]`, unplug `[comm] depth`. */
  private plug(tp: number, t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const p = scan.p;
    if (!scan.expect(t, 91)) return false;
    let close: number;
    let depth = NONE;
    if (tp === BlockTracepoint.plug) {
      close = e - 1;
      if (t[close]! !== 93) return false;
    } else {
      close = findByteBack(t, 93 /* ] */, e - 1, scan.p);
      if (close < scan.p) return false;
      scan.p = close + 1;
      scan.skipSpaces(t, e);
      depth = scan.readDec(t, e);
      if (depth < 0 || scan.p !== e) return false;
    }
    this.row.comm = this.ctx.comm.lookup(t, p + 1, close);
    this.row.count = depth;
    return true;
  }

  /** `M,m RWBS ` (the device and the RWBS letters of every event with a device). */
  private devRwbs(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const ctx = this.ctx;
    const major = scan.readDec(t, e);
    if (major < 0 || !scan.expect(t, 44)) return false;
    const minor = scan.readDec(t, e);
    if (minor < 0 || !scan.expect(t, 32)) return false;
    const row = this.row;
    row.dev = ctx.devKey(major, minor);
    scan.skipSpaces(t, e);
    const rs = scan.p;
    while (scan.p < e && t[scan.p]! !== 32) scan.p++;
    const rwbs = ctx.rwbs.lookup(t, rs, scan.p);
    if (rwbs < 0) return false;
    const packed = ctx.builder.rwbsOpFlags(rwbs);
    row.rwbs = rwbs;
    row.op = packed & 7;
    row.flags = packed >> 3;
    scan.skipSpaces(t, e);
    return true;
  }

  /** rq insert/issue/merge: `bytes (cmd) sector + nr [ioprio] [comm]`. */
  private rqQueued(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    let bytes = scan.readDec(t, e);
    if (bytes < 0 || !scan.expect(t, 32)) return false;
    if (!this.skipCmd(t, e)) return false;
    const sector = this.sectorRange(t, e);
    if (sector === FAIL) return false;
    const nr = this.nr;
    const row = this.row;
    row.ioprio = this.ioprio(t, e);
    const comm = this.bracketComm(t, e);
    if (comm === FAIL) return false;
    // 4.x printed 0 bytes for file-system requests (only passthrough requests had a count)
    if (bytes === 0 && nr > 0) bytes = NONE;
    row.comm = comm;
    row.sector = flushSector(row.op, nr, sector);
    row.nrSectors = nr;
    row.bytes = bytes;
    return true;
  }

  /** rq complete/requeue: `(cmd) sector + nr [ioprio] [error]`. */
  private rqDone(t: Uint8Array, e: number): boolean {
    if (!this.skipCmd(t, e)) return false;
    const sector = this.sectorRange(t, e);
    if (sector === FAIL) return false;
    const row = this.row;
    row.ioprio = this.ioprio(t, e);
    const error = this.bracketErrno(t, e);
    if (Number.isNaN(error)) return false;
    row.comm = this.prefix.commKey(this.ctx.comm, t);
    row.sector = flushSector(row.op, this.nr, sector);
    row.nrSectors = this.nr;
    row.error = error;
    return true;
  }

  /** bio_complete: `sector + nr [error]`. */
  private bioComplete(t: Uint8Array, e: number): boolean {
    const sector = this.sectorRange(t, e);
    if (sector === FAIL) return false;
    const error = this.bracketErrno(t, e);
    if (Number.isNaN(error)) return false;
    const row = this.row;
    row.comm = this.prefix.commKey(this.ctx.comm, t);
    row.sector = flushSector(row.op, this.nr, sector);
    row.nrSectors = this.nr;
    row.error = error;
    return true;
  }

  /** split: `sector / new_sector [comm]`. */
  private split(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const sector = this.u64(t, e);
    if (sector === FAIL) return false;
    scan.skipSpaces(t, e);
    if (!scan.expect(t, 47 /* / */)) return false;
    scan.skipSpaces(t, e);
    const newSector = this.u64(t, e);
    if (newSector === FAIL) return false;
    scan.skipSpaces(t, e);
    const comm = this.bracketComm(t, e);
    if (comm === FAIL) return false;
    const row = this.row;
    row.comm = comm;
    row.sector = sector;
    row.newSector = newSector;
    return true;
  }

  /** bio_remap `sector + nr <- (M,m) old_sector`; rq_remap adds ` nr_bios`. */
  private remap(tp: number, t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    const sector = this.sectorRange(t, e);
    if (sector === FAIL) return false;
    const nr = this.nr;
    if (!(scan.expect(t, 60) && scan.expect(t, 45) && scan.expect(t, 32) && scan.expect(t, 40))) return false; // "<- ("
    const oMajor = scan.readDec(t, e);
    if (oMajor < 0 || !scan.expect(t, 44)) return false;
    const oMinor = scan.readDec(t, e);
    if (oMinor < 0 || !scan.expect(t, 41) || !scan.expect(t, 32)) return false;
    const oldSector = this.u64(t, e);
    if (oldSector === FAIL) return false;
    let nrBios = NONE;
    if (tp === BlockTracepoint.rq_remap) {
      scan.skipSpaces(t, e);
      nrBios = scan.readDec(t, e);
      if (nrBios < 0) return false;
    }
    if (scan.p !== e) return false;
    const row = this.row;
    row.comm = this.prefix.commKey(this.ctx.comm, t);
    row.sector = sector;
    row.nrSectors = nr;
    row.newSector = oldSector;
    row.oldDev = this.ctx.devKey(oMajor, oMinor);
    row.count = nrBios;
    return true;
  }

  /** bio_queue, getrq, sleeprq, backmerge, frontmerge, bounce: `sector + nr [comm]`. */
  private bio(t: Uint8Array, e: number): boolean {
    const sector = this.sectorRange(t, e);
    if (sector === FAIL) return false;
    const comm = this.bracketComm(t, e);
    if (comm === FAIL) return false;
    const row = this.row;
    row.comm = comm;
    row.sector = sector;
    row.nrSectors = this.nr;
    return true;
  }

  /** `sector + nr ` at p: the sector (number, bigint beyond 2^53) or FAIL; `nr` gets nr. */
  private sectorRange(t: Uint8Array, e: number): number | bigint {
    const scan = this.scan;
    const sector = this.u64(t, e);
    if (sector === FAIL) return FAIL;
    if (!(scan.expect(t, 32) && scan.expect(t, 43) && scan.expect(t, 32))) return FAIL;
    const nr = scan.readDec(t, e);
    if (nr < 0 || nr > 0xffffffff) return FAIL;
    this.nr = nr;
    scan.skipSpaces(t, e);
    return sector;
  }

  /** An unsigned 64-bit decimal (sector_t) at p: number, bigint beyond 2^53, FAIL beyond 2^64-1 or none. */
  private u64(t: Uint8Array, e: number): number | bigint {
    const scan = this.scan;
    const v = scan.readDec(t, e);
    if (v === -1) return FAIL;
    if (v === BIG_VALUE) return scan.big > 0xffffffffffffffffn ? FAIL : scan.big;
    return v;
  }

  /** `(cmd) ` at p: empty on 5.x/6.x, a hex dump of a passthrough command on 4.x. */
  private skipCmd(t: Uint8Array, e: number): boolean {
    const scan = this.scan;
    if (!scan.expect(t, 40)) return false;
    const close = findByte(t, 41 /* ) */, scan.p, e);
    if (close < 0) return false;
    scan.p = close + 1;
    return scan.expect(t, 32);
  }

  /** An optional ioprio `class,hint,level ` at p (6.11+): its key or NONE. */
  private ioprio(t: Uint8Array, e: number): number {
    const scan = this.scan;
    if (scan.p >= e || t[scan.p]! === 91) return NONE;
    const s = scan.p;
    while (scan.p < e && t[scan.p]! !== 32) scan.p++;
    const key = this.ctx.ioprio.lookup(t, s, scan.p);
    scan.skipSpaces(t, e);
    return key;
  }

  /** `[comm]` closing the line: the comm key, or FAIL. */
  private bracketComm(t: Uint8Array, e: number): number {
    const scan = this.scan;
    if (!scan.expect(t, 91) || t[e - 1]! !== 93) return FAIL;
    const key = this.ctx.comm.lookup(t, scan.p, e - 1);
    scan.p = e;
    return key;
  }

  /** `[n]` closing the line (an errno, 16 bits in block.h), or NaN. */
  private bracketErrno(t: Uint8Array, e: number): number {
    const scan = this.scan;
    if (!scan.expect(t, 91)) return NaN;
    const v = scan.readSigned(t, e);
    if (!scan.expect(t, 93) || scan.p !== e || v < -32768 || v > 32767) return NaN;
    return v;
  }
}

/** Flush requests print sector 0 (issue) or (sector_t)-1 (complete) and no length: no sector. */
export function flushSector(op: number, nr: number, sector: number | bigint): number | bigint {
  return op === BlockOp.flush && nr === 0 ? NONE : sector;
}
