/**
 * Cache drops in the application's trace, as evictions of the guest page cache model.
 *
 * Documentation/admin-guide/sysctl/vm.rst, drop_caches: writing 1 frees the page cache, 2 frees
 * reclaimable slab objects (dentries and inodes), 3 both. "This is a non-destructive operation
 * and will not free any dirty objects. To increase the number of objects freed by this
 * operation, the user may run `sync' prior to writing to /proc/sys/vm/drop_caches."
 * So a drop that frees the page cache removes every clean page; the pages written since the last
 * sync, fsync or fdatasync that covers them stay (invalidate_mapping_pages in mm/truncate.c skips
 * dirty pages). Background writeback also cleans pages: the flusher writes back inodes dirtied
 * more than dirty_expire_centisecs (default 30 s) ago at each wakeup, every
 * dirty_writeback_centisecs (default 5 s) (same document); pages written longer ago than both are
 * taken as clean. Writeback started earlier (dirty_background_ratio) is not in the trace: the
 * pages taken as dirty at a drop are counted so that a prediction resting on them can say so.
 */
import { openInputStream } from '../io/input-stream.js';
import { forEachLineOfStream } from '../io/line-splitter.js';
import { decodeCEscapes } from '../ingest/app/strace-string.js';
import type { Table } from '@uwdata/flechette';
import { DROP_CACHES_PATH, type AppPageAccesses, type DropCall } from './page-accesses.js';
import type { StackEviction } from './stack-distance.js';

const TWO32 = 4294967296;
/** dirty_expire_centisecs + dirty_writeback_centisecs, the kernel defaults (vm.rst). */
export const WRITEBACK_AGE_NS = 35e9;

/** What one write to drop_caches did to the modelled cache. */
export interface DropEffect {
  /** app_io row of the write. */
  row: number;
  /** Seconds after the trace's first call (null without timestamps). */
  at_s: number | null;
  /** The value written ("1", "2", "3"), as strace printed it; null when not read (no strace log at hand). */
  value: string | null;
  /** Whether the model freed the page cache: value 1 or 3, or assumed so when the value is unknown. */
  frees_page_cache: boolean;
  /** Pages written since their last sync (and within the writeback age) at the drop: kept, as dirty. */
  dirty_pages_kept: number;
  /** Pages the drop removed from the model's cache (filled in by the model). */
  pages_dropped: number;
}

/** The value a drop_caches write wrote, from its strace line: `write(3</proc/sys/vm/drop_caches>, "3\n", 2) = 2`. */
export function dropValueOfLine(text: string): string | null {
  const m = /^.*?\bwrite\(\d+(?:<[^>]*>)?, "((?:[^"\\]|\\.)*)"/.exec(text);
  if (!m) return null;
  const v = decodeCEscapes(m[1]!, 0, m[1]!.length).trim();
  return v === '' ? null : v;
}

/** The writes to drop_caches in an app_io table (src/table/schemas/app-io.ts): row, strace file and line. */
export function dropCallRows(appIo: Table): Pick<DropCall, 'row' | 'file' | 'line'>[] {
  const op = appIo.getChild('op'),
    path = appIo.getChild('path'),
    file = appIo.getChild('file'),
    line = appIo.getChild('line');
  const out: Pick<DropCall, 'row' | 'file' | 'line'>[] = [];
  for (let i = 0; i < appIo.numRows; i++) {
    if (path.at(i) === DROP_CACHES_PATH && op.at(i) === 'write') out.push({ row: i, file: String(file.at(i)), line: Number(line.at(i)) });
  }
  return out;
}

/**
 * Read the values written by the drops from the strace log(s) (`stracePaths`: base name -> path)
 * at the lines app_io recorded (its `file` and `line` columns). A drop whose line is not found
 * gets no value.
 */
export async function readDropValues(
  dropCalls: readonly Pick<DropCall, 'row' | 'file' | 'line'>[],
  stracePaths: ReadonlyMap<string, string>,
): Promise<Map<number, string>> {
  const values = new Map<number, string>();
  const byFile = new Map<string, Map<number, number>>();
  for (const d of dropCalls) {
    if (!stracePaths.has(d.file)) continue;
    if (!byFile.has(d.file)) byFile.set(d.file, new Map());
    byFile.get(d.file)!.set(d.line, d.row);
  }
  for (const [file, lines] of byFile) {
    await forEachLineOfStream(openInputStream(stracePaths.get(file)!), (text, start, end, lineNo) => {
      const row = lines.get(lineNo);
      if (row === undefined) return;
      const v = dropValueOfLine(text.slice(start, end));
      if (v !== null) values.set(row, v);
    });
  }
  return values;
}

/** The evictions of the trace's drops for the stack-distance pass, and what each drop did. */
export function dropEvictions(
  app: AppPageAccesses,
  values: ReadonlyMap<number, string> = new Map(),
): { evictions: StackEviction[]; drops: DropEffect[] } {
  const evictions: StackEviction[] = [];
  const drops: DropEffect[] = [];
  if (app.drops.length === 0) return { evictions, drops };
  let t0 = NaN;
  for (let i = 0; i < app.rowTimeNs.length && Number.isNaN(t0); i++) t0 = app.rowTimeNs[i]!;
  // dirty pages per file: page key -> time of its last write (NaN: unknown)
  const dirty = new Map<number, Map<number, number>>();
  let a = 0,
    s = 0;
  const advance = (to: number) => {
    for (; a < to; a++) {
      if (!app.isWrite[a]) continue;
      const page = app.pages[a]!;
      const file = Math.floor(page / TWO32);
      let m = dirty.get(file);
      if (!m) {
        m = new Map();
        dirty.set(file, m);
      }
      m.set(page, app.rowTimeNs[app.row[a]!]!);
    }
  };
  for (const d of app.drops) {
    // the syncs and writes before the drop, in trace order
    while (s < app.syncs.length && app.syncs[s]!.row < d.row) {
      const sy = app.syncs[s++]!;
      advance(sy.at);
      if (sy.fileId < 0) dirty.clear();
      else dirty.delete(sy.fileId);
    }
    advance(d.at);
    const now = app.rowTimeNs[d.row]!;
    const value = values.get(d.row) ?? null;
    const frees = value === null || value === '1' || value === '3';
    const kept = new Set<number>();
    for (const m of dirty.values()) {
      for (const [page, written] of m) {
        if (!(now - written > WRITEBACK_AGE_NS)) kept.add(page);
      }
    }
    drops.push({
      row: d.row,
      at_s: Number.isNaN(now) || Number.isNaN(t0) ? null : (now - t0) / 1e9,
      value,
      frees_page_cache: frees,
      dirty_pages_kept: kept.size,
      pages_dropped: 0,
    });
    if (frees) evictions.push({ at: d.at, keep: (page) => kept.has(page) });
  }
  return { evictions, drops };
}
