/**
 * The data behind the cross-layer charts, from the tables of `iolineage analyze`: lineage (one row
 * per application I/O with what it caused below), attribution (every lower-layer byte with its
 * cause), links_* (which upper I/O shares bytes with which lower request), app_io and the
 * guest/host requests. Small aggregated arrays out; no object per row of the input.
 */
import type { Table } from '@uwdata/flechette';
import { reorderingStats } from '../metrics/reordering.js';
import { int64Column, numberColumn, stringColumn, type Int64Values } from './columns.js';

const isValid = (c: Int64Values, i: number) => c.valid === null || c.valid[i] === 1;

/** Cause groups of the seed study's figures (attribution.cause → group). */
export function causeGroup(cause: string): string {
  if (cause === 'app_read' || cause === 'app_write') return 'data';
  if (cause === 'writeback') return 'writeback';
  if (cause === 'readahead') return 'readahead';
  if (cause === 'journal' || cause === 'host_journal') return 'journal';
  if (cause.startsWith('fs_metadata') || cause.startsWith('host_fs_metadata') || cause === 'image_metadata') return 'metadata';
  if (cause === 'unattributed') return 'unattributed';
  return 'other';
}

export interface IoPerOperationRow {
  /** Direction of the I/O at that layer: read | write. */
  direction: string;
  /** app | guest | host. */
  layer: string;
  /** Cause group (data, metadata, journal, readahead, writeback, other, unattributed). */
  cause: string;
  bytes: number;
  /** bytes / number of application operations of that direction. */
  bytes_per_op: number;
}

export interface IoPerOperationView { rows: IoPerOperationRow[]; appOps: { read: number; write: number } }

/**
 * Bytes per application operation at each layer, by cause: application bytes of read (write)
 * calls, and guest/host request bytes of read (write) requests from the attribution table, each
 * divided by the number of application read (write) calls that moved data.
 */
export function ioPerOperationView(appIo: Table, attribution: Table, guestRequests: Table | null, hostRequests: Table | null): IoPerOperationView {
  const op = stringColumn(appIo, 'op');
  const done = int64Column(appIo, 'bytes_done');
  const appOps = { read: 0, write: 0 };
  const appBytes = { read: 0n, write: 0n };
  for (let i = 0; i < op.codes.length; i++) {
    const name = op.codes[i]! >= 0 ? op.labels[op.codes[i]!] : undefined;
    if ((name !== 'read' && name !== 'write') || !isValid(done, i) || done.values[i]! <= 0n) continue;
    appOps[name]++;
    appBytes[name] += done.values[i]!;
  }
  const sums = new Map<string, bigint>();
  const add = (direction: string, layer: string, cause: string, b: bigint) => {
    const k = `${direction}|${layer}|${cause}`;
    sums.set(k, (sums.get(k) ?? 0n) + b);
  };
  add('read', 'app', 'data', appBytes.read);
  add('write', 'app', 'data', appBytes.write);
  const layer = stringColumn(attribution, 'layer');
  const cause = stringColumn(attribution, 'cause');
  const lower = numberColumn(attribution, 'lower_id');
  const bytes = int64Column(attribution, 'bytes');
  const reqOps = { guest: guestRequests ? stringColumn(guestRequests, 'op') : null, host: hostRequests ? stringColumn(hostRequests, 'op') : null };
  const groups = cause.labels.map(causeGroup);
  for (let i = 0; i < layer.codes.length; i++) {
    const l = layer.labels[layer.codes[i]!] as 'guest' | 'host' | undefined;
    if (!l) continue;
    const ops = reqOps[l];
    // lower_id is the row number of the layer's request table (block_requests.id)
    const code = ops ? ops.codes[lower[i]!] : undefined;
    const direction = ops && code !== undefined && code >= 0 ? ops.labels[code]! : 'other';
    if (direction !== 'read' && direction !== 'write') continue;
    add(direction, l, cause.codes[i]! >= 0 ? groups[cause.codes[i]!]! : 'other', bytes.values[i]!);
  }
  const rows: IoPerOperationRow[] = [];
  for (const [k, b] of sums) {
    const [direction, l, c] = k.split('|') as [string, string, string];
    const n = appOps[direction as 'read' | 'write'];
    if (b === 0n) continue;
    rows.push({ direction, layer: l, cause: c, bytes: Number(b), bytes_per_op: n > 0 ? Number(b) / n : 0 });
  }
  return { rows, appOps };
}

export interface ProcessingOrderPoint {
  /** guest | host. */
  layer: string;
  op: string;
  /** Rank of the application I/O in issue order (0 = first issued), among those that reached the layer. */
  issue_rank: number;
  /** Rank in the order the layer processed them (first issue D of the I/O's requests). */
  process_rank: number;
}

export interface ProcessingOrderView { points: ProcessingOrderPoint[]; reached: Record<string, number> }

/**
 * Application I/Os that reached each lower layer, by issue order (strace start) and by processing
 * order at the layer (first issue of their requests: lineage.guest_first_ns / host_first_ns);
 * ties broken by app_id, as the reordering metrics do. Above `maxPoints` per layer, every k-th I/O
 * in issue order is kept.
 */
export function processingOrderView(lineage: Table, maxPoints = 4000): ProcessingOrderView {
  const op = stringColumn(lineage, 'op');
  const start = int64Column(lineage, 'app_start_ns');
  const points: ProcessingOrderPoint[] = [];
  const reached: Record<string, number> = {};
  for (const layer of ['guest', 'host'] as const) {
    const first = int64Column(lineage, `${layer}_first_ns`);
    const idx: number[] = [];
    for (let i = 0; i < op.codes.length; i++) if (isValid(first, i) && isValid(start, i)) idx.push(i);
    const cmp = (v: BigInt64Array) => (a: number, b: number) => (v[a]! < v[b]! ? -1 : v[a]! > v[b]! ? 1 : a - b);
    const byIssue = [...idx].sort(cmp(start.values));
    const issueRank = new Map<number, number>();
    byIssue.forEach((i, r) => issueRank.set(i, r));
    const byProcess = [...idx].sort((a, b) => cmp(first.values)(a, b) || issueRank.get(a)! - issueRank.get(b)!);
    const processRank = new Map<number, number>();
    byProcess.forEach((i, r) => processRank.set(i, r));
    reached[layer] = idx.length;
    const stride = Math.max(1, Math.ceil(idx.length / maxPoints));
    for (let r = 0; r < byIssue.length; r += stride) {
      const i = byIssue[r]!;
      points.push({ layer, op: op.codes[i]! >= 0 ? op.labels[op.codes[i]!]! : 'unknown', issue_rank: r, process_rank: processRank.get(i)! });
    }
  }
  return { points, reached };
}

export interface ReorderingWindowRow {
  layer: string;
  op: string;
  /** Start of the window: seconds since the first application I/O. */
  t_s: number;
  n: number;
  kendall_tau: number;
  mean_displacement: number;
}

/**
 * Reordering over time: application I/Os split into `windows` consecutive groups in issue order;
 * in each, Kendall tau and mean displacement between issue order and processing order at each
 * layer, per op (read, write) and for all I/Os ("all"), computed by the reordering metrics.
 */
export function reorderingOverTime(lineage: Table, windows = 30): ReorderingWindowRow[] {
  const op = stringColumn(lineage, 'op');
  const start = int64Column(lineage, 'app_start_ns');
  const n = op.codes.length;
  let t0: bigint | null = null;
  for (let i = 0; i < n; i++) if (isValid(start, i) && (t0 === null || start.values[i]! < t0)) t0 = start.values[i]!;
  if (t0 === null) return [];
  const issue = new Float64Array(n);
  for (let i = 0; i < n; i++) issue[i] = isValid(start, i) ? Number(start.values[i]! - t0) : NaN;
  const order = Array.from(issue.keys()).filter((i) => !Number.isNaN(issue[i]!)).sort((a, b) => issue[a]! - issue[b]! || a - b);
  const windowOf = new Int32Array(n).fill(-1);
  const size = Math.max(1, Math.ceil(order.length / windows));
  order.forEach((i, r) => { windowOf[i] = Math.floor(r / size); });
  const rows: ReorderingWindowRow[] = [];
  const readCode = op.labels.indexOf('read');
  const writeCode = op.labels.indexOf('write');
  for (const layer of ['guest', 'host'] as const) {
    const first = int64Column(lineage, `${layer}_first_ns`);
    const processKey = new Float64Array(n);
    for (let i = 0; i < n; i++) processKey[i] = isValid(first, i) ? Number(first.values[i]! - t0) : NaN;
    const nWindows = Math.ceil(order.length / size);
    for (let w = 0; w < nWindows; w++) {
      const t_s = issue[order[w * size]!]! / 1e9;
      for (const [name, code] of [['all', -2], ['read', readCode], ['write', writeCode]] as const) {
        if (code === -1) continue;
        const s = reorderingStats(issue, processKey, (i) => windowOf[i] === w && (code === -2 ? op.codes[i] === readCode || op.codes[i] === writeCode : op.codes[i] === code));
        if (s.n < 2) continue;
        rows.push({ layer, op: name, t_s: +t_s.toFixed(6), n: s.n, kendall_tau: s.kendall_tau, mean_displacement: s.mean_displacement });
      }
    }
  }
  return rows;
}

export interface FanoutRow {
  /** Which relation: e.g. "guest requests per app I/O". */
  relation: string;
  /** Count class: "1", "2", ... "8+". */
  count: string;
  /** Numeric value of the class for sorting (8 for "8+"). */
  k: number;
  items: number;
}

const CAP = 8;

function histogram(counts: Int32Array | number[], relation: string, skipZero = true): FanoutRow[] {
  const h = new Float64Array(CAP + 1);
  for (const c of counts) if (!(skipZero && c === 0)) h[Math.min(c, CAP)]! += 1;
  const rows: FanoutRow[] = [];
  for (let k = skipZero ? 1 : 0; k <= CAP; k++) if (h[k]! > 0) rows.push({ relation, count: k === CAP ? `${CAP}+` : String(k), k, items: h[k]! });
  return rows;
}

function countsByLower(links: Table, lowerCount: number): Int32Array {
  const lower = numberColumn(links, 'lower_id');
  const c = new Int32Array(lowerCount);
  // links list one row per (upper, lower) pair
  for (let i = 0; i < lower.length; i++) if (lower[i]! >= 0 && lower[i]! < lowerCount) c[lower[i]!]! += 1;
  return c;
}

/**
 * Splitting and merging between layers, as distributions: how many lower requests each upper I/O
 * became (lineage.guest_requests / host_requests of read and write calls that reached the layer),
 * and how many upper I/Os each lower request carries (links per lower request).
 */
export function fanoutView(lineage: Table, linksAppGuest: Table | null, linksGuestHost: Table | null, guestRequests: number, hostRequests: number): FanoutRow[] {
  const op = stringColumn(lineage, 'op');
  const rows: FanoutRow[] = [];
  for (const layer of ['guest', 'host'] as const) {
    const req = numberColumn(lineage, `${layer}_requests`);
    const counts: number[] = [];
    for (let i = 0; i < req.length; i++) {
      const name = op.codes[i]! >= 0 ? op.labels[op.codes[i]!] : '';
      if (name === 'read' || name === 'write') counts.push(req[i]!);
    }
    rows.push(...histogram(counts, `${layer} requests per app I/O (split)`));
  }
  if (linksAppGuest) rows.push(...histogram(countsByLower(linksAppGuest, guestRequests), 'app I/Os per guest request (merge)'));
  if (linksGuestHost) rows.push(...histogram(countsByLower(linksGuestHost, hostRequests), 'guest requests per host request (merge)'));
  return rows;
}
