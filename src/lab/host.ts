/**
 * The lab's host side: an ext3 file system on a loop device over a fresh file (the lab's "host
 * disk"), the guest image files on it, and the host metadata saved afterwards. Only devices the
 * lab created itself are ever formatted, and never while mounted.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ImageFormat } from '../capture/manifest.js';
import { type Cleanup, pipeline, sh } from './exec.js';
import type { LoopResource } from './state.js';

/** A block device the lab created and may format. */
export interface LoopDisk {
  /** `/dev/loopN` */
  path: string;
  /** `loopN` */
  name: string;
  /** `MAJ:MIN` */
  dev: string;
  /** File behind the loop device. */
  backing: string;
}

/** Mount points in /proc/mounts whose source is `dev` (resolving symlinks). */
export function mountsOf(dev: string): string[] {
  const want = resolve(dev);
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[0] === want || f[0] === dev)
    .map((f) => f[1]!.replace(/\\040/g, ' '));
}

/**
 * Refuse to format or write a device unless it is a loop device over `expectedBacking` (a file
 * the lab created) and is not mounted anywhere.
 * @throws Error naming the device and the reason
 */
export function assertSafeToFormat(devPath: string, expectedBacking: string): void {
  const mounts = mountsOf(devPath);
  if (mounts.length) throw new Error(`refusing to format ${devPath}: it is mounted on ${mounts.join(', ')}`);
  const name = devPath.replace(/^\/dev\//, '');
  const backFile = `/sys/block/${name}/loop/backing_file`;
  if (!/^loop\d+$/.test(name) || !existsSync(backFile)) {
    throw new Error(`refusing to format ${devPath}: the lab only formats loop devices it attached itself`);
  }
  const back = readFileSync(backFile, 'utf8').trim();
  if (resolve(back) !== resolve(expectedBacking)) {
    throw new Error(`refusing to format ${devPath}: it is backed by ${back}, not by the lab's file ${expectedBacking}`);
  }
}

/** Attach a loop device over `file` (recorded before, detached again by `cleanup`). */
export function attachLoop(file: string, directIo: boolean, cleanup: Cleanup): LoopDisk & { detach: () => void } {
  const args = ['-f', '--show'];
  if (directIo) args.push('--direct-io=on');
  // recorded by its backing file before attaching: a run killed in between leaves nothing unrecorded
  const res: LoopResource = { kind: 'loop', backing: realpathSync(file) };
  const detach = cleanup.acquire(res);
  const path = sh('losetup', [...args, file]).trim();
  res.dev = path;
  cleanup.recorded();
  const name = path.replace('/dev/', '');
  const dev = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
  return { path, name, dev, backing: file, detach };
}

/** Mount (recorded before, unmounted by `cleanup`); returns the unmount function. */
export function mountFs(dev: string, dir: string, type: string, cleanup: Cleanup): () => void {
  mkdirSync(dir, { recursive: true });
  const umount = cleanup.acquire({ kind: 'mount', dir: realpathSync(dir) });
  sh('mount', ['-t', type, dev, dir]);
  return umount;
}

/** Make an ext2/3/4 file system in a regular file (not a device) of `bytes` bytes. */
export function mkfsFile(file: string, bytes: number, type: 'ext2' | 'ext3' | 'ext4', label: string): void {
  sh('truncate', ['-s', String(bytes), file]);
  sh('mke2fs', ['-q', '-F', '-t', type, '-b', '4096', '-L', label, file]);
}

/** Make an ext3 file system on a loop device the lab created. */
export function mkfsLoop(disk: LoopDisk, label: string): void {
  assertSafeToFormat(disk.path, disk.backing);
  sh('mke2fs', ['-q', '-F', '-t', 'ext3', '-b', '4096', '-L', label, disk.path]);
}

/**
 * Put a guest file system (made in `fsFile`, elsewhere) into an image file on the host fs.
 * raw: copied block by block with dd, so every block of the image is allocated on the host fs
 * (mke2fs on the image itself would leave holes). qcow2: converted by qemu-img (allocates on write).
 */
export function makeImage(fsFile: string, image: string, format: ImageFormat): void {
  if (format === 'raw') {
    sh('dd', [`if=${fsFile}`, `of=${image}`, 'bs=1M', 'conv=fsync', 'status=none']);
  } else {
    sh('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', fsFile, image]);
  }
}

/** Where a partitioned guest disk puts its file system: sector 2048 (1 MiB), as fdisk and sfdisk align by default. */
export const PARTITION_START_BYTES = 2048 * 512;

/**
 * A whole guest disk made of the file system in `fsFile` behind a partition table written by
 * sfdisk: one partition from sector 2048 holding the file system (MBR type 83, GPT type "Linux
 * filesystem" 0FC63DAF-8483-4772-8E79-3D69D8477DE4). GPT keeps its backup header and entries in
 * the last 33 sectors (UEFI 2.10 section 5.3.1), so the disk ends 1 MiB after the partition.
 */
export function makePartitionedDisk(fsFile: string, diskFile: string, scheme: 'mbr' | 'gpt'): void {
  const fsBytes = fileSize(fsFile);
  if (fsBytes % 512 !== 0) throw new Error(`${fsFile}: size ${fsBytes} is not a multiple of 512`);
  const tail = scheme === 'gpt' ? PARTITION_START_BYTES : 0;
  sh('truncate', ['-s', String(PARTITION_START_BYTES + fsBytes + tail), diskFile]);
  const type = scheme === 'gpt' ? '0FC63DAF-8483-4772-8E79-3D69D8477DE4' : '83';
  const script = `label: ${scheme === 'gpt' ? 'gpt' : 'dos'}\nstart=${PARTITION_START_BYTES / 512}, size=${fsBytes / 512}, type=${type}\n`;
  pipeline(`printf '${script}' | sfdisk -q '${diskFile}'`);
  sh('dd', [
    `if=${fsFile}`,
    `of=${diskFile}`,
    'bs=1M',
    `seek=${PARTITION_START_BYTES / (1024 * 1024)}`,
    'conv=notrunc,fsync',
    'status=none',
  ]);
}

/** `blockdev`-style facts of a disk from sysfs. */
export function diskFacts(name: string): { logical: number; physical: number; size: number } {
  const r = (p: string) => Number(readFileSync(`/sys/block/${name}/${p}`, 'utf8').trim());
  return { logical: r('queue/logical_block_size'), physical: r('queue/physical_block_size'), size: r('size') * 512 };
}

/** Block size of an ext file system (dumpe2fs -h). */
export function fsBlockSize(devOrFile: string, offsetBytes = 0): number {
  // "NAME?offset=N": the unix I/O manager's option for a file system inside a disk (lib/ext2fs/unix_io.c)
  const out = sh('dumpe2fs', ['-h', offsetBytes ? `${devOrFile}?offset=${offsetBytes}` : devOrFile], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const m = /^Block size:\s+(\d+)/m.exec(out);
  if (!m) throw new Error(`dumpe2fs -h ${devOrFile}: no "Block size" line`);
  return Number(m[1]);
}

/** Save `e2image -r` of a file system (device or raw image file), gzip-compressed. */
export function saveE2image(src: string, out: string, offsetBytes = 0): void {
  pipeline(`e2image -r${offsetBytes ? ` -o ${offsetBytes}` : ''} '${src}' - | gzip -6 -n > '${out}'`);
}

/** Size of a file in bytes. */
export function fileSize(p: string): number {
  return statSync(p).size;
}

/** Work directory for one lab run inside the cache (not created). */
export function workDirPath(cache: string): string {
  return resolve(cache, 'work', `${process.pid}-${Date.now()}`);
}
