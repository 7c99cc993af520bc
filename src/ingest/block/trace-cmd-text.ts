/**
 * Reader of `trace-cmd report` text (trace-cmd 3.x, libtraceevent). Differences from tracefs
 * text (observed with trace-cmd 3.1.6 on Linux 6.18):
 *   - lines of an instance buffer start with `<instance>:`; no latency-flags column unless `-l`,
 *     which prints `<cpu><flags>` without brackets (`mount-21232   0.....   997.822092:`);
 *   - event names are padded (`block_bio_queue:      7,0 RA ...`);
 *   - the ioprio class is printed as a hex number (`0x2,0,4`), not a name: libtraceevent cannot
 *     resolve the kernel's __print_symbolic table for it;
 *   - `-t` prints nanosecond timestamps (9 decimals);
 *   - `-R` prints the raw fields of the event's format file instead of its print format:
 *     `dev=7340032 sector=196480 nr_sector=8 bytes=4096 ioprio=16388 rwbs=RA comm=mount cmd=`
 *     (dev is the kernel dev_t, (major << 20) | minor; ioprio the 16-bit IOPRIO_PRIO_VALUE).
 * Header lines (`cpus=2`, `version = 6`, `CPU 1 is empty`) and `[N EVENTS DROPPED]` are handled.
 */
import type { IngestStats } from '../ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
import { BlockAction, NONE, type BlockEventsBuilder } from './block-events-builder.js';
import { BlockOp } from './rwbs.js';
import {
  BlockTracepoint, TracefsTextParser, addBlockEvent, parseTextLines, readTextLines, currentPrefix,
  type BlockTextContext, type BlockTextFileSummary,
} from './tracefs-text.js';

/** Raw field ids of the block tracepoints' format files. */
const F = {
  dev: 0, sector: 1, nr_sector: 2, bytes: 3, ioprio: 4, rwbs: 5, comm: 6, error: 7,
  new_sector: 8, old_dev: 9, old_sector: 10, nr_bios: 11, nr_rq: 12, cmd: 13,
} as const;
const FIELD_NAMES = Object.keys(F);
const NFIELDS = FIELD_NAMES.length;
const FIELD_BYTES = FIELD_NAMES.map((n) => new TextEncoder().encode(n));

/** Field value ranges of the current raw line: start, end (-1 = field absent). */
const VS = new Int32Array(NFIELDS);
const VE = new Int32Array(NFIELDS);

/** Id of a field name t[s, e), or -1. */
function fieldId(t: Uint8Array, s: number, e: number): number {
  for (let f = 0; f < NFIELDS; f++) {
    const n = FIELD_BYTES[f]!;
    if (n.length !== e - s) continue;
    let k = 0;
    while (k < n.length && n[k] === t[s + k]) k++;
    if (k === n.length) return f;
  }
  return -1;
}

/** True when t[p..] is `<lowercase or _>+=` (the start of the next raw field). */
function atFieldStart(t: Uint8Array, p: number, e: number): boolean {
  let q = p;
  while (q < e) {
    const c = t[q]!;
    if (c === 61) return q > p;
    if (!((c >= 97 && c <= 122) || c === 95)) return false;
    q++;
  }
  return false;
}

/** Split `name=value name=value ...` into VS/VE; false when the text is not raw fields. */
function splitRawFields(t: Uint8Array, p: number, e: number): boolean {
  VS.fill(-1);
  VE.fill(-1);
  while (p < e) {
    const ks = p;
    while (p < e && t[p] !== 61) p++;
    if (p >= e) return false;
    const f = fieldId(t, ks, p);
    p++;
    const vs = p;
    // a value ends at the space before the next "name=" (comm and cmd may contain spaces)
    while (p < e && !(t[p] === 32 && atFieldStart(t, p + 1, e))) p++;
    if (f >= 0) { VS[f] = vs; VE[f] = p; }
    if (p < e) p++;
  }
  return true;
}

/** Unsigned decimal field: number, bigint beyond 2^53, or -1 when absent or not a number. */
function fieldU64(t: Uint8Array, f: number): number | bigint {
  const s = VS[f]!;
  const e = VE[f]!;
  if (s < 0 || e <= s || e - s > 20) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = t[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  if (e - s <= 15) return v;
  const b = BigInt(String.fromCharCode(...t.subarray(s, e)));
  if (b > 0xffffffffffffffffn) return -1;
  return b <= 9007199254740991n ? Number(b) : b;
}

/** Signed decimal field (errno), or NaN. */
function fieldSigned(t: Uint8Array, f: number): number {
  let s = VS[f]!;
  const e = VE[f]!;
  if (s < 0 || e <= s) return NaN;
  const neg = t[s] === 45;
  if (neg) s++;
  if (e <= s || e - s > 6) return NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = t[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

function num(v: number | bigint): number { return typeof v === 'number' ? v : -1; }

/**
 * Add one event from raw (-R) fields. Returns false when a field the tracepoint needs is
 * missing or malformed.
 */
function addRawBlockEvent(ctx: BlockTextContext, tp: number, t: Uint8Array, p: number, e: number): boolean {
  if (!splitRawFields(t, p, e)) return false;
  const b = ctx.builder;
  const { ts, cpu, pid, commS, commE } = currentPrefix();
  const comm = VS[F.comm]! >= 0 ? ctx.comm.lookup(t, VS[F.comm]!, VE[F.comm]!) : ctx.comm.lookup(t, commS, commE);
  if (tp === BlockTracepoint.plug || tp === BlockTracepoint.unplug) {
    let depth = NONE;
    if (tp === BlockTracepoint.unplug) {
      depth = num(fieldU64(t, F.nr_rq));
      if (depth < 0 || depth > 0x7fffffff) return false;
    }
    b.add(ts, cpu, pid, comm, NONE, tp === BlockTracepoint.plug ? BlockAction.P : BlockAction.U, NONE, BlockOp.other, 0, NONE, 0, 0, null, NONE, NONE, depth, NONE);
    return true;
  }
  const devT = num(fieldU64(t, F.dev));
  if (devT < 0 || devT > 0xffffffff) return false;
  const dev = ctx.devKey(Math.floor(devT / 1048576), devT % 1048576);
  if (VS[F.rwbs]! < 0) return false;
  const rwbs = ctx.rwbs.lookup(t, VS[F.rwbs]!, VE[F.rwbs]!);
  if (rwbs < 0) return false;
  const packed = b.rwbsOpFlags(rwbs);
  const op = packed & 7;
  const flags = packed >> 3;
  let sector = fieldU64(t, F.sector);
  if (sector === -1) return false;
  const ioprio = VS[F.ioprio]! >= 0 ? ctx.ioprio.lookup(t, VS[F.ioprio]!, VE[F.ioprio]!) : NONE;
  if (tp === BlockTracepoint.split) {
    const newSector = fieldU64(t, F.new_sector);
    if (newSector === -1) return false;
    b.add(ts, cpu, pid, comm, dev, BlockAction.X, rwbs, op, flags, sector, 0, 0, null, newSector, NONE, NONE, NONE);
    return true;
  }
  const nr = num(fieldU64(t, F.nr_sector));
  if (nr < 0 || nr > 0x7fffff) return false;
  if (op === BlockOp.flush && nr === 0) sector = NONE;
  switch (tp) {
    case BlockTracepoint.rq_insert: case BlockTracepoint.rq_issue: case BlockTracepoint.rq_merge: {
      let bytes = num(fieldU64(t, F.bytes));
      if (bytes < 0 || bytes > 0xffffffff) return false;
      if (bytes === 0 && nr > 0) bytes = NONE;
      const action = tp === BlockTracepoint.rq_insert ? BlockAction.I : tp === BlockTracepoint.rq_issue ? BlockAction.D : BlockAction.T;
      b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, nr, bytes, null, NONE, NONE, NONE, ioprio);
      return true;
    }
    case BlockTracepoint.rq_complete: case BlockTracepoint.rq_requeue: case BlockTracepoint.bio_complete: {
      const error = fieldSigned(t, F.error);
      if (Number.isNaN(error) || error < -32768 || error > 32767) return false;
      const action = tp === BlockTracepoint.rq_requeue ? BlockAction.R : BlockAction.C;
      b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, nr, NONE, error, NONE, NONE, NONE, ioprio);
      return true;
    }
    case BlockTracepoint.bio_remap: case BlockTracepoint.rq_remap: {
      const oldDevT = num(fieldU64(t, F.old_dev));
      const oldSector = fieldU64(t, F.old_sector);
      if (oldDevT < 0 || oldDevT > 0xffffffff || oldSector === -1) return false;
      let nrBios = NONE;
      if (tp === BlockTracepoint.rq_remap) {
        nrBios = num(fieldU64(t, F.nr_bios));
        if (nrBios < 0 || nrBios > 0x7fffffff) return false;
      }
      const oldDev = ctx.devKey(Math.floor(oldDevT / 1048576), oldDevT % 1048576);
      b.add(ts, cpu, pid, comm, dev, BlockAction.A, rwbs, op, flags, sector, nr, NONE, null, oldSector, oldDev, nrBios, NONE);
      return true;
    }
    default: {
      const action = tp === BlockTracepoint.bio_queue ? BlockAction.Q
        : tp === BlockTracepoint.getrq ? BlockAction.G
          : tp === BlockTracepoint.bio_backmerge ? BlockAction.M
            : tp === BlockTracepoint.bio_frontmerge ? BlockAction.F
              : tp === BlockTracepoint.sleeprq ? BlockAction.S : BlockAction.B;
      b.add(ts, cpu, pid, comm, dev, action, rwbs, op, flags, sector, nr, NONE, null, NONE, NONE, NONE, NONE);
      return true;
    }
  }
}

/** Parses `trace-cmd report` lines (default, -t, -l, -R, instance prefixes). */
export class TraceCmdTextParser extends TracefsTextParser {
  constructor(builder: BlockEventsBuilder, stats: IngestStats, file: string) {
    super(builder, stats, file, true);
  }

  protected override body(tp: number, t: Uint8Array, p: number, e: number): boolean {
    // raw fields start with a lowercase name and '=' (`dev=`, `comm=`, `nr_rq=`); formatted
    // bodies start with a digit (`7,0 ...`) or '[' (plug, unplug)
    const c = t[p]!;
    if (c >= 97 && c <= 122) return addRawBlockEvent(this.ctx, tp, t, p, e);
    return addBlockEvent(this.ctx, tp, t, p, e);
  }
}

/** Read a `trace-cmd report` text file into `builder`. */
export function readTraceCmdText(
  path: string, builder: BlockEventsBuilder, stats: IngestStats, onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  return readTextLines(path, new TraceCmdTextParser(builder, stats, path), onProgress);
}

/** Parse `trace-cmd report` text held in memory; `file` names it in messages. */
export function parseTraceCmdText(text: string | Uint8Array, file: string, builder: BlockEventsBuilder, stats: IngestStats): BlockTextFileSummary {
  return parseTextLines(text, file, new TraceCmdTextParser(builder, stats, file));
}
