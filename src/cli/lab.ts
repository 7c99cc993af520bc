/**
 * `iolineage lab`: build the study's environment on this machine and write a capture bundle.
 */
import { UsageError } from '../util/errors.js';
import { parseCommandArgs } from './args.js';
import { assembleBundle } from '../capture/assemble.js';
import { LabInterrupted } from '../lab/exec.js';
import { defaultCache, runLab } from '../lab/lab.js';
import { cleanupDeadRuns, statesDir } from '../lab/state.js';
import { type BackendChoice, type LabOptions, parsePositiveSize } from '../lab/options.js';

export const help = `usage: iolineage lab [options] -o DIR

Build the seed study's environment on this Linux machine (root) and record all three layers:
a host ext3 file system on a loop device, a guest image file on it with ext3 inside, a guest
(QEMU with KVM, else full emulation TCG; or --backend loop: no VM) running an FFSB-like workload
under strace, guest and host block traces. Writes a capture bundle (manifest.json + files) to DIR.

options:
  -o, --out DIR              output bundle directory (must be empty or absent)       (required)
  --backend auto|kvm|tcg|loop  what runs the guest; auto probes KVM, falls back to TCG (default auto)
  --vm-mem SIZE              memory of each VM                                       (default 256M)
  --vcpus N                  vCPUs per VM                                            (default 1)
  --data SIZE                total size of the workload's file set per VM            (default 192M)
  --files N                  files in the file set                                   (default 8)
  --direct                   O_DIRECT in the random phase                            (default buffered)
  --host-cache writeback|none  QEMU cache mode of the image file                     (default writeback)
  --image-format raw|qcow2   guest image format                                      (default raw)
  --guest-partition none|mbr|gpt  partition table on the guest disk, the ext3 in partition 1
                             from sector 2048 (VM backends)                          (default none)
  --vms N                    VMs at once, each with its own image                    (default 1)
  --ops N                    random operations per VM                                (default 10000)
  --io-size SIZE             size of each random I/O                                 (default 4K)
  --read-fraction F          fraction of reads, 0..1                                 (default 0.5)
  --duration SECONDS         stop the random phase after this long (0 = no limit)    (default 0)
  --drop-caches              drop the guest page cache after creating the file set (VMs only)
  --seed N                   workload seed (VM k uses N + k)                         (default 1)
  --cache DIR                kernel package, initramfs, work files  (default $XDG_CACHE_HOME/iolineage)
  --timeout SECONDS          time limit per VM                                       (default 1800)
  --keep                     keep the work directory (images) after the run

  --assemble BUNDLE          instead: write BUNDLE/manifest.json for a capture made with
                             capture/guest-capture.sh + capture/host-capture.sh (see environment.md)
  --cleanup                  instead: release what lab runs that were killed left behind (loop
                             devices, mounts, tracefs instances, processes, work files), as
                             recorded in their state files in $IOLINEAGE_RUN_DIR/runs
                             (default /run/iolineage/runs); every lab run does this first

SIGINT, SIGTERM or SIGHUP stop a run: its processes first, then everything it holds is released;
it exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM).

Example: iolineage lab --vm-mem 128M --data 192M --direct -o captures/m128-direct`;

function num(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`lab: ${what}: expected a number, got "${String(v)}"`);
  return n;
}

function oneOf<T extends string>(v: unknown, what: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly unknown[]).includes(v))
    throw new UsageError(`lab: ${what}: expected one of ${allowed.join(', ')}, got "${String(v)}"`);
  return v as T;
}

export function parseLabArgs(argv: string[]): LabOptions {
  const { values: v, positionals } = parseCommandArgs('lab', argv, {
    out: { type: 'string', short: 'o' },
    backend: { type: 'string' },
    'vm-mem': { type: 'string' },
    vcpus: { type: 'string' },
    data: { type: 'string' },
    files: { type: 'string' },
    direct: { type: 'boolean' },
    'host-cache': { type: 'string' },
    'image-format': { type: 'string' },
    'guest-partition': { type: 'string' },
    vms: { type: 'string' },
    ops: { type: 'string' },
    'io-size': { type: 'string' },
    'read-fraction': { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
    cache: { type: 'string' },
    timeout: { type: 'string' },
    keep: { type: 'boolean' },
    'drop-caches': { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`lab: unexpected argument "${positionals[0]}" (see --help)`);
  if (typeof v.out !== 'string') throw new UsageError('lab: -o DIR is required (see --help)');
  return {
    out: v.out,
    backend: oneOf<BackendChoice>(v.backend, '--backend', ['auto', 'kvm', 'tcg', 'loop'], 'auto'),
    vmMem: v['vm-mem'] === undefined ? 256 * 1024 ** 2 : parsePositiveSize(String(v['vm-mem']), '--vm-mem'),
    vcpus: num(v.vcpus, '--vcpus', 1),
    data: v.data === undefined ? 192 * 1024 ** 2 : parsePositiveSize(String(v.data), '--data'),
    files: num(v.files, '--files', 8),
    direct: v.direct === true,
    hostCache: oneOf(v['host-cache'], '--host-cache', ['writeback', 'none'] as const, 'writeback'),
    imageFormat: oneOf(v['image-format'], '--image-format', ['raw', 'qcow2'] as const, 'raw'),
    guestPartition: oneOf(v['guest-partition'], '--guest-partition', ['none', 'mbr', 'gpt'] as const, 'none'),
    vms: num(v.vms, '--vms', 1),
    ops: num(v.ops, '--ops', 10000),
    ioSize: v['io-size'] === undefined ? 4096 : parsePositiveSize(String(v['io-size']), '--io-size'),
    readFraction: num(v['read-fraction'], '--read-fraction', 0.5),
    duration: num(v.duration, '--duration', 0),
    seed: num(v.seed, '--seed', 1),
    dropCaches: v['drop-caches'] === true,
    cache: typeof v.cache === 'string' ? v.cache : defaultCache(),
    timeout: num(v.timeout, '--timeout', 1800),
    keep: v.keep === true,
  };
}

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '--assemble') {
    if (argv.length !== 2) throw new UsageError('lab --assemble: expected one bundle directory');
    const m = assembleBundle(argv[1]!);
    process.stdout.write(`lab: wrote ${argv[1]}/manifest.json (${m.guests.length} guest(s), host ${m.host ? 'yes' : 'no'})\n`);
    return 0;
  }
  if (argv[0] === '--cleanup') {
    if (argv.length !== 1) throw new UsageError('lab --cleanup: takes no other argument');
    if (process.getuid?.() !== 0) throw new UsageError('lab --cleanup: needs root (umount, losetup, tracefs)');
    const r = cleanupDeadRuns((s) => process.stdout.write(s + '\n'));
    if (r.runs === 0) process.stdout.write(`lab --cleanup: nothing left by earlier runs (${statesDir()})\n`);
    else {
      process.stdout.write(`lab --cleanup: ${r.runs} run(s): ${r.actions.length} released, ${r.failures.length} could not be released\n`);
    }
    return r.failures.length ? 1 : 0;
  }
  const o = parseLabArgs(argv);
  let m;
  try {
    m = await runLab(o, ['iolineage', 'lab', ...argv].join(' '), (s) => process.stderr.write(s + '\n'));
  } catch (e) {
    if (!(e instanceof LabInterrupted)) throw e;
    process.stderr.write(
      e.released
        ? `lab: stopped by ${e.signal}; everything the run held is released\n`
        : `lab: stopped by ${e.signal}; some of what the run held could not be released (see above)\n`,
    );
    return e.exitCode;
  }
  const g = m.guests.map((x) => `${x.id}: ${x.block_trace.lines} guest trace lines`).join(', ');
  process.stdout.write(`lab: wrote ${o.out} (backend ${m.lab?.backend}; ${g}; host ${m.host?.block_trace.lines} lines)\n`);
  return 0;
}
