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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { writeAll, writeFileAtomically } from '../io/output-folder.js';
import {
  absentAs,
  arr,
  bool,
  checkJson,
  dev,
  file,
  literal,
  ns,
  nullable,
  num,
  obj,
  oneOf,
  refine,
  str,
  type Infer,
} from './json-schema.js';

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
export const HOST_CACHE_MODES = ['writeback', 'none'] as const;
export type HostCacheMode = (typeof HOST_CACHE_MODES)[number];
/** Format of a guest's disk image file on the host. */
export const IMAGE_FORMATS = ['raw', 'qcow2'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

// ---------------------------------------------------------------------------------------------
// The layout, declared once (capture/json-schema.ts): types, checks and docs/manifest.md come from it.

const workloadSchema = obj(
  {
    program: str('Program that produced the I/O: `ffsb-lite` (ours) or a free-form command.'),
    command: str("The exact command line run in the guest (under strace); with several VMs, vm0's (VM k runs the same with seed + k)."),
    files: num('Number of files in the file set.', 1),
    file_bytes: num('Size of each file in bytes; files * file_bytes is the data size.'),
    io_bytes: num('Size of each random read or write, bytes.', 1),
    ops: num('Number of random operations after the file set is created (0 when bounded by duration only).'),
    read_fraction: refine(num('Fraction of random operations that are reads, 0..1.'), (v) =>
      v > 1 ? `expected a fraction in 0..1, got ${v}` : null,
    ),
    direct: bool('Whether the random phase uses O_DIRECT.'),
    seed: num("Seed of the workload's pseudo-random generator (VM k of a lab run uses seed + k)."),
    duration_s: num('Stop the random phase after this many seconds (0 = no limit).'),
    drop_caches: bool('Whether the guest dropped its page cache between creating the file set and the random phase.'),
  },
  'Parameters of the FFSB-like workload (`capture/workload/ffsb-lite.c`).',
);

const labSchema = obj(
  {
    backend: oneOf(['kvm', 'tcg', 'loop'], 'What ran the guest.'),
    backend_reason: str('Why this backend was used, e.g. "KVM refused the guest (failed to set MSR 0x10a); fell back to TCG".'),
    vm_mem_bytes: nullable(num('Memory of each VM in bytes (null for the loop backend, which has no VM).')),
    vcpus: nullable(num('Virtual CPUs per VM (null for the loop backend).')),
    data_bytes: num("Total size of the workload's file set per VM, bytes."),
    direct: bool("O_DIRECT in the workload's random phase."),
    host_cache: oneOf(
      HOST_CACHE_MODES,
      'QEMU cache mode of the image file (for the loop backend: `none` means the guest loop device uses direct I/O).',
    ),
    image_format: oneOf(IMAGE_FORMATS, 'Format of the guest image files.'),
    guest_partition: absentAs(
      oneOf(
        ['none', 'mbr', 'gpt'],
        'Partition table of each guest disk: `none` (the file system is the whole disk), or `mbr` / `gpt` with one partition from sector 2048 holding it.',
      ),
      'none',
    ),
    vms: num('Number of VMs run at once; each has an entry in `guests`.', 1),
    workload: workloadSchema,
    command: str('The `iolineage lab` command line that made the bundle.'),
    qemu_version: nullable(str('`qemu-system-x86_64 --version` first line (null for the loop backend).')),
    elapsed_s: num('Wall-clock seconds the whole run took on the host.'),
  },
  'Parameters of a lab run (null for captures made on real systems).',
);

const diskSchema = obj(
  {
    dev: dev('The traced device (the whole disk). Block events are filtered on it.'),
    name: str('Kernel name, e.g. `vda`, `loop3`, `nvme0n1`.'),
    logical_block_size: num('`queue/logical_block_size`, bytes. Trace sectors are always 512-byte units regardless.', 512),
    physical_block_size: num('`queue/physical_block_size`, bytes.', 512),
    size_bytes: num('Size of the device, bytes.'),
    fs_offset_bytes: num('Byte offset on the disk where the file system starts (0 when it is on the whole disk).'),
    partition_table: absentAs(
      nullable(file("The disk's partition table as `sfdisk --dump` prints it, or null (no partition table, or not saved).")),
      null,
    ),
    backing: str('Free text on what backs the device (e.g. "loop over a file on the root file system", "virtio-blk").'),
  },
  'A block device as the kernel that traced it sees it.',
);

const fsSchema = obj(
  {
    type: oneOf(['ext2', 'ext3', 'ext4'], 'As created or as `blkid` reports it.'),
    block_size: refine(num('File-system block size, bytes.', 1024), (v) =>
      (v & (v - 1)) !== 0 ? `expected a power of two, got ${v}` : null,
    ),
    size_bytes: num('Size of the file system, bytes.'),
    mount: str('Where it was mounted while the workload ran.'),
    metadata: file(
      '`e2image -r` output compressed with gzip: a raw image the size of the file system in which only metadata blocks (superblocks, group descriptors, bitmaps, inode tables, directories, extent/indirect blocks, journal) hold data; everything else reads as zeros.',
    ),
    metadata_qcow2: nullable(file('The same metadata as `e2image -Q` (a QCOW2 file holding only metadata), or null.')),
    metadata_after_unmount: bool(
      'Whether metadata was saved after the workload ended and the file system was unmounted (true) or while mounted (false: recent changes may be missing).',
    ),
  },
  'An ext2/3/4 file system of the capture and its saved metadata.',
);

const blockTraceSchema = obj(
  {
    path: file('The trace.'),
    format: oneOf(
      ['tracefs-text'],
      "Lines `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS` (the tracefs `trace` file's format, possibly compressed).",
    ),
    trace_clock: str("The instance's `trace_clock` (e.g. `mono` = CLOCK_MONOTONIC in seconds.microseconds)."),
    events: arr(str('An event, e.g. `block/block_rq_issue`.'), 'Events enabled, e.g. `block/block_rq_issue`.'),
    filter: str('Event filter applied (e.g. `dev == 265289728`), or "" when none.'),
    buffer_size_kb: num('Per-CPU ring-buffer size, KiB.'),
    lost_events: num(
      'Events lost to buffer overruns (sum over CPUs of `per_cpu/cpuN/stats` overrun plus `[LOST N EVENTS]` lines). Nonzero means the trace has gaps.',
    ),
    lines: num('Lines written (events + markers).'),
  },
  'A text trace of block tracepoints.',
);

const straceSchema = obj(
  {
    path: file('The strace log.'),
    options: str('Options strace ran with, e.g. `-f -ttt -T -y`.'),
    clock: oneOf(['realtime'], "Clock of strace's timestamps: `-ttt` prints CLOCK_REALTIME seconds.microseconds."),
  },
  'A strace log of the workload.',
);

const workloadLogSchema = obj(
  {
    path: file('The log.'),
    format: oneOf(
      ['ffsb-lite-v1'],
      '`#` comment lines, then tab-separated columns `seq phase op file offset size ret start_ns end_ns` (times on CLOCK_MONOTONIC).',
    ),
    clock: oneOf(['monotonic'], 'Clock of `start_ns`/`end_ns`.'),
  },
  "The workload's own log of every I/O it did: the ground truth.",
);

const clockPairSchema = obj(
  {
    realtime_ns: ns('CLOCK_REALTIME, ns since the epoch.'),
    monotonic_ns: ns('CLOCK_MONOTONIC, ns.'),
  },
  'Both clocks of one side read back to back, so realtime (strace) and monotonic (traces) can be related.',
);

const clockMarkSchema = obj(
  {
    n: num('Mark number N.'),
    guest_ns: nullable(ns('Timestamp of the mark in the guest block trace (its trace_clock); null if not found.')),
    host_ns: nullable(ns('Timestamp of the mark in the host block trace (its trace_clock); null if not found.')),
  },
  "One alignment mark `iolineage-mark N` written into both the guest's and the host's trace_marker.",
);

const imageSchema = obj(
  {
    path_in_fs: str('Path of the image inside the host file system (absolute from its root).'),
    format: oneOf(IMAGE_FORMATS, 'Image format.'),
    file_bytes: num('Size of the image file, bytes (qcow2: the file, not the virtual disk).'),
    virtual_bytes: num('Virtual disk size, bytes.'),
    filefrag: file('`filefrag -v` output for the image file (host fs extents).'),
    qemu_img_map: nullable(file('`qemu-img map --output=json` for the image (guest offset → file offset), or null.')),
    host_cache: oneOf(HOST_CACHE_MODES, 'QEMU `-drive cache=` mode.'),
  },
  "The guest's image file on the host.",
);

const guestSchema = obj(
  {
    id: refine(str('Identifier, also the bundle sub-directory: `vm0`, `vm1`...'), (v) =>
      /^[A-Za-z0-9_-]+$/.test(v) ? null : `expected letters, digits, _ or -, got "${v}"`,
    ),
    kernel: str('`uname -r` of the kernel that ran the guest file system.'),
    clock_domain: oneOf(
      ['guest', 'host'],
      '`guest` when the guest has its own kernel and clocks; `host` for the loop backend (guest and host layers share one kernel and one clock).',
    ),
    mem_bytes: nullable(num('Guest memory, bytes (`MemTotal`); null for the loop backend.')),
    disk: diskSchema,
    fs: fsSchema,
    image: nullable(imageSchema),
    strace: nullable(straceSchema),
    block_trace: blockTraceSchema,
    workload_log: nullable(workloadLogSchema),
    clocks_start: clockPairSchema,
    clocks_end: clockPairSchema,
    clock_marks: arr(clockMarkSchema, 'Alignment marks guest ↔ host. Empty when there is no host side.'),
    console_log: nullable(file("The guest's console/serial log, or null.")),
  },
  'One guest (one VM, or the loop-device stand-in of the loop backend).',
);

const hostSchema = obj(
  {
    kernel: str('`uname -r` of the host.'),
    disk: diskSchema,
    fs: fsSchema,
    block_trace: blockTraceSchema,
    clocks_start: clockPairSchema,
    clocks_end: clockPairSchema,
  },
  'The host side: the physical (or lab loop) disk under the image files.',
);

const guestsSchema = refine(arr(guestSchema, 'The guests, at least one.'), (guests) => {
  if (guests.length === 0) return 'expected at least one guest, got an empty array';
  const ids = new Set<string>();
  for (const [i, g] of guests.entries()) {
    if (ids.has(g.id)) return { at: `[${i}].id`, message: `duplicate guest id "${g.id}"` };
    ids.add(g.id);
  }
  return null;
});

const versionField = literal(
  MANIFEST_VERSION,
  'Version of the manifest layout described here.',
  (got) => `unsupported manifest version: expected ${MANIFEST_VERSION}, got ${got}`,
);
const kindField = literal(
  MANIFEST_KIND,
  'Tells a capture manifest from any other JSON file.',
  (got) => `not an iolineage capture manifest: expected kind "${MANIFEST_KIND}", got ${got}`,
);

/** The manifest's layout: docs/manifest.md is generated from it (scripts/gen-manifest-docs.mjs). */
export const manifestSchema = obj(
  {
    version: versionField,
    kind: kindField,
    created: refine(str('When the capture started, ISO 8601 UTC.'), (v) =>
      Number.isNaN(Date.parse(v)) ? `expected an ISO 8601 date, got "${v}"` : null,
    ),
    tool: str('Producer and version, e.g. `iolineage lab 0.1.0` or `capture/host-capture.sh`.'),
    lab: nullable(labSchema),
    guests: guestsSchema,
    host: nullable(hostSchema),
    notes: arr(str('A remark.'), 'Free-form remarks (fallbacks taken, anomalies seen).'),
  },
  'The whole manifest.',
);

export type WorkloadParams = Infer<typeof workloadSchema>;
export type LabParams = Infer<typeof labSchema>;
export type DiskInfo = Infer<typeof diskSchema>;
export type FsInfo = Infer<typeof fsSchema>;
export type BlockTraceInfo = Infer<typeof blockTraceSchema>;
export type StraceInfo = Infer<typeof straceSchema>;
export type WorkloadLogInfo = Infer<typeof workloadLogSchema>;
export type ClockPair = Infer<typeof clockPairSchema>;
export type ClockMark = Infer<typeof clockMarkSchema>;
export type ImageInfo = Infer<typeof imageSchema>;
export type GuestCapture = Infer<typeof guestSchema>;
export type HostCapture = Infer<typeof hostSchema>;
export type CaptureManifest = Infer<typeof manifestSchema>;

/**
 * Check a parsed manifest and return it typed. Unknown extra fields are kept out of the result.
 * @param doc the parsed JSON
 * @param file name used in error messages
 * @param dir the bundle directory: when given, every file the manifest names must exist there and be non-empty
 * @throws InputError naming the field path and stating expected vs actual
 */
export function validateManifest(doc: unknown, file: string, dir: string | null = null): CaptureManifest {
  const cx = { file, dir };
  // kind before version before the rest: a JSON file that is no manifest at all is named as such
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    const o = doc as Record<string, unknown>;
    kindField.check(o['kind'], '$.kind', cx);
    versionField.check(o['version'], '$.version', cx);
  }
  return checkJson(manifestSchema, doc, cx);
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
    if (code === 'ENOENT')
      throw new InputError(file, 'no manifest.json: not a capture bundle directory (made by `iolineage lab` or capture/*.sh)');
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
