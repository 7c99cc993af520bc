/**
 * What the memory model assumed about the guest page cache, and which predictions rest on an
 * assumption the trace cannot check.
 *
 * The trace shows every access from its first line on, and the cache drops and syncs in it
 * (cache-drops.ts); it does not show what was cached before its first line, nor writeback the
 * kernel started on its own. The model takes the cache as cold at the start, so the pages the
 * trace reads before it writes them (and before any drop) are misses at every size. A prediction
 * "rests on" an assumption when the other plausible choice would move it by more than
 * ASSUMPTION_TOLERANCE (the accuracy the what-if aims for, issue 13): such predictions carry the
 * assumption's key in `unchecked`.
 */
import { formatBytes } from '../util/numbers.js';
import type { DropEffect } from './cache-drops.js';
import type { Calibration } from './memory-model.js';
import { PAGE_SIZE } from './page-accesses.js';

export const ASSUMPTION_TOLERANCE = 0.2;

/**
 * - cold_start: reads of pages the trace did not write first are counted as misses (cold cache
 *   at the start); a warm start would lower the prediction by more than the tolerance.
 * - overhead_default: the captured run's reads do not constrain the size of the guest page cache
 *   (its data fit in its cache), so a default is used (calibration.ts: the inactive file list),
 *   and caches from a quarter to all of the memory the guest kernel manages give predictions
 *   further apart than the tolerance.
 * - drop_value_unknown: the value written to drop_caches was not read (no strace log at hand):
 *   taken to free the page cache (1 or 3), which decides the reads after it.
 * - dirty_at_drop: pages written since their last sync were kept at a drop as dirty; writeback
 *   the kernel started on its own may have cleaned (and the drop freed) them.
 * - cache_outside_trace: the captured run read so much more than the trace explains that the
 *   fitted cache is under half of the default one (calibration.ts): something the trace does
 *   not show emptied the cache (a drop_caches by an untraced process, other memory users), and
 *   predictions for other sizes take it to act the same way there.
 */
export type UncheckedAssumption = 'cold_start' | 'overhead_default' | 'drop_value_unknown' | 'dirty_at_drop' | 'cache_outside_trace';

export const UNCHECKED_ASSUMPTION_TEXT: Record<UncheckedAssumption, string> = {
  cold_start: 'the guest cache held none of the pages the trace reads before writing them (cold start)',
  overhead_default:
    'the guest page cache at this size is a default (the inactive file list of the memory the guest kernel manages): the captured run, whose data fit in its cache, does not constrain it',
  drop_value_unknown: 'the write to drop_caches freed the page cache (its value was not read from the strace log)',
  dirty_at_drop: 'pages written since their last sync were still dirty at the drop (not freed)',
  cache_outside_trace:
    'what emptied the guest cache outside the trace (the captured run read more than the trace explains) acts the same at this size',
};

/**
 * A fitted cache smaller than this share of the default one means the trace does not explain the
 * reads (the captures in data/ whose traces show everything fit 0.85 to 0.96 of the default).
 */
const IMPLAUSIBLE_CACHE_SHARE = 0.5;

export function fittedCacheImplausible(c: Calibration, capturedGuestMem: number): boolean {
  return c.method === 'fitted' && capturedGuestMem - c.overheadBytes < IMPLAUSIBLE_CACHE_SHARE * c.defaultCacheBytes;
}

export interface CacheAssumptions {
  /** What the model takes the guest page cache to hold when the trace starts: none of the trace's pages. */
  start: 'cold';
  /**
   * How much that matters: `none` when every page the trace reads was written earlier in it or
   * read after a drop (the cache at the start holds none of what is read, whatever it was), else
   * `assumed` (the trace cannot tell what the cache held).
   */
  start_basis: 'none' | 'assumed';
  /** Buffered page reads whose outcome depends on the start: first touch of the page in the trace, no drop before. */
  start_dependent_read_pages: number;
  /** Buffered page reads that miss because a drop in the trace freed the page. */
  read_pages_after_drop: number;
  /** Pages whose first touch in the trace is a write (created or overwritten by the workload). */
  pages_first_written: number;
  /** The writes to /proc/sys/vm/drop_caches and what each did in the model. */
  drops: DropEffect[];
  /** sync, syncfs, fsync and fdatasync calls in the trace. */
  syncs: number;
  /** The same in words, for reports. */
  summary: string;
}

export function describeCache(c: {
  startDependentReadPages: number;
  readPagesAfterDrop: number;
  pagesFirstWritten: number;
  drops: DropEffect[];
  syncs: number;
  calibration: Calibration;
  capturedGuestMem: number;
}): CacheAssumptions {
  const parts: string[] = [];
  const startBytes = formatBytes(c.startDependentReadPages * PAGE_SIZE);
  if (c.startDependentReadPages === 0) {
    parts.push(
      c.drops.length
        ? "cache at the trace's start: does not matter (every page read was written earlier in the trace or read after a cache drop)"
        : "cache at the trace's start: does not matter (every page read was written earlier in the trace: the cache is warm with the files the workload wrote, as far as its size allows)",
    );
  } else {
    parts.push(
      `cache at the trace's start: assumed cold (the trace cannot tell): ${c.startDependentReadPages} page reads (${startBytes}) touch pages the trace did not write first; counted as misses at every size, up to ${startBytes} fewer reads if they were cached`,
    );
    if (c.calibration.method === 'unconstrained')
      parts.push('the captured run read less than those first reads alone: part of them was probably cached at the start');
  }
  for (const d of c.drops) {
    const when = d.at_s === null ? '' : ` at +${d.at_s.toFixed(2)} s`;
    const value = d.value === null ? 'value not read, taken as 3' : `value ${d.value}`;
    parts.push(
      d.frees_page_cache
        ? `the workload dropped the page cache${when} (drop_caches, ${value}): ${d.pages_dropped} clean pages freed, ${d.dirty_pages_kept} dirty kept`
        : `the workload wrote drop_caches${when} (${value}: slab only, the page cache stays)`,
    );
  }
  if (fittedCacheImplausible(c.calibration, c.capturedGuestMem)) {
    parts.push(
      `the captured run read more than the trace explains: only a ${formatBytes(c.capturedGuestMem - c.calibration.overheadBytes)} cache fits its reads (default ${formatBytes(c.calibration.defaultCacheBytes)}); something the trace does not show probably emptied the cache (drop_caches by an untraced process, other memory users)`,
    );
  }
  if (c.readPagesAfterDrop)
    parts.push(
      `${c.readPagesAfterDrop} page reads (${formatBytes(c.readPagesAfterDrop * PAGE_SIZE)}) miss at every size because a drop freed the page`,
    );
  return {
    start: 'cold',
    start_basis: c.startDependentReadPages === 0 ? 'none' : 'assumed',
    start_dependent_read_pages: c.startDependentReadPages,
    read_pages_after_drop: c.readPagesAfterDrop,
    pages_first_written: c.pagesFirstWritten,
    drops: c.drops,
    syncs: c.syncs,
    summary: parts.join('; '),
  };
}

/** The model's view needed to judge a prediction's assumptions. */
export interface AssumptionSource {
  readonly cache: CacheAssumptions;
  readonly calibration: Calibration;
  readonly capturedGuestMem: number;
  readonly readaheadFactor: number;
  guestReadBytesAt(cacheBytes: number): number;
}

/** The unchecked assumptions a prediction of `guestReadBytes` at guest memory `guestMem` rests on. */
export function uncheckedAssumptions(m: AssumptionSource, guestMem: number, guestReadBytes: number): UncheckedAssumption[] {
  const out: UncheckedAssumption[] = [];
  const moves = (bytes: number) => bytes > ASSUMPTION_TOLERANCE * guestReadBytes;
  const pageBytes = PAGE_SIZE * m.readaheadFactor;
  if (moves(m.cache.start_dependent_read_pages * pageBytes)) out.push('cold_start');
  if (m.calibration.method === 'unconstrained') {
    // the default cache is the inactive list of the managed memory; plausible: a quarter of it to all of it
    const managed = Math.max(0, guestMem - (m.calibration.reserveBytes ?? 0));
    if (m.guestReadBytesAt(managed / 4) - m.guestReadBytesAt(managed) > ASSUMPTION_TOLERANCE * guestReadBytes) out.push('overhead_default');
  }
  const freeing = m.cache.drops.filter((d) => d.frees_page_cache);
  if (m.cache.drops.some((d) => d.value === null) && moves(m.cache.read_pages_after_drop * pageBytes)) out.push('drop_value_unknown');
  if (moves(freeing.reduce((s, d) => s + d.dirty_pages_kept, 0) * pageBytes)) out.push('dirty_at_drop');
  if (guestMem !== m.capturedGuestMem && fittedCacheImplausible(m.calibration, m.capturedGuestMem)) out.push('cache_outside_trace');
  return out;
}
