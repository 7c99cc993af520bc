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
  /** The most frequent distances (at most 16 listed) and their count (btt MODE). */
  modes: number[];
  modeCount: number;
}

/** Accumulates seek distances of one stream of I/Os. */
export class SeekAccumulator {
  private lastStart = 0;
  private lastEnd = 0;
  /** Absolute distances in input order (sorted once in result()). */
  private dists = new Float64Array(1024);
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
    if (this.n - 1 === this.dists.length) {
      const d = new Float64Array(this.dists.length * 2);
      d.set(this.dists);
      this.dists = d;
    }
    this.dists[this.n - 1] = a;
    return dist;
  }

  result(): SeekStats {
    const d = this.dists.slice(0, this.n).sort();
    const median = this.n ? d[Math.floor(this.n / 2)]! : 0;
    let modeCount = 0;
    let modes: number[] = [];
    for (let i = 0; i < d.length;) {
      let j = i + 1;
      while (j < d.length && d[j] === d[i]) j++;
      const c = j - i;
      if (c > modeCount) {
        modeCount = c;
        modes = [d[i]!];
      } else if (c === modeCount && modes.length < 16) modes.push(d[i]!);
      i = j;
    }
    return { n: this.n, mean: this.n ? this.total / this.n : 0, median, modes, modeCount };
  }
}
