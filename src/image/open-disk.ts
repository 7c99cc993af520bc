/**
 * Open a disk for reading the guest's bytes, whatever holds them: a raw image or block device, a
 * qcow2 image (with its backing chain), a partition of either, or a .gz/.xz/.zst copy of any of
 * these. The format is recognised by magic bytes, never by the file name; files are opened
 * read-only.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { withDecompressedFile } from '../io/decompressed-source.js';
import { FileBlockSource, RangeBlockSource, type BlockSource } from '../io/block-source.js';
import { detectCompression, readHead } from '../io/input-stream.js';
import { UsageError } from '../util/errors.js';
import { ImageChain, type OpenChainOptions } from './image-chain.js';
import { findPartition, readPartitionTable } from './partitions.js';
import { isQcow2Magic } from './qcow2-header.js';
import { Qcow2BlockSource } from './qcow2-source.js';

export interface OpenDiskOptions extends OpenChainOptions {
  /** Partition number (1-based, logical MBR partitions from 5); the whole disk when absent. */
  partition?: number;
}

/**
 * Open `path` as a BlockSource of guest bytes. Compressed files are refused here (they cannot be
 * read at random offsets); use openDiskAsync, which decompresses them to a private temporary file.
 */
export function openDisk(path: string, opts: OpenDiskOptions = {}): BlockSource {
  const compression = detectCompression(readHead(path, 6));
  if (compression !== 'none') {
    throw new UsageError(
      `${path} is ${compression}-compressed: random access needs it decompressed (openDiskAsync does that into a temporary file)`,
    );
  }
  const format = opts.format ?? 'auto';
  let disk: BlockSource;
  const isQcow2 = format === 'qcow2' || (format === 'auto' && isQcow2Magic(readHead(path, 4)));
  if (isQcow2) disk = new Qcow2BlockSource(ImageChain.open(path, { ...opts, format: 'qcow2' }));
  else disk = new FileBlockSource(path);
  if (opts.partition === undefined) return disk;
  return openPartition(disk, opts.partition);
}

/** A partition of an opened disk as its own BlockSource (closing it closes the disk). */
export function openPartition(disk: BlockSource, number: number): BlockSource {
  if (!Number.isInteger(number) || number < 1) {
    disk.close();
    throw new UsageError(`partition "${number}": expected a positive partition number`);
  }
  try {
    const p = findPartition(readPartitionTable(disk), number, disk.name);
    return new RangeBlockSource(disk, p.start, p.size, `${disk.name}#partition ${number}`);
  } catch (e) {
    disk.close();
    throw e;
  }
}

/**
 * Like openDisk, and also accepts .gz/.xz/.zst copies: these are decompressed once into a
 * temporary file (zero blocks are skipped, so the file stays sparse) that is deleted right away
 * and lives as long as the returned source's file descriptor.
 */
export async function openDiskAsync(path: string, opts: OpenDiskOptions = {}): Promise<BlockSource> {
  if (detectCompression(readHead(path, 6)) === 'none') return openDisk(path, opts);
  return withDecompressedFile(path, (tmp) => {
    const format = opts.format ?? 'auto';
    let disk: BlockSource;
    if (format === 'qcow2' || (format === 'auto' && isQcow2Magic(readHead(tmp, 4)))) {
      // backing files are named relative to the compressed file's directory
      const origin = dirname(path);
      disk = new Qcow2BlockSource(
        ImageChain.open(tmp, {
          ...opts,
          format: 'qcow2',
          displayName: path,
          resolveBacking:
            opts.resolveBacking ?? ((stored, from) => (isAbsolute(stored) ? stored : join(from === tmp ? origin : dirname(from), stored))),
        }),
      );
    } else {
      disk = new FileBlockSource(tmp, path);
    }
    return opts.partition === undefined ? disk : openPartition(disk, opts.partition);
  });
}
