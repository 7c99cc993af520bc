/**
 * Options of `iolineage lab`, with their defaults and checks.
 */
import type { HostCacheMode, ImageFormat } from '../capture/manifest.js';
import { UsageError } from '../util/errors.js';
import { parseSize } from '../util/numbers.js';

export type BackendChoice = 'auto' | 'kvm' | 'tcg' | 'loop';

export interface LabOptions {
  /** `auto`: KVM if it runs the guest, else TCG. `loop`: no VM. Default `auto`. */
  backend: BackendChoice;
  /** Memory of each VM, bytes. Default 256 MiB. */
  vmMem: number;
  /** vCPUs per VM. Default 1. */
  vcpus: number;
  /** Total size of the workload's file set, bytes. Default 192 MiB. */
  data: number;
  /** Number of files in the file set. Default 8. */
  files: number;
  /** O_DIRECT in the random phase. Default false. */
  direct: boolean;
  /** QEMU cache mode of the image file. Default writeback. */
  hostCache: HostCacheMode;
  /** Guest image format. Default raw. */
  imageFormat: ImageFormat;
  /** Partition table on each guest disk (`mbr`, `gpt`: the ext3 in one partition from sector 2048). Default none. */
  guestPartition: 'none' | 'mbr' | 'gpt';
  /** VMs run at once. Default 1. */
  vms: number;
  /** Random operations per VM. Default 10000. */
  ops: number;
  /** Size of each random I/O, bytes. Default 4096. */
  ioSize: number;
  /** Fraction of reads. Default 0.5. */
  readFraction: number;
  /** Stop the random phase after this many seconds (0 = none). Default 0. */
  duration: number;
  /** Drop the guest's page cache between creating the file set and the random phase (VM backends).
   * Default false: the random phase starts with whatever the creation left in the guest's cache,
   * which is what makes guest memory matter. */
  dropCaches: boolean;
  /** Workload seed (VM k uses seed + k). Default 1. */
  seed: number;
  /** Output bundle directory (must not exist or be empty). */
  out: string;
  /** Cache for the kernel package, initramfs, work files. */
  cache: string;
  /** Keep the work directory (images) after the run. Default false. */
  keep: boolean;
  /** Time limit for each VM, seconds. Default 1800. */
  timeout: number;
}

/** Parse a size like `512M`, `1G`, `4096`, `64KiB` (binary units); lab sizes are positive. */
export function parsePositiveSize(text: string, what: string): number {
  const v = parseSize(text, what);
  if (v <= 0) throw new UsageError(`${what}: size out of range: "${text}"`);
  return v;
}

/** Format bytes with a binary unit, e.g. 134217728 → "128M". */
export function formatSize(n: number): string {
  for (const [u, f] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (n >= f && n % f === 0) return `${n / f}${u}`;
  }
  return String(n);
}

/** Check combinations that cannot work, with a message saying why. */
export function checkOptions(o: LabOptions): void {
  if (o.vms < 1 || !Number.isInteger(o.vms)) throw new UsageError(`--vms: expected a positive integer, got ${o.vms}`);
  if (o.backend === 'loop' && o.vms !== 1) throw new UsageError('--backend loop runs one stand-in guest: use --vms 1');
  if (o.ioSize % 512 !== 0) throw new UsageError(`--io-size: expected a multiple of 512, got ${o.ioSize}`);
  if (o.files < 1) throw new UsageError(`--files: expected at least 1, got ${o.files}`);
  const per = Math.floor(o.data / o.files);
  if (per < o.ioSize)
    throw new UsageError(`--data ${o.data} over ${o.files} files gives ${per}-byte files, smaller than --io-size ${o.ioSize}`);
  if (o.readFraction < 0 || o.readFraction > 1) throw new UsageError(`--read-fraction: expected 0..1, got ${o.readFraction}`);
  if (o.backend === 'loop' && o.guestPartition !== 'none')
    throw new UsageError('--guest-partition needs a VM backend (the loop stand-in mounts the image file itself)');
  if (o.vmMem < 64 * 1024 ** 2) throw new UsageError(`--vm-mem: the guest needs at least 64M, got ${o.vmMem}`);
}
