/**
 * Open whatever holds a file system for fs mapping: a raw image or block device, a partition of a
 * disk image (MBR/GPT), a qcow2 image (e2image -Q dumps included), an e2image -r dump, or a
 * .gz/.xz/.zst copy of any of these. Disks, partitions and qcow2 come from src/image/open-disk.ts;
 * compressed copies are decompressed to a sparse private file first (io/decompressed-source.ts).
 */
import { RangeBlockSource, type BlockSource } from '../io/block-source.js';
import { compressionOf, withDecompressedFile } from '../io/decompressed-source.js';
import { openDisk } from '../image/open-disk.js';
import { isQcow2Magic } from '../image/qcow2-header.js';
import { EXT_MAGIC, SUPERBLOCK_OFFSET } from './ext/superblock.js';
import { UsageError } from '../util/errors.js';

export interface OpenFsSourceOptions {
  /** Partition number (1-based) of a partitioned disk image. */
  partition?: number;
  /** Byte offset of the file system on the disk, when there is no partition table to read. */
  offset?: number;
  format?: 'auto' | 'raw' | 'qcow2';
  /** A .gz/.xz/.zst SOURCE: most bytes its decompressed copy may store (DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxDecompressedBytes?: number;
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
      throw new UsageError(
        `${name} is a "normal" e2image file (header magic 0x7f2bb710), which holds no directory or tree blocks: make the dump with \`e2image -r\` (raw) or \`e2image -Q\` (qcow2) instead`,
      );
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

/** Offset of s_magic in the superblock (struct ext4_super_block). */
const S_MAGIC_OFFSET = 0x38;

/**
 * What the start of a decompressed SOURCE must hold, checked before its temporary copy is written:
 * a qcow2 magic, an e2image header (refused by finish with its own message), a partition table's
 * boot signature (MBR and GPT's protective MBR: 55 aa at byte 510), or the ext superblock magic
 * at the file system's offset.
 */
function sourceHead(opts: OpenFsSourceOptions): { bytes: number; check(head: Uint8Array): string | null } {
  const fsAt = (opts.offset ?? 0) + SUPERBLOCK_OFFSET + S_MAGIC_OFFSET;
  return {
    bytes: fsAt + 2,
    check(h) {
      if (isQcow2Magic(h.subarray(0, 4))) return null;
      if (h.length >= 4 && (h[0]! | (h[1]! << 8) | (h[2]! << 16)) + h[3]! * 0x1000000 === E2IMAGE_MAGIC) return null;
      if (h.length >= 512 && h[510] === 0x55 && h[511] === 0xaa) return null;
      if (h.length >= fsAt + 2 && (h[fsAt]! | (h[fsAt + 1]! << 8)) === EXT_MAGIC) return null;
      const found =
        h.length >= fsAt + 2 ? `0x${(h[fsAt]! | (h[fsAt + 1]! << 8)).toString(16).padStart(4, '0')}` : `a stream of ${h.length} bytes`;
      return `expected an ext2/3/4 superblock (s_magic 0xef53 at byte ${fsAt}), a qcow2 image or a partitioned disk, got ${found}`;
    },
  };
}

/** Open `path` read-only as the source of one file system. */
export async function openFsSource(path: string, opts: OpenFsSourceOptions = {}): Promise<FsSource> {
  if (opts.partition !== undefined && opts.offset !== undefined) throw new UsageError('give either --partition or --offset, not both');
  const diskOpts = {
    ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
    ...(opts.format ? { format: opts.format } : {}),
  };
  if (compressionOf(path) === 'none') return finish(openDisk(path, diskOpts), opts, path);
  return withDecompressedFile(
    path,
    (tmp) => {
      const disk = openDisk(tmp, diskOpts);
      // errors name the compressed file the user gave, not the temporary copy
      const named = new RangeBlockSource(disk, 0, disk.size, disk.name.replace(tmp, path));
      const fs = finish(named, opts, path);
      if (disk instanceof RangeBlockSource) fs.partitionOffset = disk.start + (opts.offset ?? 0);
      return fs;
    },
    { head: sourceHead(opts), ...(opts.maxDecompressedBytes !== undefined ? { maxStoredBytes: opts.maxDecompressedBytes } : {}) },
  );
}
