/**
 * Where the guest file system starts on the traced disk. A trace of a whole disk carries absolute
 * sectors while a file system's own block numbers start at its partition, so the two only meet
 * at the right offset. Evidence, strongest first:
 * - the trace itself: `block_bio_remap` events (include/trace/events/block.h) record each bio
 *   moved from a partition to its disk: `254,0 R 2136 + 8 <- (254,1) 88` says partition 254:1
 *   starts at sector 2048 of disk 254:0;
 * - the partition table of the disk image, when the whole disk is given (src/image/partitions.ts);
 * - a value recorded with the capture (manifest) or given as an option;
 * - the fit: the offset at which the application's reads, placed on the disk by the fs map, are
 *   the sectors the guest read (fsFitScores).
 */
import type { Table } from '@uwdata/flechette';
import type { BlockSource } from '../io/block-source.js';
import { readPartitionTable } from '../image/partitions.js';
import { Act } from '../ingest/block/block-event-batches.js';
import { V_DEV, V_NEW_SECTOR, V_OLD_DEV, V_SECTOR, type EventChunk } from '../ingest/block/block-event-chunk.js';
import { Op } from './layer-link.js';
import type { AppLayer, BlockLayer } from './layers.js';
import type { RangeMap } from './range-map.js';

/** Remap events of a trace grouped by (partition, disk, offset). */
export interface RemapOffset {
  /** Device the bio was submitted to ("MAJ:MIN", the partition). */
  from_dev: string;
  /** Device it was remapped to (the whole disk, the traced device). */
  to_dev: string;
  /** new sector - old sector, in bytes: where the partition starts on the disk. */
  offset_bytes: number;
  events: number;
}

/** Schema metadata key of block_requests tables that carries the trace's remap offsets (JSON). */
export const REMAPS_METADATA = 'iolineage.remaps';

/**
 * The remap events (action A) of a trace grouped by (partition, disk, offset), counted chunk by
 * chunk as the trace is read (BlockEventsBuilder.streamTo), most events first (ties in order of
 * first appearance). A remap event with no sector, new sector, device or old device is left out.
 */
export class RemapTally {
  /** Groups by "old dev key>dev key>offset", in order of first appearance. */
  private readonly groups = new Map<string, { from: number; to: number; offset: number; events: number }>();

  /** Rows [0, n) of a chunk. */
  add(c: EventChunk, n: number): void {
    const valid = (col: number, i: number): boolean => (c.valid[col]![i >> 3]! & (1 << (i & 7))) !== 0;
    const sectorNulls = c.nulls[V_SECTOR]! > 0,
      devNulls = c.nulls[V_DEV]! > 0;
    for (let i = 0; i < n; i++) {
      if (c.action[i] !== Act.A) continue;
      if ((sectorNulls && !valid(V_SECTOR, i)) || (devNulls && !valid(V_DEV, i))) continue;
      // the mostly-null columns: a set bit marks a value
      if (c.newSector === null || c.oldDev === null || !valid(V_NEW_SECTOR, i) || !valid(V_OLD_DEV, i)) continue;
      const from = c.oldDev[i]!,
        to = c.dev[i]!;
      const offset = (Number(c.sector[i]!) - Number(c.newSector[i]!)) * 512;
      const key = `${from}>${to}>${offset}`;
      const g = this.groups.get(key);
      if (g) g.events++;
      else this.groups.set(key, { from, to, offset, events: 1 });
    }
  }

  /** The groups, with device names from the builder's dictionary (BlockEventsBuilder.names().dev). */
  offsets(devNames: readonly string[]): RemapOffset[] {
    return [...this.groups.values()]
      .map((g) => ({ from_dev: devNames[g.from]!, to_dev: devNames[g.to]!, offset_bytes: g.offset, events: g.events }))
      .sort((a, b) => b.events - a.events);
  }
}

/** The remap offsets stored in a block_requests table's metadata (none when absent). */
export function remapsOfTable(t: Table): RemapOffset[] {
  const text = t.schema.metadata?.get(REMAPS_METADATA);
  return text ? (JSON.parse(text) as RemapOffset[]) : [];
}

/**
 * The remap offset into the traced device `dev` that most remap events agree on, with how many
 * remap events disagree (remaps of other partitions, or stacked devices). Null without remaps.
 */
export function remapOffsetInto(
  remaps: readonly RemapOffset[],
  dev: string | null,
): { offset: number; events: number; other: number; from_dev: string } | null {
  const into = remaps.filter((r) => dev === null || r.to_dev === dev);
  if (into.length === 0) return null;
  const best = into.reduce((a, b) => (b.events > a.events ? b : a));
  const other = into.reduce((n, r) => n + (r === best ? 0 : r.events), 0);
  return { offset: best.offset_bytes, events: best.events, other, from_dev: best.from_dev };
}

export interface FsFitScore {
  /** Candidate offset of the fs on the disk, bytes. */
  offset_bytes: number;
  /** Guest read bytes on blocks that some application read of a mapped file covers, at this offset. */
  read_bytes_explained: number;
  /** Guest read bytes considered (read requests of the trace). */
  read_bytes: number;
}

/**
 * How well each candidate offset explains the guest's reads: the share of guest read-request
 * bytes that fall on blocks the application read (its file ranges through the fs map, shifted by
 * candidate - `mapOffset`). At the right offset the reads that reached the disk are the
 * application's own (or readahead next to them); at a wrong one they meet the application's
 * blocks only by chance. Uses no clock.
 * @param mapOffset the offset the file maps were built with
 */
export function fsFitScores(
  app: AppLayer,
  fileMaps: readonly (RangeMap | null)[],
  guest: BlockLayer,
  mapOffset: number,
  candidates: readonly number[],
  blockSize: number,
): FsFitScore[] {
  // blocks (at mapOffset) the application read
  const read = new Set<number>();
  for (let i = 0; i < app.length; i++) {
    if (app.op[i] !== Op.Read) continue;
    const m = fileMaps[app.file[i]!];
    const off = app.offset[i]!,
      len = app.bytes[i]!;
    if (!m || !(len > 0) || Number.isNaN(off)) continue;
    m.translate(off, len, (dst, l) => {
      for (let b = Math.floor(dst / blockSize); b * blockSize < dst + l; b++) read.add(b);
    });
  }
  return candidates.map((c) => {
    const shift = c - mapOffset;
    let total = 0,
      explained = 0;
    for (let L = 0; L < guest.length; L++) {
      if (guest.op[L] !== Op.Read) continue;
      const a = guest.start[L]!,
        e = guest.end[L]!;
      total += e - a;
      for (let b = Math.floor((a - shift) / blockSize); b * blockSize < e - shift; b++) {
        if (!read.has(b)) continue;
        explained += Math.min(e - shift, (b + 1) * blockSize) - Math.max(a - shift, b * blockSize);
      }
    }
    return { offset_bytes: c, read_bytes_explained: explained, read_bytes: total };
  });
}

/** Offsets worth trying when nothing says where the fs is: 0, the DOS-era 63 sectors, and 1 MiB steps up to 32 MiB. */
export function commonFsOffsets(diskBytes: number): number[] {
  const out = [0, 63 * 512];
  for (let k = 1; k <= 32; k++) out.push(k * 1024 * 1024);
  return out.filter((o) => o < diskBytes);
}

export type FsOffsetSource = 'option' | 'partition_option' | 'block_bio_remap' | 'partition_table' | 'manifest' | 'fs_fit' | 'default';

/** What was inferred about the fs offset of one guest and from what; goes to summary.json (fs_offset). */
export interface FsOffsetDecision {
  offset_bytes: number;
  source: FsOffsetSource;
  /** Partition number when the fs was read from a partition of a disk image. */
  partition: number | null;
  manifest_bytes: number | null;
  option_bytes: number | null;
  remap: { offset_bytes: number; from_dev: string; events: number; other_events: number } | null;
  partition_table: { scheme: string; partitions: { number: number; start_bytes: number; size_bytes: number; ext: boolean }[] } | null;
  /** Share of the guest read bytes the fs map explains at the chosen offset and at the best candidate, and the read bytes considered. */
  fit: { at_chosen: number | null; best_offset_bytes: number; best: number; candidates: number; read_bytes: number } | null;
}

/** Share of the guest read bytes a fit score explains (null without guest reads). */
export function fitShare(f: FsFitScore): number | null {
  return f.read_bytes > 0 ? f.read_bytes_explained / f.read_bytes : null;
}

/**
 * The partitions of a whole-disk image that hold an ext2/3/4 file system (superblock magic 0xEF53
 * at byte 1024 + 56, Documentation/filesystems/ext4/super.rst), or null when the source has no
 * partition table.
 */
export function extPartitions(disk: BlockSource): FsOffsetDecision['partition_table'] {
  const t = readPartitionTable(disk);
  if (t.scheme === 'none') return null;
  return {
    scheme: t.scheme,
    partitions: t.partitions
      .filter((p) => !p.extended)
      .map((p) => {
        const at = p.start + 1024 + 56;
        const m = at + 2 <= disk.size ? disk.read(at, 2, 'ext superblock magic') : new Uint8Array(2);
        return { number: p.number, start_bytes: p.start, size_bytes: p.size, ext: m[0] === 0x53 && m[1] === 0xef };
      }),
  };
}

/** The evidence about one guest's fs offset, before the fs map is read. */
export interface FsOffsetEvidence {
  option: number | null;
  partitionOption: number | null;
  manifest: number | null;
  remap: ReturnType<typeof remapOffsetInto>;
  partitionTable: FsOffsetDecision['partition_table'];
}

/**
 * The offset to read the fs map with, strongest evidence first (see the header): an option, the
 * trace's remaps, the disk image's partition table (when exactly one partition holds an ext fs,
 * or one starts where the remaps say), the manifest; else 0 with source `default`, which the fit
 * may replace. Disagreements are returned as warnings.
 */
export function chooseFsOffset(e: FsOffsetEvidence, vm: string): { decision: FsOffsetDecision; warnings: string[] } {
  const warnings: string[] = [];
  const base = {
    partition: null,
    manifest_bytes: e.manifest,
    option_bytes: e.option,
    remap: e.remap
      ? { offset_bytes: e.remap.offset, from_dev: e.remap.from_dev, events: e.remap.events, other_events: e.remap.other }
      : null,
    partition_table: e.partitionTable,
    fit: null,
  };
  const extParts = e.partitionTable?.partitions.filter((p) => p.ext) ?? [];
  const tablePart = e.remap
    ? (extParts.find((p) => p.start_bytes === e.remap!.offset) ?? (extParts.length === 1 ? extParts[0] : undefined))
    : extParts.length === 1
      ? extParts[0]
      : undefined;
  let decision: FsOffsetDecision;
  if (e.partitionOption !== null) decision = { ...base, offset_bytes: NaN, source: 'partition_option', partition: e.partitionOption };
  else if (e.option !== null) decision = { ...base, offset_bytes: e.option, source: 'option' };
  else if (e.remap)
    decision = {
      ...base,
      offset_bytes: e.remap.offset,
      source: 'block_bio_remap',
      partition: tablePart && tablePart.start_bytes === e.remap.offset ? tablePart.number : null,
    };
  else if (tablePart) decision = { ...base, offset_bytes: tablePart.start_bytes, source: 'partition_table', partition: tablePart.number };
  else if (e.manifest !== null) decision = { ...base, offset_bytes: e.manifest, source: 'manifest' };
  else decision = { ...base, offset_bytes: 0, source: 'default' };
  if (e.partitionTable && decision.partition === null && decision.source !== 'option') {
    warnings.push(
      `${vm}: the guest fs source is a partitioned disk (${e.partitionTable.scheme}) and no single partition holds an ext fs${e.remap ? " where the trace's remaps say" : ''}: give --guest-partition N`,
    );
  }
  if (
    e.remap &&
    decision.source !== 'block_bio_remap' &&
    Number.isFinite(decision.offset_bytes) &&
    decision.offset_bytes !== e.remap.offset
  ) {
    warnings.push(
      `${vm}: the trace remaps ${e.remap.events} bios from ${e.remap.from_dev} to sector ${e.remap.offset / 512} of the disk, but the fs offset used is byte ${decision.offset_bytes} (${decision.source})`,
    );
  }
  if (e.manifest !== null && e.remap && e.manifest !== e.remap.offset) {
    warnings.push(
      `${vm}: the manifest says the fs starts at byte ${e.manifest}, the trace's block_bio_remap events say byte ${e.remap.offset}`,
    );
  }
  return { decision, warnings };
}
