/**
 * Open a disk for reading the guest's bytes, whatever holds them: a raw image or block device, a
 * qcow2 image (with its backing chain), a partition of either, or a .gz/.xz/.zst copy of any of
 * these. The format is recognised by magic bytes, never by the file name; files are opened
 * read-only.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockSource, RangeBlockSource, type BlockSource } from '../io/block-source.js';
import { detectCompression, openInputStream, readHead } from '../io/input-stream.js';
import { InputError, UsageError } from '../util/errors.js';
import { ImageChain, type OpenChainOptions } from './image-chain.js';
import { findPartition, readPartitionTable } from './partitions.js';
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
    throw new UsageError(`${path} is ${compression}-compressed: random access needs it decompressed (openDiskAsync does that into a temporary file)`);
  }
  const format = opts.format ?? 'auto';
  let disk: BlockSource;
  const head = readHead(path, 4);
  const isQcow2 = format === 'qcow2' || (format === 'auto' && head.length === 4 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb);
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
  const compression = detectCompression(readHead(path, 6));
  if (compression === 'none') return openDisk(path, opts);
  if ((opts.format ?? 'auto') !== 'raw' && await compressedIsQcow2(path)) {
    throw new UsageError(`${path}: a compressed qcow2 image cannot be read with its backing files in place; decompress it next to them first`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'iolineage-disk-'));
  const tmp = join(dir, 'disk.raw');
  try {
    const fd = openSync(tmp, 'w');
    let size = 0;
    try {
      for await (const chunk of openInputStream(path)) {
        writeSparse(fd, chunk, size);
        size += chunk.length;
      }
    } catch (e) {
      throw new InputError(path, `cannot decompress: ${e instanceof Error ? e.message : String(e)}`, { what: `${compression} stream` }, { cause: e });
    } finally {
      closeSync(fd);
    }
    // set the length (a trailing hole is not written)
    const fd2 = openSync(tmp, 'r+');
    try { (await import('node:fs')).ftruncateSync(fd2, size); } finally { closeSync(fd2); }
    const disk = new FileBlockSource(tmp, path);
    return opts.partition === undefined ? disk : openPartition(disk, opts.partition);
  } finally {
    // the open descriptor keeps the data; nothing is left behind on disk
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compressedIsQcow2(path: string): Promise<boolean> {
  for await (const chunk of openInputStream(path)) {
    return chunk.length >= 4 && chunk[0] === 0x51 && chunk[1] === 0x46 && chunk[2] === 0x49 && chunk[3] === 0xfb;
  }
  return false;
}

const ZERO_RUN = 4096;

/** Write chunk at file position pos, leaving 4 KiB blocks of zeros as holes. */
function writeSparse(fd: number, chunk: Uint8Array, pos: number): void {
  let i = 0;
  while (i < chunk.length) {
    const end = Math.min(chunk.length, i + ZERO_RUN);
    let zero = true;
    for (let k = i; k < end; k++) if (chunk[k] !== 0) { zero = false; break; }
    if (!zero) writeSync(fd, chunk, i, end - i, pos + i);
    i = end;
  }
}
