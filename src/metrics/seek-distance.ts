/**
 * Seek distances between consecutive I/Os of a device, as btt computes them (btt/seek.c,
 * non-absolute mode): no seek when the new range overlaps the previous one at either end; else
 * the distance from the previous end (moving forward) or from the previous start (moving back).
 * The first I/O is measured from sector 0. Statistics are over the absolute distances.
 */

export interface SeekStats {
  /** I/Os measured (btt NSEEKS). */
  n: number;
  /** Mean absolute distance in sectors (btt MEAN). */
  mean: number;
  /** Median absolute distance in sectors (the true median; btt's MEDIAN walks its tree in an order that is not sorted). */
  median: number;
  /** The most frequent distances and their count (btt MODE). */
  modes: number[];
  modeCount: number;
}

/** Accumulates seek distances of one stream of I/Os. */
export class SeekAccumulator {
  private lastStart = 0;
  private lastEnd = 0;
  private readonly counts = new Map<number, number>();
  private n = 0;
  private total = 0;

  /** Add an I/O of `nr` sectors at `start`; returns the signed distance. */
  add(start: number, nr: number): number {
    const end = start + nr;
    let dist: number;
    if ((this.lastStart <= start && start <= this.lastEnd) || (this.lastStart <= end && end <= this.lastEnd)) dist = 0;
    else if (start > this.lastEnd) dist = start - this.lastEnd;
    else dist = start - this.lastStart;
    this.lastStart = start;
    this.lastEnd = end;
    const a = Math.abs(dist);
    this.n++;
    this.total += a;
    this.counts.set(a, (this.counts.get(a) ?? 0) + 1);
    return dist;
  }

  result(): SeekStats {
    const keys = [...this.counts.keys()].sort((x, y) => x - y);
    let median = 0;
    let seen = 0;
    const half = Math.floor(this.n / 2);
    for (const k of keys) { seen += this.counts.get(k)!; if (seen > half) { median = k; break; } }
    let modeCount = 0;
    let modes: number[] = [];
    for (const k of keys) {
      const c = this.counts.get(k)!;
      if (c > modeCount) { modeCount = c; modes = [k]; } else if (c === modeCount) modes.push(k);
    }
    return { n: this.n, mean: this.n ? this.total / this.n : 0, median, modes, modeCount };
  }
}
