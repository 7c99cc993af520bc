/**
 * Labelled address regions of one layer's disk (file-system metadata kinds, the journal, file
 * data, image files), used to name the cause of lower-layer bytes that no upper request owns.
 * Regions are sorted and disjoint; `overlay` lets a finer list override a coarser one (qcow2 data
 * ranges inside an image file, for example).
 */
import { upperBound } from '../util/sorted.js';

export class RegionIndex {
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly label: Int32Array;

  /**
   * From unsorted (start, end, label) ranges. Overlapping ranges throw, or with `clip` (maps read
   * from a possibly corrupt file system) the later-starting range loses the overlap.
   */
  constructor(start: ArrayLike<number>, end: ArrayLike<number>, label: ArrayLike<number>, what = 'regions', clip = false) {
    const n = start.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => start[a]! - start[b]!);
    const s: number[] = [],
      e: number[] = [],
      l: number[] = [];
    for (const i of order) {
      let a = start[i]!;
      const b = end[i]!,
        lab = label[i]!;
      const k = s.length - 1;
      if (clip && k >= 0 && a < e[k]!) a = e[k]!;
      if (!(b > a)) continue;
      if (k >= 0 && a < e[k]!) throw new RangeError(`${what}: ranges overlap at byte ${a} (previous ends at ${e[k]})`);
      if (k >= 0 && a === e[k]! && l[k] === lab) {
        e[k] = b;
        continue;
      }
      s.push(a);
      e.push(b);
      l.push(lab);
    }
    this.start = Float64Array.from(s);
    this.end = Float64Array.from(e);
    this.label = Int32Array.from(l);
  }

  static empty(): RegionIndex {
    return new RegionIndex([], [], []);
  }

  get length(): number {
    return this.start.length;
  }

  /** `top` wins where both have a region. */
  static overlay(base: RegionIndex, top: RegionIndex): RegionIndex {
    const s: number[] = [],
      e: number[] = [],
      l: number[] = [];
    let j = 0;
    for (let i = 0; i < base.length; i++) {
      let a = base.start[i]!;
      const b = base.end[i]!;
      while (j < top.length && top.end[j]! <= a) j++;
      let k = j;
      while (a < b && k < top.length && top.start[k]! < b) {
        if (top.start[k]! > a) {
          s.push(a);
          e.push(top.start[k]!);
          l.push(base.label[i]!);
        }
        a = Math.max(a, top.end[k]!);
        k++;
      }
      if (a < b) {
        s.push(a);
        e.push(b);
        l.push(base.label[i]!);
      }
    }
    for (let k = 0; k < top.length; k++) {
      s.push(top.start[k]!);
      e.push(top.end[k]!);
      l.push(top.label[k]!);
    }
    return new RegionIndex(s, e, l);
  }

  /** Calls emit(label, start, len) for the pieces of [start, start+len), label -1 where no region lies. */
  classify(start: number, len: number, emit: (label: number, start: number, len: number) => void): void {
    const end = start + len;
    // first region whose end is > start
    let i = upperBound(this.end, start);
    let pos = start;
    for (; i < this.start.length && pos < end; i++) {
      const s = this.start[i]!;
      if (s >= end) break;
      if (s > pos) {
        emit(-1, pos, s - pos);
        pos = s;
      }
      const b = Math.min(end, this.end[i]!);
      if (b > pos) {
        emit(this.label[i]!, pos, b - pos);
        pos = b;
      }
    }
    if (pos < end) emit(-1, pos, end - pos);
  }
}
