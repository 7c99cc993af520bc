/**
 * The tables of one capture as notebooks see them: every `<table>.arrow` written by `iolineage
 * ingest` / `iolineage analyze` in one output folder (and its immediate subfolders, e.g. out/block),
 * plus summary.json when present. `table(name)` hands out apache-arrow Tables that `aq.fromArrow`
 * takes, with numbers a user computes with and times since the capture's start (user-table.ts,
 * capture-timeline.ts). With several VMs, per-VM tables (`app_io_vm1`) are picked for the chosen VM;
 * shared tables (lineage, links, attribution) keep every VM's rows in a `vm` column.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type * as arrow from 'apache-arrow';
import { int64Words } from '../table/column-arrays.js';
import { readArrowColumns } from '../table/arrow-column-reader.js';
import { InputError, UsageError } from '../util/errors.js';
import { captureTimeBases, type ClockStarts } from './capture-timeline.js';
import { readSummaryJson, type Summary } from '../metrics/summary-json.js';
import { clockDomainOf, parseArrowBytes, toUserTable, type ClockDomain, type TimeBases, type UserTable } from './user-table.js';

export interface Capture {
  /** The folder the tables were found in (absolute). */
  readonly dir: string;
  /** Table file stem → file, for every table found (per-VM tables under their own stem, e.g. app_io_vm1). */
  readonly files: ReadonlyMap<string, string>;
  /** summary.json of `iolineage analyze`, when present. */
  readonly summary: Summary | null;
  /** The VMs of the capture (empty for an ingest of one trace). */
  readonly vms: readonly string[];
  /** The VM whose per-VM tables `table()` returns: the option, else $IOLINEAGE_VM, else the first. */
  readonly vm: string | null;
  /** What 0 is in every time column (one line). */
  readonly timeOrigin: string;
  /** Whether the capture has this table (for the chosen VM when the table is per VM). */
  has(name: string): boolean;
  /** The file of a table (for the chosen VM when per VM); throws a UsageError naming what is there. */
  fileOf(name: string): string;
  /**
   * The table as an apache-arrow Table (read once, then cached): 64-bit integers as numbers,
   * times in ns since the capture's start (see docs/tables.md and notebooks/README.md).
   */
  table(name: string): UserTable;
  /** The first of these tables that the capture has (e.g. block_requests, else guest_requests). */
  firstOf(names: readonly string[]): { name: string; table: UserTable };
}

export interface OpenCaptureOptions {
  /** The VM to show (per-VM tables); default $IOLINEAGE_VM, else the first. */
  vm?: string;
}

/**
 * Where a notebook's tables are: the argument, else $IOLINEAGE_OUT, else $IOLINEAGE_CAPTURE, else
 * `out` of the project (notebooks run in notebooks/, so `../out`).
 */
export function captureDir(dir?: string): string {
  const chosen = dir ?? process.env.IOLINEAGE_OUT ?? process.env.IOLINEAGE_CAPTURE;
  if (chosen) return resolve(chosen);
  return basename(process.cwd()) === 'notebooks' ? resolve('..', 'out') : resolve('out');
}

/** Tables written once per VM by `iolineage analyze` with several VMs (`<name>_<vm>.arrow`). */
const PER_VM_TABLES = ['app_io', 'guest_requests', 'guest_fs_map', 'image_map'] as const;

function scanTables(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const scan = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (f.endsWith('.arrow') && statSync(p).isFile()) {
        const name = f.slice(0, -'.arrow'.length);
        if (!files.has(name)) files.set(name, p);
      }
    }
  };
  scan(root);
  for (const sub of readdirSync(root).sort()) {
    const p = join(root, sub);
    if (statSync(p).isDirectory()) scan(p);
  }
  return files;
}

function readSummary(root: string, files: ReadonlyMap<string, string>): Summary | null {
  const path = [join(root, 'summary.json'), ...[...files.values()].map((p) => join(p, '..', 'summary.json'))].find((p) => existsSync(p));
  return path ? readSummaryJson(path) : null;
}

/** VMs named by per-VM table files, else by summary.json's clocks. */
function vmsOf(files: ReadonlyMap<string, string>, summary: Summary | null): string[] {
  const vms = new Set<string>();
  for (const stem of files.keys()) {
    for (const t of PER_VM_TABLES) if (stem.startsWith(`${t}_`) && !files.has(stem.slice(t.length + 1))) vms.add(stem.slice(t.length + 1));
  }
  if (vms.size === 0 && summary) for (const vm of Object.keys(summary.clocks)) vms.add(vm);
  return [...vms].sort();
}

/** Int64 chunks with their validity bitmaps (bit `bitOffset + i` for row i; null: no nulls). */
interface TimeChunk {
  values: BigInt64Array;
  length: number;
  bitmap: Uint8Array | null;
  bitOffset: number;
}

/**
 * The earliest valid value of int64 chunks, as an exact int64: compared on the two 32-bit words of
 * each value, one BigInt for the result.
 */
function earliest(chunks: readonly TimeChunk[]): bigint | null {
  let bestHi = Infinity,
    bestLo = Infinity;
  for (const d of chunks) {
    const { hi, lo } = int64Words(d.values);
    const bm = d.bitmap;
    for (let i = 0; i < d.length; i++) {
      if (bm !== null && !((bm[(d.bitOffset + i) >> 3]! >> ((d.bitOffset + i) & 7)) & 1)) continue;
      const h = hi[2 * i + 1]!,
        l = lo[2 * i]!;
      if (h < bestHi || (h === bestHi && l < bestLo)) {
        bestHi = h;
        bestLo = l;
      }
    }
  }
  return bestHi === Infinity ? null : (BigInt(bestHi) << 32n) + BigInt(bestLo);
}

/** The time columns (field metadata "clock", unit ns) of a table whose clock `domainOf` accepts. */
const isTimeOf = (domainOf: (clock: string) => boolean) => (metadata: { get(key: string): string | undefined | null }) => {
  const clock = metadata.get('clock');
  return !!clock && metadata.get('unit') === 'ns' && domainOf(clock);
};

/** The earliest valid value of a table's time columns (apache-arrow fixed-width buffers start at the Data's first row). */
function firstTime(t: arrow.Table, domainOf: (clock: string) => boolean): bigint | null {
  const chunks: TimeChunk[] = [];
  const isTime = isTimeOf(domainOf);
  for (const f of t.schema.fields) {
    if (!isTime(f.metadata)) continue;
    for (const d of t.getChild(f.name)?.data ?? []) {
      const bm = d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null;
      chunks.push({ values: d.values as BigInt64Array, length: d.length, bitmap: bm, bitOffset: d.offset });
    }
  }
  return earliest(chunks);
}

/**
 * The earliest valid value of a table file's time columns whose clock `domainOf` accepts, read
 * from those columns alone (arrow-column-reader.ts); undefined when that reader does not handle
 * the file (the caller reads it whole).
 */
export function timeColumnsStart(path: string, domainOf: (clock: string) => boolean): bigint | null | undefined {
  const isTime = isTimeOf(domainOf);
  const r = readArrowColumns(path, (f) => isTime(f.metadata));
  if (!r) return undefined;
  const chunks: TimeChunk[] = [];
  for (const f of r.fields) {
    if (!isTime(f.metadata)) continue;
    if (f.typeId !== 2 || f.bitWidth !== 64 || f.dictionary) return undefined;
    for (const c of r.columns.get(f.name)!) {
      if (c.length === 0) continue;
      if (c.values.length < 8 * c.length) return undefined;
      chunks.push({
        values: new BigInt64Array(c.values.buffer, c.values.byteOffset, c.length),
        length: c.length,
        bitmap: c.validity,
        bitOffset: 0,
      });
    }
  }
  return earliest(chunks);
}

/** A layer table's first time on clock `want`: scanned in memory when the table was read, else from its time columns alone. */
function tableStart(
  path: string,
  stem: string,
  want: ClockDomain,
  read: arrow.Table | undefined,
  readWhole: () => arrow.Table,
): bigint | null {
  const domainOf = (clock: string) => clockDomainOf(clock, stem) === want;
  if (!read) {
    const t = timeColumnsStart(path, domainOf);
    if (t !== undefined) return t;
  }
  return firstTime(read ?? readWhole(), domainOf);
}

export function openCapture(dir?: string, options: OpenCaptureOptions = {}): Capture {
  const root = captureDir(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(
      `no capture tables at ${root}: run \`npm start\` (analyses the bundled capture into out/), ` +
        'or `iolineage ingest FILE -o DIR` / `iolineage analyze CAPTURE -o DIR` and set IOLINEAGE_OUT=DIR',
    );
  }
  const files = scanTables(root);
  if (files.size === 0) {
    throw new UsageError(
      `no .arrow tables in ${root} or its subfolders: run \`iolineage analyze CAPTURE -o ${root}\` or \`iolineage ingest FILE -o ${root}\` first`,
    );
  }
  const summary = readSummary(root, files);
  const vms = vmsOf(files, summary);
  const wanted = options.vm ?? process.env.IOLINEAGE_VM;
  if (wanted && !vms.includes(wanted)) {
    throw new UsageError(`capture ${root} has no VM "${wanted}" (VMs: ${vms.length ? vms.join(', ') : 'none'})`);
  }
  const vm = wanted ?? vms[0] ?? null;

  const stemOf = (name: string): string | null => {
    if (vm !== null && files.has(`${name}_${vm}`)) return `${name}_${vm}`;
    return files.has(name) ? name : null;
  };
  const raw = new Map<string, arrow.Table>();
  const rawTable = (stem: string): arrow.Table => {
    let t = raw.get(stem);
    if (!t) {
      const path = files.get(stem)!;
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      t = parseArrowBytes(bytes, path);
      raw.set(stem, t);
    }
    return t;
  };

  let bases: TimeBases | null = null;
  const timeBases = (): TimeBases => {
    if (bases) return bases;
    const startOf = (stem: string | null, want: ClockDomain) =>
      stem && files.has(stem) ? tableStart(files.get(stem)!, stem, want, raw.get(stem), () => rawTable(stem)) : null;
    const app = new Map<string, bigint>();
    const guest = new Map<string, bigint>();
    for (const v of vms.length ? vms : ['']) {
      const a = startOf(files.has(`app_io_${v}`) ? `app_io_${v}` : 'app_io', 'app');
      if (a !== null) app.set(v, a);
      const g = startOf(files.has(`guest_requests_${v}`) ? `guest_requests_${v}` : 'guest_requests', 'guest');
      if (g !== null) guest.set(v, g);
    }
    const trace = startOf(files.has('block_requests') ? 'block_requests' : 'block_events', 'trace');
    const starts: ClockStarts = { app, guest, host: startOf('host_requests', 'host'), trace };
    bases = captureTimeBases(starts, summary?.clocks ?? null);
    return bases;
  };

  // computed on the first table with a time column (it reads the layers' first events)
  const lazyBases: TimeBases = {
    get origin() {
      return timeBases().origin;
    },
    base: (domain, vmName) => timeBases().base(domain, vmName),
  };
  const cache = new Map<string, UserTable>();
  const have = () => [...files.keys()].join(', ');
  const capture: Capture = {
    dir: root,
    files,
    summary,
    vms,
    vm,
    get timeOrigin() {
      return timeBases().origin;
    },
    has: (name) => stemOf(name) !== null,
    fileOf(name) {
      const stem = stemOf(name);
      if (stem === null) throw new UsageError(`capture ${root} has no ${name} table${vm ? ` for ${vm}` : ''} (has: ${have()})`);
      return files.get(stem)!;
    },
    table(name) {
      const path = capture.fileOf(name);
      const stem = stemOf(name)!;
      let t = cache.get(stem);
      if (!t) {
        t = toUserTable(rawTable(stem), { file: path, timeBases: lazyBases, vm });
        cache.set(stem, t);
      }
      return t;
    },
    firstOf(names) {
      const name = names.find((n) => stemOf(n) !== null);
      if (!name) throw new UsageError(`capture ${root} has none of the tables ${names.join(', ')} (has: ${have()})`);
      return { name, table: capture.table(name) };
    },
  };
  return capture;
}

/** A path for display: relative to the working directory when shorter. */
export function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r && r.length < p.length ? r : p;
}
