/**
 * Address translation over an image_map: guest byte ranges to the image files' byte ranges and
 * back, by binary search over the sorted extents (no object per extent; the callback forms make
 * no allocation per piece).
 */
import type { Table } from '@uwdata/flechette';
import { IMAGE_EXTENT_STATES, type ImageExtentState } from '../table/schemas/image-map.js';
import { toSafeNumber } from '../util/numbers.js';
import { upperBound } from '../util/sorted.js';

/** One piece of a translated range. */
export interface ImagePiece {
  guestOffset: number;
  length: number;
  state: ImageExtentState;
  /** Index of the image in the backing chain (0 = top). */
  depth: number;
  file: string;
  /** data: where the piece's bytes are; compressed: start of the compressed cluster; else -1 when none. */
  hostOffset: number;
  /** Host bytes read for the piece: its length for data, the whole compressed cluster for compressed, 0 otherwise. */
  hostLength: number;
}

/** (guestOffset, length, stateIndex into IMAGE_EXTENT_STATES, depth, hostOffset, hostLength) */
export type PieceCallback = (
  guestOffset: number,
  length: number,
  state: number,
  depth: number,
  hostOffset: number,
  hostLength: number,
) => void;

const S_DATA = IMAGE_EXTENT_STATES.indexOf('data');
const S_COMPRESSED = IMAGE_EXTENT_STATES.indexOf('compressed');

export class ImageMap {
  readonly size: number;
  readonly files: readonly string[];
  private readonly gStart: Float64Array;
  private readonly gLen: Float64Array;
  private readonly state: Uint8Array;
  private readonly depth: Int16Array;
  private readonly hStart: Float64Array;
  private readonly hLen: Float64Array;
  /** Per depth: rows with host bytes (data, compressed) sorted by host offset, and the running max of their ends. */
  private readonly byHost: { rows: Int32Array; maxEnd: Float64Array }[];

  /** Build from an image_map table (from buildImageMap/mapImage or readArrowFile). */
  constructor(table: Table) {
    const n = table.numRows;
    const col = (name: string) => {
      const c = table.getChild(name);
      if (!c) throw new TypeError(`not an image_map table: no column ${name}`);
      return c;
    };
    this.gStart = new Float64Array(n);
    this.gLen = new Float64Array(n);
    this.state = new Uint8Array(n);
    this.depth = new Int16Array(n);
    this.hStart = new Float64Array(n);
    this.hLen = new Float64Array(n);
    // int64 columns batch by batch (BigInt64Array values + validity), no per-row lookups
    const int64 = (name: string, out: Float64Array, ifNull: number) => {
      let row = 0;
      for (const batch of col(name).data as unknown as {
        length: number;
        values: BigInt64Array;
        isValid(i: number): boolean;
        nullCount: number;
      }[]) {
        const v = batch.values;
        for (let j = 0; j < batch.length; j++, row++) {
          out[row] = batch.nullCount > 0 && !batch.isValid(j) ? ifNull : toSafeNumber(v[j]!, name);
        }
      }
    };
    int64('guest_offset', this.gStart, 0);
    int64('length', this.gLen, 0);
    int64('host_offset', this.hStart, -1);
    int64('host_length', this.hLen, 0);
    const states = col('state').toArray() as ArrayLike<string>;
    const depths = col('depth').toArray() as ArrayLike<number>;
    const fileNames = col('file').toArray() as ArrayLike<string>;
    const files: string[] = [];
    for (let i = 0; i < n; i++) {
      const st = IMAGE_EXTENT_STATES.indexOf(states[i] as ImageExtentState);
      if (st < 0) throw new TypeError(`image_map row ${i}: unknown state ${String(states[i])}`);
      this.state[i] = st;
      const dep = Number(depths[i]);
      this.depth[i] = dep;
      files[dep] ??= String(fileNames[i]);
      if (i > 0 && this.gStart[i] !== this.gStart[i - 1]! + this.gLen[i - 1]!)
        throw new TypeError(`image_map row ${i}: extents are not sorted and contiguous`);
    }
    this.size = n ? this.gStart[n - 1]! + this.gLen[n - 1]! : 0;
    this.files = Array.from(files, (x) => x ?? '');
    this.byHost = this.files.map((_, dep) => {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (this.depth[i] === dep && (this.state[i] === S_DATA || this.state[i] === S_COMPRESSED)) rows.push(i);
      rows.sort((a, b) => this.hStart[a]! - this.hStart[b]!);
      const maxEnd = new Float64Array(rows.length);
      let m = -1;
      rows.forEach((r, k) => {
        m = Math.max(m, this.hStart[r]! + this.hLen[r]!);
        maxEnd[k] = m;
      });
      return { rows: Int32Array.from(rows), maxEnd };
    });
  }

  /** Number of extents. */
  get length(): number {
    return this.gStart.length;
  }

  /** Index of the extent holding guest byte `offset` (-1 outside the disk). */
  findGuest(offset: number): number {
    let lo = 0,
      hi = this.gStart.length - 1;
    if (hi < 0 || offset < 0 || offset >= this.size) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.gStart[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Call `cb` for each piece of guest range [guestOffset, guestOffset + length), clipped to the disk. */
  forEachGuestPiece(guestOffset: number, length: number, cb: PieceCallback): void {
    const end = Math.min(guestOffset + length, this.size);
    let i = this.findGuest(Math.max(0, guestOffset));
    if (i < 0) return;
    let pos = Math.max(0, guestOffset);
    while (pos < end && i < this.gStart.length) {
      const eEnd = this.gStart[i]! + this.gLen[i]!;
      const to = Math.min(end, eEnd);
      const st = this.state[i]!;
      const h = this.hStart[i]!;
      if (st === S_DATA) cb(pos, to - pos, st, this.depth[i]!, h + (pos - this.gStart[i]!), to - pos);
      else if (st === S_COMPRESSED) cb(pos, to - pos, st, this.depth[i]!, h, this.hLen[i]!);
      else cb(pos, to - pos, st, this.depth[i]!, h < 0 ? -1 : h + (pos - this.gStart[i]!), 0);
      pos = to;
      i++;
    }
  }

  /** Guest range -> where its bytes are in the image files. */
  guestToHost(guestOffset: number, length: number): ImagePiece[] {
    const out: ImagePiece[] = [];
    this.forEachGuestPiece(guestOffset, length, (g, l, s, d, h, hl) => out.push(this.piece(g, l, s, d, h, hl)));
    return out;
  }

  /**
   * Call `cb` for each guest piece whose host bytes overlap [hostOffset, hostOffset + length) of
   * image `file` (a name from `files`, or a depth), in host order. Data pieces are the exact
   * overlap; a compressed cluster is reported whole (any byte of it serves the whole cluster).
   * Host bytes that map to no guest byte (qcow2 metadata, free space) produce nothing.
   */
  forEachHostPiece(file: string | number, hostOffset: number, length: number, cb: PieceCallback): void {
    const dep = typeof file === 'number' ? file : this.files.indexOf(file);
    const idx = this.byHost[dep];
    if (!idx) return;
    const { rows, maxEnd } = idx;
    const end = hostOffset + length;
    // first k with maxEnd[k] > hostOffset (maxEnd is non-decreasing)
    const lo = upperBound(maxEnd, hostOffset, 0, rows.length);
    for (let k = lo; k < rows.length; k++) {
      const r = rows[k]!;
      const hs = this.hStart[r]!;
      if (hs >= end) break;
      const he = hs + this.hLen[r]!;
      if (he <= hostOffset) continue;
      if (this.state[r] === S_COMPRESSED) {
        cb(this.gStart[r]!, this.gLen[r]!, S_COMPRESSED, dep, hs, this.hLen[r]!);
      } else {
        const from = Math.max(hs, hostOffset),
          to = Math.min(he, end);
        cb(this.gStart[r]! + (from - hs), to - from, S_DATA, dep, from, to - from);
      }
    }
  }

  /** Host range of an image file -> the guest bytes stored there. */
  hostToGuest(file: string | number, hostOffset: number, length: number): ImagePiece[] {
    const out: ImagePiece[] = [];
    this.forEachHostPiece(file, hostOffset, length, (g, l, s, d, h, hl) => out.push(this.piece(g, l, s, d, h, hl)));
    return out;
  }

  private piece(g: number, l: number, s: number, d: number, h: number, hl: number): ImagePiece {
    return {
      guestOffset: g,
      length: l,
      state: IMAGE_EXTENT_STATES[s]!,
      depth: d,
      file: this.files[d] ?? '',
      hostOffset: h,
      hostLength: hl,
    };
  }
}
