/**
 * The matching state of the request reconstruction (block-requests.ts): per-device maps keyed by
 * sector (SectorMap: typed arrays, insertion-ordered), growable typed columns, and the codes of
 * request kinds and bio roles.
 */
import { Op, type EventBatch } from './block-event-batches.js';
import { SectorMap } from './sector-map.js';

/** Largest number of entries in one in-flight map before the oldest are dropped (and counted). */
export const MAX_PENDING = 1 << 20;
/** How many pending bios a G without a matching Q scans for a containing bio (split without X events). */
export const MAX_CONTAIN_SCAN = 256;

export const Kind = { request: 0, bio: 1 } as const;

/** A flush request or bio: no data and no meaningful sector (printed 0 at issue, -1 at completion). */
export function isFlush(b: EventBatch, i: number): boolean {
  return b.nr[i] === 0 && (b.sector[i]! < 0 || b.op[i] === Op.flush);
}
export const Role = { head: 0, merged: 1, split: 2, alone: 3 } as const;

/** A growable column: `a` holds the values (its length is the capacity); `push` appends, or the owner keeps the row count and calls `reserve`. */
export class GrowF64 {
  a = new Float64Array(1024);
  n = 0;
  push(v: number): number {
    if (this.n === this.a.length) this.grow();
    this.a[this.n] = v;
    return this.n++;
  }
  private grow(): void {
    const b = new Float64Array(this.a.length * 2);
    b.set(this.a);
    this.a = b;
  }
  /** Room for `cap` values without growing. */
  reserve(cap: number): void {
    if (cap > this.a.length) {
      const b = new Float64Array(cap);
      b.set(this.a);
      this.a = b;
    }
  }
}
export class GrowI32 {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): number {
    if (this.n === this.a.length) this.grow();
    this.a[this.n] = v;
    return this.n++;
  }
  private grow(): void {
    const b = new Int32Array(this.a.length * 2);
    b.set(this.a);
    this.a = b;
  }
  /** Room for `cap` values without growing. */
  reserve(cap: number): void {
    if (cap > this.a.length) {
      const b = new Int32Array(cap);
      b.set(this.a);
      this.a = b;
    }
  }
}

/** Per-device matching state: every map is keyed by a sector; values are rows (or sectors), -1 = none. */
export class DevState {
  /** Queued bios not yet in a request: start sector -> bio. */
  readonly pendBio = new SectorMap();
  /** The same bios by the end of their front piece (the whole bio unless an X cut it): end sector -> bio. */
  readonly pendBioEnd = new SectorMap();
  /** Flush bios (no sector), oldest first. */
  readonly pendFlushBio: number[] = [];
  /** Start of a split remainder -> the bio it was cut from. */
  readonly splitOrigin = new SectorMap();
  /** The same remainders: start -> end sector, and end -> start (for a merge without G onto a remainder). */
  readonly splitRestEnd = new SectorMap();
  readonly splitRestByEnd = new SectorMap();
  /** Requests not issued (allocated, inserted, or requeued): start -> request, end -> request. */
  readonly reqStart = new SectorMap();
  readonly reqEnd = new SectorMap();
  /** Issued requests: next sector to complete -> request. */
  readonly inflight = new SectorMap();
  /** Requests completed recently: start sector -> request (for the zero-byte C that ends a flush sequence). */
  done = new SectorMap();
  /** The generation of `done` before the last rollover (bounded memory without per-entry eviction). */
  donePrev = new SectorMap();
  /** The flush request completed last (-1: none since). */
  lastFlushDone = -1;
  /** Flush requests (no sector), oldest first. */
  readonly flushUnissued: number[] = [];
  readonly flushInflight: number[] = [];
}
