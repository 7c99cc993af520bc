/**
 * Page-access streams for cache what-ifs.
 * - From app_io: every buffered read or write touches the guest page cache once per 4 KiB page
 *   of [offset, offset + bytes_done) of its file. O_DIRECT calls bypass the guest cache and are
 *   counted apart. Page keys are (file id << 32) + page index, exact below 2^53.
 * - Files of procfs and sysfs (tracefs, debugfs: mounted under /proc and /sys) have no page-cache
 *   pages: their reads and writes call the file's show/store handlers (Documentation/filesystems/
 *   sysfs.rst, "Reading/Writing Attribute Data"; proc.rst). They are left out of the accesses.
 * - The calls that change the cache without moving data are kept as events at their place in the
 *   access stream: writes to /proc/sys/vm/drop_caches (Documentation/admin-guide/sysctl/vm.rst,
 *   drop_caches) and sync, syncfs, fsync, fdatasync (which clean dirty pages; drop_caches frees
 *   clean pages only).
 * - From block requests of the guest disk: every request touches the host page cache (the image
 *   file's pages) once per 4 KiB page of its sector range; with a raw image, image page = guest
 *   disk page.
 */
import type { Table } from '@uwdata/flechette';
import { GrowableArray } from '../util/growable.js';
import { InputError } from '../util/errors.js';
import { boolColumn, int64Column, int64Words, numberColumn, stringColumn } from '../table/column-arrays.js';

export const PAGE_SIZE = 4096;
const TWO32 = 4294967296;

/**
 * Bounds of the sizes read from the tables, checked before they drive a loop or size an array (a
 * damaged table must give an error, not exhaust memory):
 * - one read or write transfers at most MAX_RW_COUNT = INT_MAX & PAGE_MASK bytes (Linux
 *   include/linux/fs.h; read(2), "NOTES"), and never more than it asked for (bytes_req);
 * - a file offset stays below 2^32 pages (16 TiB with 4 KiB pages) so that page keys
 *   (file id * 2^32 + page index) stay exact and distinct (ext4's largest file with 4 KiB blocks);
 * - a block request holds at most 2^32 - 1 bytes (struct request's __data_len and struct bio's
 *   bi_size are unsigned int), so fewer than 2^23 sectors;
 * - a sector stays below 2^44 (8 PiB) so that byte and page numbers stay exact doubles.
 */
export const MAX_RW_BYTES = 0x7ffff000;
export const MAX_FILE_END = TWO32 * PAGE_SIZE;
export const MAX_REQUEST_SECTORS = 2 ** 23 - 1;
/** Bytes of one block request at most (its __data_len / bi_size is an unsigned int). */
export const MAX_REQUEST_BYTES = 2 ** 32 - 1;
export const MAX_SECTOR_END = 2 ** 44;

function badValue(table: string, row: number, column: string, value: unknown, why: string): InputError {
  return new InputError(table, `row ${row}, column ${column}: ${String(value)} ${why}`);
}

export interface PageAccesses {
  /** Page key per access, in trace order. */
  pages: Float64Array;
  /** 1 when the access is a write (dirties the page), else 0. */
  isWrite: Uint8Array;
  /** Index (row) of the table row each access came from. */
  row: Int32Array;
}

export interface AppPageAccesses extends PageAccesses {
  /** Bytes of O_DIRECT reads and writes (they bypass the guest cache). */
  directReadBytes: number;
  directWriteBytes: number;
  /** Bytes of buffered reads and writes (bytes_done). */
  bufferedReadBytes: number;
  bufferedWriteBytes: number;
  /** Files by id (index = file id in the page keys). */
  files: string[];
  /** Buffered calls skipped because their offset or size is unknown. */
  skippedUncertain: number;
  /** Reads and writes of procfs/sysfs files (no page-cache pages), left out. */
  pseudoFileCalls: number;
  /** Writes to /proc/sys/vm/drop_caches that succeeded, in trace order. */
  drops: DropCall[];
  /** sync/syncfs (every file) and fsync/fdatasync (one file) that succeeded, in trace order. */
  syncs: SyncCall[];
  /** Start time (ns on the strace clock, as a double: ~0.3 us steps for epoch times) of each app_io row; NaN when unknown. */
  rowTimeNs: Float64Array;
}

export const DROP_CACHES_PATH = '/proc/sys/vm/drop_caches';

/** A write to /proc/sys/vm/drop_caches. */
export interface DropCall {
  /** app_io row. */
  row: number;
  /** Number of page accesses before it. */
  at: number;
  /** strace input file (base name) and line of the call, to read the value written. */
  file: string;
  line: number;
}

/** A call that writes back dirty pages and waits for it. */
export interface SyncCall {
  row: number;
  at: number;
  /** File id (index into files) for fsync/fdatasync; -1 for sync and syncfs (every file). */
  fileId: number;
  syscall: string;
}

/** procfs or sysfs (and the file systems mounted below /sys: tracefs, debugfs, ...). */
export function isPseudoFile(path: string): boolean {
  return path.startsWith('/proc/') || path.startsWith('/sys/');
}

class PageAccessBuilder {
  readonly pages = new GrowableArray(Float64Array);
  readonly isWrite = new GrowableArray(Uint8Array);
  readonly row = new GrowableArray(Int32Array);
  get length(): number {
    return this.pages.length;
  }
  push(page: number, w: number, r: number): void {
    this.pages.push(page);
    this.isWrite.push(w);
    this.row.push(r);
  }
  /** Pages base + first .. base + last, in order. */
  pushRange(base: number, first: number, last: number, w: number, r: number): void {
    const k = last - first + 1;
    this.pages.reserve(k);
    this.isWrite.reserve(k);
    this.row.reserve(k);
    const at = this.pages.length;
    const pages = this.pages.data;
    for (let j = 0; j < k; j++) pages[at + j] = base + first + j;
    this.isWrite.data.fill(w, at, at + k);
    this.row.data.fill(r, at, at + k);
    this.pages.length = this.isWrite.length = this.row.length = at + k;
  }
  done(): PageAccesses {
    return { pages: this.pages.view(), isWrite: this.isWrite.view(), row: this.row.view() };
  }
}

/**
 * An int64 column's values as doubles, nulls as NaN, a value past 2^53 rounded to the nearest
 * double (as Number(bigint) does). For sizes and offsets that the bounds checks below refuse past
 * 2^53 (MAX_RW_BYTES, MAX_FILE_END): the messages re-read the exact value from the table.
 */
function int64Doubles(table: Table, name: string): Float64Array {
  const { values, valid } = int64Column(table, name);
  const { hi, lo } = int64Words(values);
  const out = new Float64Array(values.length);
  // hi * 2^32 is exact and the sum is rounded once: the double Number(bigint) gives
  for (let i = 0; i < out.length; i++) out[i] = valid && !valid[i] ? NaN : hi[2 * i + 1]! * 4294967296 + lo[2 * i]!;
  return out;
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** A read's or write's byte count within what one call can move and what it asked for. */
function checkBytesDone(tableName: string, row: number, op: string, value: () => unknown, b: number, requested: number | null): void {
  if (!(b > 0 && b <= MAX_RW_BYTES)) {
    throw badValue(
      tableName,
      row,
      'bytes_done',
      value(),
      b < 0 ? 'is negative' : `is more than one ${op} can transfer (${MAX_RW_BYTES} bytes, Linux MAX_RW_COUNT)`,
    );
  }
  if (requested !== null && b > requested)
    throw badValue(tableName, row, 'bytes_done', value(), `is more than the ${requested} bytes the call asked for (bytes_req)`);
}

/** A file offset whose pages the page keys can hold. */
function checkOffset(tableName: string, row: number, value: () => unknown, off: number, b: number): void {
  if (!(off >= 0 && off + b <= MAX_FILE_END)) {
    throw badValue(
      tableName,
      row,
      'offset',
      value(),
      off < 0 ? 'is negative' : `is past 16 TiB (2^32 pages of ${PAGE_SIZE} bytes), the largest file offset the page keys hold`,
    );
  }
}

/**
 * Page accesses of the guest page cache, from an app_io table (src/table/schemas/app-io.ts).
 * @param tableName the table's file, for errors
 * @throws InputError naming the row and column of a size or offset out of bounds (see MAX_RW_BYTES)
 */
export function appPageAccesses(appIo: Table, pageSize = PAGE_SIZE, tableName = 'app_io'): AppPageAccesses {
  const n = appIo.numRows;
  const op = stringColumn(appIo, 'op');
  const path = stringColumn(appIo, 'path');
  const syscall = stringColumn(appIo, 'syscall');
  const error = stringColumn(appIo, 'error');
  const direct = boolColumn(appIo, 'direct');
  const offset = int64Doubles(appIo, 'offset');
  const bytes = int64Doubles(appIo, 'bytes_done');
  const req = int64Doubles(appIo, 'bytes_req');
  // ts_ns as a double on purpose (rowTimeNs: ~0.3 us steps for epoch times)
  const ts = int64Doubles(appIo, 'ts_ns');
  const exact = (column: string, i: number) => appIo.getChild(column).at(i);
  // per op label: 1 read, 2 write, 3 sync, 0 other
  const opKind = op.labels.map((o) => (o === 'read' ? 1 : o === 'write' ? 2 : o === 'sync' ? 3 : 0));
  const pseudo = path.labels.map((p) => isPseudoFile(p));
  const files: string[] = [];
  // file ids in order of first use, as the rows come
  const idOfPath = new Int32Array(path.labels.length).fill(-1);
  const fileId = (code: number) => {
    let id = idOfPath[code]!;
    if (id < 0) {
      id = idOfPath[code] = files.length;
      files.push(path.labels[code]!);
    }
    return id;
  };
  const out = new PageAccessBuilder();
  const drops: DropCall[] = [];
  const syncs: SyncCall[] = [];
  const rowTimeNs = new Float64Array(n);
  let directReadBytes = 0,
    directWriteBytes = 0,
    bufferedReadBytes = 0,
    bufferedWriteBytes = 0,
    skippedUncertain = 0,
    pseudoFileCalls = 0;
  for (let i = 0; i < n; i++) {
    rowTimeNs[i] = ts[i]!;
    const oc = op.codes[i]!;
    const kind = oc < 0 ? 0 : opKind[oc]!;
    const pc = path.codes[i]!;
    if (kind === 3) {
      if (error.codes[i]! >= 0) continue;
      const sc = syscall.codes[i]! < 0 ? null : syscall.labels[syscall.codes[i]!]!;
      // sync_file_range starts or waits on writeback of a range depending on flags strace's row does not keep: not a sync here
      if (sc === 'sync' || sc === 'syncfs') syncs.push({ row: i, at: out.length, fileId: -1, syscall: sc });
      else if ((sc === 'fsync' || sc === 'fdatasync') && pc >= 0) syncs.push({ row: i, at: out.length, fileId: fileId(pc), syscall: sc });
      continue;
    }
    if (kind === 0) continue;
    const b = bytes[i]!;
    // null or 0 bytes moved: no pages
    if (!b) continue;
    const o = kind === 2 ? 'write' : 'read';
    const r = req[i]!;
    checkBytesDone(tableName, i, o, () => exact('bytes_done', i), b, r === r ? r : null);
    const isW = kind === 2 ? 1 : 0;
    if (pc >= 0 && pseudo[pc]) {
      pseudoFileCalls++;
      if (isW && path.labels[pc] === DROP_CACHES_PATH)
        drops.push({ row: i, at: out.length, file: String(exact('file', i)), line: Number(exact('line', i)) });
      continue;
    }
    if (direct[i]) {
      if (isW) directWriteBytes += b;
      else directReadBytes += b;
      continue;
    }
    if (isW) bufferedWriteBytes += b;
    else bufferedReadBytes += b;
    const off = offset[i]!;
    if (off !== off || pc < 0) {
      skippedUncertain++;
      continue;
    }
    checkOffset(tableName, i, () => exact('offset', i), off, b);
    out.pushRange(fileId(pc) * TWO32, Math.floor(off / pageSize), Math.floor((off + b - 1) / pageSize), isW, i);
  }
  return {
    ...out.done(),
    directReadBytes,
    directWriteBytes,
    bufferedReadBytes,
    bufferedWriteBytes,
    files,
    skippedUncertain,
    pseudoFileCalls,
    drops,
    syncs,
    rowTimeNs,
  };
}

/**
 * A column of non-negative integers of a table, each checked to be at most `max` before anything
 * uses it (a damaged table gives an InputError naming the row, not a RangeError or a rounded
 * value); nulls as NaN. `why` says what a larger value would be.
 */
export function boundedColumn(table: Table, column: string, tableName: string, max: number, why: string): Float64Array {
  const col = table.getChild(column);
  const batches = (col?.data ?? []) as unknown as { values: unknown }[];
  if (batches.some((b) => b.values instanceof BigInt64Array || b.values instanceof BigUint64Array)) {
    const { values, valid } = int64Column(table, column);
    const { hi, lo } = int64Words(values);
    const out = new Float64Array(values.length);
    for (let i = 0; i < out.length; i++) {
      if (valid && !valid[i]) {
        out[i] = NaN;
        continue;
      }
      const h = hi[2 * i + 1]!;
      const v = h * TWO32 + lo[2 * i]!;
      // h < 0: negative (or past 2^63 unsigned); h >= 2^21: past 2^53
      if (h < 0 || h >= 0x200000 || v > max) throw badValue(tableName, i, column, values[i], h < 0 ? 'is negative' : why);
      out[i] = v;
    }
    return out;
  }
  const out = numberColumn(table, column);
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if (v === v && !(v >= 0 && v <= max && Number.isInteger(v))) throw badValue(tableName, i, column, v, v < 0 ? 'is negative' : why);
  }
  return out;
}

/**
 * Check the sector ranges of the reads and writes of a block_requests table (see MAX_REQUEST_SECTORS).
 * @param tableName the table's file, for errors
 * @throws InputError naming the row and column of the first range out of bounds
 */
export function checkRequestRanges(requests: Table, tableName = 'guest_requests'): void {
  const op = requests.getChild('op');
  const sector = requests.getChild('sector');
  const nr = requests.getChild('nr_sectors');
  for (let i = 0; i < requests.numRows; i++) {
    const o = op.at(i) as string;
    if (o !== 'read' && o !== 'write') continue;
    checkRange(tableName, i, sector.at(i), nr.at(i));
  }
}

function checkRange(tableName: string, i: number, sectorValue: unknown, nrValue: unknown): void {
  const s = num(sectorValue);
  const n = num(nrValue);
  if (n !== null && !(n >= 0 && n <= MAX_REQUEST_SECTORS)) {
    throw badValue(
      tableName,
      i,
      'nr_sectors',
      nrValue,
      n < 0 ? 'is negative' : `is more than one block request can hold (${MAX_REQUEST_SECTORS} sectors: its byte count is an unsigned int)`,
    );
  }
  if (s !== null && !(s >= 0 && s + (n ?? 0) <= MAX_SECTOR_END)) {
    throw badValue(tableName, i, 'sector', sectorValue, s < 0 ? 'is negative' : 'is past 8 PiB (2^44 sectors), beyond any disk');
  }
}

/**
 * Page accesses of the host page cache, from a block_requests table of the guest disk: one per
 * page of each request's sector range (reads and writes; flushes and discards are skipped).
 * @param tableName the table's file, for errors
 * @throws InputError naming the row and column of a range out of bounds (see MAX_REQUEST_SECTORS)
 */
export function blockPageAccesses(requests: Table, pageSize = PAGE_SIZE, tableName = 'guest_requests'): PageAccesses {
  const op = requests.getChild('op');
  const sector = requests.getChild('sector');
  const nr = requests.getChild('nr_sectors');
  const out = new PageAccessBuilder();
  for (let i = 0; i < requests.numRows; i++) {
    const o = op.at(i) as string;
    if (o !== 'read' && o !== 'write') continue;
    checkRange(tableName, i, sector.at(i), nr.at(i));
    const s = num(sector.at(i));
    const n = num(nr.at(i));
    if (s === null || !n) continue;
    const first = Math.floor((s * 512) / pageSize);
    const last = Math.floor(((s + n) * 512 - 1) / pageSize);
    for (let pg = first; pg <= last; pg++) out.push(pg, o === 'write' ? 1 : 0, i);
  }
  return out.done();
}
