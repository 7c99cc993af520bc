/**
 * The painting machinery of layer-link.ts: the elementary address grid, candidate runs, the
 * covered-bytes list of one lower request, and its owned pieces before they go to the output.
 */
import { releaseArrays } from '../util/release-memory.js';
import { GrowableArray, growFloat64, growInt32, growUint8 } from '../util/growable.js';
import { lowerBound } from '../util/sorted.js';
import type { LowerRequests } from './layer-link.js';

export type ElementaryGrid = ReturnType<typeof elementaryGrid>;

/** Sorted distinct boundaries of the segments and of the linkable lower requests. */
export function elementaryGrid(sStart: Float64Array, sEnd: Float64Array, low: LowerRequests, linkable: (L: number) => boolean) {
  const all = new GrowableArray(Float64Array, 2 * (sStart.length + low.length) + 16);
  for (let k = 0; k < sStart.length; k++) {
    all.push(sStart[k]!);
    all.push(sEnd[k]!);
  }
  for (let L = 0; L < low.length; L++)
    if (linkable(L)) {
      all.push(low.start[L]!);
      all.push(low.end[L]!);
    }
  // sorted in place (TypedArray.prototype.sort, ECMA-262 23.2.3.29: numeric order, -0 before +0,
  // NaN last) and made distinct in place: no index array beside the values (at 20M segments and
  // 20M requests the values alone are 640 MB)
  const v = all.view().sort();
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const a = v[i]!;
    if (n === 0 || a !== v[n - 1]) v[n++] = a;
  }
  // a copy of the distinct boundaries only: the array of all of them (two per segment and per
  // request, most repeated) is let go here, not held through the link
  const grid = v.slice(0, n);
  releaseArrays(v);
  return {
    /** Boundaries; elementary interval e is [x[e], x[e + 1]). */
    x: grid,
    length: Math.max(0, n - 1),
    /** Position of a boundary (which is always in the grid). */
    index(addr: number): number {
      return lowerBound(grid, addr, 0, n - 1);
    },
  };
}

/** Candidate runs: (segment, key, key2, start, end), sortable by (key, key2, segment, start). */
export class RunList {
  seg = new Int32Array(16);
  key = new Float64Array(16);
  key2 = new Float64Array(16);
  x = new Float64Array(16);
  y = new Float64Array(16);
  length = 0;
  private ord: number[] = [];
  clear(): void {
    this.length = 0;
  }
  push(s: number, key: number, key2: number, x: number, y: number): void {
    if (this.length === this.seg.length) {
      const n = this.length * 2;
      const g1 = new Int32Array(n);
      g1.set(this.seg);
      this.seg = g1;
      const g2 = new Float64Array(n);
      g2.set(this.key);
      this.key = g2;
      const g5 = new Float64Array(n);
      g5.set(this.key2);
      this.key2 = g5;
      const g3 = new Float64Array(n);
      g3.set(this.x);
      this.x = g3;
      const g4 = new Float64Array(n);
      g4.set(this.y);
      this.y = g4;
    }
    const i = this.length++;
    this.seg[i] = s;
    this.key[i] = key;
    this.key2[i] = key2;
    this.x[i] = x;
    this.y[i] = y;
  }
  sortByKey(): void {
    const n = this.length;
    if (n < 2) return;
    const o = this.ord;
    o.length = n;
    for (let i = 0; i < n; i++) o[i] = i;
    const { seg, key, key2, x } = this;
    o.sort((i, j) => key[i]! - key[j]! || key2[i]! - key2[j]! || seg[i]! - seg[j]! || x[i]! - x[j]!);
    const s2 = o.map((i) => seg[i]!),
      k2 = o.map((i) => key[i]!),
      kk2 = o.map((i) => key2[i]!),
      x2 = o.map((i) => x[i]!),
      y2 = o.map((i) => this.y[i]!);
    for (let i = 0; i < n; i++) {
      seg[i] = s2[i]!;
      key[i] = k2[i]!;
      key2[i] = kk2[i]!;
      x[i] = x2[i]!;
      this.y[i] = y2[i]!;
    }
  }
}

/** Runs of equal owner over [a, b) of an owner-per-elementary-interval array, sorted by (key, segment, start). */
export function collectRuns(
  runs: RunList,
  owner: Int32Array,
  grid: ElementaryGrid,
  a: number,
  b: number,
  key: (s: number) => number,
): void {
  runs.clear();
  const x = grid.x;
  let e = grid.index(a);
  const e1 = grid.index(b);
  while (e < e1) {
    const o = owner[e]!;
    let f = e + 1;
    while (f < e1 && owner[f] === o) f++;
    if (o >= 0) runs.push(o, key(o), 0, x[e]!, x[f]!);
    e = f;
  }
  runs.sortByKey();
}

/** Paint the parts of each run not yet covered, best run first. */
export function paintRuns(
  runs: RunList,
  cov: GrowableArray<Float64Array>,
  sink: PieceScratch,
  sStart: Float64Array,
  sEnd: Float64Array,
  sUpper: Int32Array,
  sAddr: Float64Array,
  how: number,
): void {
  for (let r = 0; r < runs.length; r++) {
    const s = runs.seg[r]!;
    paintGaps(cov, sink, Math.max(runs.x[r]!, sStart[s]!), Math.min(runs.y[r]!, sEnd[s]!), sUpper[s]!, how, sAddr[s]! - sStart[s]!);
  }
}

/** Emit the parts of [x, y) that `cov` does not hold (address order), then add [x, y) to `cov`. */
export function paintGaps(
  cov: GrowableArray<Float64Array>,
  sink: PieceScratch,
  x: number,
  y: number,
  u: number,
  how: number,
  base: number,
): void {
  if (!(y > x)) return;
  let pos = x;
  for (let j = 0; j < cov.length && pos < y; j += 2) {
    const cs = cov.get(j),
      ce = cov.get(j + 1);
    if (ce <= pos) continue;
    if (cs >= y) break;
    if (cs > pos) sink.push(u, pos, cs - pos, how, pos + base);
    pos = Math.max(pos, ce);
  }
  if (pos < y) sink.push(u, pos, y - pos, how, pos + base);
  addCovered(cov, x, y);
}

/** The owned pieces of one lower request, before they go to the output. */
export class PieceScratch {
  upper = growInt32(64);
  start = growFloat64(64);
  len = growFloat64(64);
  how = growUint8(64);
  addr = growFloat64(64);
  get length(): number {
    return this.upper.length;
  }
  clear(): void {
    this.upper.length = 0;
    this.start.length = 0;
    this.len.length = 0;
    this.how.length = 0;
    this.addr.length = 0;
  }
  push(u: number, s: number, l: number, how: number, addr: number): void {
    this.upper.push(u);
    this.start.push(s);
    this.len.push(l);
    this.how.push(how);
    this.addr.push(addr);
  }
  append(o: PieceScratch): void {
    this.appendFrom(o, 0, o.length);
  }
  appendFrom(o: PieceScratch, first: number, n: number): void {
    for (let k = first; k < first + n; k++) this.push(o.upper.get(k), o.start.get(k), o.len.get(k), o.how.get(k), o.addr.get(k));
  }
}

/** Insert [x, y) into a sorted list of disjoint (start, end) pairs, merging overlaps and neighbours. */
export function addCovered(cov: GrowableArray<Float64Array>, x: number, y: number): void {
  const n = cov.length;
  // first pair that ends at or after x, and the pairs from there that start at or before y
  let j = 0;
  while (j < n && cov.get(j + 1) < x) j += 2;
  let k = j;
  while (k < n && cov.get(k) <= y) {
    x = Math.min(x, cov.get(k));
    y = Math.max(y, cov.get(k + 1));
    k += 2;
  }
  const removed = (k - j) / 2;
  if (removed === 1) {
    cov.set(j, x);
    cov.set(j + 1, y);
    return;
  }
  if (removed === 0) {
    // shift the tail right by one pair
    cov.push(0);
    cov.push(0);
    for (let i = n - 1; i >= j; i--) cov.set(i + 2, cov.get(i));
    cov.set(j, x);
    cov.set(j + 1, y);
    return;
  }
  cov.set(j, x);
  cov.set(j + 1, y);
  const shift = (removed - 1) * 2;
  for (let i = k; i < n; i++) cov.set(i - shift, cov.get(i));
  cov.length = n - shift;
}
