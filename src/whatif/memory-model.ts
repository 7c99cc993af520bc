/**
 * VM memory what-if: predicted bytes at the guest-disk and host-disk layers for a guest memory
 * size M_g and a host page-cache size M_h, from one capture.
 *
 * Model (stated, so its errors can be reasoned about):
 * - The guest page cache is LRU over the application's buffered page accesses (reads and writes),
 *   with an effective size C_g = M_g - overhead. overhead (kernel, initramfs, slab, other
 *   processes) is calibrated once from the capture: the C_g at which the read misses of the
 *   capture's own trace equal its measured guest-disk data reads.
 * - A buffered read that misses costs one page read at the guest disk (times a readahead factor,
 *   1 unless given); O_DIRECT calls go to the guest disk as they are. Metadata and journal reads
 *   measured in the capture are added unchanged.
 * - Buffered writes reach the guest disk by writeback: the capture's measured guest write bytes
 *   are kept for every M_g (writeback volume depends on the dirty pages between syncs, not on the
 *   cache size, as long as the dirty limit is not hit).
 * - The host page cache (cache=writeback) is LRU over the guest-disk page stream: the accesses
 *   that missed in the guest (reads) and the pages written back (writes); with cache=none the
 *   host disk sees exactly the guest-disk bytes.
 */
import { COLD, stackDistances } from './stack-distance.js';
import { PAGE_SIZE, type AppPageAccesses } from './page-accesses.js';

export interface Measured {
  /** Guest-disk read bytes of the capture (data reads when attribution is known, else all reads). */
  guestReadBytes: number;
  /** Guest-disk write bytes of the capture. */
  guestWriteBytes: number;
  /** Guest-disk read bytes that are not file data (metadata, journal); 0 when not known. */
  guestOtherReadBytes?: number;
}

export interface ModelInput {
  app: AppPageAccesses;
  /** Guest memory of the captured run, bytes. */
  capturedGuestMem: number;
  measured: Measured;
  hostCacheMode: 'writeback' | 'none';
  readaheadFactor?: number;
  /** Use this overhead instead of calibrating it. */
  overheadBytes?: number;
}

export interface Prediction {
  guest_mem: number;
  host_cache: number;
  predicted: { guest_read_bytes: number; guest_write_bytes: number; host_read_bytes: number; host_write_bytes: number };
}

export interface Calibration {
  overheadBytes: number;
  /** How the overhead was found: fitted to the measured reads, given, or bounded (the trace fits in any cache). */
  method: 'fitted' | 'given' | 'unconstrained';
  /** Predicted minus measured guest read bytes at the captured memory size, after calibration. */
  residualBytes: number;
}

export class MemoryModel {
  private readonly distances: Int32Array;
  private readonly readFar: Float64Array; // readFar[d] = buffered read accesses with distance >= d (cold counted at every d)
  readonly calibration: Calibration;
  private readonly ra: number;

  constructor(private readonly input: ModelInput) {
    this.distances = stackDistances(input.app.pages).distances;
    this.ra = input.readaheadFactor ?? 1;
    let max = 0;
    for (let i = 0; i < this.distances.length; i++) max = Math.max(max, this.distances[i]!);
    const hist = new Float64Array(max + 2);
    let cold = 0;
    const w = input.app.isWrite;
    for (let i = 0; i < this.distances.length; i++) {
      if (w[i]) continue;
      const d = this.distances[i]!;
      if (d === COLD) cold++; else hist[d]!++;
    }
    this.readFar = new Float64Array(max + 2);
    let acc = cold;
    for (let d = max + 1; d >= 0; d--) { acc += hist[d]!; this.readFar[d] = acc; }
    this.calibration = this.calibrate();
  }

  /** Buffered read misses (pages) of a guest cache of `pages` pages. */
  readMisses(pages: number): number {
    const c = Math.max(0, Math.floor(pages));
    // past the largest distance only the cold reads miss (the last entry holds exactly those)
    return this.readFar[Math.min(c, this.readFar.length - 1)]!;
  }

  private guestReadBytesAt(cacheBytes: number): number {
    const m = this.input.measured;
    return this.readMisses(cacheBytes / PAGE_SIZE) * PAGE_SIZE * this.ra + this.input.app.directReadBytes + (m.guestOtherReadBytes ?? 0);
  }

  private calibrate(): Calibration {
    const { capturedGuestMem, measured, overheadBytes } = this.input;
    if (overheadBytes !== undefined) {
      return { overheadBytes, method: 'given', residualBytes: this.guestReadBytesAt(capturedGuestMem - overheadBytes) - measured.guestReadBytes };
    }
    // guestReadBytesAt is non-increasing in the cache size: bisect for the size whose prediction
    // meets the measurement
    let lo = 0;
    let hi = capturedGuestMem;
    const target = measured.guestReadBytes;
    if (this.guestReadBytesAt(hi) >= target) {
      // even the whole memory as cache predicts at least the measured reads: the data are
      // read no more than once (cold misses only) and the overhead cannot be told
      const fallback = Math.round(capturedGuestMem * 0.25);
      return { overheadBytes: fallback, method: 'unconstrained', residualBytes: this.guestReadBytesAt(capturedGuestMem - fallback) - target };
    }
    for (let k = 0; k < 50 && hi - lo > PAGE_SIZE; k++) {
      const mid = (lo + hi) / 2;
      if (this.guestReadBytesAt(mid) > target) lo = mid; else hi = mid;
    }
    const cache = Math.round(hi);
    return { overheadBytes: capturedGuestMem - cache, method: 'fitted', residualBytes: this.guestReadBytesAt(cache) - target };
  }

  /** Predictions for every pair of guest memory and host cache size. */
  predict(guestMems: number[], hostCaches: number[]): Prediction[] {
    const out: Prediction[] = [];
    const { app, measured, hostCacheMode } = this.input;
    const writeBytes = measured.guestWriteBytes;
    for (const gm of guestMems) {
      const cachePages = Math.max(0, (gm - this.calibration.overheadBytes) / PAGE_SIZE);
      const guestRead = this.guestReadBytesAt(cachePages * PAGE_SIZE);
      // the guest-disk page stream: read misses, and written pages (written back)
      const stream: number[] = [];
      const streamIsWrite: number[] = [];
      for (let i = 0; i < app.pages.length; i++) {
        const d = this.distances[i]!;
        if (app.isWrite[i]) { stream.push(app.pages[i]!); streamIsWrite.push(1); }
        else if (d === COLD || d >= cachePages) { stream.push(app.pages[i]!); streamIsWrite.push(0); }
      }
      const hostD = stackDistances(stream).distances;
      for (const hc of hostCaches) {
        let hostRead: number;
        if (hostCacheMode === 'none' || hc <= 0) {
          hostRead = guestRead;
        } else {
          const hp = hc / PAGE_SIZE;
          let misses = 0;
          for (let i = 0; i < hostD.length; i++) {
            if (streamIsWrite[i]) continue;
            const d = hostD[i]!;
            if (d === COLD || d >= hp) misses++;
          }
          // scale data-page misses by the same readahead factor, keep direct and other reads as
          // they are (the host cache also serves O_DIRECT guest reads in writeback mode, but the
          // guest-side stream of direct pages is not modelled)
          hostRead = misses * PAGE_SIZE * this.ra + app.directReadBytes + (measured.guestOtherReadBytes ?? 0);
        }
        out.push({
          guest_mem: gm,
          host_cache: hc,
          predicted: {
            guest_read_bytes: Math.round(guestRead),
            guest_write_bytes: Math.round(writeBytes),
            host_read_bytes: Math.round(Math.min(hostRead, guestRead)),
            host_write_bytes: Math.round(writeBytes),
          },
        });
      }
    }
    return out;
  }

  /**
   * For a host memory budget shared by the guest and the host cache (host cache = budget - M_g -
   * hostOverhead), the guest memory with the fewest host-disk read bytes (ties: fewer guest-disk
   * read bytes).
   */
  recommend(budget: number, guestMems: number[], hostOverhead = 0): { guest_mem: number; host_cache: number; prediction: Prediction; table: Prediction[] } {
    const table: Prediction[] = [];
    for (const gm of guestMems) {
      const hc = Math.max(0, budget - gm - hostOverhead);
      table.push(this.predict([gm], [hc])[0]!);
    }
    let best = table[0]!;
    for (const p of table) {
      const a = p.predicted, b = best.predicted;
      if (a.host_read_bytes < b.host_read_bytes || (a.host_read_bytes === b.host_read_bytes && a.guest_read_bytes < b.guest_read_bytes)) best = p;
    }
    return { guest_mem: best.guest_mem, host_cache: best.host_cache, prediction: best, table };
  }
}
