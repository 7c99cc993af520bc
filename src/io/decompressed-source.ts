/**
 * Random access to a .gz/.xz/.zst copy of an image: the stream is decompressed once into a private
 * temporary file, writing only blocks that are not all zeros, so the file stays sparse (an
 * `e2image -r` dump of a 1 GiB file system is 1 GiB long but holds a few MiB). The temporary
 * directory is removed as soon as the file is open; the data lives as long as the descriptor, so
 * nothing is left behind even if the process is killed.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockSource, type BlockSource } from './block-source.js';
import { detectCompression, openInputStream, readHead, type Compression } from './input-stream.js';
import { InputError } from '../util/errors.js';
import { formatBytes } from '../util/numbers.js';
import { ioPiece } from './io-limits.js';

/** Zero runs shorter than this are written out; longer aligned ones become holes. */
const HOLE_GRANULE = 4096;

/** Compression of a file, from its magic bytes. */
export function compressionOf(path: string): Compression {
  return detectCompression(readHead(path, 6));
}

/**
 * Most bytes a decompressed copy may store in its temporary file by default (its non-zero blocks:
 * zero runs become holes). A raw image of this much data, or a compression bomb, stops with an
 * error instead of filling the temporary directory.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 4 * 1024 ** 3;

export interface DecompressOptions {
  /** Most bytes the temporary file may store (default DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxStoredBytes?: number;
  /**
   * A check of the first `bytes` decompressed bytes (fewer when the stream is shorter), made
   * before anything is written: `check` returns why they are not what the caller opens (e.g. no
   * superblock magic), or null.
   */
  head?: { bytes: number; check(head: Uint8Array): string | null };
}

/**
 * Decompress `path` into a sparse temporary file and call `use(tempPath)` while it exists (e.g. to
 * open it); the file is deleted when `use` returns or throws. Whatever `use` opened stays readable.
 */
export async function withDecompressedFile<T>(
  path: string,
  use: (tempPath: string, size: number) => T,
  opts: DecompressOptions = {},
): Promise<T> {
  const compression = compressionOf(path);
  const maxStored = opts.maxStoredBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const chunks = openInputStream(path)[Symbol.asyncIterator]();
  const headChunks: Uint8Array[] = [];
  let size = 0;
  let dir: string | undefined;
  try {
    // the head is looked at before a temporary file exists
    if (opts.head) {
      let headLength = 0;
      while (headLength < opts.head.bytes) {
        const r = await nextChunk(chunks, path, compression);
        if (r === null) break;
        headChunks.push(r);
        headLength += r.length;
      }
      const head = concat(headChunks, Math.min(headLength, opts.head.bytes));
      const refusal = opts.head.check(head);
      if (refusal !== null)
        throw new InputError(path, `decompressed ${compression} stream: ${refusal}`, { offset: 0, what: 'decompressed data' });
    }
    dir = mkdtempSync(join(tmpdir(), 'iolineage-'));
    const tmp = join(dir, 'decompressed.img');
    const fd = openSync(tmp, 'wx');
    let stored = 0;
    try {
      for (;;) {
        const chunk = headChunks.shift() ?? (await nextChunk(chunks, path, compression));
        if (chunk === null) break;
        stored += writeNonZero(fd, chunk, size);
        size += chunk.length;
        if (stored > maxStored) {
          throw new InputError(
            path,
            `the decompressed copy would store more than ${formatBytes(maxStored)} of non-zero data in a temporary file (${formatBytes(size)} decompressed so far): expected a file-system image or dump below that; raise the limit (map fs, lookup: --max-decompressed SIZE) or decompress the file yourself`,
            { what: `${compression} stream` },
          );
        }
      }
      ftruncateSync(fd, size);
    } finally {
      closeSync(fd);
    }
    return use(tmp, size);
  } finally {
    await chunks.return?.();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** The next decompressed chunk, or null at the end; a decoder failure as an InputError naming the file. */
async function nextChunk(chunks: AsyncIterator<Uint8Array>, path: string, compression: Compression): Promise<Uint8Array | null> {
  try {
    const r = await chunks.next();
    return r.done ? null : r.value;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      path,
      `cannot decompress (${compression}) after a clean start: ${e instanceof Error ? e.message : String(e)}`,
      { what: `${compression} stream` },
      { cause: e },
    );
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    if (at >= length) break;
    out.set(p.subarray(0, length - at), at);
    at += p.length;
  }
  return out;
}

/** A compressed image as a read-only BlockSource (named after the compressed file). */
export async function openDecompressedSource(path: string, opts: DecompressOptions = {}): Promise<BlockSource> {
  return withDecompressedFile(path, (tmp) => new FileBlockSource(tmp, path), opts);
}

/** A granule of zeros to compare against (Buffer.compare is a native memcmp). */
const ZEROS = new Uint8Array(HOLE_GRANULE);
const isZero = (chunk: Uint8Array, from: number, to: number): boolean =>
  Buffer.compare(chunk.subarray(from, to), ZEROS.subarray(0, to - from)) === 0;

/** Write the non-zero granules of `chunk` at file position `pos`; returns the bytes written. */
function writeNonZero(fd: number, chunk: Uint8Array, pos: number): number {
  let written = 0;
  // granules are aligned to the file position so holes line up with file-system blocks
  let i = 0;
  while (i < chunk.length) {
    const end = Math.min(chunk.length, i + HOLE_GRANULE - ((pos + i) % HOLE_GRANULE));
    if (!isZero(chunk, i, end)) {
      // coalesce consecutive non-zero granules into one write
      let stop = end;
      while (stop < chunk.length) {
        const next = Math.min(chunk.length, stop + HOLE_GRANULE);
        if (isZero(chunk, stop, next)) break;
        stop = next;
      }
      let done = 0;
      while (done < stop - i) done += writeSync(fd, chunk, i + done, ioPiece(stop - i - done), pos + i + done);
      written += done;
      i = stop;
    } else {
      i = end;
    }
  }
  return written;
}
