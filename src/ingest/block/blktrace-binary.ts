/**
 * Binary blktrace reader: the per-CPU files `blktrace` writes (`NAME.blktrace.N`) and the merged
 * stream `blkparse -d FILE` writes, into block_events.
 *
 * Record layout (include/uapi/linux/blktrace_api.h, struct blk_io_trace, version 7, 48 bytes):
 *   0 u32 magic      BLK_IO_TRACE_MAGIC 0x65617400 | version
 *   4 u32 sequence   per-CPU event number (0 for notify records)
 *   8 u64 time       ns, kernel monotonic clock (ktime_get)
 *  16 u64 sector     512-byte units
 *  24 u32 bytes      transfer length
 *  28 u32 action     category bits << 16 | action code (BLK_TC_ACT / __BLK_TA_*)
 *  32 u32 pid
 *  36 u32 device     kernel dev_t: major = v >> 20, minor = v & 0xfffff
 *  40 u32 cpu
 *  44 u16 error      negative errno truncated to 16 bits
 *  46 u16 pdu_len    payload bytes after the header (an 8-byte cgroup id first when action & 0x100)
 * Version 8 (struct blk_io_trace2, 64 bytes; merged for Linux 6.19): pid moves to 28, action is a
 * u64 at 32, device 40, cpu 44, error 48, pdu_len 50, 12 pad bytes. Its low 32 action bits keep the
 * version-7 meaning; the categories above bit 31 (zone append...) are not mapped here.
 *
 * The header is in the recording machine's byte order (the magic tells which); the payloads of
 * split (new sector), unplug (request count) and remap (blk_io_trace_remap) are big-endian
 * (cpu_to_be64 / cpu_to_be32 in kernel/trace/blktrace.c). Notify records (category NOTIFY):
 * PROCESS carries the task comm for its pid, TIMESTAMP the wall clock at trace start (two u32:
 * seconds, nanoseconds, recording byte order), MESSAGE free text.
 *
 * Files are streamed chunk by chunk (bounded memory); several files are merged by record time.
 */
import { existsSync } from 'node:fs';
import { InputError, UsageError } from '../../util/errors.js';
import type { IngestStats } from '../../util/ingest-stats.js';
import { rwbsFromCategories } from './rwbs.js';
import { BlockAction, NONE, type BlockEventsBuilder } from './block-events-builder.js';
import { FileCursor, HEADER_8, HEADER_7, MAGIC, detectLayout } from './blktrace-cursor.js';

/** Category bits (BLK_TC_*, blktrace_api.h), as found in `action >> 16`. */
export const BlkTc = {
  READ: 0x0001,
  WRITE: 0x0002,
  FLUSH: 0x0004,
  SYNC: 0x0008,
  QUEUE: 0x0010,
  REQUEUE: 0x0020,
  ISSUE: 0x0040,
  COMPLETE: 0x0080,
  FS: 0x0100,
  PC: 0x0200,
  NOTIFY: 0x0400,
  AHEAD: 0x0800,
  META: 0x1000,
  DISCARD: 0x2000,
  DRV_DATA: 0x4000,
  FUA: 0x8000,
} as const;

/** Action codes (__BLK_TA_*, blktrace_api.h): index = code, value = blkparse letter ('' = not an I/O event we keep). */
export const BLK_TA_LETTERS = ['', 'Q', 'M', 'F', 'G', 'S', 'R', 'D', 'C', 'P', 'U', 'UT', 'I', 'X', 'B', 'A', '', ''] as const;
/** __BLK_TA_* codes this reader treats specially. */
const TA = { REQUEUE: 6, COMPLETE: 8, PLUG: 9, UNPLUG_IO: 10, UNPLUG_TIMER: 11, SPLIT: 13, REMAP: 15 } as const;
/** block_events action key per action code. */
const ACTION_KEY = BLK_TA_LETTERS.map((l) => (l === '' ? -1 : BlockAction[l]));
/** __BLK_TA_CGROUP: the payload starts with an 8-byte cgroup id. */
const TA_CGROUP = 0x100;
/** __BLK_TN_* notify codes. */
const TN_PROCESS = 0;
const TN_TIMESTAMP = 1;
const TN_MESSAGE = 2;

export interface BlktraceReadOptions {
  /** Keep only this device ("MAJ:MIN"). */
  dev?: string;
  /** Called after each chunk read with the bytes of the files on disk consumed so far, and their total size. */
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

export interface BlktraceReadResult {
  /**
   * Wall clock (ns since the Unix epoch) at the TIMESTAMP notify, when the trace has one; the
   * wall time of an event is wallClockNs + (ts_ns - wallClockAtTraceNs).
   */
  wallClockNs?: bigint;
  /** Trace-clock time (ns) of the TIMESTAMP notify record. */
  wallClockAtTraceNs?: bigint;
  /** Records decoded into events. */
  events: number;
  /** Record layout version found (7, or 8 for the 64-byte layout). */
  version: number;
  /** Byte order of the headers. */
  byteOrder: 'little' | 'big';
  /** pid -> comm from PROCESS notify records. */
  processes: number;
}

/**
 * Reads binary blktrace files into `out`. Several paths are merged by record time (the per-CPU
 * files of one capture); a single path is read in file order (a `blkparse -d` dump is already
 * merged). Malformed records are counted in `stats` with their byte offset and skipped; a file
 * that is not blktrace at all throws InputError.
 */
export async function readBlktraceBinary(
  paths: string[],
  out: BlockEventsBuilder,
  stats: IngestStats,
  opts: BlktraceReadOptions = {},
): Promise<BlktraceReadResult> {
  const reader = new BlktraceDecoder(out, stats, opts);
  return reader.run(expandBlktraceNames(paths));
}

/**
 * blkparse's `-i NAME` convention: a NAME that is not a file stands for NAME.blktrace.0,
 * NAME.blktrace.1, ... up to the first missing CPU. Other paths are kept as given.
 */
export function expandBlktraceNames(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (existsSync(p) || !existsSync(`${p}.blktrace.0`)) {
      out.push(p);
      continue;
    }
    for (let cpu = 0; existsSync(`${p}.blktrace.${cpu}`); cpu++) out.push(`${p}.blktrace.${cpu}`);
  }
  return out;
}

class BlktraceDecoder {
  private readonly commKeys = new Map<number, number>();
  private readonly devKeys = new Map<number, number>();
  /** rwbs key + 1 per (category << 1 | bytes != 0); 0 = not interned yet. */
  private readonly rwbsKeys = new Int32Array(1 << 17);
  /** Packed op | flags << 3 per rwbs key. */
  private readonly rwbsPacked: number[] = [];
  private lastPid = -1;
  /** Direct-mapped cache pid -> comm key (slot = pid & 1023). */
  private readonly commCachePid = new Int32Array(1024).fill(-1);
  private readonly commCacheKey = new Int32Array(1024);
  private lastCommKey = NONE;
  private lastDevt = -1;
  private lastDevKey = NONE;
  private readonly wantDev: number;
  private wallClockNs: bigint | undefined;
  private wallClockAtTraceNs: bigint | undefined;
  private events = 0;
  private version = 0;
  private le = true;

  constructor(
    private readonly out: BlockEventsBuilder,
    private readonly stats: IngestStats,
    private readonly opts: BlktraceReadOptions,
  ) {
    this.wantDev = -1;
    if (opts.dev !== undefined) {
      const m = /^(\d+)[:,](\d+)$/.exec(opts.dev.trim());
      if (!m) throw new UsageError(`device "${opts.dev}": expected MAJ:MIN, e.g. 7:2`);
      this.wantDev = ((Number(m[1]) << 20) | Number(m[2])) >>> 0;
    }
  }

  async run(paths: string[]): Promise<BlktraceReadResult> {
    if (paths.length === 0) throw new UsageError('no blktrace files given');
    const cursors = paths.map((p) => new FileCursor(p));
    this.cursors = cursors;
    for (const c of cursors) {
      while (c.buf.length - c.pos < 4 && (await c.fill())) {
        /* first bytes */
      }
      detectLayout(c);
      c.refreshFast();
      if (this.version === 0) {
        this.version = c.version;
        this.le = c.le;
      }
    }
    if (cursors.length === 1) await this.runSingle(cursors[0]!);
    else await this.runMerged(cursors);
    const result: BlktraceReadResult = {
      events: this.events,
      version: this.version,
      byteOrder: this.le ? 'little' : 'big',
      processes: this.commKeys.size,
    };
    if (this.wallClockNs !== undefined) {
      result.wallClockNs = this.wallClockNs;
      result.wallClockAtTraceNs = this.wallClockAtTraceNs!;
    }
    return result;
  }

  private cursors: FileCursor[] = [];

  private progress(): void {
    const cb = this.opts.onProgress;
    if (!cb) return;
    let read = 0,
      total = 0;
    for (const c of this.cursors) {
      read += c.input.fileBytesRead;
      total += c.input.fileSize;
    }
    cb(read, total);
  }

  private async fill(c: FileCursor): Promise<boolean> {
    const more = await c.fill();
    this.progress();
    return more;
  }

  private async runSingle(c: FileCursor): Promise<void> {
    for (;;) {
      while (this.peek(c)) this.emit(c);
      if (!(await this.fill(c))) break;
    }
    this.finishFile(c);
  }

  private async runMerged(cs: FileCursor[]): Promise<void> {
    const live: FileCursor[] = [];
    for (const c of cs) {
      while (!this.peek(c)) {
        if (!(await this.fill(c))) break;
      }
      if (c.headLen) live.push(c);
      else this.finishFile(c);
    }
    while (live.length) {
      // the file whose next record is earliest; ties go to the lower file index (CPU order)
      let k = 0;
      let best = live[0]!;
      for (let j = 1; j < live.length; j++) {
        const c = live[j]!;
        if (c.headHi < best.headHi || (c.headHi === best.headHi && c.headLo < best.headLo)) {
          best = c;
          k = j;
        }
      }
      this.emit(best);
      while (!this.peek(best)) {
        if (!(await this.fill(best))) break;
      }
      if (!best.headLen) {
        this.finishFile(best);
        live.splice(k, 1);
      }
    }
  }

  /** Bytes left after the last complete record: a truncated record. */
  private finishFile(c: FileCursor): void {
    const rest = c.buf.length - c.pos;
    if (rest > 0) {
      this.stats.count(
        'blktrace_truncated_record',
        'data_loss',
        'file ends inside a blk_io_trace record (header or payload cut short); the partial record is skipped',
        {
          file: c.path,
          offset: c.offset,
          text: `${rest} bytes left, record needs ${c.header} header bytes${rest >= c.header ? ' + payload' : ''}`,
        },
      );
    }
  }

  /**
   * Make the record at c.pos the head when it is complete in the buffer. Skips (and counts) bytes
   * that do not start with a valid magic, resynchronising on the next magic of the file's version.
   */
  private peek(c: FileCursor): boolean {
    c.headLen = 0;
    const h = c.header;
    for (;;) {
      if (c.next !== null && c.pos >= c.joinAt) c.switchToNext();
      const avail = c.buf.length - c.pos;
      if (avail < h) return false;
      if (c.fast && (c.pos & 3) === 0) {
        // aligned little-endian v7 record: read whole words
        const w = c.words;
        const k = c.pos >> 2;
        if (w[k] === 0x65617407) {
          const pdu = w[k + 11]! >>> 16;
          if (avail < h + pdu) return false;
          c.headLen = h + pdu;
          c.headLo = w[k + 2]!;
          c.headHi = w[k + 3]!;
          return true;
        }
      }
      const v = c.view;
      const magic = v.getUint32(c.pos, c.le);
      if (magic !== (MAGIC | c.version) >>> 0) {
        if (!this.resync(c)) return false;
        continue;
      }
      const pdu = v.getUint16(c.pos + (h === HEADER_7 ? 46 : 50), c.le);
      if (avail < h + pdu) {
        // a payload longer than the rest of a chunk: read on (bounded: pdu_len < 64 KiB)
        return false;
      }
      c.headLen = h + pdu;
      c.headHi = v.getUint32(c.pos + (c.le ? 12 : 8), c.le);
      c.headLo = v.getUint32(c.pos + (c.le ? 8 : 12), c.le);
      return true;
    }
  }

  /** Skip to the next position holding this file's magic; false when more bytes are needed. */
  private resync(c: FileCursor): boolean {
    const start = c.offset;
    const want = (MAGIC | c.version) >>> 0;
    const b = c.buf;
    // magic bytes in file order
    const m0 = c.le ? want & 0xff : want >>> 24;
    let p = c.pos + 1;
    const end = b.length - 4;
    for (; p <= end; p++) {
      if (b[p] === m0 && c.view.getUint32(p, c.le) === want) break;
    }
    const found = p <= end;
    if (!found) p = Math.max(c.pos + 1, b.length - 3);
    this.stats.count(
      'blktrace_bad_magic',
      'data_loss',
      'bytes that do not start a blk_io_trace record (wrong magic or version); skipped to the next record magic',
      { file: c.path, offset: start, text: `skipped ${p - c.pos} bytes${found ? '' : ' (so far)'}` },
    );
    c.pos = p;
    return found;
  }

  private devKey(devt: number): number {
    if (devt === this.lastDevt) return this.lastDevKey;
    let k = this.devKeys.get(devt);
    if (k === undefined) {
      k = this.out.internDevT(devt);
      this.devKeys.set(devt, k);
    }
    this.lastDevt = devt;
    this.lastDevKey = k;
    return k;
  }

  /** Key of the comm of a pid (from PROCESS notify records), NONE when unknown. */
  private commKey(pid: number): number {
    if (pid === this.lastPid) return this.lastCommKey;
    const slot = pid & 1023;
    let k: number;
    if (this.commCachePid[slot] === pid) k = this.commCacheKey[slot]!;
    else {
      const m = this.commKeys.get(pid);
      k = m === undefined ? NONE : m;
      this.commCachePid[slot] = pid;
      this.commCacheKey[slot] = k;
    }
    this.lastPid = pid;
    this.lastCommKey = k;
    return k;
  }

  /** Key of the blkparse RWBS string of a category mask (it also depends on bytes being zero). */
  private rwbsKey(category: number, bytes: number): number {
    const id = category * 2 + (bytes === 0 ? 0 : 1);
    const k = this.rwbsKeys[id]!;
    if (k !== 0) return k - 1;
    const key = this.out.internRwbs(rwbsFromCategories(category, bytes));
    this.rwbsKeys[id] = key + 1;
    this.rwbsPacked[key] = this.out.rwbsOpFlags(key);
    return key;
  }

  /** Decode the head record of c into `out` (or into the notify state), then advance. */
  private emit(c: FileCursor): void {
    const v = c.view;
    const p = c.pos;
    const le = c.le;
    const v8 = c.header === HEADER_8;
    const recLen = c.headLen;
    c.pos += recLen;
    c.headLen = 0;
    const tHi = c.headHi;
    const tLo = c.headLo;
    const ts: number | bigint = tHi < 0x200000 ? tHi * 4294967296 + tLo : (BigInt(tHi) << 32n) | BigInt(tLo);
    let secHi: number, secLo: number, bytes: number, action: number, pid: number, devt: number, cpu: number, error: number, pdu: number;
    if (c.fast && (p & 3) === 0) {
      const w = c.words;
      const k = p >> 2;
      secLo = w[k + 4]!;
      secHi = w[k + 5]!;
      bytes = w[k + 6]!;
      action = w[k + 7]!;
      pid = w[k + 8]!;
      devt = w[k + 9]!;
      cpu = w[k + 10]!;
      const last = w[k + 11]!;
      error = (last << 16) >> 16;
      pdu = last >>> 16;
    } else if (!v8) {
      secHi = v.getUint32(p + (le ? 20 : 16), le);
      secLo = v.getUint32(p + (le ? 16 : 20), le);
      bytes = v.getUint32(p + 24, le);
      action = v.getUint32(p + 28, le);
      pid = v.getUint32(p + 32, le);
      devt = v.getUint32(p + 36, le);
      cpu = v.getUint32(p + 40, le);
      error = v.getInt16(p + 44, le);
      pdu = v.getUint16(p + 46, le);
    } else {
      secHi = v.getUint32(p + (le ? 20 : 16), le);
      secLo = v.getUint32(p + (le ? 16 : 20), le);
      bytes = v.getUint32(p + 24, le);
      pid = v.getUint32(p + 28, le);
      // u64 action: the low word holds the version-7 category and code bits
      action = v.getUint32(p + (le ? 32 : 36), le);
      devt = v.getUint32(p + 40, le);
      cpu = v.getUint32(p + 44, le);
      error = v.getInt16(p + 48, le);
      pdu = v.getUint16(p + 50, le);
    }
    const category = action >>> 16;
    let code = action & 0xffff;
    let payload = p + c.header;
    let payloadLen = pdu;
    if (code & TA_CGROUP) {
      code &= ~TA_CGROUP;
      if (payloadLen >= 8) {
        payload += 8;
        payloadLen -= 8;
      }
    }
    if (category & BlkTc.NOTIFY) {
      this.notify(c, p, code, pid, ts, tHi, tLo, payload, payloadLen);
      return;
    }
    if (this.wantDev >= 0 && devt !== this.wantDev) return;
    const actionKey = code < ACTION_KEY.length ? ACTION_KEY[code]! : -1;
    if (actionKey < 0) {
      this.stats.count(
        'blktrace_unknown_action',
        'info',
        'records with an action this reader does not map (abort, driver data, or unknown codes); skipped',
        { file: c.path, offset: c.base + p, text: `action 0x${(action >>> 0).toString(16)}` },
      );
      return;
    }
    const sector: number | bigint = secHi < 0x200000 ? secHi * 4294967296 + secLo : (BigInt(secHi) << 32n) | BigInt(secLo);
    if (code === TA.SPLIT || code === TA.UNPLUG_IO || code === TA.UNPLUG_TIMER || code === TA.REMAP)
      this.payloadValues(c, p, code, payload, payloadLen, pdu);
    const isFlushRq = bytes === 0 && (category & BlkTc.FLUSH) !== 0;
    const hasSector = code !== TA.PLUG && code !== TA.UNPLUG_IO && code !== TA.UNPLUG_TIMER && !isFlushRq;
    const isCompletion = code === TA.COMPLETE || code === TA.REQUEUE;
    const out = this.out;
    const rk = this.rwbsKey(category, bytes);
    const packed = this.rwbsPacked[rk]!;
    const row = out.row;
    row.ts = ts;
    row.cpu = cpu;
    row.pid = pid;
    row.comm = this.commKey(pid);
    row.dev = this.devKey(devt);
    row.action = actionKey;
    row.rwbs = rk;
    row.op = packed & 7;
    row.flags = packed >> 3;
    if (hasSector) row.sector = sector;
    row.nrSectors = bytes >>> 9;
    row.bytes = bytes;
    if (isCompletion) row.error = error;
    out.commit();
    if (out.refused !== null) throw new InputError(c.path, out.refused, { offset: c.base + p, what: 'blk_io_trace record' });
    this.events++;
  }

  /**
   * The values in the payload of a split (new sector), unplug (request count) or remap (old
   * device, new sector) record, into the row `emit` fills next.
   */
  private payloadValues(c: FileCursor, p: number, code: number, payload: number, payloadLen: number, pdu: number): void {
    const v = c.view;
    const row = this.out.row;
    if (code === TA.SPLIT || code === TA.UNPLUG_IO || code === TA.UNPLUG_TIMER) {
      if (payloadLen >= 8) {
        const hi = v.getUint32(payload, false);
        const lo = v.getUint32(payload + 4, false);
        const val: number | bigint = hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
        if (code === TA.SPLIT) row.newSector = val;
        else row.count = typeof val === 'number' && val <= 0x7fffffff ? val : 0x7fffffff;
      } else {
        this.stats.count(
          'blktrace_short_payload',
          'data_loss',
          'split/unplug/remap records whose payload is shorter than the kernel writes; the value is left null',
          { file: c.path, offset: c.base + p, text: `${BLK_TA_LETTERS[code]} with pdu_len ${pdu}` },
        );
      }
    } else if (code === TA.REMAP) {
      if (payloadLen >= 16) {
        row.oldDev = this.devKey(v.getUint32(payload, false));
        // device_to (payload + 4) equals the header's device
        const hi = v.getUint32(payload + 8, false);
        const lo = v.getUint32(payload + 12, false);
        row.newSector = hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
      } else {
        this.stats.count(
          'blktrace_short_payload',
          'data_loss',
          'split/unplug/remap records whose payload is shorter than the kernel writes; the value is left null',
          { file: c.path, offset: c.base + p, text: `A with pdu_len ${pdu}` },
        );
      }
    }
  }

  private notify(
    c: FileCursor,
    p: number,
    code: number,
    pid: number,
    ts: number | bigint,
    tHi: number,
    tLo: number,
    payload: number,
    len: number,
  ): void {
    if (code === TN_PROCESS) {
      let n = 0;
      while (n < len && n < 16 && c.buf[payload + n] !== 0) n++;
      this.commKeys.set(pid, this.out.internComm(latin1(c.buf, payload, n)));
      if (pid === this.lastPid) this.lastPid = -1;
      if (this.commCachePid[pid & 1023] === pid) this.commCachePid[pid & 1023] = -1;
    } else if (code === TN_TIMESTAMP) {
      if (len >= 8) {
        const sec = c.view.getUint32(payload, c.le);
        const nsec = c.view.getUint32(payload + 4, c.le);
        if (this.wallClockNs === undefined) {
          this.wallClockNs = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
          this.wallClockAtTraceNs = (BigInt(tHi) << 32n) | BigInt(tLo);
        }
      }
    } else if (code === TN_MESSAGE) {
      this.stats.count('blktrace_message', 'info', 'MESSAGE notify records (free text from blktrace users); kept as action m', {
        file: c.path,
        offset: c.base + p,
        text: latin1(c.buf, payload, Math.min(len, 120)),
      });
      const rk = this.out.internRwbs('N');
      const packed = this.out.rwbsOpFlags(rk);
      const row = this.out.row;
      row.ts = ts;
      row.cpu = c.view.getUint32(p + (c.header === HEADER_8 ? 44 : 40), c.le);
      row.pid = pid;
      row.comm = this.commKey(pid);
      row.action = BlockAction.m;
      row.rwbs = rk;
      row.op = packed & 7;
      row.flags = packed >> 3;
      this.out.commit();
      if (this.out.refused !== null)
        throw new InputError(c.path, this.out.refused, { offset: c.base + p, what: 'blk_io_trace record (message)' });
      this.events++;
    } else {
      this.stats.count('blktrace_unknown_notify', 'info', 'notify records with an unknown code; skipped', {
        file: c.path,
        offset: c.base + p,
        text: `notify code ${code}`,
      });
    }
  }
}

function latin1(b: Uint8Array, start: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[start + i]!);
  return s;
}
