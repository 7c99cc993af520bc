/**
 * The raw fields `trace-cmd report -R` prints instead of an event's print format: the fields of
 * the tracepoint's format file (include/trace/events/block.h TP_STRUCT__entry) as
 * `dev=7340032 sector=196480 nr_sector=8 bytes=4096 ioprio=16388 rwbs=RA comm=mount cmd=`
 * (dev is the kernel dev_t, (major << 20) | minor; ioprio the 16-bit IOPRIO_PRIO_VALUE).
 * RawFields is the tokenizer (name=value ranges of one line), RawBlockEventParser maps them to
 * a block_events row.
 */
import { MINORBITS, NONE, type BlockEventRow } from './block-events-builder.js';
import type { BlockTextContext } from './block-text-context.js';
import { ACTION_OF, BlockTracepoint } from './block-tracepoints.js';
import type { FtracePrefix } from './ftrace-prefix.js';
import { BlockOp } from './rwbs.js';
import { u64Digits } from '../text/byte-scanner.js';

/** Raw field ids of the block tracepoints' format files. */
const F = {
  dev: 0,
  sector: 1,
  nr_sector: 2,
  bytes: 3,
  ioprio: 4,
  rwbs: 5,
  comm: 6,
  error: 7,
  new_sector: 8,
  old_dev: 9,
  old_sector: 10,
  nr_bios: 11,
  nr_rq: 12,
  cmd: 13,
} as const;
const FIELD_NAMES = Object.keys(F);
const NFIELDS = FIELD_NAMES.length;
const FIELD_BYTES = FIELD_NAMES.map((n) => new TextEncoder().encode(n));

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

/** The value ranges of the known fields of one raw line. */
export class RawFields {
  /** Start and end of each field's value (-1 = field absent). */
  readonly vs = new Int32Array(NFIELDS);
  readonly ve = new Int32Array(NFIELDS);

  /** Split `name=value name=value ...` t[p, e); false when the text is not raw fields. */
  split(t: Uint8Array, p: number, e: number): boolean {
    this.vs.fill(-1);
    this.ve.fill(-1);
    while (p < e) {
      const ks = p;
      while (p < e && t[p] !== 61) p++;
      if (p >= e) return false;
      const f = fieldId(t, ks, p);
      p++;
      const vs = p;
      // a value ends at the space before the next "name=" (comm and cmd may contain spaces)
      while (p < e && !(t[p] === 32 && atFieldStart(t, p + 1, e))) p++;
      if (f >= 0) {
        this.vs[f] = vs;
        this.ve[f] = p;
      }
      if (p < e) p++;
    }
    return true;
  }

  /** Unsigned decimal field: number, bigint beyond 2^53, or -1 when absent or not a number. */
  u64(t: Uint8Array, f: number): number | bigint {
    const s = this.vs[f]!;
    const e = this.ve[f]!;
    if (s < 0 || e <= s || e - s > 20) return -1;
    let v = 0;
    for (let i = s; i < e; i++) {
      const c = t[i]! - 48;
      if (c < 0 || c > 9) return -1;
      v = v * 10 + c;
    }
    if (e - s <= 15) return v;
    const b = u64Digits(t, s, e);
    if (b === -1) return -1;
    return b <= 9007199254740991n ? Number(b) : b;
  }

  /** Unsigned decimal field that fits a safe integer, else -1. */
  num(t: Uint8Array, f: number): number {
    const v = this.u64(t, f);
    return typeof v === 'number' ? v : -1;
  }

  /** Signed decimal field (errno), or NaN. */
  signed(t: Uint8Array, f: number): number {
    let s = this.vs[f]!;
    const e = this.ve[f]!;
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
}

/** Adds events from raw (-R) fields into the reader's builder row. */
export class RawBlockEventParser {
  private readonly fields = new RawFields();
  private readonly row: BlockEventRow;
  constructor(
    private readonly ctx: BlockTextContext,
    private readonly prefix: FtracePrefix,
  ) {
    this.row = ctx.row;
  }

  /** Add one event from the raw fields t[p, e); false when a field the tracepoint needs is missing or malformed. */
  add(tp: number, t: Uint8Array, p: number, e: number): boolean {
    const ok = this.fill(tp, t, p, e);
    if (ok) this.ctx.builder.commit();
    else this.row.clear();
    return ok;
  }

  private fill(tp: number, t: Uint8Array, p: number, e: number): boolean {
    const fields = this.fields;
    if (!fields.split(t, p, e)) return false;
    const ctx = this.ctx;
    const pre = this.prefix;
    const row = this.row;
    row.ts = pre.time();
    row.cpu = pre.cpu;
    row.pid = pre.pid;
    row.comm =
      fields.vs[F.comm]! >= 0 ? ctx.comm.lookup(t, fields.vs[F.comm]!, fields.ve[F.comm]!) : ctx.comm.lookup(t, pre.commS, pre.commE);
    row.action = ACTION_OF[tp]!;
    if (tp === BlockTracepoint.plug || tp === BlockTracepoint.unplug) {
      if (tp === BlockTracepoint.unplug) {
        row.count = fields.num(t, F.nr_rq);
        if (row.count < 0 || row.count > 0x7fffffff) return false;
      }
      return true;
    }
    const devT = fields.num(t, F.dev);
    if (devT < 0 || devT > 0xffffffff) return false;
    row.dev = ctx.devKey(Math.floor(devT / (1 << MINORBITS)), devT % (1 << MINORBITS));
    if (fields.vs[F.rwbs]! < 0) return false;
    const rwbs = ctx.rwbs.lookup(t, fields.vs[F.rwbs]!, fields.ve[F.rwbs]!);
    if (rwbs < 0) return false;
    const packed = ctx.builder.rwbsOpFlags(rwbs);
    row.rwbs = rwbs;
    row.op = packed & 7;
    row.flags = packed >> 3;
    const sector = fields.u64(t, F.sector);
    if (sector === -1) return false;
    // interned for every event that has the field (dictionary order), kept by rq events and completions
    const ioprio = fields.vs[F.ioprio]! >= 0 ? ctx.ioprio.lookup(t, fields.vs[F.ioprio]!, fields.ve[F.ioprio]!) : NONE;
    if (tp === BlockTracepoint.split) {
      row.sector = sector;
      row.newSector = fields.u64(t, F.new_sector);
      return row.newSector !== -1;
    }
    const nr = fields.num(t, F.nr_sector);
    if (nr < 0 || nr > 0x7fffff) return false;
    row.nrSectors = nr;
    // flush requests carry sector 0 or (sector_t)-1 and no length: no sector
    row.sector = row.op === BlockOp.flush && nr === 0 ? NONE : sector;
    return this.trailer(tp, t, nr, ioprio);
  }

  /** The fields after the sector range: bytes of rq events, error of completions, the origin of remaps. */
  private trailer(tp: number, t: Uint8Array, nr: number, ioprio: number): boolean {
    const fields = this.fields;
    const row = this.row;
    switch (tp) {
      case BlockTracepoint.rq_insert:
      case BlockTracepoint.rq_issue:
      case BlockTracepoint.rq_merge: {
        const bytes = fields.num(t, F.bytes);
        if (bytes < 0 || bytes > 0xffffffff) return false;
        // 4.x printed 0 bytes for file-system requests (only passthrough requests had a count)
        row.bytes = bytes === 0 && nr > 0 ? NONE : bytes;
        row.ioprio = ioprio;
        return true;
      }
      case BlockTracepoint.rq_complete:
      case BlockTracepoint.rq_requeue:
      case BlockTracepoint.bio_complete: {
        const error = fields.signed(t, F.error);
        if (Number.isNaN(error) || error < -32768 || error > 32767) return false;
        row.error = error;
        row.ioprio = ioprio;
        return true;
      }
      case BlockTracepoint.bio_remap:
      case BlockTracepoint.rq_remap: {
        const oldDevT = fields.num(t, F.old_dev);
        const oldSector = fields.u64(t, F.old_sector);
        if (oldDevT < 0 || oldDevT > 0xffffffff || oldSector === -1) return false;
        if (tp === BlockTracepoint.rq_remap) {
          row.count = fields.num(t, F.nr_bios);
          if (row.count < 0 || row.count > 0x7fffffff) return false;
        }
        row.newSector = oldSector;
        row.oldDev = this.ctx.devKey(Math.floor(oldDevT / (1 << MINORBITS)), oldDevT % (1 << MINORBITS));
        return true;
      }
      default:
        return true;
    }
  }
}
