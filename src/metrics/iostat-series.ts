/**
 * An iostat-like time series from block_requests: per interval of the trace clock, completed
 * I/Os per second, MB/s, the average number of requests in flight at the device (issue to
 * completion; iostat's aqu-sz) and utilisation (share of the interval with at least one request
 * in flight; iostat's %util, from the kernel's io_ticks). Columnar output, one row per interval.
 */
import type { Table } from '@uwdata/flechette';
import { minInt64, numberColumn, stringColumn } from '../table/column-arrays.js';

export interface IostatSeries {
  /** Start of each interval, ns on the trace clock (bigint: absolute times). */
  startNs: BigInt64Array;
  intervalNs: number;
  readIops: Float64Array;
  writeIops: Float64Array;
  /** Completed MB/s (10^6 bytes) of reads and writes. */
  readMBps: Float64Array;
  writeMBps: Float64Array;
  /** Average requests in flight (issued, not completed). */
  queueDepth: Float64Array;
  /** Fraction 0..1 of the interval with at least one request in flight. */
  utilization: Float64Array;
}

/**
 * @param dev device "MAJ:MIN" (default: all devices together)
 * @param intervalNs interval length (default 1 s)
 */
export function iostatSeries(requests: Table, opts: { dev?: string; intervalNs?: number } = {}): IostatSeries {
  const interval = opts.intervalNs ?? 1e9;
  if (!(interval > 0)) throw new RangeError(`interval ${interval} ns: expected a positive length`);
  const base = minInt64(requests, ['issue_ns']);
  const dev = stringColumn(requests, 'dev');
  const op = stringColumn(requests, 'op');
  const d = numberColumn(requests, 'issue_ns', base);
  const c = numberColumn(requests, 'complete_ns', base);
  const bytes = numberColumn(requests, 'bytes');
  const want = opts.dev === undefined ? -2 : dev.labels.indexOf(opts.dev);
  const readOp = op.labels.indexOf('read');
  const writeOp = op.labels.indexOf('write');
  let end = 0;
  for (let r = 0; r < d.length; r++) if ((want === -2 || dev.codes[r] === want) && c[r]! === c[r]! && c[r]! > end) end = c[r]!;
  const n = Math.max(1, Math.ceil((end + 1) / interval));
  const s = {
    readIops: new Float64Array(n),
    writeIops: new Float64Array(n),
    readMBps: new Float64Array(n),
    writeMBps: new Float64Array(n),
    queueDepth: new Float64Array(n),
    utilization: new Float64Array(n),
  };
  // busy-time: +1 at issue, -1 at completion; swept in time order
  const edges: number[] = [];
  for (let r = 0; r < d.length; r++) {
    if (want !== -2 && dev.codes[r] !== want) continue;
    const di = d[r]!,
      ci = c[r]!;
    if (ci === ci) {
      const k = Math.min(n - 1, Math.floor(ci / interval));
      if (op.codes[r] === readOp) {
        s.readIops[k]!++;
        s.readMBps[k]! += bytes[r]!;
      } else if (op.codes[r] === writeOp) {
        s.writeIops[k]!++;
        s.writeMBps[k]! += bytes[r]!;
      }
    }
    if (di === di) {
      edges.push(di, 1);
      edges.push(ci === ci ? ci : end, -1);
    }
  }
  const order = new Uint32Array(edges.length / 2);
  for (let k = 0; k < order.length; k++) order[k] = k;
  order.sort((a, b) => edges[2 * a]! - edges[2 * b]! || edges[2 * b + 1]! - edges[2 * a + 1]!);
  let depth = 0;
  let t = 0;
  const span = (from: number, to: number, dep: number) => {
    // spread [from, to) with depth dep over the intervals it covers
    while (from < to) {
      const k = Math.min(n - 1, Math.floor(from / interval));
      const stop = Math.min(to, (k + 1) * interval);
      s.queueDepth[k]! += dep * (stop - from);
      if (dep > 0) s.utilization[k]! += stop - from;
      from = stop;
      if (k === n - 1) break;
    }
  };
  for (const k of order) {
    const at = edges[2 * k]!;
    if (at > t) {
      span(t, at, depth);
      t = at;
    }
    depth += edges[2 * k + 1]!;
  }
  const sec = interval / 1e9;
  for (let k = 0; k < n; k++) {
    s.readIops[k]! /= sec;
    s.writeIops[k]! /= sec;
    s.readMBps[k]! /= 1e6 * sec;
    s.writeMBps[k]! /= 1e6 * sec;
    s.queueDepth[k]! /= interval;
    s.utilization[k]! /= interval;
  }
  const startNs = new BigInt64Array(n);
  for (let k = 0; k < n; k++) startNs[k] = base + BigInt(k * interval);
  return { startNs, intervalNs: interval, ...s };
}
