/**
 * Load a capture (bundle or files), run the correlation and produce the output tables and the
 * summary. The library entry of `iolineage analyze`.
 */

import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import type { CaptureManifest } from '../capture/manifest.js';
import type { FsMap } from '../fs/ext/fs-map.js';
import type { IngestStats } from '../util/ingest-stats.js';
import { ImageMap } from '../image/image-map-lookup.js';
import { mapImage } from '../image/image-map.js';
import { readInputBytes } from '../io/input-stream.js';
import { UsageError } from '../util/errors.js';
import { buildSummary } from '../metrics/summary.js';
import type { Summary, SummaryCapture, SummaryTimestampError } from '../metrics/summary-json.js';
import { analyzeLayers, type AnalysisResult, type ClockHint, type HostInput, type VmInput } from '../correlate/analysis.js';
import type { ClockOffset } from '../correlate/clock-alignment.js';
import { appLayerFromTable, blockLayerFromTable } from '../correlate/layer-tables.js';
import { loadFsMap } from './load-inputs.js';
import { layerFit, loadGuestFs } from './guest-fs.js';
import { remapsOfTable, type FsOffsetDecision } from '../correlate/fs-offset.js';
import { ParallelLoads } from './parallel-loads.js';
import {
  allocationUnitOfMap,
  guestRegions,
  hostRegions,
  imageRangeMap,
  inodeOfPath,
  qemuImgMapRangeMap,
  fileRangeMap,
  type HostImage,
} from '../correlate/map-inputs.js';
import type { MountPrefixResult } from '../correlate/mount-prefix.js';
import { RangeMap } from '../correlate/range-map.js';
import { emitLinksTable, emitResultTables } from '../correlate/result-tables.js';
import { TableBuilder } from '../table/table-builder.js';
import type { TableSpec } from '../table/table-spec.js';
import { imageMapTable } from '../table/schemas/image-map.js';

export type AnalyzeInputs =
  | {
      kind: 'bundle';
      dir: string;
      manifest: CaptureManifest;
      appClockOffsetNs: bigint | undefined;
      clockOffsetNs: bigint | undefined;
      guestMount: string | undefined;
    }
  | {
      kind: 'files';
      vm: string;
      app: string | undefined;
      appDate: string | undefined;
      guestTrace: string;
      guestDev: string | undefined;
      /** Where the fs starts on the traced disk, bytes; undefined: inferred (see fs-offset.ts). */
      guestFs: string | undefined;
      guestPartitionOffset: number | undefined;
      guestPartition: number | undefined;
      guestMount: string | undefined;
      hostTrace: string | undefined;
      hostDev: string | undefined;
      hostFs: string | undefined;
      images: string[];
      imageFormat: 'raw' | 'qcow2';
      imageFile: string | undefined;
      imageMapJson: string | undefined;
      clockOffsetNs: bigint | undefined;
      appClockOffsetNs: bigint | undefined;
      hostCache: 'writeback' | 'none';
    };

/** One guest's inputs, normalised from a bundle or from options. */
interface GuestSpec {
  vm: string;
  app: string | null;
  appDate: string | undefined;
  trace: string;
  dev: string | undefined;
  fs: string | null;
  fsOffset: number | undefined;
  fsOffsetFrom: 'option' | 'manifest';
  fsPartition: number | undefined;
  mount: string | undefined;
  /** The fs source may be a whole partitioned disk (files given by the user; a bundle's is the fs itself). */
  fsMayBeDisk: boolean;
  image: { path: string; format: 'raw' | 'qcow2'; file: string | null; mapJson: string | null; virtualBytes: number | null } | null;
  appClock: ClockHint;
  hostClock: ClockHint;
  hostDirect: boolean;
}

interface HostSpec {
  trace: string;
  dev: string | undefined;
  fs: string;
  otherImages: string[];
}

/**
 * Prior for strace (-ttt: CLOCK_REALTIME) → a `mono` trace clock: both clocks read back to back at
 * the start and at the end of the capture. The offset is their mean, the window how much they
 * moved apart (NTP slew or steps) plus 10 µs for the reading itself.
 */
function realtimeToMonotonic(
  a: { realtime_ns: string; monotonic_ns: string },
  b: { realtime_ns: string; monotonic_ns: string },
): ClockHint {
  const d0 = BigInt(a.monotonic_ns) - BigInt(a.realtime_ns),
    d1 = BigInt(b.monotonic_ns) - BigInt(b.realtime_ns);
  const diff = Number(d1 - d0);
  return { priorNs: d0 + BigInt(Math.round(diff / 2)), priorWindowNs: Math.abs(diff) / 2 + 10_000 };
}

function specsFromBundle(inp: Extract<AnalyzeInputs, { kind: 'bundle' }>): { guests: GuestSpec[]; host: HostSpec | null } {
  const m = inp.manifest,
    d = (p: string) => join(inp.dir, p);
  const guests = m.guests.map((g): GuestSpec => {
    const appClock: ClockHint =
      inp.appClockOffsetNs !== undefined
        ? { userNs: inp.appClockOffsetNs }
        : // strace -ttt prints CLOCK_REALTIME; the trace clock is `mono`: prior from both clocks read back to back
          realtimeToMonotonic(g.clocks_start, g.clocks_end);
    const marks = g.clock_marks
      .filter((k) => k.guest_ns !== null && k.host_ns !== null)
      .map((k) => ({ upperNs: BigInt(k.guest_ns!), lowerNs: BigInt(k.host_ns!) }));
    const hostClock: ClockHint =
      inp.clockOffsetNs !== undefined
        ? { userNs: inp.clockOffsetNs }
        : g.clock_domain === 'host' && g.block_trace.trace_clock === m.host?.block_trace.trace_clock
          ? { sameClock: true }
          : { marks };
    return {
      vm: g.id,
      app: g.strace ? d(g.strace.path) : null,
      appDate: undefined,
      trace: d(g.block_trace.path),
      dev: g.disk.dev,
      fs: d(g.fs.metadata),
      fsOffset: g.disk.fs_offset_bytes,
      fsOffsetFrom: 'manifest',
      fsPartition: undefined,
      mount: inp.guestMount ?? g.fs.mount,
      fsMayBeDisk: false,
      image:
        g.image && m.host
          ? {
              path: g.image.path_in_fs,
              format: g.image.format,
              file: null,
              mapJson: g.image.qemu_img_map ? d(g.image.qemu_img_map) : null,
              virtualBytes: g.image.virtual_bytes,
            }
          : null,
      appClock,
      hostClock,
      hostDirect: g.image?.host_cache === 'none',
    };
  });
  const host = m.host ? { trace: d(m.host.block_trace.path), dev: m.host.disk.dev, fs: d(m.host.fs.metadata), otherImages: [] } : null;
  return { guests, host };
}

function specsFromFiles(inp: Extract<AnalyzeInputs, { kind: 'files' }>): { guests: GuestSpec[]; host: HostSpec | null } {
  const [first, ...others] = inp.images;
  return {
    guests: [
      {
        vm: inp.vm,
        app: inp.app ?? null,
        appDate: inp.appDate,
        trace: inp.guestTrace,
        dev: inp.guestDev,
        fs: inp.guestFs ?? null,
        fsOffset: inp.guestPartitionOffset,
        fsOffsetFrom: 'option',
        fsPartition: inp.guestPartition,
        mount: inp.guestMount,
        fsMayBeDisk: true,
        image:
          first && inp.hostTrace
            ? { path: first, format: inp.imageFormat, file: inp.imageFile ?? null, mapJson: inp.imageMapJson ?? null, virtualBytes: null }
            : null,
        appClock: inp.appClockOffsetNs !== undefined ? { userNs: inp.appClockOffsetNs } : {},
        hostClock: inp.clockOffsetNs !== undefined ? { userNs: inp.clockOffsetNs } : {},
        hostDirect: inp.hostCache === 'none',
      },
    ],
    host: inp.hostTrace && inp.hostFs ? { trace: inp.hostTrace, dev: inp.hostDev, fs: inp.hostFs, otherImages: others } : null,
  };
}

export interface AnalyzeOutput {
  tables: Record<string, Table>;
  summary: Summary;
  report: string[];
  /** Findings that make the results doubtful (layers that do not fit, conflicting offsets); also in summary.json. */
  warnings: string[];
}

/**
 * `opts.jobs`: how many traces and strace logs are parsed at once in worker threads (see
 * parallel-loads.ts); 1 parses them in this thread, one after another. `opts.scratch`: where a
 * scratch file of a given name goes (OutputFolder.scratchPath); with it a block trace's requests
 * are paged out as they are made and handed over as the bytes of their table (load-inputs.ts),
 * without it they stay in memory. `opts.release`: takes each input table (guest_requests,
 * host_requests, app_io) as soon as the analysis has read what it needs of it, and each table the
 * correlation makes (links_app_guest, lineage, links_guest_host, attribution) as soon as it is
 * built, for the caller to write and let go, so that no phase holds them all; those tables are then
 * not in the output's `tables`. With both `scratch` and `release`, the tables the correlation makes
 * are handed over as spilling TableBuilders (their record batches in scratch files as they fill:
 * tableBuilderWriter writes them, then the caller closes them). Either way each part of the
 * correlation's result is let go of once the last table that needs it is built.
 */
export async function analyzeCapture(
  inp: AnalyzeInputs,
  stats: IngestStats,
  log: (s: string) => void = () => {},
  opts: { jobs?: number; scratch?: (name: string) => string; release?: (name: string, table: Table | TableBuilder) => void } = {},
): Promise<AnalyzeOutput> {
  const loads = new ParallelLoads(opts);
  try {
    return await analyzeWithLoads(inp, stats, log, loads, opts.scratch, opts.release);
  } finally {
    await loads.close();
  }
}

/** What the phases of one analysis add to: output tables, report lines, notes, warnings and per-VM decisions. */
interface Collected {
  tables: Record<string, Table>;
  /** A table the analysis is done with (an input read, an output built): released (analyzeCapture's `release`), else kept in `tables` (a builder finished). */
  done: (name: string, table: Table | TableBuilder) => void;
  /** A builder for output table `name`: spilling to a scratch file when the tables are released and there is a scratch folder. */
  builder: <T extends TableSpec>(spec: T, name: string) => TableBuilder<T>;
  report: string[];
  notes: string[];
  mounts: Record<string, MountPrefixResult>;
  warnings: string[];
  fsOffsets: Record<string, FsOffsetDecision>;
}

type PendingLoad = ReturnType<ParallelLoads['start']>;

async function analyzeWithLoads(
  inp: AnalyzeInputs,
  stats: IngestStats,
  log: (s: string) => void,
  loads: ParallelLoads,
  scratch: ((name: string) => string) | undefined,
  release: ((name: string, table: Table | TableBuilder) => void) | undefined,
): Promise<AnalyzeOutput> {
  const { guests, host } = inp.kind === 'bundle' ? specsFromBundle(inp) : specsFromFiles(inp);
  const acc: Collected = {
    tables: {},
    report: [],
    notes: [],
    mounts: {},
    warnings: [],
    fsOffsets: {},
    done: (name, table) => {
      if (!release) {
        acc.tables[name] = table instanceof TableBuilder ? table.finish() : table;
        return;
      }
      release(name, table);
      // written, and the layers hold copies of what the correlation reads: a loaded table's bytes go now
      if (!(table instanceof TableBuilder)) loads.release(table);
    },
    builder: (spec, name) => {
      const b = new TableBuilder(spec);
      if (release && scratch) b.spillTo(scratch(`${name}-rows`));
      return b;
    },
  };
  const tables = acc.tables;

  // the traces and strace logs are parsed at the same time (worker threads), results taken in order
  const scratchOf = (name: string) => (scratch ? { scratch: { pages: scratch(`${name}-pages`), table: scratch(`${name}-table`) } } : {});
  const blockJob = (path: string, dev: string | undefined, k: number) =>
    loads.start({ kind: 'block_requests', path, dev, ...scratchOf(`trace-${k}`) });
  const hostJob = host ? blockJob(host.trace, host.dev, 0) : null;
  const guestJobs = guests.map((g, k) => ({
    trace: blockJob(g.trace, g.dev, k + 1),
    app: g.app ? loads.start({ kind: 'app_io', paths: [g.app], date: g.appDate, ...scratchOf(`strace-${k + 1}`) }) : null,
  }));

  // host side first: its fs map locates the images
  let hostFs: FsMap | null = null;
  let hostLayer: ReturnType<typeof blockLayerFromTable> | null = null;
  if (host) {
    log(`reading host trace ${host.trace}`);
    hostLayer = await takeBlockLayer(loads, hostJob!, stats, acc, 'host_requests');
    log(`reading host file system ${host.fs}`);
    hostFs = await loadFsMap(host.fs, {}, stats);
    tables['host_fs_map'] = hostFs.toTable();
  }

  const vms: VmInput[] = [];
  const hostImages: HostImage[] = [];
  const imageTables: Table[] = [];
  for (const [vi, g] of guests.entries()) {
    const sfx = guests.length > 1 ? `_${g.vm}` : '';
    const image = { hostFs, hostFsPath: host?.fs ?? null, tables: imageTables, hostImages };
    vms.push(await loadVm(g, vi, sfx, guestJobs[vi]!, image, loads, stats, log, acc));
  }
  if (host && hostFs)
    for (const p of host.otherImages) hostImages.push({ vm: -1, inode: inodeOfPath(hostFs, p, host.fs), guestToHost: null });
  if (imageTables.length === 1) tables['image_map'] = imageTables[0]!;
  else
    imageTables.forEach((t, i) => {
      tables[`image_map_${guests[i]!.vm}`] = t;
    });

  const hostInput: HostInput | null = hostLayer && hostFs ? { host: hostLayer.layer, regions: hostRegions(hostFs, hostImages) } : null;
  log('correlating');
  return correlateAndSummarize(inp, vms, hostInput, stats, acc);
}

/**
 * A block trace's requests as a layer; the table goes to `acc.done`. A function of its own so that
 * no frame of the long analysis holds the table (an async function keeps its locals to its end:
 * at 30M host events the host_requests table, 0.65 GiB, stayed pinned through the correlation).
 */
async function takeBlockLayer(
  loads: ParallelLoads,
  job: PendingLoad,
  stats: IngestStats,
  acc: Collected,
  name: string,
): Promise<ReturnType<typeof blockLayerFromTable>> {
  const t = await loads.take(job, stats);
  const layer = blockLayerFromTable(t);
  acc.done(name, t);
  return layer;
}

/**
 * One VM's inputs: its guest trace and strace log (parsed by `jobs`), its guest fs and its image on
 * the host disk; the image's table and host image go to `image`.
 */
async function loadVm(
  g: GuestSpec,
  vi: number,
  sfx: string,
  jobs: { trace: PendingLoad; app: PendingLoad | null },
  image: { hostFs: FsMap | null; hostFsPath: string | null; tables: Table[]; hostImages: HostImage[] },
  loads: ParallelLoads,
  stats: IngestStats,
  log: (s: string) => void,
  acc: Collected,
): Promise<VmInput> {
  const { tables, report, notes, warnings } = acc;
  log(`${g.vm}: reading guest trace ${g.trace}`);
  const gt = await loads.take(jobs.trace, stats);
  const guest = blockLayerFromTable(gt).layer;
  const guestRemaps = remapsOfTable(gt);
  // the layer holds what the correlation reads of the table: done with it before the next table is read back
  acc.done(`guest_requests${sfx}`, gt);
  let app = null;
  if (g.app) {
    log(`${g.vm}: reading strace log ${g.app}`);
    const at = await loads.take(jobs.app!, stats);
    app = appLayerFromTable(at, g.vm);
    // a realtime prior only fits epoch stamps (-ttt); -tt without --app-date gives time of day
    const timeBase = at.schema.metadata?.get('time_base');
    if (timeBase !== 'epoch' && g.appClock.priorNs !== undefined && !(timeBase === 'time_of_day' && g.appDate)) {
      notes.push(`${g.vm}: the strace log has ${timeBase} timestamps: the clock prior from the bundle is not used`);
      g.appClock = {};
    }
    // the layer holds what the correlation reads of the table
    acc.done(`app_io${sfx}`, at);
  }
  let fileMaps: (RangeMap | null)[] | null = null;
  let regions = null;
  if (g.fs) {
    const loaded = await loadGuestFs(g, guestRemaps, guest, app, stats, log, warnings, notes);
    tables[`guest_fs_map${sfx}`] = loaded.fs.toTable();
    acc.fsOffsets[g.vm] = loaded.decision;
    if (loaded.mount) acc.mounts[g.vm] = loaded.mount;
    if (loaded.mount?.prefix !== null && loaded.mount)
      report.push(
        `${g.vm}: guest fs mounted at "${loaded.mount.prefix || '/'}" in the application's view (${loaded.mount.source}); ${loaded.mount.matched} of ${app!.files.length} application paths found in the fs`,
      );
    const dec = loaded.decision;
    report.push(
      `${g.vm}: guest fs at byte ${dec.offset_bytes} of the traced disk (${dec.source}${dec.partition !== null ? `, partition ${dec.partition}` : ''})`,
    );
    fileMaps = loaded.fileMaps;
    regions = guestRegions(loaded.fs, loaded.inodes, vi);
  } else notes.push(`${g.vm}: no guest fs: sector-level analysis only (no app → guest links)`);

  // guest disk → host disk
  const onHost = g.image && image.hostFs ? await guestImageOnHost(g, image.hostFs, image.hostFsPath!, vi) : null;
  if (onHost) {
    image.tables.push(onHost.table);
    image.hostImages.push(onHost.hostImage);
  }
  const guestToHost = onHost?.hostImage.guestToHost ?? null;
  const imageClusterBytes = onHost?.clusterBytes;
  return {
    vm: g.vm,
    app,
    guest,
    fileMaps,
    guestRegions: regions,
    appClock: g.appClock,
    guestToHost,
    hostClock: g.hostClock,
    hostDirect: g.hostDirect,
    ...(imageClusterBytes ? { imageClusterBytes } : {}),
  };
}

/** Correlate the loaded layers, then the output tables, the summary and the report. */
function correlateAndSummarize(
  inp: AnalyzeInputs,
  vms: VmInput[],
  hostInput: HostInput | null,
  stats: IngestStats,
  acc: Collected,
): AnalyzeOutput {
  const { tables, report, notes, mounts, warnings, fsOffsets } = acc;
  const hostL = hostInput?.host ?? null;
  const sink = { builder: acc.builder, done: acc.done };
  // each join's links table is built (and, released, written) as soon as the join is done, and its pieces let go of
  const r = analyzeLayers(vms, hostInput, { onLinks: (links) => emitLinksTable(links, vms, hostL, sink) });
  // the summary first, then the other output tables one at a time, each handed over as soon as it
  // is built (written and let go of when the caller releases tables): no moment holds them all and
  // the summary's scratch at once (at 30M events per layer the tables were 28% of the peak)
  const summary = buildSummary(r, vms, hostL, {
    mount_prefix: Object.fromEntries(Object.entries(mounts).map(([k, v]) => [k, v])),
    notes,
    ingest_problems: stats.list().map((c) => ({ name: c.name, severity: c.severity, count: c.count, description: c.description })),
  });
  summary.capture = captureParams(inp);
  reportClocks(r, summary, report);
  for (const n of notes) report.push(`note: ${n}`);
  summary.fs_offset = fsOffsets;
  const fit = layerFit(r, vms);
  summary.layer_fit = fit.figures;
  warnings.push(...fit.warnings);
  summary.warnings = warnings;
  emitResultTables(r, vms, hostL, sink);
  return { tables, summary, report, warnings };
}

/** The captured run's parameters, for tools that read only the output (whatif, notebooks). */
function captureParams(inp: AnalyzeInputs): SummaryCapture {
  if (inp.kind === 'bundle') {
    const lab = inp.manifest.lab;
    const g0 = inp.manifest.guests[0];
    return {
      vm_mem_bytes: lab?.vm_mem_bytes ?? g0?.mem_bytes ?? null,
      host_cache: lab?.host_cache ?? g0?.image?.host_cache ?? null,
      direct: lab?.direct ?? null,
      data_bytes: lab?.data_bytes ?? null,
      image_format: lab?.image_format ?? g0?.image?.format ?? null,
      vms: inp.manifest.guests.length,
    };
  }
  return { vm_mem_bytes: null, host_cache: inp.hostCache, direct: null, data_bytes: null, image_format: inp.imageFormat, vms: 1 };
}

/** The clock offsets and strace's timestamp error into the summary and the report. */
function reportClocks(r: AnalysisResult, summary: Summary, report: string[]): void {
  // the timestamp errors that the matched pairs show (clock-alignment.ts TimestampError)
  const errorOf = (w: NonNullable<ClockOffset['window']>): SummaryTimestampError => ({
    matched_requests: w.matched,
    outside_window: w.outside,
    early_bound_ns: w.earlyBoundNs,
    late_bound_ns: w.lateBoundNs,
    beyond_bound: w.beyondBound,
    late_p99_ns: w.lateP99Ns,
  });
  for (const v of r.vms) {
    const w = v.appClock?.window,
      c = summary.clocks[v.vm]?.app_to_guest;
    if (!w || !c) continue;
    c.timestamp_error = errorOf(w);
    report.push(
      `${v.vm}: strace's call windows miss ${w.outside} of the ${w.matched} guest requests matched to a call by their bytes (up to ${w.earlyBoundNs} ns before the start, ${w.lateBoundNs} ns after the end; ${w.beyondBound} farther, left to the other rules): links allow that much`,
    );
  }
  for (const v of r.vms) {
    const w = v.hostClock?.window,
      c = summary.clocks[v.vm]?.guest_to_host;
    if (!w || !c) continue;
    c.timestamp_error = errorOf(w);
    if (w.outside > 0)
      report.push(
        `${v.vm}: guest request windows miss ${w.outside} of the ${w.matched} host requests matched to one by their bytes (up to ${w.earlyBoundNs} ns before the start, ${w.lateBoundNs} ns after the end; ${w.beyondBound} farther): links allow that much`,
      );
  }
  for (const [vm, c] of Object.entries(summary.clocks)) {
    if (c.app_to_guest)
      report.push(
        `${vm}: app → guest clock offset ${c.app_to_guest.offset_ns} ns ± ${c.app_to_guest.uncertainty_ns ?? '?'} ns (${c.app_to_guest.source})`,
      );
    if (c.guest_to_host)
      report.push(
        `${vm}: guest → host clock offset ${c.guest_to_host.offset_ns} ns ± ${c.guest_to_host.uncertainty_ns ?? '?'} ns (${c.guest_to_host.source})`,
      );
  }
}

/**
 * Where a guest's disk lives on the host disk: the image's own map (qcow2 tables, qemu-img map JSON,
 * or the raw identity) followed by the host fs extents of the image file.
 */
async function guestImageOnHost(
  g: GuestSpec,
  hostFs: FsMap,
  hostFsPath: string,
  vi: number,
): Promise<{ table: Table; hostImage: HostImage; clusterBytes: number | undefined }> {
  const img = g.image!;
  const ino = inodeOfPath(hostFs, img.path, hostFsPath);
  const fileMap = fileRangeMap(hostFs, ino);
  let imageMap: RangeMap;
  let table: Table;
  let clusterBytes: number | undefined;
  if (img.file) {
    const mapped = mapImage(img.file);
    table = mapped.table;
    imageMap = imageRangeMap(new ImageMap(table));
    const top = mapped.summary.chain[0];
    // extended L2 entries allocate 32 sub-clusters per cluster (qcow2 spec, "Extended L2 Entries")
    if (top?.clusterSize) clusterBytes = top.extendedL2 ? top.clusterSize / 32 : top.clusterSize;
  } else if (img.mapJson) {
    const text = new TextDecoder().decode(await readInputBytes(img.mapJson));
    imageMap = qemuImgMapRangeMap(text, img.mapJson);
    table = imageMapTableFromRanges(imageMap, img.path);
    if (img.format === 'qcow2') clusterBytes = allocationUnitOfMap(imageMap) || undefined;
  } else if (img.format === 'raw') {
    const size = img.virtualBytes ?? fileMap.src.reduce((m, s, i) => Math.max(m, s + fileMap.len[i]!), 0);
    imageMap = RangeMap.identity(size);
    table = imageMapTableFromRanges(imageMap, img.path);
  } else throw new UsageError(`${g.vm}: a qcow2 image needs the image file or its qemu-img map JSON`);
  const guestToHost = imageMap.then(fileMap, `${g.vm} guest → host`);
  return { table, hostImage: { vm: vi, inode: ino, guestToHost }, clusterBytes };
}

/** An image_map table (all `data`, depth 0) from a linear guest → image map (raw images, qemu-img JSON). */
function imageMapTableFromRanges(m: RangeMap, file: string): Table {
  const b = new TableBuilder(imageMapTable);
  const go = b.int64('guest_offset'),
    len = b.int64('length'),
    st = b.string('state'),
    dep = b.number('depth'),
    f = b.string('file'),
    ho = b.int64('host_offset'),
    hl = b.int64('host_length');
  for (let i = 0; i < m.size; i++) {
    go.pushSafeInteger(m.src[i]!);
    len.pushSafeInteger(m.len[i]!);
    st.push('data');
    dep.push(0);
    f.push(file);
    ho.pushSafeInteger(m.dst[i]!);
    hl.pushSafeInteger(m.len[i]!);
  }
  return b.finish({ source: 'qemu-img map JSON or raw identity; ranges not listed are unallocated or compressed' });
}
