/**
 * The capture bundle: a directory of trace and metadata files plus `manifest.json`, which names
 * every file by its role. Written by `capture/guest-capture.sh` + `capture/host-capture.sh` on real
 * systems and by `iolineage lab`; read by `iolineage analyze CAPTURE_DIR`.
 *
 * Conventions of the JSON document:
 * - Paths of bundle files are relative to the bundle directory and use `/`.
 * - Paths *inside* a captured file system (`image.path_in_fs`, `fs.mount`) are absolute in that file
 *   system.
 * - Nanosecond clock readings are decimal strings (`"1234567890123"`): they pass 2^53 after about
 *   104 days of uptime, so they are not JSON numbers. Parse them with `BigInt`.
 * - Sizes in bytes are JSON numbers (all below 2^53).
 * - Devices are `"MAJ:MIN"` as in `/sys/block/NAME/dev` and as the block tracepoints print them.
 *
 * Example (abridged) of a lab bundle:
 * ```json
 * { "version": 1, "kind": "iolineage-capture", "created": "2026-11-26T15:00:00Z",
 *   "tool": "iolineage lab 0.1.0",
 *   "lab": { "backend": "tcg", "vm_mem_bytes": 134217728, "data_bytes": 201326592, "direct": false, ... },
 *   "host": { "kernel": "6.18.44", "disk": { "dev": "7:3", "name": "loop3", ... },
 *             "fs": { "type": "ext3", "metadata": "host/fs.e2i.gz", ... },
 *             "block_trace": { "path": "host/block.trace.gz", "trace_clock": "mono", ... } },
 *   "guests": [ { "id": "vm0", "disk": { "dev": "254:0", "name": "vda", ... },
 *                 "fs": { "type": "ext3", "metadata": "vm0/fs.e2i.gz", "mount": "/mnt/data", ... },
 *                 "image": { "path_in_fs": "/images/vm0.raw", "format": "raw", "filefrag": "vm0/image.filefrag.txt", ... },
 *                 "strace": { "path": "vm0/app.strace.gz", ... },
 *                 "block_trace": { "path": "vm0/block.trace.gz", ... },
 *                 "workload_log": { "path": "vm0/workload.log.gz", ... },
 *                 "clock_marks": [ { "n": 0, "guest_ns": "5012345678", "host_ns": "912345678901" } ] } ] }
 * ```
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { writeAll, writeFileAtomically } from '../io/output-folder.js';

/** Version of the manifest layout described here. */
export const MANIFEST_VERSION = 1 as const;
/** Value of the `kind` field: tells a capture manifest from any other JSON file. */
export const MANIFEST_KIND = 'iolineage-capture' as const;
/** File name of the manifest inside a bundle directory. */
export const MANIFEST_FILE = 'manifest.json';

/** How the lab ran the guest. `kvm`/`tcg`: a real QEMU guest (hardware-assisted / full emulation);
 * `loop`: no VM, the guest file system sits on a loop device over the image file on the host. */
export const LabBackend = { Kvm: 'kvm', Tcg: 'tcg', Loop: 'loop' } as const;
export type LabBackend_ = (typeof LabBackend)[keyof typeof LabBackend];

/** QEMU's host page-cache mode for the image file (`-drive cache=`). `none` opens it with O_DIRECT. */
export type HostCacheMode = 'writeback' | 'none';
/** Format of the guest's disk image file on the host. */
export type ImageFormat = 'raw' | 'qcow2';

/** Parameters of the FFSB-like workload (`capture/workload/ffsb-lite.c`). */
export interface WorkloadParams {
  /** Program that produced the I/O: `ffsb-lite` (ours) or a free-form command. */
  program: string;
  /** The exact command line run in the guest (under strace); with several VMs, vm0's (VM k
   * runs the same with seed + k). */
  command: string;
  /** Number of files in the file set. */
  files: number;
  /** Size of each file in bytes; files * file_bytes is the data size. */
  file_bytes: number;
  /** Size of each random read or write, bytes. */
  io_bytes: number;
  /** Number of random operations after the file set is created (0 when bounded by duration only). */
  ops: number;
  /** Fraction of random operations that are reads, 0..1. */
  read_fraction: number;
  /** Whether the random phase uses O_DIRECT. */
  direct: boolean;
  /** Seed of the workload's pseudo-random generator (VM k of a lab run uses seed + k). */
  seed: number;
  /** Stop the random phase after this many seconds (0 = no limit). */
  duration_s: number;
  /** Whether the guest dropped its page cache between creating the file set and the random phase. */
  drop_caches: boolean;
}

/** Parameters of a lab run (absent for captures made on real systems). */
export interface LabParams {
  /** What ran the guest. */
  backend: LabBackend_;
  /** Why this backend was used, e.g. "KVM refused the guest (failed to set MSR 0x10a); fell back to TCG". */
  backend_reason: string;
  /** Memory of each VM in bytes (null for the loop backend, which has no VM). */
  vm_mem_bytes: number | null;
  /** Virtual CPUs per VM (null for the loop backend). */
  vcpus: number | null;
  /** Total size of the workload's file set per VM, bytes. */
  data_bytes: number;
  /** O_DIRECT in the workload's random phase. */
  direct: boolean;
  /** QEMU cache mode of the image file (for the loop backend: `none` means the guest loop device uses direct I/O). */
  host_cache: HostCacheMode;
  /** Format of the guest image files. */
  image_format: ImageFormat;
  /** Partition table of each guest disk: `none` (the file system is the whole disk), or `mbr` /
   * `gpt` with one partition from sector 2048 holding it. Absent in older manifests: read as `none`. */
  guest_partition: 'none' | 'mbr' | 'gpt';
  /** Number of VMs run at once; each has an entry in `guests`. */
  vms: number;
  /** The workload each VM ran. */
  workload: WorkloadParams;
  /** The `iolineage lab` command line that made the bundle. */
  command: string;
  /** `qemu-system-x86_64 --version` first line (null for the loop backend). */
  qemu_version: string | null;
  /** Wall-clock seconds the whole run took on the host. */
  elapsed_s: number;
}

/** A block device as the kernel that traced it sees it. */
export interface DiskInfo {
  /** `MAJ:MIN` of the traced device (the whole disk). Block events are filtered on it. */
  dev: string;
  /** Kernel name, e.g. `vda`, `loop3`, `nvme0n1`. */
  name: string;
  /** `queue/logical_block_size`, bytes. Trace sectors are always 512-byte units regardless. */
  logical_block_size: number;
  /** `queue/physical_block_size`, bytes. */
  physical_block_size: number;
  /** Size of the device, bytes. */
  size_bytes: number;
  /** Byte offset on the disk where the file system starts (0 when it is on the whole disk). */
  fs_offset_bytes: number;
  /** Bundle path of the disk's partition table as `sfdisk --dump` prints it, or null (no partition
   * table, or not saved). Absent in older manifests: read as null. */
  partition_table: string | null;
  /** Free text on what backs the device (e.g. "loop over a file on the root file system", "virtio-blk"). */
  backing: string;
}

/** An ext2/3/4 file system of the capture and its saved metadata. */
export interface FsInfo {
  /** `ext2`, `ext3` or `ext4`, as created or as `blkid` reports it. */
  type: 'ext2' | 'ext3' | 'ext4';
  /** File-system block size, bytes. */
  block_size: number;
  /** Size of the file system, bytes. */
  size_bytes: number;
  /** Where it was mounted while the workload ran. */
  mount: string;
  /** Bundle path of `e2image -r` output compressed with gzip: a raw image the size of the file
   * system in which only metadata blocks (superblocks, group descriptors, bitmaps, inode tables,
   * directories, extent/indirect blocks, journal) hold data; everything else reads as zeros. */
  metadata: string;
  /** Bundle path of the same metadata as `e2image -Q` (a QCOW2 file holding only metadata), or null. */
  metadata_qcow2: string | null;
  /** Whether metadata was saved after the workload ended and the file system was unmounted
   * (true) or while mounted (false: recent changes may be missing). */
  metadata_after_unmount: boolean;
}

/** A tracefs text trace of block tracepoints (the `trace` file's format, possibly gzip-compressed). */
export interface BlockTraceInfo {
  /** Bundle path. */
  path: string;
  /** Always `tracefs-text` for now: lines `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS`. */
  format: 'tracefs-text';
  /** The instance's `trace_clock` (e.g. `mono` = CLOCK_MONOTONIC in seconds.microseconds). */
  trace_clock: string;
  /** Events enabled, e.g. `block/block_rq_issue`. */
  events: string[];
  /** Event filter applied (e.g. `dev == 265289728`), or "" when none. */
  filter: string;
  /** Per-CPU ring-buffer size, KiB. */
  buffer_size_kb: number;
  /** Events lost to buffer overruns (sum over CPUs of `per_cpu/cpuN/stats` overrun plus
   * `[LOST N EVENTS]` lines). Nonzero means the trace has gaps. */
  lost_events: number;
  /** Lines written (events + markers). */
  lines: number;
}

/** A strace log of the workload. */
export interface StraceInfo {
  /** Bundle path. */
  path: string;
  /** Options strace ran with, e.g. `-f -ttt -T -y`. */
  options: string;
  /** Clock of strace's timestamps: `-ttt` prints CLOCK_REALTIME seconds.microseconds. */
  clock: 'realtime';
}

/** The workload's own log of every I/O it did: the ground truth. */
export interface WorkloadLogInfo {
  /** Bundle path. */
  path: string;
  /** `ffsb-lite-v1`: `#` comment lines, then tab-separated columns
   * `seq phase op file offset size ret start_ns end_ns` (times on CLOCK_MONOTONIC). */
  format: 'ffsb-lite-v1';
  /** Clock of `start_ns`/`end_ns`. */
  clock: 'monotonic';
}

/** Both clocks of one side read back to back, so realtime (strace) and monotonic (traces) can be related. */
export interface ClockPair {
  /** CLOCK_REALTIME, ns since the epoch, decimal string. */
  realtime_ns: string;
  /** CLOCK_MONOTONIC, ns, decimal string. */
  monotonic_ns: string;
}

/** One alignment mark `iolineage-mark N` written into both the guest's and the host's trace_marker. */
export interface ClockMark {
  /** Mark number N. */
  n: number;
  /** Timestamp of the mark in the guest block trace (its trace_clock), ns, decimal string; null if not found. */
  guest_ns: string | null;
  /** Timestamp of the mark in the host block trace (its trace_clock), ns, decimal string; null if not found. */
  host_ns: string | null;
}

/** The guest's image file on the host. */
export interface ImageInfo {
  /** Path of the image inside the host file system (absolute from its root). */
  path_in_fs: string;
  /** Image format. */
  format: ImageFormat;
  /** Size of the image file, bytes (qcow2: the file, not the virtual disk). */
  file_bytes: number;
  /** Virtual disk size, bytes. */
  virtual_bytes: number;
  /** Bundle path of `filefrag -v` output for the image file (host fs extents). */
  filefrag: string;
  /** Bundle path of `qemu-img map --output=json` for the image (guest offset → file offset), or null. */
  qemu_img_map: string | null;
  /** QEMU `-drive cache=` mode. */
  host_cache: HostCacheMode;
}

/** One guest (one VM, or the loop-device stand-in of the loop backend). */
export interface GuestCapture {
  /** Identifier, also the bundle sub-directory: `vm0`, `vm1`... */
  id: string;
  /** `uname -r` of the kernel that ran the guest file system. */
  kernel: string;
  /** `guest` when the guest has its own kernel and clocks; `host` for the loop backend
   * (guest and host layers share one kernel and one clock). */
  clock_domain: 'guest' | 'host';
  /** Guest memory, bytes (`MemTotal`); null for the loop backend. */
  mem_bytes: number | null;
  /** The traced guest disk. */
  disk: DiskInfo;
  /** The guest file system the workload used. */
  fs: FsInfo;
  /** The image file backing the guest disk, on the host; null for captures without a host side. */
  image: ImageInfo | null;
  /** strace of the workload; null if not recorded. */
  strace: StraceInfo | null;
  /** Block tracepoints of the guest disk. */
  block_trace: BlockTraceInfo;
  /** The workload's own log; null when the workload was not ffsb-lite. */
  workload_log: WorkloadLogInfo | null;
  /** Clocks read at the start of the capture. */
  clocks_start: ClockPair;
  /** Clocks read at the end of the capture. */
  clocks_end: ClockPair;
  /** Alignment marks guest ↔ host. Empty when there is no host side. */
  clock_marks: ClockMark[];
  /** Bundle path of the guest's console/serial log, or null. */
  console_log: string | null;
}

/** The host side: the physical (or lab loop) disk under the image files. */
export interface HostCapture {
  /** `uname -r` of the host. */
  kernel: string;
  /** The traced host disk. */
  disk: DiskInfo;
  /** The host file system that holds the image files. */
  fs: FsInfo;
  /** Block tracepoints of the host disk. */
  block_trace: BlockTraceInfo;
  /** Host clocks at the start and end. */
  clocks_start: ClockPair;
  clocks_end: ClockPair;
}

/** The whole manifest. */
export interface CaptureManifest {
  version: typeof MANIFEST_VERSION;
  kind: typeof MANIFEST_KIND;
  /** When the capture started, ISO 8601 UTC. */
  created: string;
  /** Producer and version, e.g. `iolineage lab 0.1.0` or `capture/host-capture.sh`. */
  tool: string;
  /** Lab parameters; null for captures made with the scripts on real systems. */
  lab: LabParams | null;
  /** The guests, at least one. */
  guests: GuestCapture[];
  /** The host side; null when only a guest was captured. */
  host: HostCapture | null;
  /** Free-form remarks (fallbacks taken, anomalies seen). */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Validation. One small checker per JSON type, each naming the field path in its message.

type Json = unknown;

class Checker {
  constructor(readonly file: string, readonly dir: string | null) {}

  fail(path: string, message: string): never {
    throw new InputError(this.file, message, { what: path });
  }
  obj(v: Json, path: string): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${kind(v)}`);
    return v as Record<string, Json>;
  }
  field(o: Record<string, Json>, key: string, path: string): Json {
    if (!(key in o)) this.fail(`${path}.${key}`, 'missing field');
    return o[key];
  }
  str(o: Record<string, Json>, key: string, path: string): string {
    const v = this.field(o, key, path);
    if (typeof v !== 'string') this.fail(`${path}.${key}`, `expected a string, got ${kind(v)}`);
    return v;
  }
  strOrNull(o: Record<string, Json>, key: string, path: string): string | null {
    return o[key] === null ? null : this.str(o, key, path);
  }
  num(o: Record<string, Json>, key: string, path: string, min = 0): number {
    const v = this.field(o, key, path);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`${path}.${key}`, `expected a number, got ${kind(v)}`);
    if (v < min) this.fail(`${path}.${key}`, `expected a number >= ${min}, got ${v}`);
    return v;
  }
  numOrNull(o: Record<string, Json>, key: string, path: string): number | null {
    return o[key] === null ? null : this.num(o, key, path);
  }
  bool(o: Record<string, Json>, key: string, path: string): boolean {
    const v = this.field(o, key, path);
    if (typeof v !== 'boolean') this.fail(`${path}.${key}`, `expected true or false, got ${kind(v)}`);
    return v;
  }
  oneOf<T extends string>(o: Record<string, Json>, key: string, path: string, allowed: readonly T[]): T {
    const v = this.str(o, key, path);
    if (!(allowed as readonly string[]).includes(v)) {
      this.fail(`${path}.${key}`, `expected one of ${allowed.join(', ')}, got "${v}"`);
    }
    return v as T;
  }
  arr(o: Record<string, Json>, key: string, path: string): Json[] {
    const v = this.field(o, key, path);
    if (!Array.isArray(v)) this.fail(`${path}.${key}`, `expected an array, got ${kind(v)}`);
    return v;
  }
  dev(o: Record<string, Json>, key: string, path: string): string {
    const v = this.str(o, key, path);
    if (!/^\d+:\d+$/.test(v)) this.fail(`${path}.${key}`, `expected "MAJ:MIN", got "${v}"`);
    return v;
  }
  ns(o: Record<string, Json>, key: string, path: string): string {
    const v = this.str(o, key, path);
    if (!/^\d+$/.test(v)) this.fail(`${path}.${key}`, `expected nanoseconds as a decimal string, got "${v}"`);
    return v;
  }
  nsOrNull(o: Record<string, Json>, key: string, path: string): string | null {
    return o[key] === null ? null : this.ns(o, key, path);
  }
  /** A bundle path: relative, no `..`, and (when a directory is known) an existing non-empty file. */
  file_(o: Record<string, Json>, key: string, path: string): string {
    const v = this.str(o, key, path);
    if (v === '' || v.startsWith('/') || v.split('/').includes('..')) {
      this.fail(`${path}.${key}`, `expected a path relative to the bundle directory, got "${v}"`);
    }
    if (this.dir !== null) {
      const full = join(this.dir, v);
      if (!existsSync(full)) this.fail(`${path}.${key}`, `file "${v}" named by the manifest does not exist in the bundle`);
      if (statSync(full).size === 0) this.fail(`${path}.${key}`, `file "${v}" named by the manifest is empty`);
    }
    return v;
  }
  fileOrNull(o: Record<string, Json>, key: string, path: string): string | null {
    return o[key] === null ? null : this.file_(o, key, path);
  }
}

function kind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'nothing';
  return typeof v === 'string' ? `the string "${v}"` : `a ${typeof v}`;
}

function checkDisk(c: Checker, v: Json, p: string): DiskInfo {
  const o = c.obj(v, p);
  return {
    dev: c.dev(o, 'dev', p),
    name: c.str(o, 'name', p),
    logical_block_size: c.num(o, 'logical_block_size', p, 512),
    physical_block_size: c.num(o, 'physical_block_size', p, 512),
    size_bytes: c.num(o, 'size_bytes', p),
    fs_offset_bytes: c.num(o, 'fs_offset_bytes', p),
    partition_table: o['partition_table'] === undefined ? null : c.fileOrNull(o, 'partition_table', p),
    backing: c.str(o, 'backing', p),
  };
}

function checkFs(c: Checker, v: Json, p: string): FsInfo {
  const o = c.obj(v, p);
  const block_size = c.num(o, 'block_size', p, 1024);
  if ((block_size & (block_size - 1)) !== 0) c.fail(`${p}.block_size`, `expected a power of two, got ${block_size}`);
  return {
    type: c.oneOf(o, 'type', p, ['ext2', 'ext3', 'ext4'] as const),
    block_size,
    size_bytes: c.num(o, 'size_bytes', p),
    mount: c.str(o, 'mount', p),
    metadata: c.file_(o, 'metadata', p),
    metadata_qcow2: c.fileOrNull(o, 'metadata_qcow2', p),
    metadata_after_unmount: c.bool(o, 'metadata_after_unmount', p),
  };
}

function checkTrace(c: Checker, v: Json, p: string): BlockTraceInfo {
  const o = c.obj(v, p);
  const events = c.arr(o, 'events', p).map((e, i) => {
    if (typeof e !== 'string') c.fail(`${p}.events[${i}]`, `expected a string, got ${kind(e)}`);
    return e;
  });
  return {
    path: c.file_(o, 'path', p),
    format: c.oneOf(o, 'format', p, ['tracefs-text'] as const),
    trace_clock: c.str(o, 'trace_clock', p),
    events,
    filter: c.str(o, 'filter', p),
    buffer_size_kb: c.num(o, 'buffer_size_kb', p),
    lost_events: c.num(o, 'lost_events', p),
    lines: c.num(o, 'lines', p),
  };
}

function checkClockPair(c: Checker, v: Json, p: string): ClockPair {
  const o = c.obj(v, p);
  return { realtime_ns: c.ns(o, 'realtime_ns', p), monotonic_ns: c.ns(o, 'monotonic_ns', p) };
}

function checkImage(c: Checker, v: Json, p: string): ImageInfo {
  const o = c.obj(v, p);
  return {
    path_in_fs: c.str(o, 'path_in_fs', p),
    format: c.oneOf(o, 'format', p, ['raw', 'qcow2'] as const),
    file_bytes: c.num(o, 'file_bytes', p),
    virtual_bytes: c.num(o, 'virtual_bytes', p),
    filefrag: c.file_(o, 'filefrag', p),
    qemu_img_map: c.fileOrNull(o, 'qemu_img_map', p),
    host_cache: c.oneOf(o, 'host_cache', p, ['writeback', 'none'] as const),
  };
}

function checkGuest(c: Checker, v: Json, p: string): GuestCapture {
  const o = c.obj(v, p);
  const id = c.str(o, 'id', p);
  if (!/^[A-Za-z0-9_-]+$/.test(id)) c.fail(`${p}.id`, `expected letters, digits, _ or -, got "${id}"`);
  const st = o['strace'] === null ? null : c.obj(c.field(o, 'strace', p), `${p}.strace`);
  const wl = o['workload_log'] === null ? null : c.obj(c.field(o, 'workload_log', p), `${p}.workload_log`);
  return {
    id,
    kernel: c.str(o, 'kernel', p),
    clock_domain: c.oneOf(o, 'clock_domain', p, ['guest', 'host'] as const),
    mem_bytes: c.numOrNull(o, 'mem_bytes', p),
    disk: checkDisk(c, c.field(o, 'disk', p), `${p}.disk`),
    fs: checkFs(c, c.field(o, 'fs', p), `${p}.fs`),
    image: o['image'] === null ? null : checkImage(c, c.field(o, 'image', p), `${p}.image`),
    strace: st === null ? null : {
      path: c.file_(st, 'path', `${p}.strace`),
      options: c.str(st, 'options', `${p}.strace`),
      clock: c.oneOf(st, 'clock', `${p}.strace`, ['realtime'] as const),
    },
    block_trace: checkTrace(c, c.field(o, 'block_trace', p), `${p}.block_trace`),
    workload_log: wl === null ? null : {
      path: c.file_(wl, 'path', `${p}.workload_log`),
      format: c.oneOf(wl, 'format', `${p}.workload_log`, ['ffsb-lite-v1'] as const),
      clock: c.oneOf(wl, 'clock', `${p}.workload_log`, ['monotonic'] as const),
    },
    clocks_start: checkClockPair(c, c.field(o, 'clocks_start', p), `${p}.clocks_start`),
    clocks_end: checkClockPair(c, c.field(o, 'clocks_end', p), `${p}.clocks_end`),
    clock_marks: c.arr(o, 'clock_marks', p).map((m, i) => {
      const q = `${p}.clock_marks[${i}]`;
      const mo = c.obj(m, q);
      return { n: c.num(mo, 'n', q), guest_ns: c.nsOrNull(mo, 'guest_ns', q), host_ns: c.nsOrNull(mo, 'host_ns', q) };
    }),
    console_log: c.fileOrNull(o, 'console_log', p),
  };
}

function checkWorkload(c: Checker, v: Json, p: string): WorkloadParams {
  const o = c.obj(v, p);
  const read_fraction = c.num(o, 'read_fraction', p);
  if (read_fraction > 1) c.fail(`${p}.read_fraction`, `expected a fraction in 0..1, got ${read_fraction}`);
  return {
    program: c.str(o, 'program', p),
    command: c.str(o, 'command', p),
    files: c.num(o, 'files', p, 1),
    file_bytes: c.num(o, 'file_bytes', p),
    io_bytes: c.num(o, 'io_bytes', p, 1),
    ops: c.num(o, 'ops', p),
    read_fraction,
    direct: c.bool(o, 'direct', p),
    seed: c.num(o, 'seed', p),
    duration_s: c.num(o, 'duration_s', p),
    drop_caches: c.bool(o, 'drop_caches', p),
  };
}

function checkLab(c: Checker, v: Json, p: string): LabParams {
  const o = c.obj(v, p);
  return {
    backend: c.oneOf(o, 'backend', p, ['kvm', 'tcg', 'loop'] as const),
    backend_reason: c.str(o, 'backend_reason', p),
    vm_mem_bytes: c.numOrNull(o, 'vm_mem_bytes', p),
    vcpus: c.numOrNull(o, 'vcpus', p),
    data_bytes: c.num(o, 'data_bytes', p),
    direct: c.bool(o, 'direct', p),
    host_cache: c.oneOf(o, 'host_cache', p, ['writeback', 'none'] as const),
    image_format: c.oneOf(o, 'image_format', p, ['raw', 'qcow2'] as const),
    guest_partition: o['guest_partition'] === undefined ? 'none' : c.oneOf(o, 'guest_partition', p, ['none', 'mbr', 'gpt'] as const),
    vms: c.num(o, 'vms', p, 1),
    workload: checkWorkload(c, c.field(o, 'workload', p), `${p}.workload`),
    command: c.str(o, 'command', p),
    qemu_version: c.strOrNull(o, 'qemu_version', p),
    elapsed_s: c.num(o, 'elapsed_s', p),
  };
}

function checkHost(c: Checker, v: Json, p: string): HostCapture {
  const o = c.obj(v, p);
  return {
    kernel: c.str(o, 'kernel', p),
    disk: checkDisk(c, c.field(o, 'disk', p), `${p}.disk`),
    fs: checkFs(c, c.field(o, 'fs', p), `${p}.fs`),
    block_trace: checkTrace(c, c.field(o, 'block_trace', p), `${p}.block_trace`),
    clocks_start: checkClockPair(c, c.field(o, 'clocks_start', p), `${p}.clocks_start`),
    clocks_end: checkClockPair(c, c.field(o, 'clocks_end', p), `${p}.clocks_end`),
  };
}

/**
 * Check a parsed manifest and return it typed. Unknown extra fields are kept out of the result.
 * @param doc the parsed JSON
 * @param file name used in error messages
 * @param dir the bundle directory: when given, every file the manifest names must exist there and be non-empty
 * @throws InputError naming the field path and stating expected vs actual
 */
export function validateManifest(doc: unknown, file: string, dir: string | null = null): CaptureManifest {
  const c: Checker = new Checker(file, dir);
  const o = c.obj(doc, '$');
  if (o['kind'] !== MANIFEST_KIND) {
    c.fail('$.kind', `not an iolineage capture manifest: expected kind "${MANIFEST_KIND}", got ${kind(o['kind'])}`);
  }
  if (o['version'] !== MANIFEST_VERSION) {
    c.fail('$.version', `unsupported manifest version: expected ${MANIFEST_VERSION}, got ${kind(o['version'])}`);
  }
  const guests = c.arr(o, 'guests', '$').map((g, i) => checkGuest(c, g, `$.guests[${i}]`));
  if (guests.length === 0) c.fail('$.guests', 'expected at least one guest, got an empty array');
  const ids = new Set<string>();
  for (const [i, g] of guests.entries()) {
    if (ids.has(g.id)) c.fail(`$.guests[${i}].id`, `duplicate guest id "${g.id}"`);
    ids.add(g.id);
  }
  const notes = c.arr(o, 'notes', '$').map((n, i) => {
    if (typeof n !== 'string') c.fail(`$.notes[${i}]`, `expected a string, got ${kind(n)}`);
    return n;
  });
  const created = c.str(o, 'created', '$');
  if (Number.isNaN(Date.parse(created))) c.fail('$.created', `expected an ISO 8601 date, got "${created}"`);
  return {
    version: MANIFEST_VERSION,
    kind: MANIFEST_KIND,
    created,
    tool: c.str(o, 'tool', '$'),
    lab: o['lab'] === null ? null : checkLab(c, c.field(o, 'lab', '$'), '$.lab'),
    guests,
    host: o['host'] === null ? null : checkHost(c, c.field(o, 'host', '$'), '$.host'),
    notes,
  };
}

/**
 * Read and validate `DIR/manifest.json`; every file it names must exist in DIR and be non-empty.
 * @throws InputError with the file, the field path, and expected vs actual
 */
export function readManifest(dir: string): CaptureManifest {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(file, 'no manifest.json: not a capture bundle directory (made by `iolineage lab` or capture/*.sh)');
    throw new InputError(file, `cannot read: ${code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return validateManifest(doc, file, dir);
}

/** Write a manifest as pretty JSON to `DIR/manifest.json` (validated first, against DIR). */
export function writeManifest(dir: string, m: CaptureManifest): void {
  validateManifest(m, join(dir, MANIFEST_FILE), dir);
  const bytes = new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
  writeFileAtomically(join(dir, MANIFEST_FILE), (fd) => writeAll(fd, bytes));
}

/** Role of a bundle file, for listings (`guest:vm0:block_trace`, `host:fs.metadata`...). */
export interface BundleFile {
  role: string;
  path: string;
}

/** Every file a manifest names, with its role. */
export function bundleFiles(m: CaptureManifest): BundleFile[] {
  const out: BundleFile[] = [];
  const add = (role: string, path: string | null | undefined) => {
    if (path) out.push({ role, path });
  };
  if (m.host) {
    add('host:block_trace', m.host.block_trace.path);
    add('host:fs.metadata', m.host.fs.metadata);
    add('host:fs.metadata_qcow2', m.host.fs.metadata_qcow2);
  }
  for (const g of m.guests) {
    const r = `guest:${g.id}:`;
    add(r + 'block_trace', g.block_trace.path);
    add(r + 'fs.metadata', g.fs.metadata);
    add(r + 'fs.metadata_qcow2', g.fs.metadata_qcow2);
    add(r + 'strace', g.strace?.path);
    add(r + 'workload_log', g.workload_log?.path);
    add(r + 'image.filefrag', g.image?.filefrag);
    add(r + 'image.qemu_img_map', g.image?.qemu_img_map);
    add(r + 'console_log', g.console_log);
  }
  return out;
}
