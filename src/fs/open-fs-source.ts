/**
 * Open whatever holds a file system for fs mapping: a raw image or block device, a partition of a
 * disk image (MBR/GPT), a qcow2 image (e2image -Q dumps included), an e2image -r dump, or a
 * .gz/.xz/.zst copy of any of these. Disks, partitions and qcow2 come from src/image/open-disk.ts;
 * compressed copies are decompressed to a sparse private file first (io/decompressed-source.ts).
 */
import { RangeBlockSource, type BlockSource } from '../io/block-source.js';
import { compressionOf, withDecompressedFile } from '../io/decompressed-source.js';
import { openDisk } from '../image/open-disk.js';
import { UsageError } from '../util/errors.js';

export interface OpenFsSourceOptions {
  /** Partition number (1-based) of a partitioned disk image. */
  partition?: number;
  /** Byte offset of the file system on the disk, when there is no partition table to read. */
  offset?: number;
  format?: 'auto' | 'raw' | 'qcow2';
}

export interface FsSource {
  source: BlockSource;
  /** Byte offset of the file system on the disk whose sectors fs_map reports. */
  partitionOffset: number;
}

/** Magic of the "normal" e2image format (e2image without -r/-Q; lib/ext2fs/e2image.h). */
const E2IMAGE_MAGIC = 0x7f2bb710;

function finish(disk: BlockSource, opts: OpenFsSourceOptions, name: string): FsSource {
  if (disk.size >= 4) {
    const h = disk.read(0, 4, 'header');
    if ((h[0]! | (h[1]! << 8) | (h[2]! << 16)) + h[3]! * 0x1000000 === E2IMAGE_MAGIC) {
      disk.close();
      throw new UsageError(`${name} is a "normal" e2image file (header magic 0x7f2bb710), which holds no directory or tree blocks: make the dump with \`e2image -r\` (raw) or \`e2image -Q\` (qcow2) instead`);
    }
  }
  let source = disk;
  let partitionOffset = 0;
  if (disk instanceof RangeBlockSource) partitionOffset = disk.start;
  if (opts.offset !== undefined) {
    if (!Number.isSafeInteger(opts.offset) || opts.offset < 0 || opts.offset % 512 !== 0 || opts.offset >= disk.size) {
      disk.close();
      throw new UsageError(`--offset ${opts.offset}: expected a multiple of 512 below the disk size ${disk.size}`);
    }
    source = new RangeBlockSource(disk, opts.offset, disk.size - opts.offset, `${name}@${opts.offset}`);
    partitionOffset += opts.offset;
  }
  return { source, partitionOffset };
}

/** Open `path` read-only as the source of one file system. */
export async function openFsSource(path: string, opts: OpenFsSourceOptions = {}): Promise<FsSource> {
  if (opts.partition !== undefined && opts.offset !== undefined) throw new UsageError('give either --partition or --offset, not both');
  const diskOpts = { ...(opts.partition !== undefined ? { partition: opts.partition } : {}), ...(opts.format ? { format: opts.format } : {}) };
  if (compressionOf(path) === 'none') return finish(openDisk(path, diskOpts), opts, path);
  return withDecompressedFile(path, (tmp) => {
    const disk = openDisk(tmp, diskOpts);
    // errors name the compressed file the user gave, not the temporary copy
    const named = new RangeBlockSource(disk, 0, disk.size, disk.name.replace(tmp, path));
    const fs = finish(named, opts, path);
    if (disk instanceof RangeBlockSource) fs.partitionOffset = disk.start + (opts.offset ?? 0);
    return fs;
  });
}
