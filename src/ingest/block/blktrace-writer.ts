/**
 * Writes a block_events table as binary blktrace files, the way the kernel's relay channels and
 * `blktrace` would have: one file per CPU (`PREFIX.blktrace.N`) or one merged file (like
 * `blkparse -d`). Used to check the binary reader against blkparse/btt on real captures that were
 * recorded as text (the relay files cannot be opened on every machine), and by the benchmark.
 *
 * Encoding follows include/uapi/linux/blktrace_api.h (struct blk_io_trace, version 7) and
 * kernel/trace/blktrace.c:
 *   - action = category bits << 16 | __BLK_TA code. Categories: READ or WRITE from op_is_write()
 *     (REQ_OP_FLUSH is even, so a flush request is READ|FLUSH and prints "FN"), DISCARD, FLUSH for
 *     REQ_PREFLUSH and REQ_OP_FLUSH, SYNC, META, AHEAD, FUA; QUEUE/REQUEUE/ISSUE/COMPLETE per
 *     action (BLK_TA_* constants); FS on request events (blk_add_trace_rq), none on bio events.
 *   - block_rq_merge (action T) is recorded with BLK_TA_BACKMERGE, as the kernel does.
 *   - split, unplug and remap payloads are big-endian (cpu_to_be64 / blk_io_trace_remap).
 *   - a PROCESS notify (comm, 16 bytes) precedes the first event of each pid; sequence numbers
 *     count per CPU from 1; notify records have sequence 0.
 */
import { closeSync, writeSync } from 'node:fs';
import { createTemporary, discardTemporary, renameIntoPlace } from '../../io/output-folder.js';
import type { Table } from '@uwdata/flechette';
import { Act, Op, forEachEventBatch } from './block-event-batches.js';
import { BlockFlag } from './rwbs.js';
import { BlkTc } from './blktrace-binary.js';

/** __BLK_TA code per Act code (index = Act code); 0 = not written. */
const TA_CODE = (() => {
  const t = new Uint8Array(32);
  const set = (a: keyof typeof Act, code: number) => {
    t[Act[a]] = code;
  };
  set('Q', 1);
  set('M', 2);
  set('F', 3);
  set('G', 4);
  set('S', 5);
  set('R', 6);
  set('D', 7);
  set('C', 8);
  set('P', 9);
  set('U', 10);
  set('UT', 11);
  set('I', 12);
  set('X', 13);
  set('B', 14);
  set('A', 15);
  set('T', 2);
  return t;
})();

/** Category of the action itself (BLK_TA_* definitions). */
function actionCategory(act: number): number {
  switch (act) {
    case Act.R:
      return BlkTc.REQUEUE;
    case Act.D:
      return BlkTc.ISSUE;
    case Act.C:
      return BlkTc.COMPLETE;
    case Act.X:
    case Act.B:
      return 0;
    default:
      return BlkTc.QUEUE;
  }
}

/** Request events carry FS (blk_add_trace_rq); bio events do not (blk_add_trace_bio). */
function isRequestEvent(act: number): boolean {
  return act === Act.I || act === Act.D || act === Act.C || act === Act.R || act === Act.T;
}

export interface BlktraceWriteOptions {
  /** 'per-cpu' (default): PREFIX.blktrace.<cpu> for every cpu 0..max; 'merged': one file PREFIX. */
  layout?: 'per-cpu' | 'merged';
  /** Header byte order (default little). */
  byteOrder?: 'little' | 'big';
  /** Wall clock (ns since the epoch) to record in a TIMESTAMP notify at the first event's time. */
  wallClockNs?: bigint;
}

const BUF = 1 << 20;

class RecordSink {
  private buf = new Uint8Array(BUF);
  private view = new DataView(this.buf.buffer);
  private n = 0;
  seq = 0;
  readonly pids = new Set<number>();
  private readonly fd: number;
  private readonly temp: string;
  /** Written under a temporary name beside `path`, renamed into place by finish (see output-folder.ts). */
  constructor(readonly path: string) {
    ({ fd: this.fd, temp: this.temp } = createTemporary(path));
  }
  reserve(len: number): DataView {
    if (this.n + len > this.buf.length) this.flush();
    return this.view;
  }
  get at(): number {
    return this.n;
  }
  advance(len: number): void {
    this.n += len;
  }
  bytes(): Uint8Array {
    return this.buf;
  }
  flush(): void {
    if (this.n) writeSync(this.fd, this.buf, 0, this.n);
    this.n = 0;
  }
  /** Close the file; with `keep` rename it into place, else remove it. */
  finish(keep: boolean): void {
    try {
      if (keep) this.flush();
    } finally {
      closeSync(this.fd);
      if (keep) renameIntoPlace(this.temp, this.path);
      else discardTemporary(this.temp);
    }
  }
}

/**
 * A version-7 record header at the end of the sink, with room for `pdu` payload bytes after it;
 * returns where the payload goes.
 */
function writeHeader(
  s: RecordSink,
  le: boolean,
  seq: number,
  tsAbs: bigint,
  sector: number,
  bytes: number,
  action: number,
  pid: number,
  devt: number,
  cpu: number,
  error: number,
  pdu: number,
): number {
  const v = s.reserve(48 + pdu);
  const p = s.at;
  v.setUint32(p, 0x65617407, le);
  v.setUint32(p + 4, seq, le);
  v.setBigUint64(p + 8, BigInt.asUintN(64, tsAbs), le);
  v.setBigUint64(p + 16, BigInt(sector), le);
  v.setUint32(p + 24, bytes >>> 0, le);
  v.setUint32(p + 28, action >>> 0, le);
  v.setUint32(p + 32, pid >>> 0, le);
  v.setUint32(p + 36, devt >>> 0, le);
  v.setUint32(p + 40, cpu >>> 0, le);
  v.setUint16(p + 44, error & 0xffff, le);
  v.setUint16(p + 46, pdu, le);
  s.advance(48 + pdu);
  return p + 48;
}

/**
 * Write the events as binary blktrace. Returns the paths written. Events whose action has no
 * blktrace code (m) are skipped; times are the table's ts_ns.
 */
export function writeBlktraceBinary(events: Table, prefix: string, opts: BlktraceWriteOptions = {}): string[] {
  const le = (opts.byteOrder ?? 'little') === 'little';
  const merged = opts.layout === 'merged';
  const sinks = new Map<number, RecordSink>();
  const paths: string[] = [];
  let complete = false;
  const sinkFor = (cpu: number): RecordSink => {
    const key = merged ? 0 : cpu;
    let s = sinks.get(key);
    if (!s) {
      const path = merged ? prefix : `${prefix}.blktrace.${cpu}`;
      s = new RecordSink(path);
      sinks.set(key, s);
    }
    return s;
  };
  let maxCpu = 0;
  let devtFallback = 0;
  let wroteTimestamp = opts.wallClockNs === undefined;
  const devts: number[] = [];
  try {
    forEachEventBatch(events, (b, names, base) => {
      addDevts(devts, names.dev);
      for (let i = 0; i < b.length; i++) {
        const act = b.action[i]!;
        const code = act < TA_CODE.length ? TA_CODE[act]! : 0;
        if (code === 0) continue;
        const cpu = b.cpu[i]! < 0 ? 0 : b.cpu[i]!;
        if (cpu > maxCpu) maxCpu = cpu;
        const s = sinkFor(cpu);
        const ts = base + BigInt(b.ts[i]!);
        const devIdx = b.dev[i]!;
        let devt = devIdx >= 0 ? devts[devIdx]! : devtFallback;
        if (devIdx >= 0 && devtFallback === 0) devtFallback = devt;
        if (devIdx < 0) devt = devtFallback;
        const pid = b.pid[i]! < 0 ? 0 : b.pid[i]!;
        if (!wroteTimestamp) {
          writeTimestamp(s, le, ts, opts.wallClockNs!, devt, cpu);
          wroteTimestamp = true;
        }
        if (!s.pids.has(pid) && b.comm[i]! >= 0) {
          s.pids.add(pid);
          const q = writeHeader(s, le, 0, ts, 0, 0, (BlkTc.NOTIFY << 16) | 0, pid, devt, cpu, 0, 16);
          const bytesOut = s.bytes();
          const comm = names.comm[b.comm[i]!]!;
          for (let k = 0; k < 16; k++) bytesOut[q + k] = k < comm.length ? comm.charCodeAt(k) & 0xff : 0;
        }
        const op = b.op[i]!;
        const fl = b.flags[i]!;
        let cat = actionCategory(act);
        if (act !== Act.P && act !== Act.U && act !== Act.UT) {
          cat |= op === Op.write || op === Op.discard ? BlkTc.WRITE : BlkTc.READ;
          if (op === Op.discard) cat |= BlkTc.DISCARD;
          if (op === Op.flush || fl & BlockFlag.preflush) cat |= BlkTc.FLUSH;
          if (fl & BlockFlag.sync) cat |= BlkTc.SYNC;
          if (fl & BlockFlag.meta) cat |= BlkTc.META;
          if (fl & BlockFlag.readahead) cat |= BlkTc.AHEAD;
          if (fl & BlockFlag.fua) cat |= BlkTc.FUA;
          if (isRequestEvent(act)) cat |= BlkTc.FS;
        }
        const sector = b.sector[i]! < 0 ? 0 : b.sector[i]!;
        // C reports the completed bytes (nr_sectors << 9); I, D, T, R the request bytes
        const bytes =
          act === Act.P || act === Act.U || act === Act.UT
            ? 0
            : act === Act.C
              ? b.nr[i]! * 512
              : b.bytes[i]! > 0
                ? b.bytes[i]!
                : b.nr[i]! * 512;
        const err = act === Act.C || act === Act.R ? (b.error[i]! === 0x7fffffff ? 0 : b.error[i]!) : 0;
        const pdu = act === Act.X || act === Act.U || act === Act.UT ? 8 : act === Act.A ? 16 : 0;
        s.seq++;
        const q = writeHeader(s, le, s.seq, ts, sector, bytes, ((cat << 16) | code) >>> 0, pid, devt, cpu, err, pdu);
        if (pdu) {
          const v = s.reserve(0);
          if (act === Act.X) v.setBigUint64(q, BigInt(Math.max(0, b.newSector[i]!)), false);
          else if (act === Act.A) {
            v.setUint32(q, b.oldDev[i]! >= 0 ? (devts[b.oldDev[i]!] ?? 0) : 0, false);
            v.setUint32(q + 4, devt, false);
            v.setBigUint64(q + 8, BigInt(Math.max(0, b.newSector[i]!)), false);
          } else v.setBigUint64(q, BigInt(Math.max(0, b.count[i]!)), false);
        }
      }
    });
    // blkparse opens NAME.blktrace.0, 1, ... until one is missing: make every CPU's file
    if (!merged) for (let c = 0; c <= maxCpu; c++) sinkFor(c);
    complete = true;
  } finally {
    finishSinks(sinks, complete, paths);
  }
  return paths;
}

/** The device numbers (kernel dev_t) of the device names not converted yet. */
function addDevts(devts: number[], names: string[]): void {
  while (devts.length < names.length) {
    const m = /^(\d+):(\d+)$/.exec(names[devts.length]!);
    devts.push(m ? ((Number(m[1]) << 20) | Number(m[2])) >>> 0 : 0);
  }
}

/** TIMESTAMP notify: wall clock seconds, nanoseconds (u32 each, header byte order). */
function writeTimestamp(s: RecordSink, le: boolean, ts: bigint, w: bigint, devt: number, cpu: number): void {
  const q = writeHeader(s, le, 0, ts, 0, 0, (BlkTc.NOTIFY << 16) | 1, 0, devt, cpu, 0, 8);
  const v = s.reserve(0);
  v.setUint32(q, Number(w / 1_000_000_000n), le);
  v.setUint32(q + 4, Number(w % 1_000_000_000n), le);
}

/** Close every sink (in CPU order), renamed into place when `complete`; their paths go to `paths`. */
function finishSinks(sinks: Map<number, RecordSink>, complete: boolean, paths: string[]): void {
  // after a failure (or a file refused at its final name) the other files are removed too
  let failure: unknown = null;
  for (const [, s] of [...sinks.entries()].sort((a, b) => a[0] - b[0])) {
    try {
      s.finish(complete && failure === null);
    } catch (e) {
      failure ??= e;
    }
    paths.push(s.path);
  }
  // the first sink's failure, after every sink was closed
  if (failure !== null) throw failure;
}
