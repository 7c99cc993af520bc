/**
 * VM memory what-if: predicted bytes at the guest-disk and host-disk layers for a guest memory
 * size M_g and a host page-cache size M_h, from one capture.
 *
 * Model (stated, so its errors can be reasoned about):
 * - The guest page cache is LRU over the application's buffered page accesses (reads and writes),
 *   with an effective size C_g = M_g - overhead. overhead (kernel, initramfs, slab, other
 *   processes) is calibrated once from the capture: the C_g at which the read misses of the
 *   capture's own trace equal its measured guest-disk data reads (calibration.ts, also for the
 *   case where the capture does not constrain it).
 * - A buffered read that misses costs one page read at the guest disk times a readahead factor
 *   (measured on the capture, calibration.ts); O_DIRECT calls go to the guest disk as they are.
 *   Metadata and journal reads measured in the capture are added unchanged.
 * - Buffered writes reach the guest disk by writeback: the capture's measured guest write bytes
 *   are kept for every M_g (writeback volume depends on the dirty pages between syncs, not on the
 *   cache size, as long as the dirty limit is not hit).
 * - The cache at the trace's start is taken as cold (holding none of the trace's pages). That
 *   matters only for pages the trace reads before it writes them; their count is reported and
 *   the predictions they weigh on are flagged (the trace cannot tell what was cached before it).
 * - A write to /proc/sys/vm/drop_caches in the trace frees every clean page (cache-drops.ts):
 *   the next access to a dropped page misses at every cache size.
 * - The host page cache (cache=writeback) is LRU over the guest-disk page stream: the accesses
 *   that missed in the guest (reads) and the pages written back (writes); with cache=none the
 *   host disk sees exactly the guest-disk bytes.
 */
import { COLD, stackDistances } from './stack-distance.js';
import { lruMisses } from './lru-simulation.js';
import { densePages, type DensePages } from './page-key-table.js';
import { PAGE_SIZE, type AppPageAccesses } from './page-accesses.js';
import { dropEvictions, type DropEffect } from './cache-drops.js';
import { curveFromHistogram, distanceHistogram, type MissRatioCurve } from './miss-ratio-curve.js';
import { cacheBytesFor, calibrate, readaheadFactorOf, type Calibration } from './calibration.js';

export type { Calibration } from './calibration.js';
import {
  describeCache,
  uncheckedAssumptions,
  type AssumptionSource,
  type CacheAssumptions,
  type UncheckedAssumption,
} from './cache-assumptions.js';

/** Up to this many host cache sizes, predict simulates an LRU per size rather than computing the stream's stack distances. */
const LRU_SIMULATION_SIZES = 4;

export interface Measured {
  /** Guest-disk read bytes of the capture (data reads when attribution is known, else all reads). */
  guestReadBytes: number;
  /** Guest-disk write bytes of the capture. */
  guestWriteBytes: number;
  /** Guest-disk read bytes that are not file data (metadata, journal); 0 when not known. */
  guestOtherReadBytes?: number;
  /** Guest-disk data read bytes attributed to readahead (read ahead, asked for by no application read); 0 when not known. */
  guestReadaheadBytes?: number;
}

export interface ModelInput {
  app: AppPageAccesses;
  /** Guest memory of the captured run, bytes. */
  capturedGuestMem: number;
  measured: Measured;
  hostCacheMode: 'writeback' | 'none';
  /** Pages a read miss brings in (default: measured, calibration.ts). */
  readaheadFactor?: number;
  /** MemTotal of the captured guest (the memory its kernel manages), bytes; null when unknown. */
  capturedMemTotal?: number | null;
  /** Use this overhead instead of calibrating it. */
  overheadBytes?: number;
  /** Values written to drop_caches, by app_io row (read from the strace log); a drop without one is taken to free the page cache. */
  dropValues?: ReadonlyMap<number, string>;
}

export interface Prediction {
  guest_mem: number;
  host_cache: number;
  predicted: { guest_read_bytes: number; guest_write_bytes: number; host_read_bytes: number; host_write_bytes: number };
  /** Assumptions the trace cannot check that this prediction rests on (see cache-assumptions.ts); empty when none. */
  unchecked: UncheckedAssumption[];
}

export class MemoryModel implements AssumptionSource {
  private readonly distances: Int32Array;
  private readonly distinctPages: number;
  /** The application's page accesses, numbered (the guest-disk streams of predict share the numbers). */
  private readonly dense: DensePages;
  private readonly readFar: Float64Array; // readFar[d] = buffered read accesses with distance >= d (cold counted at every d)
  readonly calibration: Calibration;
  /** What the model assumed about the guest page cache: at the trace's start and at its drops. */
  readonly cache: CacheAssumptions;
  private readonly ra: number;
  /** Buffered reads of pages not touched before in the trace, with no drop before them: they miss only if the start was cold. */
  private readonly startDependentReads: number;

  constructor(private readonly input: ModelInput) {
    const { evictions, drops } = dropEvictions(input.app, input.dropValues);
    this.dense = densePages(input.app.pages);
    const sd = stackDistances(this.dense, evictions);
    this.distances = sd.distances;
    this.distinctPages = sd.distinctPages;
    for (let k = 0, e = 0; k < drops.length; k++) if (drops[k]!.frees_page_cache) drops[k]!.pages_dropped = sd.evicted[e++]!;
    let max = 0;
    for (let i = 0; i < this.distances.length; i++) max = Math.max(max, this.distances[i]!);
    const hist = new Float64Array(max + 2);
    let cold = 0,
      afterDrop = 0,
      firstWritten = 0;
    const w = input.app.isWrite;
    for (let i = 0; i < this.distances.length; i++) {
      const d = this.distances[i]!;
      if (w[i]) {
        if (d === COLD && !sd.afterEviction[i]) firstWritten++;
        continue;
      }
      if (d === COLD) {
        cold++;
        if (sd.afterEviction[i]) afterDrop++;
      } else hist[d]!++;
    }
    this.startDependentReads = cold - afterDrop;
    this.readFar = new Float64Array(max + 2);
    let acc = cold;
    for (let d = max + 1; d >= 0; d--) {
      acc += hist[d]!;
      this.readFar[d] = acc;
    }
    const m = input.measured;
    this.calibration = calibrate({
      readBytesAt: (cache, ra) => this.readBytesWith(cache, ra),
      capturedGuestMem: input.capturedGuestMem,
      target: m.guestReadBytes,
      readaheadFactor:
        input.readaheadFactor ?? readaheadFactorOf(Math.max(0, m.guestReadBytes - input.app.directReadBytes), m.guestReadaheadBytes ?? 0),
      ...(input.overheadBytes !== undefined ? { givenOverhead: input.overheadBytes } : {}),
      capturedMemTotal: input.capturedMemTotal ?? null,
    });
    this.ra = this.calibration.readaheadFactor;
    this.cache = describeCache({
      startDependentReadPages: this.startDependentReads,
      readPagesAfterDrop: afterDrop,
      pagesFirstWritten: firstWritten,
      drops,
      syncs: input.app.syncs.length,
      calibration: this.calibration,
      capturedGuestMem: input.capturedGuestMem,
    });
  }

  /** Bytes of the start-dependent reads (with the readahead factor). */
  get startDependentReadBytes(): number {
    return this.startDependentReads * PAGE_SIZE * this.ra;
  }

  get capturedGuestMem(): number {
    return this.input.capturedGuestMem;
  }
  get readaheadFactor(): number {
    return this.ra;
  }

  /** Drops in the trace: what each did to the modelled cache. */
  get drops(): readonly DropEffect[] {
    return this.cache.drops;
  }

  /** Buffered read misses (pages) of a guest cache of `pages` pages. */
  readMisses(pages: number): number {
    const c = Math.max(0, Math.floor(pages));
    // past the largest distance only the cold reads miss (the last entry holds exactly those)
    return this.readFar[Math.min(c, this.readFar.length - 1)]!;
  }

  private readBytesWith(cacheBytes: number, ra: number): number {
    const m = this.input.measured;
    return this.readMisses(cacheBytes / PAGE_SIZE) * PAGE_SIZE * ra + this.input.app.directReadBytes + (m.guestOtherReadBytes ?? 0);
  }

  /** The exact miss-ratio curve of the application's page accesses (reads and writes), with the trace's drops applied. */
  guestCurve(sizes: ArrayLike<number>): MissRatioCurve {
    const h = distanceHistogram(this.distances);
    h.distinctPages = this.distinctPages;
    return curveFromHistogram(h, sizes, 1);
  }

  /** Predicted guest-disk read bytes with `cacheBytes` of guest page cache. */
  guestReadBytesAt(cacheBytes: number): number {
    return this.readBytesWith(cacheBytes, this.ra);
  }

  /** The modelled guest page cache of a VM with `guestMem` bytes of memory. */
  cacheBytesFor(guestMem: number): number {
    return cacheBytesFor(this.calibration, guestMem);
  }

  /** Predictions for every pair of guest memory and host cache size. */
  predict(guestMems: number[], hostCaches: number[]): Prediction[] {
    const out: Prediction[] = [];
    const { app, measured, hostCacheMode } = this.input;
    const writeBytes = measured.guestWriteBytes;
    // the guest-disk page streams of two memory sizes with as many read misses (distance COLD or
    // >= the cache's pages, as the stream takes them) are the same stream: the misses of a larger
    // cache are a subset of a smaller one's. Each stream is made once; its read misses at each host
    // cache size come from one LRU simulation per size when there are few sizes, else from the
    // stream's stack distances (the same counts).
    type Stream = { pages: DensePages; isWrite: Uint8Array; misses: Map<number, number>; distances?: Int32Array };
    const streams = new Map<number, Stream>();
    const hostSizes = new Set(hostCaches.filter((hc) => hc > 0)).size;
    const needHost = hostCacheMode !== 'none' && hostSizes > 0;
    const hostReadMisses = (st: Stream, hp: number) => {
      let m = st.misses.get(hp);
      if (m !== undefined) return m;
      if (hostSizes <= LRU_SIMULATION_SIZES) m = lruMisses(st.pages, hp, st.isWrite);
      else {
        const d = (st.distances ??= stackDistances(st.pages).distances);
        m = 0;
        for (let i = 0; i < d.length; i++) if (!st.isWrite[i] && (d[i] === COLD || d[i]! >= hp)) m++;
      }
      st.misses.set(hp, m);
      return m;
    };
    for (const gm of guestMems) {
      const cachePages = this.cacheBytesFor(gm) / PAGE_SIZE;
      const guestRead = this.guestReadBytesAt(cachePages * PAGE_SIZE);
      const key = this.readMisses(Math.ceil(cachePages));
      let stream = streams.get(key);
      if (needHost && !stream) {
        // the guest-disk page stream: read misses, and written pages (written back)
        const all = this.dense.ids;
        const ids = new Int32Array(all.length);
        const isWrite = new Uint8Array(all.length);
        const w = app.isWrite;
        const dist = this.distances;
        let m = 0;
        for (let i = 0; i < all.length; i++) {
          if (w[i]) {
            isWrite[m] = 1;
            ids[m++] = all[i]!;
          } else {
            const d = dist[i]!;
            if (d === COLD || d >= cachePages) ids[m++] = all[i]!;
          }
        }
        stream = { pages: { ids: ids.subarray(0, m), keys: this.dense.keys }, isWrite: isWrite.subarray(0, m), misses: new Map() };
        streams.set(key, stream);
      }
      for (const hc of hostCaches) {
        let hostRead: number;
        if (hostCacheMode === 'none' || hc <= 0) {
          hostRead = guestRead;
        } else {
          const misses = hostReadMisses(stream!, hc / PAGE_SIZE);
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
          unchecked: uncheckedAssumptions(this, gm, guestRead),
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
  recommend(
    budget: number,
    guestMems: number[],
    hostOverhead = 0,
  ): { guest_mem: number; host_cache: number; prediction: Prediction; table: Prediction[] } {
    const table: Prediction[] = [];
    for (const gm of guestMems) {
      const hc = Math.max(0, budget - gm - hostOverhead);
      table.push(this.predict([gm], [hc])[0]!);
    }
    let best = table[0]!;
    for (const p of table) {
      const a = p.predicted,
        b = best.predicted;
      if (a.host_read_bytes < b.host_read_bytes || (a.host_read_bytes === b.host_read_bytes && a.guest_read_bytes < b.guest_read_bytes))
        best = p;
    }
    return { guest_mem: best.guest_mem, host_cache: best.host_cache, prediction: best, table };
  }
}
