/**
 * Calibration of the guest page cache model on the captured run: how much of the VM memory acts
 * as the LRU page cache of the model, and how many pages a read miss brings in (readahead).
 *
 * - Readahead: the guest block trace marks readahead I/O (REQ_RAHEAD, "RA" in rwbs,
 *   include/trace/events/block.h), and the attribution names the bytes read ahead that no
 *   application read asked for ("readahead"). The factor is buffered guest-disk data reads over
 *   those reads less the readahead bytes: measured on the capture, 1 when it read nothing.
 * - Cache size: fitted where the captured run's reads constrain it (the size at which the model's
 *   misses times the readahead factor equal the measured reads); the guest memory outside that
 *   cache (kernel, slab, processes, tracing buffers) is then taken as a constant.
 * - When the captured run's data fit in its cache (its reads are no more than the model's misses
 *   at any size), the capture says nothing about the cache of a smaller VM. The default is then
 *   the inactive file list of a guest of that size, out of the memory its kernel manages
 *   (MemTotal: the VM memory less what the kernel reserved at boot, as the captured guest
 *   reported it). Pages read once enter the inactive list and leave from its tail unless
 *   referenced again (mm/swap.c, mark_page_accessed: a second reference moves a page to the active
 *   list); mm/vmscan.c, inactive_is_low, keeps the inactive list at 1/(1 + inactive_ratio) of the
 *   file LRU, inactive_ratio = int_sqrt(10 * GiB of the LRU), 1 below 1 GiB. That is the two-list
 *   LRU, which Debian's 6.1 guest kernel runs (it builds the multi-gen LRU, CONFIG_LRU_GEN, but
 *   leaves it off: CONFIG_LRU_GEN_ENABLED is not set). Predictions that depend on this default
 *   are flagged (cache-assumptions.ts).
 */
import { PAGE_SIZE } from './page-accesses.js';

export interface Calibration {
  /** Guest memory of the captured run outside the modelled cache, bytes. */
  overheadBytes: number;
  /** fitted to the measured reads; given; or unconstrained (the data fit in the captured run's cache: default cache sizes). */
  method: 'fitted' | 'given' | 'unconstrained';
  /** Predicted minus measured guest read bytes at the captured memory size, after calibration. */
  residualBytes: number;
  /** Pages a buffered read miss brings in from the guest disk (measured readahead), >= 1. */
  readaheadFactor: number;
  /** unconstrained: VM memory the guest kernel does not manage (VM memory - MemTotal), for the default cache at other sizes. */
  reserveBytes: number | null;
  /** The default cache at the captured size (the inactive file list of the memory the guest kernel manages), to judge a fitted one by. */
  defaultCacheBytes: number;
}

const GiB = 2 ** 30;

/** The inactive file list of a guest with `managedBytes` of memory for the LRU (mm/vmscan.c, inactive_is_low). */
export function inactiveListBytes(managedBytes: number): number {
  const gb = Math.floor(Math.max(0, managedBytes) / GiB);
  const ratio = gb ? Math.floor(Math.sqrt(10 * gb)) : 1;
  return Math.max(0, managedBytes) / (1 + ratio);
}

/** The modelled guest page cache of a VM with `guestMem` bytes of memory. */
export function cacheBytesFor(c: Calibration, guestMem: number): number {
  if (c.method === 'unconstrained' && c.reserveBytes !== null) return inactiveListBytes(guestMem - c.reserveBytes);
  return Math.max(0, guestMem - c.overheadBytes);
}

/** Buffered data reads over the reads less readahead (see the file comment); 1 without readahead. */
export function readaheadFactorOf(bufferedReadBytes: number, readaheadBytes: number): number {
  const demand = bufferedReadBytes - readaheadBytes;
  return readaheadBytes > 0 && demand > 0 ? bufferedReadBytes / demand : 1;
}

/**
 * Calibrate: `readBytesAt(cacheBytes, ra)` is the model's guest read bytes with that cache and
 * readahead factor (non-increasing in the cache), `target` the measured reads.
 */
export function calibrate(opts: {
  readBytesAt: (cacheBytes: number, ra: number) => number;
  capturedGuestMem: number;
  target: number;
  readaheadFactor: number;
  givenOverhead?: number;
  capturedMemTotal?: number | null;
}): Calibration {
  const { readBytesAt, capturedGuestMem, target, readaheadFactor: ra } = opts;
  const reserve = opts.capturedMemTotal ? Math.max(0, capturedGuestMem - opts.capturedMemTotal) : 0;
  const defaultCacheBytes = inactiveListBytes(capturedGuestMem - reserve);
  if (opts.givenOverhead !== undefined) {
    const o = opts.givenOverhead;
    return {
      overheadBytes: o,
      method: 'given',
      residualBytes: Math.round(readBytesAt(capturedGuestMem - o, ra) - target),
      readaheadFactor: ra,
      reserveBytes: null,
      defaultCacheBytes,
    };
  }
  let lo = 0;
  let hi = capturedGuestMem;
  if (readBytesAt(hi, ra) >= target) {
    const cache = defaultCacheBytes;
    return {
      overheadBytes: capturedGuestMem - cache,
      method: 'unconstrained',
      residualBytes: Math.round(readBytesAt(cache, ra) - target),
      readaheadFactor: ra,
      reserveBytes: reserve,
      defaultCacheBytes,
    };
  }
  // readBytesAt is non-increasing in the cache size: bisect for the size that meets the measurement
  for (let k = 0; k < 50 && hi - lo > PAGE_SIZE; k++) {
    const mid = (lo + hi) / 2;
    if (readBytesAt(mid, ra) > target) lo = mid;
    else hi = mid;
  }
  const cache = Math.round(hi);
  return {
    overheadBytes: capturedGuestMem - cache,
    method: 'fitted',
    residualBytes: Math.round(readBytesAt(cache, ra) - target),
    readaheadFactor: ra,
    reserveBytes: null,
    defaultCacheBytes,
  };
}
