/**
 * btt-style per-device figures from block_requests + block_bios (Block Trace Timeline, the
 * blktrace package's analyser; definitions from its documentation and sources):
 *
 *   Q2Q  time between consecutive Q (bios queued) on a device
 *   Q2G  Q of a bio -> G of the request made for it        (per bio that started a request)
 *   G2I  G -> I (insert into the scheduler)                 (per request with both)
 *   Q2M  Q of a bio -> its M/F merge into a pending request (per merged bio)
 *   I2D  I -> D (issue to the driver)                       (per request with both)
 *   M2D  M -> D of the request the bio was merged into      (per merged bio)
 *   D2C  D -> C of the bio's request                        (per bio, as btt counts it)
 *   Q2C  Q -> C                                             (per bio)
 *   #Q / #D merge ratio, BLK (sectors per completion), and seek distances Q2Q and D2D.
 * Like btt, events of zero bytes (flush requests, flush bios) are left out, a delta that is not
 * positive counts as 1 ns (btt's tdelta), and a device's requests issued before its first Q
 * are not counted.
 *
 * Where this differs from btt: btt pairs events by "the Q whose range contains this sector"
 * and ignores split (X) events. A split bio stays in btt's table forever: its pieces' G events
 * all count as Q2G of the one Q (later G events that land inside the stale range months of
 * sectors later count too, which inflates Q2G), and since no D or C range contains the whole
 * original bio, btt never computes I2D/D2C/Q2C for it. Here a split bio's Q2C runs to the
 * completion of its last piece, its Q2G to the G of its first piece, and each piece request
 * has its own G2I/I2D. On traces without splits the figures equal btt's (tested against btt).
 */
import type { Table } from '@uwdata/flechette';
import { SeekAccumulator, type SeekStats } from './seek-distance.js';
import { minInt64, numberColumn, stringColumn } from '../table/column-arrays.js';

/** min / avg / max / n of one stage, in ns (btt prints seconds). */
export interface StageStats {
  n: number;
  min: number;
  avg: number;
  max: number;
  total: number;
}

export const BTT_STAGES = ['Q2Q', 'Q2G', 'G2I', 'Q2M', 'I2D', 'M2D', 'D2C', 'Q2C'] as const;
export type BttStage = (typeof BTT_STAGES)[number];

export interface BttDeviceMetrics {
  dev: string;
  stages: Record<BttStage, StageStats>;
  /** Q events with data (btt's n_qs). */
  queued: number;
  /** D events with data (btt's n_ds), re-issues after requeues included. */
  issued: number;
  /** #Q / #D as btt prints it: #Q is raised to #D when smaller (split pieces), so never below 1. */
  mergeRatio: number;
  /** #Q / #D without btt's clamp. */
  mergeRatioRaw: number;
  /** Sectors per completion with data: min, average over #D (btt's BLKavg), max, total. */
  blks: { min: number; avg: number; max: number; total: number };
  seeksQ2Q: SeekStats;
  seeksD2D: SeekStats;
}

class StageAccumulator {
  n = 0;
  total = 0;
  min = 0;
  max = 0;
  add(t: number): void {
    if (this.n++ === 0) {
      this.min = this.max = this.total = t;
      return;
    }
    if (t < this.min) this.min = t;
    else if (t > this.max) this.max = t;
    this.total += t;
  }
  result(): StageStats {
    return { n: this.n, min: this.min, max: this.max, total: this.total, avg: this.n ? this.total / this.n : 0 };
  }
}

/** btt's tdelta: to - from, or 1 when not positive. */
function tdelta(from: number, to: number): number {
  return from < to ? to - from : 1;
}

/** The columns btt's figures read, times in ns relative to the earliest queue or issue time. */
function bttColumns(requests: Table, bios: Table) {
  const base =
    minInt64(bios, ['queue_ns']) < minInt64(requests, ['issue_ns']) ? minInt64(bios, ['queue_ns']) : minInt64(requests, ['issue_ns']);
  const bRole = stringColumn(bios, 'role');
  return {
    rDev: stringColumn(requests, 'dev'),
    rKind: stringColumn(requests, 'kind'),
    rSector: numberColumn(requests, 'sector'),
    rNr: numberColumn(requests, 'nr_sectors'),
    rG: numberColumn(requests, 'getrq_ns', base),
    rI: numberColumn(requests, 'insert_ns', base),
    rD: numberColumn(requests, 'issue_ns', base),
    rC: numberColumn(requests, 'complete_ns', base),
    rIssues: numberColumn(requests, 'issues'),
    rIssueOrder: numberColumn(requests, 'issue_order'),
    rMerged: numberColumn(requests, 'merged_into'),
    bDev: stringColumn(bios, 'dev'),
    bSector: numberColumn(bios, 'sector'),
    bNr: numberColumn(bios, 'nr_sectors'),
    bQ: numberColumn(bios, 'queue_ns', base),
    bM: numberColumn(bios, 'merge_ns', base),
    bRole,
    bReq: numberColumn(bios, 'request'),
    bC: numberColumn(bios, 'complete_ns', base),
    roleHead: bRole.labels.indexOf('head'),
    roleMerged: bRole.labels.indexOf('merged'),
    roleSplit: bRole.labels.indexOf('split'),
  };
}
type BttColumns = ReturnType<typeof bttColumns>;

/**
 * btt's per-device figures. `requests` and `bios` are the two tables built together by
 * buildBlockRequestTables (block_requests, block_bios).
 */
export function bttMetrics(requests: Table, bios: Table): BttDeviceMetrics[] {
  const c = bttColumns(requests, bios);
  const devNames = [...new Set([...c.bDev.labels, ...c.rDev.labels])];
  return devNames.map((dev) => {
    const st = Object.fromEntries(BTT_STAGES.map((s) => [s, new StageAccumulator()])) as Record<BttStage, StageAccumulator>;
    const seekQ = new SeekAccumulator();
    const seekD = new SeekAccumulator();
    const { firstQ, queued } = bioStages(c, c.bDev.labels.indexOf(dev), st, seekQ);
    const { issued, blk } = requestStages(c, c.rDev.labels.indexOf(dev), firstQ, st, seekD);
    return deviceMetrics(dev, st, queued, issued, blk, seekQ, seekD);
  });
}

/** One device's bios (code `bd`), in queue order: Q2Q, Q2M, M2D, Q2G, Q2C, D2C and the Q seeks. */
function bioStages(c: BttColumns, bd: number, st: Record<BttStage, StageAccumulator>, seekQ: SeekAccumulator) {
  const { bDev, bNr, bSector, bQ, bM, bRole, bReq, bC, rD, rG, rNr, rC, roleMerged, roleHead, roleSplit } = c;
  let firstQ = Infinity;
  let lastQ = NaN;
  let queued = 0;
  for (let b = 0; b < bQ.length; b++) {
    if (bDev.codes[b] !== bd || !(bNr[b]! > 0) || !(bSector[b]! >= 0)) continue;
    const q = bQ[b]!;
    if (q < firstQ) firstQ = q;
    queued++;
    if (lastQ === lastQ) st.Q2Q.add(tdelta(lastQ, q));
    lastQ = q;
    seekQ.add(bSector[b]!, bNr[b]!);
    const role = bRole.codes[b]!;
    const r = bReq[b]!;
    if (role === roleMerged) {
      const m = bM[b]!;
      if (m === m) {
        st.Q2M.add(tdelta(q, m));
        if (r === r && rD[r]! === rD[r]!) st.M2D.add(tdelta(m, rD[r]!));
      }
    } else if ((role === roleHead || role === roleSplit) && r === r) {
      const g = rG[r]!;
      if (g === g && rNr[r]! > 0) st.Q2G.add(tdelta(q, g));
    }
    const cq = bC[b]!;
    if (cq === cq) {
      st.Q2C.add(tdelta(q, cq));
      if (r === r && rD[r]! === rD[r]!) st.D2C.add(tdelta(rD[r]!, role === roleSplit ? rC[r]! : cq));
    }
  }
  return { firstQ, queued };
}

/** One device's requests (code `rd`) issued from `firstQ` on: G2I, I2D, #D, BLK and the D seeks (in issue order). */
function requestStages(c: BttColumns, rd: number, firstQ: number, st: Record<BttStage, StageAccumulator>, seekD: SeekAccumulator) {
  const { rDev, rKind, rNr, rMerged, rD, rG, rI, rC, rIssues, rIssueOrder, rSector } = c;
  const kindRequest = rKind.labels.indexOf('request');
  const issuedRows: number[] = [];
  let blkMin = 0,
    blkMax = 0,
    blkTotal = 0,
    blkN = 0,
    issued = 0;
  for (let r = 0; r < rD.length; r++) {
    if (rDev.codes[r] !== rd || rKind.codes[r] !== kindRequest || !(rNr[r]! > 0) || rMerged[r]! === rMerged[r]!) continue;
    const d = rD[r]!;
    if (d === d && d >= firstQ) {
      issued += rIssues[r]!;
      issuedRows.push(r);
      const g = rG[r]!,
        i = rI[r]!;
      if (g === g && i === i) st.G2I.add(tdelta(g, i));
      if (i === i) st.I2D.add(tdelta(i, d));
      if (rC[r]! === rC[r]!) {
        const n = rNr[r]!;
        if (blkN++ === 0) {
          blkMin = blkMax = n;
        } else {
          if (n < blkMin) blkMin = n;
          if (n > blkMax) blkMax = n;
        }
        blkTotal += n;
      }
    }
  }
  issuedRows.sort((a, b) => rIssueOrder[a]! - rIssueOrder[b]!);
  for (const r of issuedRows) seekD.add(rSector[r]!, rNr[r]!);
  return { issued, blk: { min: blkMin, max: blkMax, total: blkTotal } };
}

/** One device's figures from its accumulators. */
function deviceMetrics(
  dev: string,
  st: Record<BttStage, StageAccumulator>,
  queued: number,
  issued: number,
  blk: { min: number; max: number; total: number },
  seekQ: SeekAccumulator,
  seekD: SeekAccumulator,
): BttDeviceMetrics {
  const stages = Object.fromEntries(BTT_STAGES.map((s) => [s, st[s].result()])) as Record<BttStage, StageStats>;
  return {
    dev,
    stages,
    queued,
    issued,
    mergeRatio: issued ? Math.max(queued, issued) / issued : 0,
    mergeRatioRaw: issued ? queued / issued : 0,
    blks: { min: blk.min, max: blk.max, total: blk.total, avg: issued ? blk.total / issued : 0 },
    seeksQ2Q: seekQ.result(),
    seeksD2D: seekD.result(),
  };
}
