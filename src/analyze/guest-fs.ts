/**
 * A guest's file system for the correlation: where it starts on the traced disk (fs-offset.ts),
 * its fs map, where the application saw it mounted, the extent map of each application file;
 * and, after the correlation, whether the layers fit at all (the share of guest data bytes
 * linked to application I/O).
 */
import type { FsMap } from '../fs/ext/fs-map.js';
import { openFsSource } from '../fs/open-fs-source.js';
import type { IngestStats } from '../util/ingest-stats.js';
import type { AnalysisResult, VmInput } from '../correlate/analysis.js';
import {
  chooseFsOffset,
  commonFsOffsets,
  extPartitions,
  fitShare,
  fsFitScores,
  remapOffsetInto,
  type RemapOffset,
  type FsOffsetDecision,
} from '../correlate/fs-offset.js';
import type { AppLayer, BlockLayer } from '../correlate/layers.js';
import { loadFsMap } from './load-inputs.js';
import { appFileMaps } from '../correlate/map-inputs.js';
import { inferMountPrefix, type MountPrefixResult } from '../correlate/mount-prefix.js';
import type { RangeMap } from '../correlate/range-map.js';

/** A fit this much better than the offset in use (and explaining at least half the reads) says the offset is wrong. */
const FIT_MIN_SHARE = 0.5;
const FIT_FACTOR = 2;
/** Below this share of guest data bytes linked to application I/O (or of guest read bytes the fs map explains), the layers are said not to fit. */
export const LINKED_SHARE_WARN = 0.5;
/** The read fit says nothing with fewer guest read bytes than this (a workload served by the page cache). */
const FIT_MIN_READ_BYTES = 1 << 20;

export interface GuestFsSpec {
  vm: string;
  fs: string | null;
  dev: string | undefined;
  fsOffset: number | undefined;
  fsOffsetFrom: 'option' | 'manifest';
  fsPartition: number | undefined;
  fsMayBeDisk: boolean;
  mount: string | undefined;
}

/** app paths with read/write I/O, with their I/O counts. */
function appPathCounts(app: AppLayer): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < app.length; i++) {
    if (app.op[i] === 2 || app.file[i]! < 0) continue;
    const p = app.files[app.file[i]!]!;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

interface Mapped {
  fs: FsMap;
  mount: MountPrefixResult | null;
  fileMaps: (RangeMap | null)[] | null;
  inodes: Set<number>;
}

async function mapAt(
  g: GuestFsSpec,
  path: string,
  where: { partition: number } | { diskOffset: number },
  app: AppLayer | null,
  stats: IngestStats,
  notes: string[],
): Promise<Mapped> {
  const fs = await loadFsMap(path, where, stats);
  if (!app) return { fs, mount: null, fileMaps: null, inodes: new Set() };
  const counts = appPathCounts(app);
  const exists = (p: string) => fs.inodeOf(p) !== null;
  let mp: MountPrefixResult;
  if (g.mount !== undefined && [...counts.keys()].some((p) => p === g.mount || p.startsWith(g.mount!.replace(/\/$/, '') + '/'))) {
    mp = { prefix: g.mount.replace(/\/$/, ''), matched: 0, considered: counts.size, source: 'user' };
  } else {
    mp = inferMountPrefix(counts, exists);
    if (g.mount !== undefined)
      notes.push(`${g.vm}: no application path lies under the given mount ${g.mount}; inferred "${mp.prefix}" instead`);
  }
  if (mp.prefix === null) {
    notes.push(`${g.vm}: no application path matches a file of the guest fs: app → guest links are sector-less`);
    return { fs, mount: mp, fileMaps: null, inodes: new Set() };
  }
  const r = appFileMaps(app, fs, mp.prefix);
  mp.matched = r.resolved;
  return { fs, mount: mp, fileMaps: r.maps, inodes: r.inodes };
}

/**
 * Decide the fs offset (fs-offset.ts), read the fs map there, resolve the application's files;
 * score the candidate offsets by how well they explain the guest's reads, take the best one when
 * nothing else said where the fs is, and warn when another offset fits far better than the one used.
 */
export async function loadGuestFs(
  g: GuestFsSpec,
  guestRemaps: RemapOffset[],
  guest: BlockLayer,
  app: AppLayer | null,
  stats: IngestStats,
  log: (s: string) => void,
  warnings: string[],
  notes: string[],
): Promise<Mapped & { decision: FsOffsetDecision }> {
  const path = g.fs!;
  const remap = remapOffsetInto(guestRemaps, g.dev ?? null);
  let partitionTable: FsOffsetDecision['partition_table'] = null;
  if (g.fsMayBeDisk && g.fsPartition === undefined && g.fsOffset === undefined) {
    const src = await openFsSource(path, {});
    try {
      partitionTable = extPartitions(src.source);
    } finally {
      src.source.close();
    }
  }
  const { decision, warnings: w } = chooseFsOffset(
    {
      option: g.fsOffsetFrom === 'option' ? (g.fsOffset ?? null) : null,
      partitionOption: g.fsPartition ?? null,
      manifest: g.fsOffsetFrom === 'manifest' ? (g.fsOffset ?? null) : null,
      remap,
      partitionTable,
    },
    g.vm,
  );
  warnings.push(...w);
  log(`${g.vm}: reading guest file system ${path} (fs offset: ${decision.source})`);
  const where = (d: FsOffsetDecision) => (d.partition !== null ? { partition: d.partition } : { diskOffset: d.offset_bytes });
  let m = await mapAt(g, path, where(decision), app, stats, notes);
  decision.offset_bytes = m.fs.geometry.partitionOffset;
  if (app && m.fileMaps) {
    let diskEnd = 0;
    for (let L = 0; L < guest.length; L++) diskEnd = Math.max(diskEnd, guest.end[L]!);
    const candidates = [
      ...new Set([
        ...commonFsOffsets(diskEnd),
        decision.offset_bytes,
        ...(remap ? [remap.offset] : []),
        ...(decision.manifest_bytes !== null ? [decision.manifest_bytes] : []),
      ]),
    ].sort((a, b) => a - b);
    const scores = fsFitScores(app, m.fileMaps, guest, decision.offset_bytes, candidates, m.fs.geometry.blockSize);
    const chosen = scores.find((f) => f.offset_bytes === decision.offset_bytes)!;
    const best = scores.reduce((a, b) => ((fitShare(b) ?? -1) > (fitShare(a) ?? -1) ? b : a));
    const atChosen = fitShare(chosen),
      bestShare = fitShare(best);
    decision.fit = {
      at_chosen: atChosen,
      best_offset_bytes: best.offset_bytes,
      best: bestShare ?? 0,
      candidates: scores.length,
      read_bytes: chosen.read_bytes,
    };
    const conclusive = chosen.read_bytes >= FIT_MIN_READ_BYTES;
    const clearlyBetter =
      conclusive &&
      bestShare !== null &&
      best.offset_bytes !== decision.offset_bytes &&
      bestShare >= FIT_MIN_SHARE &&
      bestShare >= FIT_FACTOR * (atChosen ?? 0);
    if (clearlyBetter && decision.source === 'default') {
      m = await mapAt(g, path, { diskOffset: best.offset_bytes }, app, stats, notes);
      decision.offset_bytes = best.offset_bytes;
      decision.source = 'fs_fit';
      decision.fit.at_chosen = bestShare;
    } else if (clearlyBetter) {
      warnings.push(
        `${g.vm}: the guest fs map explains ${pct(bestShare)} of the guest's read bytes at byte ${best.offset_bytes} of the disk but only ${pct(atChosen ?? 0)} at byte ${decision.offset_bytes} (${decision.source}), the offset used: the fs offset is probably wrong`,
      );
    }
    const finalShare = decision.fit.at_chosen;
    if (conclusive && finalShare !== null && finalShare < LINKED_SHARE_WARN) {
      warnings.push(
        `${g.vm}: only ${pct(finalShare)} of the guest's ${chosen.read_bytes} read bytes fall on blocks the application read (fs map at byte ${decision.offset_bytes}): the layers do not fit (fs offset, fs metadata of another disk, or another workload)`,
      );
    }
  }
  return { ...m, decision };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * Per VM: guest read/write bytes outside the journal and fs metadata (data), and how many of
 * them are linked to an application I/O. A low share means the layers do not fit (wrong fs
 * offset, wrong clocks, another workload): warned about.
 */
export function layerFit(
  r: AnalysisResult,
  vms: readonly VmInput[],
): { figures: Record<string, { data_bytes: number; linked_bytes: number; linked_share: number | null }>; warnings: string[] } {
  const figures: Record<string, { data_bytes: number; linked_bytes: number; linked_share: number | null }> = {};
  const warnings: string[] = [];
  const metaLike = r.names.list.map((n) => n === 'journal' || n.startsWith('fs_metadata:'));
  r.vms.forEach((v, vi) => {
    if (!vms[vi]!.app || !vms[vi]!.fileMaps) return;
    const p = v.guestPieces,
      op = vms[vi]!.guest.op;
    let data = 0,
      linked = 0;
    for (let k = 0; k < p.length; k++) {
      const o = op[p.lower[k]!]!;
      if ((o !== 0 && o !== 1) || metaLike[p.cause[k]!]) continue;
      data += p.len[k]!;
      if (p.app[k]! >= 0) linked += p.len[k]!;
    }
    const share = data > 0 ? linked / data : null;
    figures[v.vm] = { data_bytes: data, linked_bytes: linked, linked_share: share };
    if (share !== null && share < LINKED_SHARE_WARN) {
      warnings.push(
        `${v.vm}: only ${pct(share)} of the guest's data bytes (${data} bytes outside journal and fs metadata) are linked to an application I/O: the layers do not fit (fs offset, clocks, or another workload on the disk)`,
      );
    }
  });
  return { figures, warnings };
}
