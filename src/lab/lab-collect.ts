/**
 * The bundle of a lab run (lab.ts), once the guests are done: each guest image's extents, map and
 * file-system metadata, the host disk's metadata after unmount, the traces, and `manifest.json`.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type CaptureManifest,
  type GuestCapture,
  type HostCapture,
  type LabParams,
  type WorkloadParams,
  MANIFEST_KIND,
  MANIFEST_VERSION,
  writeManifest,
} from '../capture/manifest.js';
import { envFsOffset } from '../capture/assemble.js';
import { envClocks, envGet, envTrace, gzipInto, pairMarks, parseEnv, readText } from './bundle.js';
import { sh } from './exec.js';
import { diskFacts, fileSize, fsBlockSize, PARTITION_START_BYTES, saveE2image } from './host.js';
import { GUEST_TRACE_KB, type GuestRun, type HostDisk, type HostRecording, type LabRun } from './lab-context.js';
import { type TraceResult } from './tracefs.js';

/** One guest into the bundle: image extents and map, fs metadata, traces and logs; its manifest entry. */
function collectGuest({ o, out, notes, backend }: LabRun, disk: HostDisk, g: GuestRun, hostTraceText: string): GuestCapture {
  const { work, hostMnt } = disk;
  const bdir = join(out, g.id);
  mkdirSync(bdir, { recursive: true });
  writeFileSync(join(bdir, 'image.filefrag.txt'), sh('filefrag', ['-v', g.imageRel.slice(1)], { cwd: hostMnt }));
  writeFileSync(
    join(bdir, 'image.map.json'),
    sh('qemu-img', ['map', '--output=json', '-f', o.imageFormat, g.imageRel.slice(1)], { cwd: hostMnt }),
  );
  let rawFs = g.image;
  if (o.imageFormat === 'qcow2') {
    rawFs = join(work, `${g.id}.raw`);
    sh('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'raw', g.image, rawFs]);
  }
  const env = parseEnv(readText(join(g.capDir, 'guest.env')), `${g.id}/guest.env`);
  // where the guest kernel had the file system (its partition's sysfs start), not what the lab meant to make
  const fsOffset = envFsOffset(env, `${g.id}/guest.env`);
  if (fsOffset !== (o.guestPartition === 'none' ? 0 : PARTITION_START_BYTES)) {
    throw new Error(`${g.id}: the guest mounted its file system at byte ${fsOffset} of the disk, not where the lab put it`);
  }
  let partitionTable: string | null = null;
  if (o.guestPartition !== 'none') {
    partitionTable = `${g.id}/disk.sfdisk.txt`;
    writeFileSync(join(out, partitionTable), sh('sfdisk', ['--dump', basename(rawFs)], { cwd: dirname(rawFs) }));
  }
  saveE2image(rawFs, join(bdir, 'fs.e2i.gz'), fsOffset);
  const guestBlock = fsBlockSize(rawFs, fsOffset);
  if (rawFs !== g.image) rmSync(rawFs);
  if (envGet(env, 'exit_status') !== '0') throw new Error(`${g.id}: workload exited ${envGet(env, 'exit_status')}`);
  const guestTraceText = readText(join(g.capDir, 'block.trace'));
  gzipInto(join(g.capDir, 'block.trace'), join(bdir, 'block.trace.gz'));
  gzipInto(join(g.capDir, 'app.strace'), join(bdir, 'app.strace.gz'));
  gzipInto(join(g.capDir, 'workload.log'), join(bdir, 'workload.log.gz'));
  copyFileSync(join(g.capDir, 'guest.env'), join(bdir, 'guest.env'));
  if (g.console) gzipInto(g.console, join(bdir, 'console.log.gz'));
  const trace = envTrace(env, `${g.id}/block.trace.gz`);
  if (trace.lost_events > 0) notes.push(`${g.id}: the guest block trace lost ${trace.lost_events} events (buffer overruns)`);
  return {
    id: g.id,
    kernel: envGet(env, 'kernel'),
    clock_domain: backend === 'loop' ? 'host' : 'guest',
    mem_bytes: backend === 'loop' ? null : Number(envGet(env, 'mem_bytes')),
    disk: {
      dev: envGet(env, 'dev'),
      name: envGet(env, 'disk'),
      logical_block_size: Number(envGet(env, 'logical_block_size')),
      physical_block_size: Number(envGet(env, 'physical_block_size')),
      size_bytes: Number(envGet(env, 'size_bytes')),
      fs_offset_bytes: fsOffset,
      partition_table: partitionTable,
      backing: g.diskBacking,
    },
    fs: {
      type: 'ext3',
      block_size: guestBlock,
      size_bytes: disk.fsBytes,
      mount: g.mount,
      metadata: `${g.id}/fs.e2i.gz`,
      metadata_qcow2: null,
      metadata_after_unmount: true,
    },
    image: {
      path_in_fs: g.imageRel,
      format: o.imageFormat,
      file_bytes: fileSize(g.image),
      virtual_bytes: disk.diskBytes,
      filefrag: `${g.id}/image.filefrag.txt`,
      qemu_img_map: `${g.id}/image.map.json`,
      host_cache: o.hostCache,
    },
    strace: { path: `${g.id}/app.strace.gz`, options: envGet(env, 'strace_options'), clock: 'realtime' },
    block_trace: trace,
    workload_log: { path: `${g.id}/workload.log.gz`, format: 'ffsb-lite-v1', clock: 'monotonic' },
    clocks_start: envClocks(env, 'start'),
    clocks_end: envClocks(env, 'end'),
    clock_marks: pairMarks(guestTraceText, hostTraceText, g.hostMark),
    console_log: g.console ? `${g.id}/console.log.gz` : null,
  };
}

/** Guest images: extents on the host fs, qemu-img map, guest fs metadata. */
export function collectGuests(run: LabRun, disk: HostDisk, guests: GuestRun[], rec: HostRecording): GuestCapture[] {
  const manifestGuests: GuestCapture[] = [];
  const hostTraceText = readText(rec.traceFile);
  for (const g of guests) manifestGuests.push(collectGuest(run, disk, g, hostTraceText));
  return manifestGuests;
}

/** Host metadata after unmount, and its trace; detaches the host disk. */
export function collectHost(
  { out, notes, hostKernel }: LabRun,
  disk: HostDisk,
  rec: HostRecording,
  stopped: { trace: TraceResult; end: { realtime_ns: string; monotonic_ns: string } },
): HostCapture {
  const hostDisk = disk.loop;
  const hostTrace = stopped.trace;
  const hostFsBlock = fsBlockSize(hostDisk.path);
  disk.umountHost();
  mkdirSync(join(out, 'host'), { recursive: true });
  saveE2image(hostDisk.path, join(out, 'host/fs.e2i.gz'));
  gzipInto(rec.traceFile, join(out, 'host/block.trace.gz'));
  const facts = diskFacts(hostDisk.name);
  const hostCap: HostCapture = {
    kernel: hostKernel,
    disk: {
      dev: hostDisk.dev,
      name: hostDisk.name,
      logical_block_size: facts.logical,
      physical_block_size: facts.physical,
      size_bytes: facts.size,
      fs_offset_bytes: 0,
      partition_table: null,
      backing: "loop device (direct I/O) over a file on the machine's own file system: the lab's host disk",
    },
    fs: {
      type: 'ext3',
      block_size: hostFsBlock,
      size_bytes: disk.hostBytes,
      mount: '/',
      metadata: 'host/fs.e2i.gz',
      metadata_qcow2: null,
      metadata_after_unmount: true,
    },
    block_trace: { path: 'host/block.trace.gz', format: 'tracefs-text', ...hostTrace },
    clocks_start: rec.start,
    clocks_end: stopped.end,
  };
  if (hostTrace.lost_events > 0) notes.push(`host: the block trace lost ${hostTrace.lost_events} events (buffer overruns)`);
  hostDisk.detach();
  return hostCap;
}

/** The notes on the backend, the lab's parameters, and `manifest.json`. */
export function writeLabManifest(
  run: LabRun,
  disk: HostDisk,
  guests: GuestRun[],
  manifestGuests: GuestCapture[],
  hostCap: HostCapture,
): CaptureManifest {
  const { o, argvText, cleanup, out, t0, created, notes, backend } = run;
  if (backend !== 'loop') {
    notes.push(
      `guest block trace ring buffer: ${GUEST_TRACE_KB} KiB per vCPU of guest RAM, drained continuously to the second virtio disk`,
    );
    notes.push(
      'clock marks: the guest writes "iolineage-mark N" to its trace_marker, then "@@iolineage-mark N" on its serial console; the host writes "iolineage-mark vmK N" to its trace_marker when it reads that line (host_ns is later than the true simultaneous time by the console latency)',
    );
  }
  if (o.dropCaches && backend === 'loop') notes.push("--drop-caches is ignored by the loop backend (it would drop the whole host's cache)");

  const workload: WorkloadParams = {
    program: 'ffsb-lite',
    command: guests[0]!.workloadCmd,
    files: o.files,
    file_bytes: disk.perFile,
    io_bytes: o.ioSize,
    ops: o.ops,
    read_fraction: o.readFraction,
    direct: o.direct,
    seed: o.seed,
    duration_s: o.duration,
    drop_caches: o.dropCaches && backend !== 'loop',
  };
  const lab: LabParams = {
    backend,
    backend_reason: run.reason,
    vm_mem_bytes: backend === 'loop' ? null : o.vmMem,
    vcpus: backend === 'loop' ? null : o.vcpus,
    data_bytes: disk.perFile * o.files,
    direct: o.direct,
    host_cache: o.hostCache,
    image_format: o.imageFormat,
    guest_partition: o.guestPartition,
    vms: o.vms,
    workload,
    command: argvText,
    qemu_version: backend === 'loop' ? null : run.qemuVersion,
    elapsed_s: Math.round((Date.now() - t0) / 1000),
  };
  const manifest: CaptureManifest = {
    version: MANIFEST_VERSION,
    kind: MANIFEST_KIND,
    created,
    tool: 'iolineage lab 0.1.0',
    lab,
    guests: manifestGuests,
    host: hostCap,
    notes,
  };
  cleanup.check();
  writeManifest(out, manifest);
  return manifest;
}
