/**
 * The tier-0 sweep state of layer-link.ts: which upper segments are in flight, by address.
 */

/**
 * The segments in flight (started, and not ended before every later lower request completes),
 * found by address: kept in 1 MiB address buckets, so that a lower request looks only at the
 * in-flight segments near its own bytes even when many are in flight (a loose clock, so a wide
 * time slack, on a busy trace). Segments spanning more than 16 buckets go to one list scanned
 * every time. Finished segments are dropped when their bucket is next looked at.
 */
export class InFlightSegments {
  private static readonly BUCKET = 1 << 20;
  private static readonly MAX_SPAN = 16;
  private readonly buckets = new Map<number, number[]>();
  private readonly wide: number[] = [];
  private readonly seen: Int32Array;
  constructor(
    private readonly start: Float64Array,
    private readonly end: Float64Array,
    private readonly t1: Float64Array,
    private readonly slack: number,
  ) {
    this.seen = new Int32Array(start.length).fill(-1);
  }

  add(s: number): void {
    if (!(this.end[s]! > this.start[s]!)) return;
    const B = InFlightSegments.BUCKET;
    const b0 = Math.floor(this.start[s]! / B),
      b1 = Math.floor((this.end[s]! - 1) / B);
    if (b1 - b0 >= InFlightSegments.MAX_SPAN) {
      this.wide.push(s);
      return;
    }
    for (let k = b0; k <= b1; k++) {
      const list = this.buckets.get(k);
      if (list) list.push(s);
      else this.buckets.set(k, [s]);
    }
  }

  /**
   * Each in-flight segment overlapping [a, b) once (`stamp` tells calls apart); segments whose
   * window ends before `horizon` (the earliest completion still to come) are dropped on the way.
   */
  overlapping(a: number, b: number, horizon: number, stamp: number, visit: (s: number) => void): void {
    const B = InFlightSegments.BUCKET;
    for (let k = Math.floor(a / B), k1 = Math.floor((b - 1) / B); k <= k1; k++) {
      const list = this.buckets.get(k);
      if (!list) continue;
      this.scan(list, a, b, horizon, stamp, visit);
      if (list.length === 0) this.buckets.delete(k);
    }
    this.scan(this.wide, a, b, horizon, stamp, visit);
  }

  private scan(list: number[], a: number, b: number, horizon: number, stamp: number, visit: (s: number) => void): void {
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const s = list[r]!;
      if (this.t1[s]! + this.slack < horizon) continue;
      list[w++] = s;
      if (this.seen[s] === stamp || !(this.start[s]! < b && this.end[s]! > a)) continue;
      this.seen[s] = stamp;
      visit(s);
    }
    list.length = w;
  }
}
