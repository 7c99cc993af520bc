/**
 * The data behind the block-layer charts, computed from a block_requests table (one row per
 * request: op, sector, bytes, issue_ns = D, complete_ns = C): small aggregated arrays, so that
 * the chart specs stay small whatever the trace size. Times are made relative to the first issue
 * in BigInt before becoming numbers (exact for spans below 2^53 ns, about 104 days).
 */
import type { Table } from '@uwdata/flechette';
import type { LatencyRow } from '../charts/latency-chart.js';
import type { QueueDepthRow } from '../charts/queue-depth-chart.js';
import type { RequestSizeRow } from '../charts/request-size-chart.js';
import type { SectorTimePoint } from '../charts/sector-time-chart.js';
import { sizeLabel } from '../charts/chart-style.js';
import { int64Column, stringColumn, type Int64Values } from './columns.js';

const isValid = (c: Int64Values, i: number) => c.valid === null || c.valid[i] === 1;

/** Earliest issue time of the requests (ns, trace clock), or null when none was issued. */
export function firstIssueNs(requests: Table): bigint | null {
  const issue = int64Column(requests, 'issue_ns');
  let t0: bigint | null = null;
  for (let i = 0; i < issue.values.length; i++) {
    if (isValid(issue, i) && (t0 === null || issue.values[i]! < t0)) t0 = issue.values[i]!;
  }
  return t0;
}

/**
 * Issued requests (issue_ns set: what the device received) per op and power-of-two size class;
 * requests of 0 bytes (pure flushes) are left out.
 */
export function requestSizeRows(requests: Table): RequestSizeRow[] {
  const op = stringColumn(requests, 'op');
  const bytes = int64Column(requests, 'bytes');
  const issue = int64Column(requests, 'issue_ns');
  // key: op code * 64 + log2 of the class (classes up to 2^63 bytes)
  const counts = new Map<number, { requests: number; bytes: number }>();
  for (let i = 0; i < op.codes.length; i++) {
    const b = Number(bytes.values[i]!);
    if (!(b > 0) || !isValid(bytes, i) || !isValid(issue, i)) continue;
    const key = (op.codes[i]! + 1) * 64 + Math.ceil(Math.log2(b));
    const c = counts.get(key);
    if (c) { c.requests++; c.bytes += b; } else counts.set(key, { requests: 1, bytes: b });
  }
  const rows: RequestSizeRow[] = [];
  for (const [key, c] of counts) {
    const code = Math.floor(key / 64) - 1;
    const cls = 2 ** (key % 64);
    rows.push({ op: code >= 0 ? op.labels[code]! : 'unknown', size_bytes: cls, size_label: sizeLabel(cls), requests: c.requests, bytes: c.bytes });
  }
  return rows.sort((a, b) => a.size_bytes - b.size_bytes || a.op.localeCompare(b.op));
}

/** Log classes: five per decade, edges 10^(k/5) µs. */
const CLASSES_PER_DECADE = 5;

export interface LatencyView { rows: LatencyRow[]; medians: Record<string, number>; completed: number }

/**
 * Histogram of `to - from` per op over log classes (µs), for requests that have both times,
 * e.g. issue_ns → complete_ns (D2C) or queue_ns → complete_ns (Q2C).
 */
export function latencyView(requests: Table, from = 'issue_ns', to = 'complete_ns'): LatencyView {
  const op = stringColumn(requests, 'op');
  const a = int64Column(requests, from);
  const b = int64Column(requests, to);
  const perOp = new Map<number, number[]>();
  for (let i = 0; i < op.codes.length; i++) {
    if (!isValid(a, i) || !isValid(b, i)) continue;
    const us = Number(b.values[i]! - a.values[i]!) / 1000;
    if (!(us >= 0)) continue;
    let list = perOp.get(op.codes[i]!);
    if (!list) perOp.set(op.codes[i]!, (list = []));
    list.push(us);
  }
  const rows: LatencyRow[] = [];
  const medians: Record<string, number> = {};
  let completed = 0;
  for (const [code, list] of [...perOp].sort((x, y) => x[0] - y[0])) {
    const name = code >= 0 ? op.labels[code]! : 'unknown';
    const sorted = Float64Array.from(list).sort();
    completed += sorted.length;
    medians[name] = sorted.length % 2 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    const hist = new Map<number, number>();
    for (const us of sorted) {
      // a latency of 0 µs (same timestamp) counts in the lowest class, [0.1 µs, 0.158 µs)
      const k = us > 0 ? Math.floor(Math.log10(us) * CLASSES_PER_DECADE + 1e-9) : -CLASSES_PER_DECADE;
      hist.set(k, (hist.get(k) ?? 0) + 1);
    }
    for (const [k, n] of [...hist].sort((x, y) => x[0] - y[0])) {
      rows.push({ op: name, lo_us: round4(10 ** (k / CLASSES_PER_DECADE)), hi_us: round4(10 ** ((k + 1) / CLASSES_PER_DECADE)), requests: n });
    }
  }
  return { rows, medians, completed };
}

const round4 = (x: number) => +x.toPrecision(4);

export interface SectorTimeView { points: SectorTimePoint[]; total: number }

/**
 * One point per issued request with a sector (flushes have none): issue time and first sector.
 * Above `maxPoints` requests, every k-th request (in issue order) is kept, k = ceil(n / maxPoints).
 */
export function sectorTimeView(requests: Table, maxPoints = 6000): SectorTimeView {
  const op = stringColumn(requests, 'op');
  const issue = int64Column(requests, 'issue_ns');
  const sector = int64Column(requests, 'sector');
  const bytes = int64Column(requests, 'bytes');
  const t0 = firstIssueNs(requests) ?? 0n;
  // issue times relative to the first issue (exact below 2^53 ns), sorted with a typed comparator
  const rel = new Float64Array(op.codes.length);
  let m = 0;
  const keepAll = new Uint32Array(op.codes.length);
  for (let i = 0; i < op.codes.length; i++) {
    if (!isValid(issue, i) || !isValid(sector, i)) continue;
    rel[i] = Number(issue.values[i]! - t0);
    keepAll[m++] = i;
  }
  const keep = keepAll.subarray(0, m).sort((x, y) => rel[x]! - rel[y]! || x - y);
  const stride = Math.max(1, Math.ceil(keep.length / maxPoints));
  const points: SectorTimePoint[] = [];
  for (let j = 0; j < keep.length; j += stride) {
    const i = keep[j]!;
    points.push({
      op: op.codes[i]! >= 0 ? op.labels[op.codes[i]!]! : 'unknown',
      t_s: rel[i]! / 1e9,
      sector: Number(sector.values[i]!),
      kib: Number(bytes.values[i]!) / 1024,
    });
  }
  return { points, total: keep.length };
}

export interface QueueDepthView { rows: QueueDepthRow[]; slice_s: number; peak: number }

/**
 * Requests in flight between issue (D) and completion (C), per time slice: time-weighted mean and
 * maximum. Requests never completed in the trace count until its end. Slices: `slices` equal parts
 * of the span from the first issue to the last completion.
 */
export function queueDepthView(requests: Table, slices = 400): QueueDepthView {
  const issue = int64Column(requests, 'issue_ns');
  const complete = int64Column(requests, 'complete_ns');
  const n = issue.values.length;
  const t0 = firstIssueNs(requests);
  if (t0 === null) return { rows: [], slice_s: 0, peak: 0 };
  // edges: +1 at each issue, -1 at each completion, as (time - t0) in ns; both lists sorted
  // natively, then walked together with completions first at equal times
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  let ns = 0;
  let ne = 0;
  let end = 0;
  for (let i = 0; i < n; i++) {
    if (!isValid(issue, i)) continue;
    const d = Number(issue.values[i]! - t0);
    starts[ns++] = d;
    if (d > end) end = d;
    if (isValid(complete, i)) {
      const c = Number(complete.values[i]! - t0);
      ends[ne++] = c;
      if (c > end) end = c;
    }
  }
  const s0 = starts.subarray(0, ns).sort();
  const e0 = ends.subarray(0, ne).sort();
  const span = Math.max(end, 1);
  const width = span / slices;
  const area = new Float64Array(slices);
  const max = new Int32Array(slices);
  let depth = 0;
  let last = 0;
  const addArea = (fromNs: number, toNs: number, d: number) => {
    if (d === 0 || toNs <= fromNs) return;
    let s = Math.min(slices - 1, Math.floor(fromNs / width));
    while (fromNs < toNs && s < slices) {
      const sliceEnd = (s + 1) * width;
      const upTo = Math.min(toNs, sliceEnd);
      area[s]! += d * (upTo - fromNs);
      if (d > max[s]!) max[s] = d;
      fromNs = upTo;
      s++;
    }
  };
  let peak = 0;
  for (let a = 0, b = 0; a < ns || b < ne;) {
    const completion = b < ne && (a >= ns || e0[b]! <= s0[a]!);
    const t = completion ? e0[b++]! : s0[a++]!;
    addArea(last, t, depth);
    depth += completion ? -1 : 1;
    if (depth > peak) peak = depth;
    const s = Math.min(slices - 1, Math.floor(t / width));
    if (depth > max[s]!) max[s] = depth;
    last = t;
  }
  const rows: QueueDepthRow[] = [];
  for (let s = 0; s < slices; s++) {
    rows.push({ t_s: round4((s * width) / 1e9), mean_depth: round4(area[s]! / width), max_depth: max[s]! });
  }
  return { rows, slice_s: width / 1e9, peak };
}

export interface RequestsSummary {
  /** Short description for chart subtitles, e.g. "block requests on 7:6". */
  what: string;
  /** One line: requests and bytes by op, devices, time span. */
  text: string;
}

/** What a block_requests table holds, in words (devices, requests and bytes per op, span). */
export function requestsSummary(requests: Table, layer = 'block'): RequestsSummary {
  const dev = stringColumn(requests, 'dev');
  const op = stringColumn(requests, 'op');
  const bytes = int64Column(requests, 'bytes');
  const issue = int64Column(requests, 'issue_ns');
  const complete = int64Column(requests, 'complete_ns');
  const devs = new Set<string>();
  for (let i = 0; i < dev.codes.length; i++) if (dev.codes[i]! >= 0) devs.add(dev.labels[dev.codes[i]!]!);
  const perOp = new Map<string, { n: number; b: bigint }>();
  let first: bigint | null = null;
  let last: bigint | null = null;
  for (let i = 0; i < op.codes.length; i++) {
    const name = op.codes[i]! >= 0 ? op.labels[op.codes[i]!]! : 'unknown';
    const c = perOp.get(name) ?? { n: 0, b: 0n };
    c.n++; c.b += bytes.values[i]!;
    perOp.set(name, c);
    if (isValid(issue, i)) { const t = issue.values[i]!; if (first === null || t < first) first = t; }
    if (isValid(complete, i)) { const t = complete.values[i]!; if (last === null || t > last) last = t; }
  }
  const devText = devs.size === 0 ? '' : devs.size <= 3 ? ` on ${[...devs].sort().join(', ')}` : ` on ${devs.size} devices`;
  const ops = [...perOp].sort((a, b) => b[1].n - a[1].n)
    .map(([name, c]) => `${name} ${c.n.toLocaleString('en-US')} (${sizeLabel(Number(c.b))})`).join(', ');
  const span = first !== null && last !== null && last > first ? `, over ${(Number(last - first) / 1e9).toFixed(3)} s` : '';
  return {
    what: `${layer} requests${devText}`,
    text: `${op.codes.length.toLocaleString('en-US')} ${layer} requests${devText}: ${ops}${span}`,
  };
}
