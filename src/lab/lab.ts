/**
 * `iolineage lab`: the seed study's environment on one Linux machine, end to end.
 *
 * host ext3 on a loop device (the lab's host disk, direct I/O on its backing file)
 *   └─ images/vmK.raw|qcow2 ── ext3 inside ── guest (KVM, else TCG; or the loop stand-in)
 *        └─ ffsb-lite under strace, guest block trace (capture/guest-capture.sh)
 * while the host records the block tracepoints of its loop disk. Writes a capture bundle.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { UsageError } from '../util/errors.js';
import { envClocks, envGet, envTrace, gzipInto, pairMarks, parseEnv, readText } from './bundle.js';
import { Cleanup, childExit, have, LabInterrupted, sh } from './exec.js';
import { prepareGuestKernel, type GuestKernel } from './guest-kernel.js';
import {
  attachLoop,
  diskFacts,
  fileSize,
  fsBlockSize,
  makeImage,
  makePartitionedDisk,
  mkfsFile,
  mkfsLoop,
  mountFs,
  PARTITION_START_BYTES,
  saveE2image,
  workDirPath,
} from './host.js';
import { envFsOffset } from '../capture/assemble.js';
import { checkOptions, formatSize, type LabOptions } from './options.js';
import { cleanupDeadRuns, RunState, runDir } from './state.js';
import { BlockRecorder, tracefsRoot } from './tracefs.js';
import { type Accel, chooseAccel, runVm } from './vm.js';

const MiB = 1024 ** 2;
const GUEST_TRACE_KB = 4096;
const HOST_TRACE_KB = 16384;

/** The repository's `capture/` directory (beside `dist/` or `src/`). */
export function captureDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const d = resolve(here, '../../capture');
  if (!existsSync(join(d, 'guest-capture.sh'))) throw new Error(`capture scripts not found at ${d}`);
  return d;
}

/** Default cache: $XDG_CACHE_HOME/iolineage or ~/.cache/iolineage. */
export function defaultCache(): string {
  const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || '/tmp', '.cache');
  return join(base, 'iolineage');
}

/** Why the lab cannot run here (not root, no tracefs, missing tools), or null. */
export function labUnavailable(backend: 'loop' | 'vm'): string | null {
  if (process.getuid?.() !== 0) return 'the lab needs root (loop devices, mount, tracefs)';
  const tools = ['losetup', 'mke2fs', 'e2image', 'filefrag', 'dumpe2fs', 'debugfs', 'strace', 'gcc', 'gzip', 'mount', 'qemu-img'];
  if (backend === 'vm') tools.push('qemu-system-x86_64', 'qemu-img', 'busybox', 'cpio', 'apt-get', 'dpkg');
  for (const t of tools) if (!have(t)) return `the lab needs \`${t}\``;
  if (tracefsRoot() === null) return 'tracefs is not available (mount -t tracefs nodev /sys/kernel/tracing failed)';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop devices unavailable)';
  return null;
}

/** Compile ffsb-lite statically, cached by source hash. */
export function buildWorkload(cache: string, capture: string): string {
  const src = join(capture, 'workload/ffsb-lite.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const bin = join(cache, `ffsb-lite-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    sh('gcc', ['-O2', '-static', '-o', bin + '.tmp', src]);
    sh('mv', [bin + '.tmp', bin]);
  }
  return bin;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function clocksNow(ffsb: string): { realtime_ns: string; monotonic_ns: string } {
  const out = sh(ffsb, ['-C']);
  const m = /realtime_ns=(\d+) monotonic_ns=(\d+)/.exec(out);
  if (!m) throw new Error(`ffsb-lite -C printed "${out.trim()}"`);
  return { realtime_ns: m[1]!, monotonic_ns: m[2]! };
}

/** The workload command line for a guest (paths as the guest sees them). */
function workloadArgs(o: LabOptions, k: number, bin: string, dir: string, log: string, dropCaches: boolean): string[] {
  const a = [
    bin,
    '-d',
    dir,
    '-n',
    String(o.files),
    '-s',
    String(Math.floor(o.data / o.files / o.ioSize) * o.ioSize),
    '-b',
    String(o.ioSize),
    '-o',
    String(o.ops),
    '-r',
    String(o.readFraction),
    '-S',
    String(o.seed + k),
  ];
  if (o.direct) a.push('-D');
  if (o.duration > 0) a.push('-t', String(o.duration));
  if (dropCaches) a.push('-c');
  a.push('-l', log);
  return a;
}

interface GuestRun {
  id: string;
  image: string;
  imageRel: string;
  capDir: string;
  console: string | null;
  mount: string;
  workloadCmd: string;
  hostMark: RegExp;
  diskBacking: string;
}

/**
 * Run the lab and write the bundle to `o.out`.
 * @param argvText the command line, recorded in the manifest
 */
export async function runLab(o: LabOptions, argvText: string, log: (s: string) => void): Promise<CaptureManifest> {
  checkOptions(o);
  // impossible combinations first: they are wrong on any machine
  if (o.backend === 'loop' && o.imageFormat !== 'raw') {
    throw new UsageError('lab: --backend loop needs --image-format raw (a loop device cannot read qcow2)');
  }
  const why = labUnavailable(o.backend === 'loop' ? 'loop' : 'vm');
  if (why) throw new UsageError(`lab: ${why}`);
  const out = resolve(o.out);
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`lab: output directory ${o.out} is not empty`);
  // what runs killed before this one left (recorded in their state files)
  cleanupDeadRuns(log);
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const created = new Date().toISOString();
  const capture = captureDir();
  const traceRoot = tracefsRoot()!;
  const notes: string[] = [];
  const hostKernel = sh('uname', ['-r']).trim();
  const state = new RunState(argvText);
  const cleanup = new Cleanup(state, log);
  let stopped: LabInterrupted | null = null;
  try {
    return await labRun(o, argvText, log, cleanup, { out, t0, created, capture, traceRoot, notes, hostKernel });
  } catch (e) {
    if (cleanup.signal) throw (stopped = new LabInterrupted(cleanup.signal));
    throw e;
  } finally {
    cleanup.runAll(log);
    if (stopped) stopped.released = state.resources.length === 0;
  }
}

interface RunContext {
  out: string;
  t0: number;
  created: string;
  capture: string;
  traceRoot: string;
  notes: string[];
  hostKernel: string;
}

async function labRun(
  o: LabOptions,
  argvText: string,
  log: (s: string) => void,
  cleanup: Cleanup,
  { out, t0, created, capture, traceRoot, notes, hostKernel }: RunContext,
): Promise<CaptureManifest> {
  const ffsb = buildWorkload(o.cache, capture);
  await cleanup.checkpoint();

  let backend: 'kvm' | 'tcg' | 'loop' = 'loop';
  let reason = 'requested with --backend loop: no VM; the guest file system is on a loop device over the image file';
  let kernel: GuestKernel | null = null;
  let qemuVersion: string | null = null;
  if (o.backend !== 'loop') {
    kernel = prepareGuestKernel(o.cache, capture, log);
    await cleanup.checkpoint();
    qemuVersion = sh('qemu-system-x86_64', ['--version']).split('\n')[0]!.trim();
    if (o.backend === 'auto') {
      const c = await chooseAccel(o.cache, kernel, qemuVersion, hostKernel, log, cleanup);
      cleanup.check();
      backend = c.accel;
      reason = c.reason;
    } else {
      backend = o.backend;
      reason = `requested with --backend ${o.backend}`;
    }
    log(`lab: backend ${backend} (${reason})`);
  }

  const work = workDirPath(o.cache);
  if (!o.keep) cleanup.acquire({ kind: 'work-dir', dir: work });
  mkdirSync(work, { recursive: true });
  // host disk: ext3 on a loop device over a fresh file, direct I/O so the loop device behaves like a disk
  const perFile = Math.floor(o.data / o.files / o.ioSize) * o.ioSize;
  const fsBytes = roundUp(perFile * o.files * 1.25 + 64 * MiB, MiB);
  // a partition table adds 1 MiB before the file system (and GPT 1 MiB after it for its backup)
  const diskBytes =
    fsBytes + (o.guestPartition === 'none' ? 0 : o.guestPartition === 'gpt' ? 2 * PARTITION_START_BYTES : PARTITION_START_BYTES);
  const hostBytes = roundUp(o.vms * diskBytes * (o.imageFormat === 'qcow2' ? 1.15 : 1) + 128 * MiB, MiB);
  const hostFile = join(work, 'host.disk');
  sh('truncate', ['-s', String(hostBytes), hostFile]);
  const hostDisk = attachLoop(hostFile, true, cleanup);
  mkfsLoop(hostDisk, 'iolineage-host');
  await cleanup.checkpoint();
  // mount points outside the work directory: ext4 records the mount path in the superblock and
  // its journal ("last mounted on"), and a bundle must not carry a path of this machine
  const mnts = join(runDir(), String(process.pid));
  if (existsSync(mnts))
    throw new Error(`${mnts} exists: left by an earlier run that could not be cleaned up (see \`iolineage lab --cleanup\`)`);
  cleanup.acquire({ kind: 'mount-dirs', dir: mnts });
  mkdirSync(mnts, { recursive: true });
  const hostMnt = join(mnts, 'host');
  let umountHost = mountFs(hostDisk.path, hostMnt, 'ext3', cleanup);
  mkdirSync(join(hostMnt, 'images'));
  const guests: GuestRun[] = [];
  for (let k = 0; k < o.vms; k++) {
    const id = `vm${k}`;
    const fsFile = join(work, `${id}.fs`);
    mkfsFile(fsFile, fsBytes, 'ext3', `iolineage-${id}`);
    const imageRel = `/images/${id}.${o.imageFormat}`;
    log(
      `lab: ${id}: ${formatSize(fsBytes)} ext3 image ${imageRel} (${o.imageFormat}${o.guestPartition === 'none' ? '' : `, ${o.guestPartition} partition from sector ${PARTITION_START_BYTES / 512}`}) on the host ext3`,
    );
    if (o.guestPartition === 'none') makeImage(fsFile, join(hostMnt, imageRel), o.imageFormat);
    else {
      const diskFile = join(work, `${id}.disk`);
      makePartitionedDisk(fsFile, diskFile, o.guestPartition);
      makeImage(diskFile, join(hostMnt, imageRel), o.imageFormat);
      rmSync(diskFile);
    }
    rmSync(fsFile);
    const capDir = join(work, id, 'cap');
    mkdirSync(capDir, { recursive: true });
    guests.push({
      id,
      image: join(hostMnt, imageRel),
      imageRel,
      capDir,
      console: null,
      mount: '/mnt/data',
      workloadCmd: '',
      hostMark: backend === 'loop' ? /^@@iolineage-mark (\d+)$/ : new RegExp(`^iolineage-mark ${id} (\\d+)$`),
      diskBacking: 'virtio-blk',
    });
  }
  await cleanup.checkpoint();
  // cold host page cache for the host fs: unmount and mount again
  sh('sync', []);
  umountHost();
  umountHost = mountFs(hostDisk.path, hostMnt, 'ext3', cleanup);

  const hostTraceFile = join(work, 'host.trace');
  const host = new BlockRecorder(traceRoot, `iolineage-host-${process.pid}`, hostDisk.dev, hostTraceFile, HOST_TRACE_KB, cleanup);
  const stopHostGuard = cleanup.acquire({ kind: 'tracefs', dir: host.dir }, () => host.closeHandles());
  host.start('mono');
  const hostStart = clocksNow(ffsb);

  let loopGuest: { path: string; detach: () => void } | null = null;
  if (backend === 'loop') {
    const g = guests[0]!;
    const gl = attachLoop(g.image, o.hostCache === 'none', cleanup);
    g.diskBacking = `loop device over the image file ${g.imageRel} on the host ext3 (direct I/O ${o.hostCache === 'none' ? 'on' : 'off'})`;
    const mnt = join(mnts, 'vm0');
    const umountGuest = mountFs(gl.path, mnt, 'ext3', cleanup);
    g.mount = mnt;
    const wl = workloadArgs(o, 0, ffsb, mnt, join(g.capDir, 'workload.log'), false);
    g.workloadCmd = wl.join(' ');
    log(`lab: vm0 (loop stand-in on ${gl.name}): running the workload under strace`);
    await cleanup.checkpoint();
    // in a process group of its own: a stop signal reaches the script, strace and the workload together
    const script = cleanup.spawn(
      'sh',
      [
        join(capture, 'guest-capture.sh'),
        '-o',
        g.capDir,
        '-d',
        gl.name,
        '-b',
        String(GUEST_TRACE_KB),
        '-k',
        ffsb,
        '-M',
        join(host.dir, 'trace_marker'),
        '--',
        ...wl,
      ],
      { what: 'guest-capture.sh and the workload', group: true },
    );
    // the script names its tracefs instance after its pid; recorded in case it cannot remove it
    const guestInstance = cleanup.acquire({ kind: 'tracefs', dir: join(traceRoot, 'instances', `iolineage-guest-${script.pid}`) });
    const st = await childExit(script, (s) => log(s.trimEnd()));
    cleanup.check();
    if (st !== 0) throw new Error(`guest-capture.sh exited ${st}`);
    guestInstance();
    umountGuest();
    loopGuest = gl;
    notes.push('loop backend: guest and host layers share the host kernel and its CLOCK_MONOTONIC; no guest page cache of its own');
  } else {
    const accel: Accel = backend;
    await Promise.all(
      guests.map(async (g, k) => {
        const stage = join(work, g.id, 'stage');
        mkdirSync(stage, { recursive: true });
        copyFileSync(join(capture, 'guest-capture.sh'), join(stage, 'guest-capture.sh'));
        copyFileSync(ffsb, join(stage, 'ffsb-lite'));
        sh('chmod', ['755', join(stage, 'ffsb-lite')]);
        const wl = workloadArgs(o, k, '/out/ffsb-lite', '/mnt/data', '/out/cap/workload.log', o.dropCaches);
        g.workloadCmd = wl.join(' ');
        writeFileSync(
          join(stage, 'lab.sh'),
          [
            '# written by iolineage lab; run by the guest /init from /out',
            `mount -t ext3 /dev/${o.guestPartition === 'none' ? 'vda' : 'vda1'} /mnt/data || exit 10`,
            `sh /out/guest-capture.sh -o /out/cap -d vda -b ${GUEST_TRACE_KB} -k /out/ffsb-lite -M /dev/ttyS0 -- ${g.workloadCmd}`,
            'st=$?',
            'umount /mnt/data',
            'exit $st',
            '',
          ].join('\n'),
        );
        const outDisk = join(work, `${g.id}.out`);
        sh('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-d', stage, outDisk, '2G']);
        g.console = join(work, g.id, 'console.log');
        log(`lab: ${g.id}: booting (${accel}, ${formatSize(o.vmMem)})`);
        const r = await runVm(
          {
            id: g.id,
            accel,
            memBytes: o.vmMem,
            vcpus: o.vcpus,
            kernel: kernel!,
            image: g.image,
            imageFormat: o.imageFormat,
            hostCache: o.hostCache,
            outDisk,
            console: g.console,
            timeoutS: o.timeout,
          },
          (n) => host.mark(`iolineage-mark ${g.id} ${n}`),
          cleanup,
        );
        cleanup.check();
        log(`lab: ${g.id}: guest finished in ${r.elapsedS.toFixed(0)} s (status ${r.guestStatus}, ${r.marks} marks)`);
        if (r.guestStatus !== '0') {
          throw new Error(
            `${g.id}: the guest run failed (status ${r.guestStatus ?? 'none'}, qemu exit ${r.exitCode}); console log: ${g.console}`,
          );
        }
        rmSync(g.capDir, { recursive: true, force: true });
        sh('debugfs', ['-R', `rdump /cap ${join(work, g.id)}`, outDisk], { stdio: ['ignore', 'pipe', 'ignore'] });
        sh('debugfs', ['-R', `dump /lab-guest.log ${join(work, g.id, 'lab-guest.log')}`, outDisk], { stdio: ['ignore', 'pipe', 'ignore'] });
        rmSync(outDisk);
      }),
    );
  }

  cleanup.check();
  const hostEnd = clocksNow(ffsb);
  const hostTrace = await host.stop();
  cleanup.check();
  stopHostGuard();
  loopGuest?.detach();
  log(`lab: host trace: ${hostTrace.lines} lines, ${hostTrace.lost_events} lost events`);

  // guest images: extents on the host fs, qemu-img map, guest fs metadata
  const manifestGuests: GuestCapture[] = [];
  const hostTraceText = readText(hostTraceFile);
  for (const g of guests) {
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
    manifestGuests.push({
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
        size_bytes: fsBytes,
        mount: g.mount,
        metadata: `${g.id}/fs.e2i.gz`,
        metadata_qcow2: null,
        metadata_after_unmount: true,
      },
      image: {
        path_in_fs: g.imageRel,
        format: o.imageFormat,
        file_bytes: fileSize(g.image),
        virtual_bytes: diskBytes,
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
    });
  }

  // host metadata after unmount
  const hostFsBlock = fsBlockSize(hostDisk.path);
  umountHost();
  mkdirSync(join(out, 'host'), { recursive: true });
  saveE2image(hostDisk.path, join(out, 'host/fs.e2i.gz'));
  gzipInto(hostTraceFile, join(out, 'host/block.trace.gz'));
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
      size_bytes: hostBytes,
      mount: '/',
      metadata: 'host/fs.e2i.gz',
      metadata_qcow2: null,
      metadata_after_unmount: true,
    },
    block_trace: { path: 'host/block.trace.gz', format: 'tracefs-text', ...hostTrace },
    clocks_start: hostStart,
    clocks_end: hostEnd,
  };
  if (hostTrace.lost_events > 0) notes.push(`host: the block trace lost ${hostTrace.lost_events} events (buffer overruns)`);
  hostDisk.detach();
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
    file_bytes: perFile,
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
    backend_reason: reason,
    vm_mem_bytes: backend === 'loop' ? null : o.vmMem,
    vcpus: backend === 'loop' ? null : o.vcpus,
    data_bytes: perFile * o.files,
    direct: o.direct,
    host_cache: o.hostCache,
    image_format: o.imageFormat,
    guest_partition: o.guestPartition,
    vms: o.vms,
    workload,
    command: argvText,
    qemu_version: backend === 'loop' ? null : qemuVersion,
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
