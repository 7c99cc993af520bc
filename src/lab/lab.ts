/**
 * `iolineage lab`: the seed study's environment on one Linux machine, end to end.
 *
 * host ext3 on a loop device (the lab's host disk, direct I/O on its backing file)
 *   └─ images/vmK.raw|qcow2 ── ext3 inside ── guest (KVM, else TCG; or the loop stand-in)
 *        └─ ffsb-lite under strace, guest block trace (capture/guest-capture.sh)
 * while the host records the block tracepoints of its loop disk. Writes a capture bundle.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CaptureManifest } from '../capture/manifest.js';
import { UsageError } from '../util/errors.js';
import { Cleanup, have, LabInterrupted, sh } from './exec.js';
import { prepareGuestKernel, type GuestKernel } from './guest-kernel.js';
import { collectGuests, collectHost, writeLabManifest } from './lab-collect.js';
import { type LabBackend, type LabRun } from './lab-context.js';
import { makeGuestImages, prepareHostDisk, remountHostCold } from './lab-disks.js';
import { runLoopGuest, runVmGuests, startHostRecording, stopHostRecording } from './lab-guests.js';
import { checkOptions, type LabOptions } from './options.js';
import { cleanupDeadRuns, RunState } from './state.js';
import { tracefsRoot } from './tracefs.js';
import { chooseAccel } from './vm.js';

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

/** Which guest backend runs (KVM, TCG or the loop stand-in) and why; the guest kernel and qemu for a VM. */
async function chooseBackend(
  o: LabOptions,
  capture: string,
  hostKernel: string,
  log: (s: string) => void,
  cleanup: Cleanup,
): Promise<Pick<LabRun, 'backend' | 'reason' | 'kernel' | 'qemuVersion'>> {
  let backend: LabBackend = 'loop';
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
  return { backend, reason, kernel, qemuVersion };
}

/**
 * The run, phase by phase: the workload binary and the backend, the host disk and the guest images
 * on it, the guests under the host's block trace, then the bundle and its manifest. Resources are
 * recorded with `cleanup` as they are acquired; runLab releases them in reverse order.
 */
async function labRun(
  o: LabOptions,
  argvText: string,
  log: (s: string) => void,
  cleanup: Cleanup,
  rc: RunContext,
): Promise<CaptureManifest> {
  const ffsb = buildWorkload(o.cache, rc.capture);
  await cleanup.checkpoint();
  const chosen = await chooseBackend(o, rc.capture, rc.hostKernel, log, cleanup);
  const run: LabRun = { o, argvText, log, cleanup, ...rc, ffsb, ...chosen };

  const disk = await prepareHostDisk(run);
  const guests = makeGuestImages(run, disk);
  await cleanup.checkpoint();
  remountHostCold(run, disk);

  const rec = startHostRecording(run, disk);
  let loopGuest: { path: string; detach: () => void } | null = null;
  if (run.backend === 'loop') loopGuest = await runLoopGuest(run, disk, rec, guests[0]!);
  else await runVmGuests(run, disk, rec, run.backend, guests);
  const stopped = await stopHostRecording(run, rec, loopGuest);

  const manifestGuests = collectGuests(run, disk, guests, rec);
  const hostCap = collectHost(run, disk, rec, stopped);
  return writeLabManifest(run, disk, guests, manifestGuests, hostCap);
}
