/**
 * The lab's disks (lab.ts): the host ext3 on a loop device over a fresh file, and the guests'
 * ext3 images on it.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from './exec.js';
import { attachLoop, makeImage, makePartitionedDisk, mkfsFile, mkfsLoop, mountFs, PARTITION_START_BYTES, workDirPath } from './host.js';
import { type GuestRun, type HostDisk, type LabRun } from './lab-context.js';
import { formatSize, type LabOptions } from './options.js';
import { runDir } from './state.js';

const MiB = 1024 ** 2;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Bytes per workload file, per guest file system, per guest disk and of the host disk. */
function diskSizes(o: LabOptions): { perFile: number; fsBytes: number; diskBytes: number; hostBytes: number } {
  const perFile = Math.floor(o.data / o.files / o.ioSize) * o.ioSize;
  const fsBytes = roundUp(perFile * o.files * 1.25 + 64 * MiB, MiB);
  // a partition table adds 1 MiB before the file system (and GPT 1 MiB after it for its backup)
  const diskBytes =
    fsBytes + (o.guestPartition === 'none' ? 0 : o.guestPartition === 'gpt' ? 2 * PARTITION_START_BYTES : PARTITION_START_BYTES);
  const hostBytes = roundUp(o.vms * diskBytes * (o.imageFormat === 'qcow2' ? 1.15 : 1) + 128 * MiB, MiB);
  return { perFile, fsBytes, diskBytes, hostBytes };
}

/** Create the work directory and the host disk, and mount it (mount points recorded before they are made). */
export async function prepareHostDisk({ o, cleanup }: LabRun): Promise<HostDisk> {
  const work = workDirPath(o.cache);
  if (!o.keep) cleanup.acquire({ kind: 'work-dir', dir: work });
  mkdirSync(work, { recursive: true });
  // host disk: ext3 on a loop device over a fresh file, direct I/O so the loop device behaves like a disk
  const sizes = diskSizes(o);
  const hostFile = join(work, 'host.disk');
  sh('truncate', ['-s', String(sizes.hostBytes), hostFile]);
  const loop = attachLoop(hostFile, true, cleanup);
  mkfsLoop(loop, 'iolineage-host');
  await cleanup.checkpoint();
  // mount points outside the work directory: ext4 records the mount path in the superblock and
  // its journal ("last mounted on"), and a bundle must not carry a path of this machine
  const mnts = join(runDir(), String(process.pid));
  if (existsSync(mnts))
    throw new Error(`${mnts} exists: left by an earlier run that could not be cleaned up (see \`iolineage lab --cleanup\`)`);
  cleanup.acquire({ kind: 'mount-dirs', dir: mnts });
  mkdirSync(mnts, { recursive: true });
  const hostMnt = join(mnts, 'host');
  const umountHost = mountFs(loop.path, hostMnt, 'ext3', cleanup);
  return { work, ...sizes, loop, mnts, hostMnt, umountHost };
}

/** One ext3 image per guest in /images on the host file system, and each guest's capture directory. */
export function makeGuestImages({ o, log, backend }: LabRun, disk: HostDisk): GuestRun[] {
  const { work, fsBytes, hostMnt } = disk;
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
  return guests;
}

/** Cold host page cache for the host fs: unmount and mount again. */
export function remountHostCold({ cleanup }: LabRun, disk: HostDisk): void {
  sh('sync', []);
  disk.umountHost();
  disk.umountHost = mountFs(disk.loop.path, disk.hostMnt, 'ext3', cleanup);
}
