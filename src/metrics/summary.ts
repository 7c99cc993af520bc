/**
 * summary.json of `iolineage analyze` (its type: summary-json.ts): per layer bytes and requests (read/write), amplification,
 * split and merge factors, inferred cache-hit ratios, reordering, attribution sums per cause, and
 * the clock offsets used with their uncertainty. Keys:
 * - layers.{app,guest,host}.{read_bytes, write_bytes, requests, reads, writes} (+ other_bytes for
 *   block layers: discards etc.); app = read/write system calls that moved bytes.
 * - amplification.{guest,host}.{read, write, total}: layer bytes / app bytes of that op;
 *   attributed_read / attributed_write: only the layer bytes attributed to app I/Os of that op.
 * - split_merge.{app_guest, app_host}: split_factor (requests per app I/O that reached the layer),
 *   merge_factor (app I/Os per request carrying app bytes), with counts.
 * - cache.guest / cache.host: read_bytes asked of the layer, miss_bytes sent below synchronously,
 *   hit_ratio, hit_ratio_by_count.
 * - reordering.{guest,host}.{all,read,write}: n, inversions, inversion_ratio, kendall_tau,
 *   mean_displacement, max_displacement, displaced_fraction (app issue order vs first issue at the layer).
 * - attribution.{guest,host}: by_cause bytes, total, layer_total (equal by construction).
 * - links.{app_guest,guest_host}: bytes per link rule (how).
 * - outcomes: app I/Os per lineage outcome.
 * - clocks.<vm>.{app_to_guest, guest_to_host}: offset_ns (string), uncertainty_ns, source
 *   (pairs | marks | clock_pairs | same_clock | user | none), support, considered, drift_ppm, ref_ns.
 * - mount_prefix.<vm>, notes, ingest_problems (added by the analyze command).
 */
import type { AnalysisResult, VmInput } from '../correlate/analysis.js';
import type { ClockOffset } from '../correlate/clock-alignment.js';
import { Op } from '../correlate/layer-link.js';
import type { BytesByHow } from '../correlate/link-figures.js';
import { LINK_HOWS } from '../table/schemas/links-app-guest.js';
import { layerTotals, type BlockLayer } from '../correlate/layers.js';
import { lineageOutcome } from '../correlate/lineage.js';
import { amplification } from './amplification.js';
import { cacheRatios } from './cache.js';
import { reorderingStats } from './reordering.js';
import { splitMerge } from './split-merge.js';
import type { AttributedPieces } from '../correlate/attribution.js';
import type { Summary, SummaryClock, SummaryLayer } from './summary-json.js';

const clockJson = (c: ClockOffset | null): SummaryClock | null =>
  c && {
    offset_ns: c.offsetNs.toString(),
    uncertainty_ns: Number.isFinite(c.uncertaintyNs) ? c.uncertaintyNs : null,
    source: c.source,
    support: c.support,
    considered: c.considered,
    drift_ppm: c.driftPpm,
    ref_ns: c.refNs.toString(),
  };

function causeSums(
  p: readonly AttributedPieces[],
  names: string[],
): { by_cause: Record<string, number>; total: number; app_read_bytes: number; app_write_bytes: number } {
  const by: Record<string, number> = {};
  let total = 0;
  for (const x of p)
    for (let k = 0; k < x.length; k++) {
      const n = names[x.cause[k]!]!;
      by[n] = (by[n] ?? 0) + x.len[k]!;
      total += x.len[k]!;
    }
  // bytes inside the application's own calls (causes app_read and app_write, attribution.ts)
  return { by_cause: by, total, app_read_bytes: by['app_read'] ?? 0, app_write_bytes: by['app_write'] ?? 0 };
}

function attributedByAppOp(p: readonly AttributedPieces[], appOp: Uint8Array): { readBytes: number; writeBytes: number } {
  let readBytes = 0,
    writeBytes = 0;
  for (const x of p)
    for (let k = 0; k < x.length; k++) {
      const a = x.app[k]!;
      if (a < 0) continue;
      if (appOp[a] === Op.Read) readBytes += x.len[k]!;
      else writeBytes += x.len[k]!;
    }
  return { readBytes, writeBytes };
}

export function buildSummary(
  r: AnalysisResult,
  vms: readonly VmInput[],
  host: BlockLayer | null,
  extra: Pick<Summary, 'mount_prefix' | 'notes' | 'ingest_problems'>,
): Summary {
  const { appRead, appWrite, reads, writes, mappedReads, mappedReadBytes, guestHits, issueKey, guestKey, hostKey, appOp, outcomes } =
    appPass(r, vms, host);
  const appFig = { readBytes: appRead, writeBytes: appWrite };
  const layerJson = (t: ReturnType<typeof layerTotals>): SummaryLayer => ({
    read_bytes: t.readBytes,
    write_bytes: t.writeBytes,
    other_bytes: t.otherBytes,
    requests: t.reads + t.writes + t.others,
    reads: t.reads,
    writes: t.writes,
  });
  const guestTotals = vms
    .map((v) => layerTotals(v.guest))
    .reduce((x, y) => ({
      readBytes: x.readBytes + y.readBytes,
      writeBytes: x.writeBytes + y.writeBytes,
      otherBytes: x.otherBytes + y.otherBytes,
      reads: x.reads + y.reads,
      writes: x.writes + y.writes,
      others: x.others + y.others,
    }));
  const hostTotals = host ? layerTotals(host) : null;
  const guestPieces = r.vms.map((v) => v.guestPieces);
  const hostPieces = r.hostPieces ? [r.hostPieces] : [];
  const isOp = (op: number) => (a: number) => appOp[a] === op;
  const all = () => true;
  const reorder = (key: Float64Array) => ({
    all: reorderingStats(issueKey, key),
    read: reorderingStats(issueKey, key, isOp(Op.Read)),
    write: reorderingStats(issueKey, key, isOp(Op.Write)),
  });
  const { guestReadOnHost, hostReadFromGuestReads, guestReadsOnHost, guestReadHostHits } = hostCachePass(r);
  const guestSums = causeSums(guestPieces, r.names.list);
  const hostSums = host ? causeSums(hostPieces, r.names.list) : null;
  let mappedGuestSync = 0;
  for (let a = 0; a < r.nApp; a++) if (isOp(Op.Read)(a)) mappedGuestSync += r.lineage.guestSyncBytes[a]!;
  return {
    layers: {
      app: { read_bytes: appRead, write_bytes: appWrite, requests: reads + writes, reads, writes },
      guest: layerJson(guestTotals),
      ...(hostTotals ? { host: layerJson(hostTotals) } : {}),
    },
    amplification: {
      guest: amplification(guestTotals, attributedByAppOp(guestPieces, appOp), appFig),
      ...(hostTotals ? { host: amplification(hostTotals, attributedByAppOp(hostPieces, appOp), appFig) } : {}),
    },
    split_merge: {
      app_guest: splitMerge(r.lineage.guestRequests, all, {
        length: guestPieces.reduce((s, p) => s + p.length, 0),
        ...concatPieces(guestPieces),
      }),
      ...(host
        ? {
            app_host: splitMerge(r.lineage.hostRequests, all, {
              length: hostPieces.reduce((s, p) => s + p.length, 0),
              ...concatPieces(hostPieces),
            }),
          }
        : {}),
    },
    cache: {
      guest: cacheRatios(mappedReadBytes, mappedGuestSync, mappedReads, guestHits),
      ...(host ? { host: cacheRatios(guestReadOnHost, hostReadFromGuestReads, guestReadsOnHost, guestReadHostHits) } : {}),
    },
    reordering: {
      order: "application issue order (strace start) against the first issue (D) of the I/O's requests at each layer",
      guest: reorder(guestKey),
      ...(host ? { host: reorder(hostKey) } : {}),
    },
    attribution: {
      guest: { ...guestSums, layer_total: guestTotals.readBytes + guestTotals.writeBytes + guestTotals.otherBytes },
      ...(hostSums && hostTotals
        ? { host: { ...hostSums, layer_total: hostTotals.readBytes + hostTotals.writeBytes + hostTotals.otherBytes } }
        : {}),
    },
    links: {
      app_guest: linkBytesByHow(r.links.appGuest),
      ...(r.links.guestHost ? { guest_host: linkBytesByHow(r.links.guestHost) } : {}),
    },
    outcomes,
    clocks: Object.fromEntries(r.vms.map((v) => [v.vm, { app_to_guest: clockJson(v.appClock), guest_to_host: clockJson(v.hostClock) }])),
    ...extra,
  };
}

/** One pass over the application I/Os: bytes and counts per op, outcomes, the op of each (for the passes that filter by it) and the keys of the reordering figures. */
function appPass(r: AnalysisResult, vms: readonly VmInput[], host: BlockLayer | null) {
  let appRead = 0,
    appWrite = 0,
    reads = 0,
    writes = 0,
    mappedReads = 0,
    mappedReadBytes = 0,
    guestHits = 0;
  const issueKey = new Float64Array(r.nApp),
    guestKey = new Float64Array(r.nApp).fill(NaN),
    hostKey = new Float64Array(r.nApp).fill(NaN),
    appOp = new Uint8Array(r.nApp);
  const outcomes: Record<string, number> = {};
  for (let a = 0; a < r.nApp; a++) {
    const [vi, i] = r.appOf(a);
    const v = vms[vi]!,
      app = v.app!;
    const op = app.op[i]!,
      b = app.bytes[i]!;
    appOp[a] = op;
    const mapped = r.vms[vi]!.mapped[i] ?? 0;
    const o = lineageOutcome(r.lineage, a, op, b, v.fileMaps ? mapped : 0, app.direct[i] === 1, host !== null);
    outcomes[o] = (outcomes[o] ?? 0) + 1;
    // one clock for ordering: the app clock shifted into the guest clock is not needed, ranks are per layer
    issueKey[a] = app.t0[i]! + Number(app.baseNs - (vms[0]!.app?.baseNs ?? 0n));
    if (op === Op.Read && b > 0) {
      appRead += b;
      reads++;
      if (mapped > 0) {
        mappedReads++;
        mappedReadBytes += mapped;
        if (r.lineage.guestSyncBytes[a] === 0) guestHits++;
      }
    } else if (op === Op.Write && b > 0) {
      appWrite += b;
      writes++;
    }
    if (r.lineage.guestRequests[a]! > 0) guestKey[a] = r.lineage.guestFirst[a]! + Number(v.guest.baseNs - vms[0]!.guest.baseNs);
    if (r.lineage.hostRequests[a]! > 0) hostKey[a] = r.lineage.hostFirst[a]!;
  }
  return { appRead, appWrite, reads, writes, mappedReads, mappedReadBytes, guestHits, issueKey, guestKey, hostKey, appOp, outcomes };
}

/** The host cache: guest read bytes on the host that did not go to a host read, by bytes and by count. */
function hostCachePass(r: AnalysisResult) {
  let guestReadOnHost = 0;
  for (const v of r.vms) guestReadOnHost += v.guestReadBytesOnHost;
  const c = r.links.hostCache ?? { hostReadFromGuestReads: 0, guestReadsOnHost: 0, guestReadHostHits: 0 };
  return { guestReadOnHost, ...c };
}

/** Bytes per link rule, keys in LINK_HOWS order (not in the order the pieces happen to come). */
function linkBytesByHow(b: BytesByHow): Record<string, number> {
  const out: Record<string, number> = {};
  LINK_HOWS.forEach((h, i) => {
    if (b.seen[i]) out[h] = b.bytes[i]!;
  });
  return out;
}

function concatPieces(p: readonly AttributedPieces[]): { lower: Int32Array; app: Int32Array } {
  if (p.length === 1) return { lower: p[0]!.lower, app: p[0]!.app };
  const n = p.reduce((s, x) => s + x.length, 0);
  const lower = new Int32Array(n),
    app = new Int32Array(n);
  let o = 0,
    lb = 0;
  for (const x of p) {
    for (let k = 0; k < x.length; k++) {
      lower[o + k] = x.lower[k]! + lb;
      app[o + k] = x.app[k]!;
    }
    o += x.length;
    lb += x.first.length;
  }
  return { lower, app };
}
