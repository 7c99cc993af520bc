/**
 * The whole correlation on loaded, columnar inputs: clock offsets, app → guest links, guest →
 * host links (several VMs on one host), attribution of every lower byte, lineage per
 * application I/O. The `analyze` command loads the inputs and writes the outputs; notebooks can
 * call this directly.
 */
import { attributeHost, attributeOwnedOrRegions, Names, type AttributedPieces, type LayerRegions } from './attribution.js';
import { clusterFills, UnexplainedHostBytes, type ClusterFills, type GuestSpan } from './host-causes.js';
import {
  errorClusterBound,
  MAX_DRIFT_PPM,
  offsetFromMarks,
  toLowerClock,
  type ClockMarkPair,
  type ClockOffset,
  type TimestampError,
} from './clock-alignment.js';
import { offsetFromCandidatePairs, pairTimes, residualDriftFromPairBounds } from './clock-pairs.js';
import { fileSegments, imageSegments } from './upper-segments.js';
import { growFloat64, growInt32 } from '../util/growable.js';
import { releaseArrays } from '../util/release-memory.js';
import { linkLayer, LinkHow, Op, type LinkPieces, type Segments, type UpperTiming } from './layer-link.js';
import type { AppLayer, BlockLayer } from './layers.js';
import { computeLineage, type LineageColumns } from './lineage.js';
import type { RangeMap } from './range-map.js';
import { bytesByHow, hostCacheFigures, type BytesByHow, type HostCacheFigures } from './link-figures.js';

/** What is known about the offset between two clocks (t_lower = t_upper + d). */
export interface ClockHint {
  /** A value given by the user: used as is. */
  userNs?: bigint;
  /** Both sides read the same clock (loop backend: one kernel). */
  sameClock?: boolean;
  /** Marks seen in both traces. */
  marks?: readonly ClockMarkPair[];
  /** A coarse prior (e.g. realtime vs monotonic read back to back) and how far off it may be. */
  priorNs?: bigint;
  priorWindowNs?: number;
}

export interface VmInput {
  vm: string;
  app: AppLayer | null;
  guest: BlockLayer;
  /** Extent map (file offset → guest disk byte) for each entry of app.files; null without a guest fs. */
  fileMaps: readonly (RangeMap | null)[] | null;
  guestRegions: LayerRegions | null;
  appClock: ClockHint;
  /** guest disk byte → host disk byte (image map then host fs map of the image); null without a host layer. */
  guestToHost: RangeMap | null;
  hostClock: ClockHint;
  /** cache=none: the host requests of a guest request run inside it (O_DIRECT on the image). */
  hostDirect: boolean;
  /** qcow2 image: its allocation unit in bytes, the cluster or the extended-L2 sub-cluster (host writes that fill one around a guest write are named); absent for raw or when unknown. */
  imageClusterBytes?: number;
}

export interface HostInput {
  host: BlockLayer;
  regions: LayerRegions | null;
}

export interface AnalysisOptions {
  /** Timestamp resolution of the traces and strace, added to the clock uncertainty in the time rules (default 2 µs per side). */
  resolutionNs?: number;
  /** Link unowned lower reads to the earliest later upper read (readahead). Default true. */
  readahead?: boolean;
  /**
   * Extra tolerance of the time rules, ns (default 20 µs): strace stamps a call at its own
   * ptrace stops, a few µs away from the kernel's, and pairs leave a few µs of clock jitter.
   */
  jitterNs?: number;
  /**
   * Called once the pieces of a join are complete (app → guest of every VM, then guest → host)
   * with what its links table needs; when it returns, the pieces are let go of
   * (VmResult.appGuest, AnalysisResult.guestHost are null in the result). For a caller that writes
   * the links tables as they come, so that they are not held through the rest of the analysis.
   */
  onLinks?: (links: JoinLinks) => void;
}

/** The links of one join as AnalysisOptions.onLinks gets them. */
export type JoinLinks =
  | { name: 'links_app_guest'; vms: readonly VmResult[] }
  | { name: 'links_guest_host'; pieces: LinkPieces; guestOf: (u: number) => [number, number] };

export interface VmResult {
  vm: string;
  appClock: ClockOffset | null;
  hostClock: ClockOffset | null;
  appGuest: LinkPieces | null;
  /** Bytes of each app I/O placed on the guest disk by the fs map (zeros without one). */
  mapped: Float64Array;
  guestPieces: AttributedPieces;
  /** Guest bytes (of reads / writes) that the image map placed on the host disk. */
  guestReadBytesOnHost: number;
  guestWriteBytesOnHost: number;
  /** Guest bytes the image / host fs map could not place on the host disk. */
  guestBytesUnmappedOnHost: number;
  /** First global app index of this VM. */
  appBase: number;
  /** First global guest-request index of this VM in the host join. */
  guestBase: number;
}

/**
 * The correlation's result. `analyze` (analyze-capture.ts) writes its tables one at a time and lets
 * go of each part once the last table reading it is written: the links of each join as they come
 * (AnalysisOptions.onLinks: each VmResult.appGuest and `guestHost` are then null), `lineage` once
 * its table is written (then emptyLineage()). A caller that keeps the result whole (a notebook)
 * sees them all.
 */
export interface AnalysisResult {
  vms: VmResult[];
  names: Names;
  guestHost: LinkPieces | null;
  /** Figures of the links (bytes per rule, the host cache), taken before any pieces are let go of. */
  links: { appGuest: BytesByHow; guestHost: BytesByHow | null; hostCache: HostCacheFigures | null };
  hostPieces: AttributedPieces | null;
  lineage: LineageColumns;
  nApp: number;
  /** Global app index → [vm index, row]. */
  appOf(a: number): [number, number];
  /** Global guest index (host join) → [vm index, row]. */
  guestOf(u: number): [number, number];
}

const DEFAULT_RESOLUTION_NS = 2000;
const DEFAULT_JITTER_NS = 20_000;

function resolveClock(
  hint: ClockHint,
  seg: Segments | null,
  upTimes: { op: Uint8Array; t0: Float64Array; t1: Float64Array; sync: Uint8Array },
  upperBase: bigint,
  lower: BlockLayer,
  syncWrites: boolean,
): ClockOffset {
  const none = { refNs: 0n, driftPpm: 0, support: 0, considered: 0 };
  if (hint.userNs !== undefined) return { ...none, offsetNs: hint.userNs, uncertaintyNs: 0, source: 'user' };
  if (hint.sameClock) return { ...none, offsetNs: 0n, uncertaintyNs: 0, source: 'same_clock' };
  const fromMarks = hint.marks && hint.marks.length > 0 ? offsetFromMarks(hint.marks) : null;
  if (seg) {
    // matched pairs refine the constant part; a drift found by the marks is applied first
    let drifted: ClockOffset = fromMarks ?? { ...none, offsetNs: hint.priorNs ?? 0n, uncertaintyNs: 0, source: 'none' };
    const base = lower.baseNs - upperBase;
    const prior = fromMarks || hint.priorNs !== undefined ? Number(drifted.offsetNs - base) : undefined;
    const window = fromMarks ? Math.max(fromMarks.uncertaintyNs * 4, 1e6) : (hint.priorWindowNs ?? 50e6);
    const pairsUnder = (c: ClockOffset) => {
      const noOffset = { ...c, offsetNs: base };
      const t0 = toLowerClock(upTimes.t0, upperBase, lower.baseNs, noOffset);
      const t1 = toLowerClock(upTimes.t1, upperBase, lower.baseNs, noOffset);
      return offsetFromCandidatePairs(seg, { op: upTimes.op, t0, t1, sync: upTimes.sync }, lower, {
        syncWrites,
        ...(prior !== undefined ? { priorNs: prior, windowNs: window } : {}),
      });
    };
    let r = pairsUnder(drifted);
    if (fromMarks && r) {
      // the marks' drift, refined by the pairs when that lets clearly more of them agree
      const d = residualDriftFromPairBounds(r.pairs.lo, r.pairs.hi, pairTimes(r.pairs.lower, lower));
      const ppm = d ? drifted.driftPpm + d.slope * 1e6 : NaN;
      if (d && Math.abs(ppm) <= MAX_DRIFT_PPM) {
        const refined = { ...drifted, driftPpm: ppm };
        const r2 = pairsUnder(refined);
        if (r2 && r2.support >= r.support + Math.max(10, 0.01 * r.considered)) {
          r = r2;
          drifted = refined;
        }
      }
    }
    if (r && r.support >= 3) {
      const { early, late } = r.residuals;
      const e = errorClusterBound(early, 10 * DEFAULT_RESOLUTION_NS),
        l = errorClusterBound(late, 10 * DEFAULT_RESOLUTION_NS);
      let outside = 0,
        beyond = 0;
      const lateOutside: number[] = [];
      for (let i = 0; i < early.length; i++) {
        if (early[i]! > 0 || late[i]! > 0) {
          outside++;
          if (late[i]! > 0) lateOutside.push(late[i]!);
        }
        if (early[i]! > e.bound || late[i]! > l.bound) beyond++;
      }
      lateOutside.sort((x, y) => x - y);
      const window: TimestampError = {
        matched: early.length,
        outside,
        earlyBoundNs: e.bound,
        lateBoundNs: l.bound,
        beyondBound: beyond,
        lateP99Ns: lateOutside.length ? lateOutside[Math.min(lateOutside.length - 1, Math.floor(0.99 * lateOutside.length))]! : 0,
      };
      // the bounds are µs-resolution timestamps: the estimate is no better than that
      return {
        offsetNs: base + BigInt(Math.round(r.offset)),
        refNs: drifted.refNs,
        driftPpm: drifted.driftPpm,
        uncertaintyNs: Math.max(r.halfWidth, 1000),
        source: 'pairs',
        support: r.support,
        considered: r.considered,
        window,
      };
    }
  }
  if (fromMarks) return fromMarks;
  if (hint.priorNs !== undefined)
    return { ...none, offsetNs: hint.priorNs, uncertaintyNs: hint.priorWindowNs ?? 50e6, source: 'clock_pairs', support: 1, considered: 1 };
  return { ...none, offsetNs: lower.baseNs - upperBase, uncertaintyNs: Infinity, source: 'none' };
}

/** The time rules of both joins: timestamp resolution, extra tolerance (ns) and whether readahead is linked. */
interface TimeRules {
  res: number;
  jitter: number;
  readahead: boolean;
}

export function analyzeLayers(vms: readonly VmInput[], host: HostInput | null, opt: AnalysisOptions = {}): AnalysisResult {
  const rules: TimeRules = {
    res: opt.resolutionNs ?? DEFAULT_RESOLUTION_NS,
    jitter: opt.jitterNs ?? DEFAULT_JITTER_NS,
    readahead: opt.readahead ?? true,
  };
  const names = new Names();
  const vmResults: VmResult[] = [];
  let nApp = 0;
  const appBases: number[] = [];
  for (const v of vms) {
    appBases.push(nApp);
    nApp += v.app?.length ?? 0;
  }

  vms.forEach((v, vi) => {
    vmResults.push(linkAppToGuest(v, vi, appBases[vi]!, rules, names));
  });
  const links: AnalysisResult['links'] = { appGuest: bytesByHow(vmResults.map((r) => r.appGuest)), guestHost: null, hostCache: null };
  if (opt.onLinks) {
    opt.onLinks({ name: 'links_app_guest', vms: vmResults });
    for (const r of vmResults) r.appGuest = null;
  }

  // guest → host, all VMs in one join
  let guestHost: LinkPieces | null = null;
  let hostPieces: AttributedPieces | null = null;
  let guestBases: number[] = [];
  if (host) {
    const joined = linkGuestsToHost(vms, vmResults, host, rules, names);
    ({ guestHost, hostPieces, guestBases } = joined);
    const { guestOf } = joined;
    links.guestHost = bytesByHow([guestHost]);
    links.hostCache = hostCacheFigures(
      guestHost,
      vms.map((v) => v.guest),
      guestBases,
      vms.map((v) => v.guestToHost !== null),
      guestOf,
    );
    if (opt.onLinks) {
      opt.onLinks({ name: 'links_guest_host', pieces: guestHost, guestOf });
      guestHost = null;
    }
  }

  const lineage = computeLineage(
    nApp,
    names,
    vmResults.map((r, vi) => ({ pieces: r.guestPieces, issue: vms[vi]!.guest.issue, complete: vms[vi]!.guest.complete })),
    host && hostPieces ? { pieces: hostPieces, issue: host.host.issue, complete: host.host.complete } : null,
  );

  return {
    vms: vmResults,
    names,
    guestHost,
    links,
    hostPieces,
    lineage,
    nApp,
    appOf(a: number): [number, number] {
      return rowOf(appBases, a);
    },
    guestOf(u: number): [number, number] {
      return rowOf(guestBases, u);
    },
  };
}

/** Global index → [vm index, row], for per-VM blocks starting at `bases`. */
function rowOf(bases: readonly number[], x: number): [number, number] {
  let vi = bases.length - 1;
  while (vi > 0 && bases[vi]! > x) vi--;
  return [vi, x - bases[vi]!];
}

/** One VM: its app clock, the app → guest links and the attribution of its guest bytes (host fields filled later). */
function linkAppToGuest(v: VmInput, vi: number, appBase: number, rules: TimeRules, names: Names): VmResult {
  const { res, jitter, readahead } = rules;
  const g = v.guest;
  let appGuest: LinkPieces | null = null;
  let appClock: ClockOffset | null = null;
  let mapped = new Float64Array(v.app?.length ?? 0);
  const appIdx = new Int32Array(v.app?.length ?? 0);
  for (let i = 0; i < appIdx.length; i++) appIdx[i] = appBase + i;
  if (v.app && v.fileMaps) {
    const fs = fileSegments(v.app, v.fileMaps);
    mapped = fs.mapped;
    const upTimes = { op: v.app.op, t0: v.app.t0, t1: v.app.t1, sync: v.app.direct };
    appClock = resolveClock(v.appClock, fs.seg, upTimes, v.app.baseNs, g, false);
    const t0 = toLowerClock(v.app.t0, v.app.baseNs, g.baseNs, appClock),
      t1 = toLowerClock(v.app.t1, v.app.baseNs, g.baseNs, appClock);
    // the measured timestamp error of strace when pairs give it, else the default jitter
    const base = (Number.isFinite(appClock.uncertaintyNs) ? appClock.uncertaintyNs : 0) + 2 * res;
    const w = appClock.window;
    appGuest = linkLayer(fs.seg, { op: v.app.op, t0, t1, sync: v.app.direct }, g, {
      earlyNs: base + (w ? w.earlyBoundNs : jitter),
      lateNs: base + (w ? w.lateBoundNs : jitter),
      syncWrites: false,
      readahead,
      readaheadNeedsFlag: true,
      // the segments and the shifted times are this function's own (op and sync are the app layer's)
      releaseAfterSort: [fs.seg.start, fs.seg.end, fs.seg.upper, fs.seg.upperAddr, t0, t1],
    });
  } else if (v.app) {
    appClock = null;
  }
  const pieces = appGuest ?? unownedPieces(g);
  const guestPieces = attributeOwnedOrRegions(
    'guest',
    pieces,
    g.op,
    (L) => g.end[L]! - g.start[L]!,
    g.length,
    appIdx,
    v.app?.op ?? new Uint8Array(0),
    vi,
    v.guestRegions,
    names,
  );
  return {
    vm: v.vm,
    appClock,
    hostClock: null,
    appGuest,
    mapped,
    guestPieces,
    guestReadBytesOnHost: 0,
    guestWriteBytesOnHost: 0,
    guestBytesUnmappedOnHost: 0,
    appBase,
    guestBase: 0,
  };
}

/** The guest requests of every VM as one upper layer of the host: segments on the host disk, timing in the host clock. */
interface GuestsOnHost {
  seg: Segments;
  timing: UpperTiming;
  /**
   * The widest time slack any VM's host clock needs, ns, on each side: the clock's uncertainty,
   * the timestamps' resolution and the timestamp error its matched pairs show (a guest request
   * seen issued after its host request started: early; completed before it ended: late).
   */
  earlyNs: number;
  lateNs: number;
  spans: (GuestSpan | null)[];
  fills: (ClusterFills | null)[];
}

/** Guest → host for all VMs in one join, then the attribution of every host byte. Fills the host fields of `vmResults`. */
function linkGuestsToHost(vms: readonly VmInput[], vmResults: VmResult[], host: HostInput, rules: TimeRules, names: Names) {
  const h = host.host;
  const guestBases: number[] = [];
  let nUpper = 0;
  for (const v of vms) {
    guestBases.push(nUpper);
    nUpper += v.guest.length;
  }
  const up = guestsOnHost(vms, vmResults, h, guestBases, nUpper, rules);
  const guestHost = linkLayer(up.seg, up.timing, h, {
    earlyNs: up.earlyNs,
    lateNs: up.lateNs,
    syncWrites: false,
    readahead: rules.readahead,
    writebackOfSyncWrites: true,
    releaseAfterSort: [up.seg.start, up.seg.end, up.seg.upper, up.seg.upperAddr, up.timing.op, up.timing.t0, up.timing.t1, up.timing.sync],
  });
  const guestOf = (u: number): [number, number] => rowOf(guestBases, u);
  const unexplained = new UnexplainedHostBytes(
    { op: h.op, readahead: h.readahead, issue: h.issue, spans: up.spans, fills: up.fills, slackNs: Math.max(up.earlyNs, up.lateNs) },
    names,
  );
  const hostPieces = attributeHost(
    guestHost,
    h.op,
    (L) => h.end[L]! - h.start[L]!,
    h.length,
    vmResults.map((r) => r.guestPieces),
    guestOf,
    host.regions,
    names,
    unexplained,
  );
  return { guestHost, hostPieces, guestBases, guestOf };
}

/** Each VM's guest requests placed on the host disk and in the host clock (resolving the VM's host clock). */
function guestsOnHost(
  vms: readonly VmInput[],
  vmResults: VmResult[],
  h: BlockLayer,
  guestBases: readonly number[],
  nUpper: number,
  rules: TimeRules,
): GuestsOnHost {
  const { res, jitter } = rules;
  const out = { start: growFloat64(), end: growFloat64(), addr: growFloat64(), upper: growInt32() };
  const op = new Uint8Array(nUpper),
    t0 = new Float64Array(nUpper),
    t1 = new Float64Array(nUpper),
    sync = new Uint8Array(nUpper);
  let earlyNs = 2 * res + jitter,
    lateNs = 2 * res + jitter;
  const spans: (GuestSpan | null)[] = vms.map(() => null);
  const fills: (ClusterFills | null)[] = vms.map(() => null);
  vms.forEach((v, vi) => {
    const r = vmResults[vi]!;
    r.guestBase = guestBases[vi]!;
    const g = v.guest;
    if (!v.guestToHost) return;
    const segStart = out.start.length;
    r.guestBytesUnmappedOnHost = imageSegments(g.start, g.end, g.length, v.guestToHost, guestBases[vi]!, out);
    for (let k = segStart; k < out.start.length; k++) {
      const L = out.upper.get(k) - guestBases[vi]!;
      if (g.op[L] === Op.Read) r.guestReadBytesOnHost += out.end.get(k) - out.start.get(k);
      else if (g.op[L] === Op.Write) r.guestWriteBytesOnHost += out.end.get(k) - out.start.get(k);
    }
    const vmSeg: Segments = {
      length: out.start.length - segStart,
      start: out.start.view().slice(segStart),
      end: out.end.view().slice(segStart),
      upper: out.upper
        .view()
        .slice(segStart)
        .map((u) => u - guestBases[vi]!),
      upperAddr: out.addr.view().slice(segStart),
    };
    const gsync = new Uint8Array(g.length).fill(v.hostDirect ? 1 : 0);
    r.hostClock = resolveClock(v.hostClock, vmSeg, { op: g.op, t0: g.issue, t1: g.complete, sync: gsync }, g.baseNs, h, v.hostDirect);
    releaseArrays(vmSeg.start, vmSeg.end, vmSeg.upper, vmSeg.upperAddr, gsync);
    const gi = toLowerClock(g.issue, g.baseNs, h.baseNs, r.hostClock),
      gc = toLowerClock(g.complete, g.baseNs, h.baseNs, r.hostClock);
    for (let i = 0; i < g.length; i++) {
      const u = guestBases[vi]! + i;
      op[u] = g.op[i]!;
      t0[u] = gi[i]!;
      t1[u] = gc[i]!;
      sync[u] = v.hostDirect ? 1 : 0;
    }
    if (Number.isFinite(r.hostClock.uncertaintyNs)) {
      // the timestamp error the pairs measured, where it exceeds the default jitter
      const base = r.hostClock.uncertaintyNs + 2 * res,
        w = r.hostClock.window;
      earlyNs = Math.max(earlyNs, base + Math.max(jitter, w?.earlyBoundNs ?? 0));
      lateNs = Math.max(lateNs, base + Math.max(jitter, w?.lateBoundNs ?? 0));
    }
    spans[vi] = guestSpan(gi, gc);
    if (v.imageClusterBytes) fills[vi] = clusterFills(g.start, g.end, g.op, gi, g.length, v.imageClusterBytes, v.guestToHost);
    releaseArrays(gi, gc);
  });
  const seg: Segments = {
    length: out.start.length,
    start: out.start.take(),
    end: out.end.take(),
    upper: out.upper.take(),
    upperAddr: out.addr.take(),
  };
  return { seg, timing: { op, t0, t1, sync }, earlyNs, lateNs, spans, fills };
}

/** First issue and last completion of a guest's requests (finite ones), or null when there are none. */
function guestSpan(issue: Float64Array, complete: Float64Array): GuestSpan | null {
  let start = Infinity,
    end = -Infinity;
  for (let i = 0; i < issue.length; i++) {
    const a = issue[i]!,
      b = complete[i]!;
    if (a < start) start = a;
    if (a > end) end = a;
    if (b > end) end = b;
  }
  return start <= end ? { start, end } : null;
}

/** Pieces for a layer with nothing above it: each request one unowned piece. */
function unownedPieces(g: BlockLayer): LinkPieces {
  const n = g.length;
  const first = new Int32Array(n),
    count = new Int32Array(n);
  const lower = new Int32Array(n),
    upper = new Int32Array(n).fill(-1),
    how = new Uint8Array(n).fill(LinkHow.None);
  let k = 0;
  const start = new Float64Array(n),
    len = new Float64Array(n),
    addr = new Float64Array(n).fill(NaN);
  for (let L = 0; L < n; L++) {
    first[L] = k;
    const l = g.end[L]! - g.start[L]!;
    if (l > 0) {
      lower[k] = L;
      start[k] = g.start[L]!;
      len[k] = l;
      k++;
      count[L] = 1;
    }
  }
  return {
    length: k,
    lower: lower.subarray(0, k),
    upper: upper.subarray(0, k),
    start: start.subarray(0, k),
    len: len.subarray(0, k),
    how: how.subarray(0, k),
    upperAddr: addr.subarray(0, k),
    first,
    count,
  };
}
