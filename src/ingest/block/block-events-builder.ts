/**
 * The one writer of block_events rows, shared by every block reader (tracefs text, trace-cmd
 * report, blkparse text, binary blktrace). Rows are appended with a positional, allocation-free
 * `add`; string columns are filled with keys from intern helpers that readers call on the raw
 * text range, so a hot loop makes no string per field.
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import type { BoolColumnBuilder, Int64ColumnBuilder, NumberColumnBuilder, StringColumnBuilder } from '../../table/column-builders.js';
import { BLOCK_ACTIONS, BLOCK_OPS, blockEventsTable } from '../../table/schemas/block-events.js';
import { BlockFlag, BlockOp, parseRwbs } from './rwbs.js';

/** Keys of the action column: the position of the letter in BLOCK_ACTIONS (interned in that order). */
export const BlockAction = Object.fromEntries(BLOCK_ACTIONS.map((a, i) => [a, i])) as { readonly [K in (typeof BLOCK_ACTIONS)[number]]: number };

/** Value meaning "none" for the optional numeric and key arguments of `add`. */
export const NONE = -1;

/** Kernel dev_t as stored in tracefs fields and blk_io_trace.device: (major << 20) | minor. */
export const MINORBITS = 20;

/**
 * Interns a text range [start, end) of a larger string without slicing it on a hit: an
 * open-addressing hash table over the raw characters. On a miss `onMiss(raw)` gives the key to
 * remember (e.g. a dictionary key of a column, after normalising the text).
 */
export class RangeInterner {
  private slots = new Int32Array(64).fill(-1);
  private readonly raw: string[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly onMiss: (raw: string) => number, private readonly maxEntries = 1 << 20) {}

  get size(): number { return this.raw.length; }

  lookup(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = (h >>> 0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      const r = this.raw[e]!;
      if (r.length !== len) continue;
      let i = 0;
      while (i < len && r.charCodeAt(i) === text.charCodeAt(start + i)) i++;
      if (i === len) return this.keys[e]!;
    }
    const raw = text.slice(start, end);
    const key = this.onMiss(raw);
    // a bounded cache: past maxEntries the key is still right, it is just not remembered
    if (this.raw.length < this.maxEntries) this.insert(raw, key, h);
    return key;
  }

  private insert(raw: string, key: number, h: number): void {
    if ((this.raw.length + 1) * 2 > this.slots.length) this.grow();
    const e = this.raw.length;
    this.raw.push(raw);
    this.keys.push(key);
    const mask = this.slots.length - 1;
    let s = (h >>> 0) & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let e = 0; e < this.raw.length; e++) {
      const r = this.raw[e]!;
      let h = 0x811c9dc5;
      for (let i = 0; i < r.length; i++) h = Math.imul(h ^ r.charCodeAt(i), 16777619);
      let s = (h >>> 0) & mask;
      while (this.slots[s]! >= 0) s = (s + 1) & mask;
      this.slots[s] = e;
    }
  }
}

/** Names of the ioprio classes, IOPRIO_CLASS_* in include/uapi/linux/ioprio.h (7 is printed "invalid"). */
export const IOPRIO_CLASS_NAMES = ['none', 'rt', 'be', 'idle', 'invalid', 'invalid', 'invalid', 'invalid'] as const;

export interface BlockEventsBuilderOptions {
  /** Keep only events of this device ("MAJ:MIN"); see `add` for plug/unplug. */
  dev?: string;
}

/**
 * Builds the block_events table. Readers intern strings once (`commKey`, `devKey`, `rwbsKey`,
 * `ioprioKey`) and then call `add` with plain numbers.
 */
export class BlockEventsBuilder {
  readonly table = new TableBuilder(blockEventsTable);
  private readonly cTs: Int64ColumnBuilder;
  private readonly cCpu: NumberColumnBuilder<Int16Array>;
  private readonly cPid: NumberColumnBuilder<Int32Array>;
  private readonly cComm: StringColumnBuilder;
  private readonly cDev: StringColumnBuilder;
  private readonly cAction: StringColumnBuilder;
  private readonly cRwbs: StringColumnBuilder;
  private readonly cOp: StringColumnBuilder;
  private readonly cSync: BoolColumnBuilder;
  private readonly cMeta: BoolColumnBuilder;
  private readonly cFua: BoolColumnBuilder;
  private readonly cPreflush: BoolColumnBuilder;
  private readonly cReadahead: BoolColumnBuilder;
  private readonly cSector: Int64ColumnBuilder;
  private readonly cNr: NumberColumnBuilder<Uint32Array>;
  private readonly cBytes: NumberColumnBuilder<Uint32Array>;
  private readonly cError: NumberColumnBuilder<Int16Array>;
  private readonly cNewSector: Int64ColumnBuilder;
  private readonly cOldDev: StringColumnBuilder;
  private readonly cCount: NumberColumnBuilder<Int32Array>;
  private readonly cIoprio: StringColumnBuilder;

  private readonly devKeys = new Map<number, number>();
  /** Packed op | flags << 3 per rwbs key (parseRwbs), -1 when the text is not an RWBS string. */
  private readonly rwbsPacked: number[] = [];

  /** Device filter: the dev key to keep, or NONE. */
  private readonly keepDev: number = NONE;
  /** Plug sessions under a device filter: pid → held plug (ts, cpu, comm) and whether it matched. */
  private readonly plugs = new Map<number, number>();
  private plugTs: (number | bigint)[] = [];
  private plugCpu: number[] = [];
  private plugComm: number[] = [];
  private plugState: number[] = [];
  /** Events dropped by the device filter. */
  filteredOut = 0;

  constructor(options: BlockEventsBuilderOptions = {}) {
    const t = this.table;
    this.cTs = t.int64('ts_ns');
    this.cCpu = t.number('cpu') as NumberColumnBuilder<Int16Array>;
    this.cPid = t.number('pid') as NumberColumnBuilder<Int32Array>;
    this.cComm = t.string('comm');
    this.cDev = t.string('dev');
    this.cAction = t.string('action');
    this.cRwbs = t.string('rwbs');
    this.cOp = t.string('op');
    this.cSync = t.bool('sync');
    this.cMeta = t.bool('meta');
    this.cFua = t.bool('fua');
    this.cPreflush = t.bool('preflush');
    this.cReadahead = t.bool('readahead');
    this.cSector = t.int64('sector');
    this.cNr = t.number('nr_sectors') as NumberColumnBuilder<Uint32Array>;
    this.cBytes = t.number('bytes') as NumberColumnBuilder<Uint32Array>;
    this.cError = t.number('error') as NumberColumnBuilder<Int16Array>;
    this.cNewSector = t.int64('new_sector');
    this.cOldDev = t.string('old_dev');
    this.cCount = t.number('count') as NumberColumnBuilder<Int32Array>;
    this.cIoprio = t.string('ioprio');
    // categorical columns: key = position in the declared values
    for (const a of BLOCK_ACTIONS) this.cAction.intern(a);
    for (const o of BLOCK_OPS) this.cOp.intern(o);
    if (options.dev !== undefined) {
      const m = /^(\d+)[:,](\d+)$/.exec(options.dev);
      if (!m) throw new RangeError(`device "${options.dev}": expected MAJ:MIN`);
      this.keepDev = this.internDev(Number(m[1]), Number(m[2]));
    }
  }

  /** Rows added so far. */
  get length(): number { return this.cTs.length; }

  /** Key of a device "MAJ:MIN" in the dev and old_dev columns (both share one key space). */
  internDev(major: number, minor: number): number {
    const code = major * 1048576 + minor;
    let k = this.devKeys.get(code);
    if (k === undefined) {
      const s = `${major}:${minor}`;
      k = this.cDev.intern(s);
      const k2 = this.cOldDev.intern(s);
      if (k2 !== k) throw new Error('block_events: dev and old_dev dictionaries diverged');
      this.devKeys.set(code, k);
    }
    return k;
  }

  /** Key of a device given as a kernel dev_t ((major << 20) | minor). */
  internDevT(devT: number): number {
    return this.internDev(Math.floor(devT / 1048576), devT % 1048576);
  }

  /** Key of a command name in the comm column. */
  internComm(comm: string): number { return this.cComm.intern(comm); }

  /** A RangeInterner for comm text ranges (one per reader). */
  commInterner(): RangeInterner { return new RangeInterner((raw) => this.cComm.intern(raw), 1 << 16); }

  /** Key of an RWBS string; `rwbsOpFlags(key)` gives its op and flags (-1: not an RWBS string). */
  internRwbs(rwbs: string): number {
    const k = this.cRwbs.intern(rwbs);
    if (k === this.rwbsPacked.length) this.rwbsPacked.push(parseRwbs(rwbs));
    return k;
  }

  /** A RangeInterner for RWBS text ranges (one per reader). Texts that are not RWBS strings give -1. */
  rwbsInterner(): RangeInterner {
    return new RangeInterner((raw) => (parseRwbs(raw) < 0 ? NONE : this.internRwbs(raw)), 4096);
  }

  /** Op and flags of an interned RWBS key, packed as op | flags << 3 (see rwbs.ts). */
  rwbsOpFlags(rwbsKey: number): number { return this.rwbsPacked[rwbsKey] ?? -1; }

  /** Key of an ioprio "class,hint,level" text (class as a name). */
  internIoprio(text: string): number { return this.cIoprio.intern(text); }

  /**
   * Append one event. Numbers must be safe integers (pass a bigint beyond 2^53). NONE (-1) marks
   * a missing value for: commKey, devKey, sector, newSector, oldDevKey, count, ioprioKey;
   * `error` null marks none. `bytes` NONE means nr_sectors * 512.
   *
   * A write with REQ_PREFLUSH and no data (blkdev_issue_flush: "FWS 0 + 0") is a pure flush and
   * gets op flush. A sector of 2^64-1 (the kernel's (sector_t)-1 of flush requests) is stored as null.
   *
   * With a device filter, events of other devices are dropped. Plug and unplug carry no device:
   * a plug is held until its task (pid) has an event on the kept device, then written before that
   * event (so it can land after rows of other tasks with later times); an unplug is kept when its
   * task's plug session had such an event. Without any plug of that task seen, unplugs are dropped.
   */
  add(
    tsNs: number | bigint, cpu: number, pid: number, commKey: number, devKey: number,
    action: number, rwbsKey: number, op: number, flags: number,
    sector: number | bigint, nrSectors: number, bytes: number, error: number | null,
    newSector: number | bigint, oldDevKey: number, count: number, ioprioKey: number,
  ): void {
    if (this.keepDev !== NONE && !this.passFilter(tsNs, cpu, pid, commKey, devKey, action, oldDevKey)) {
      this.filteredOut++;
      return;
    }
    this.append(tsNs, cpu, pid, commKey, devKey, action, rwbsKey, op, flags, sector, nrSectors, bytes, error, newSector, oldDevKey, count, ioprioKey);
  }

  private append(
    tsNs: number | bigint, cpu: number, pid: number, commKey: number, devKey: number,
    action: number, rwbsKey: number, op: number, flags: number,
    sector: number | bigint, nrSectors: number, bytes: number, error: number | null,
    newSector: number | bigint, oldDevKey: number, count: number, ioprioKey: number,
  ): void {
    if (typeof tsNs === 'number') this.cTs.pushSafeInteger(tsNs); else this.cTs.push(tsNs);
    this.cCpu.push(cpu);
    this.cPid.push(pid);
    if (commKey < 0) this.cComm.pushNull(); else this.cComm.pushKey(commKey);
    if (devKey < 0) this.cDev.pushNull(); else this.cDev.pushKey(devKey);
    this.cAction.pushKey(action);
    this.cRwbs.pushKey(rwbsKey < 0 ? this.emptyRwbs() : rwbsKey);
    if (op === BlockOp.write && (flags & BlockFlag.preflush) !== 0 && nrSectors === 0 && bytes <= 0) op = BlockOp.flush;
    this.cOp.pushKey(op);
    this.cSync.push((flags & BlockFlag.sync) !== 0);
    this.cMeta.push((flags & BlockFlag.meta) !== 0);
    this.cFua.push((flags & BlockFlag.fua) !== 0);
    this.cPreflush.push((flags & BlockFlag.preflush) !== 0);
    this.cReadahead.push((flags & BlockFlag.readahead) !== 0);
    if (typeof sector === 'number') {
      if (sector < 0) this.cSector.pushNull(); else this.cSector.pushSafeInteger(sector);
    } else if (sector === 0xffffffffffffffffn || sector < 0n) this.cSector.pushNull();
    else this.cSector.push(sector);
    this.cNr.push(nrSectors);
    this.cBytes.push(bytes < 0 ? nrSectors * 512 : bytes);
    if (error === null) this.cError.pushNull(); else this.cError.push(error);
    if (typeof newSector === 'number') {
      if (newSector < 0) this.cNewSector.pushNull(); else this.cNewSector.pushSafeInteger(newSector);
    } else if (newSector < 0n || newSector > 0x7fffffffffffffffn) this.cNewSector.pushNull();
    else this.cNewSector.push(newSector);
    if (oldDevKey < 0) this.cOldDev.pushNull(); else this.cOldDev.pushKey(oldDevKey);
    if (count < 0) this.cCount.pushNull(); else this.cCount.push(count);
    if (ioprioKey < 0) this.cIoprio.pushNull(); else this.cIoprio.pushKey(ioprioKey);
  }

  private emptyRwbsKey = NONE;
  private emptyRwbs(): number {
    if (this.emptyRwbsKey < 0) this.emptyRwbsKey = this.internRwbs('');
    return this.emptyRwbsKey;
  }

  // plugState: 0 = held (not written), 1 = written (the session touched the kept device)
  private passFilter(tsNs: number | bigint, cpu: number, pid: number, commKey: number, devKey: number, action: number, oldDevKey: number): boolean {
    const keep = this.keepDev;
    if (action === BlockAction.P) {
      let slot = this.plugs.get(pid);
      if (slot === undefined) {
        slot = this.plugTs.length;
        this.plugs.set(pid, slot);
        this.plugTs.push(0); this.plugCpu.push(0); this.plugComm.push(0); this.plugState.push(0);
      }
      this.plugTs[slot] = tsNs; this.plugCpu[slot] = cpu; this.plugComm[slot] = commKey; this.plugState[slot] = 0;
      return false;
    }
    if (action === BlockAction.U || action === BlockAction.UT) {
      const slot = this.plugs.get(pid);
      if (slot === undefined) return false;
      const matched = this.plugState[slot] === 1;
      this.plugState[slot] = 2; // closed
      return matched;
    }
    const mine = devKey === keep || (oldDevKey !== NONE && oldDevKey === keep);
    if (mine) {
      const slot = this.plugs.get(pid);
      if (slot !== undefined && this.plugState[slot] === 0) {
        this.plugState[slot] = 1;
        this.append(this.plugTs[slot]!, this.plugCpu[slot]!, pid, this.plugComm[slot]!, NONE, BlockAction.P, NONE, BlockOp.other, 0, NONE, 0, 0, null, NONE, NONE, NONE, NONE);
      } else if (slot !== undefined && this.plugState[slot] === 2) {
        // after an unplug: a later unplug of this task with no new plug still belongs to this device
        this.plugState[slot] = 1;
      }
    } else if (devKey !== NONE) {
      const slot = this.plugs.get(pid);
      if (slot !== undefined && this.plugState[slot] === 2) this.plugState[slot] = 3;
    }
    return mine;
  }

  /**
   * Assemble the Arrow table. Metadata should include "clock" (the trace clock of ts_ns) and
   * "source" (formats and files read).
   */
  finish(metadata?: Record<string, string>): Table {
    return this.table.finish(metadata);
  }
}
