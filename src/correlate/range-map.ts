/**
 * A piecewise-linear address translation: sorted, non-overlapping source ranges each mapped to a
 * destination start. Used for every hop of the lineage: file offset → guest disk byte (guest fs
 * map), guest disk byte → image file offset (raw identity / qcow2 L1/L2), image file offset →
 * host disk byte (host fs map of the image file). Addresses are byte offsets held as float64
 * (exact below 2^53 = 8 PiB; checked when the map is built).
 */
import { upperBound } from '../util/sorted.js';

export class RangeMap {
  readonly src: Float64Array;
  readonly dst: Float64Array;
  readonly len: Float64Array;

  /**
   * Build from unsorted (src, dst, len) triples; adjacent contiguous ranges are merged.
   * Overlapping sources throw, or with `clip` (maps from a possibly corrupt input) lose the overlap.
   */
  constructor(src: ArrayLike<number>, dst: ArrayLike<number>, len: ArrayLike<number>, what = 'range map', clip = false) {
    const n = src.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => src[a]! - src[b]!);
    const s: number[] = [],
      d: number[] = [],
      l: number[] = [];
    for (const i of order) {
      let si = src[i]!,
        di = dst[i]!,
        li = len[i]!;
      if (!(Number.isSafeInteger(si) && Number.isSafeInteger(di) && Number.isSafeInteger(li)) || li < 0) {
        throw new RangeError(`${what}: range (${si}, ${di}, ${li}) is not a non-negative safe integer triple`);
      }
      const k = s.length - 1;
      if (clip && k >= 0 && si < s[k]! + l[k]!) {
        const cut = Math.min(li, s[k]! + l[k]! - si);
        si += cut;
        di += cut;
        li -= cut;
      }
      if (li === 0) continue;
      if (k >= 0) {
        const prevEnd = s[k]! + l[k]!;
        if (si < prevEnd) throw new RangeError(`${what}: source ranges overlap at ${si} (previous range ends at ${prevEnd})`);
        if (si === prevEnd && di === d[k]! + l[k]!) {
          l[k] = l[k]! + li;
          continue;
        }
      }
      s.push(si);
      d.push(di);
      l.push(li);
    }
    this.src = Float64Array.from(s);
    this.dst = Float64Array.from(d);
    this.len = Float64Array.from(l);
  }

  static identity(size: number): RangeMap {
    return new RangeMap([0], [0], [size]);
  }

  get size(): number {
    return this.src.length;
  }

  /** Index of the last range whose source start is <= addr, or -1. */
  private floor(addr: number): number {
    return upperBound(this.src, addr) - 1;
  }

  /**
   * Translate [start, start+length): calls emit(dstStart, len, srcStart) for each mapped piece in
   * source order and returns the number of unmapped bytes (holes).
   */
  translate(start: number, length: number, emit: (dst: number, len: number, src: number) => void): number {
    const end = start + length;
    let i = this.floor(start);
    if (i < 0) i = 0;
    let mapped = 0;
    for (; i < this.src.length; i++) {
      const s = this.src[i]!;
      if (s >= end) break;
      const e = s + this.len[i]!;
      if (e <= start) continue;
      const a = Math.max(s, start),
        b = Math.min(e, end);
      emit(this.dst[i]! + (a - s), b - a, a);
      mapped += b - a;
    }
    return length - mapped;
  }

  /** The map followed by `next` (this: A→B, next: B→C, result A→C); parts of B that `next` does not map are dropped. */
  then(next: RangeMap, what = 'composed map'): RangeMap {
    const s: number[] = [],
      d: number[] = [],
      l: number[] = [];
    for (let i = 0; i < this.src.length; i++) {
      const base = this.src[i]! - this.dst[i]!;
      next.translate(this.dst[i]!, this.len[i]!, (dst, len, src) => {
        s.push(src + base);
        d.push(dst);
        l.push(len);
      });
    }
    return new RangeMap(s, d, l, what);
  }

  /** The inverse map (B→A); throws when two sources map onto the same destination. */
  inverse(what = 'inverse map'): RangeMap {
    return new RangeMap(this.dst, this.src, this.len, what);
  }
}
