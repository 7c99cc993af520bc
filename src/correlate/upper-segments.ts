/**
 * Upper-layer requests translated into the lower layer's address space (the upper side of each
 * sweep join).
 *
 * Application I/Os → guest disk byte ranges: each read/write's file range [offset, offset +
 * bytes) is cut along the file's extents from the guest fs map (file offset → fs block → guest
 * disk byte). The result is the upper side of the app → guest sweep join.
 */
import { growFloat64, growInt32 } from '../util/growable.js';
import { Op, type Segments } from './layer-link.js';
import type { AppLayer } from './layers.js';
import type { RangeMap } from './range-map.js';

export interface FileSegments {
  seg: Segments;
  /** Bytes of each app I/O that the fs map placed on the disk. */
  mapped: Float64Array;
}

/** @param fileMap the extent map (file offset → guest disk byte) of each entry of app.files, or null when not found. */
export function fileSegments(app: AppLayer, fileMap: readonly (RangeMap | null)[]): FileSegments {
  const start = growFloat64(app.length + 16),
    end = growFloat64(app.length + 16),
    addr = growFloat64(app.length + 16);
  const upper = growInt32(app.length + 16);
  const mapped = new Float64Array(app.length);
  for (let i = 0; i < app.length; i++) {
    const op = app.op[i]!;
    if (op !== Op.Read && op !== Op.Write) continue;
    const f = app.file[i]!,
      off = app.offset[i]!,
      n = app.bytes[i]!;
    if (f < 0 || !(n > 0) || Number.isNaN(off)) continue;
    const map = fileMap[f];
    if (!map) continue;
    const un = map.translate(off, n, (dst, len, src) => {
      start.push(dst);
      end.push(dst + len);
      addr.push(src);
      upper.push(i);
    });
    mapped[i] = n - un;
  }
  const seg = { length: start.length, start: start.take(), end: end.take(), upper: upper.take(), upperAddr: addr.take() };
  return {
    seg,
    mapped,
  };
}

/**
 * Guest requests → host disk byte ranges through the composed map guest disk byte → image file
 * offset → host disk byte. `upperBase` is added to the request index so several VMs' requests can
 * share one join (VM k's requests are upperBase_k + i).
 */
export function imageSegments(
  reqStart: Float64Array,
  reqEnd: Float64Array,
  n: number,
  map: RangeMap,
  upperBase: number,
  out: {
    start: ReturnType<typeof growFloat64>;
    end: ReturnType<typeof growFloat64>;
    addr: ReturnType<typeof growFloat64>;
    upper: ReturnType<typeof growInt32>;
  },
): number {
  let unmapped = 0;
  for (let i = 0; i < n; i++) {
    const a = reqStart[i]!,
      b = reqEnd[i]!;
    if (!(b > a)) continue;
    unmapped += map.translate(a, b - a, (dst, len, src) => {
      out.start.push(dst);
      out.end.push(dst + len);
      out.addr.push(src);
      out.upper.push(upperBase + i);
    });
  }
  return unmapped;
}
