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

/** Zero runs shorter than this are written out; longer aligned ones become holes. */
const HOLE_GRANULE = 4096;

/** Compression of a file, from its magic bytes. */
export function compressionOf(path: string): Compression {
  return detectCompression(readHead(path, 6));
}

/**
 * Decompress `path` into a sparse temporary file and call `use(tempPath)` while it exists (e.g. to
 * open it); the file is deleted when `use` returns or throws. Whatever `use` opened stays readable.
 */
export async function withDecompressedFile<T>(path: string, use: (tempPath: string, size: number) => T): Promise<T> {
  const compression = compressionOf(path);
  const dir = mkdtempSync(join(tmpdir(), 'iolineage-'));
  const tmp = join(dir, 'decompressed.img');
  try {
    const fd = openSync(tmp, 'w');
    let size = 0;
    try {
      for await (const chunk of openInputStream(path)) {
        writeNonZero(fd, chunk, size);
        size += chunk.length;
      }
      ftruncateSync(fd, size);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(path, `cannot decompress (${compression}) after a clean start: ${e instanceof Error ? e.message : String(e)}`, { what: `${compression} stream` }, { cause: e });
    } finally {
      closeSync(fd);
    }
    return use(tmp, size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A compressed image as a read-only BlockSource (named after the compressed file). */
export async function openDecompressedSource(path: string): Promise<BlockSource> {
  return withDecompressedFile(path, (tmp) => new FileBlockSource(tmp, path));
}

function writeNonZero(fd: number, chunk: Uint8Array, pos: number): void {
  // granules are aligned to the file position so holes line up with file-system blocks
  let i = 0;
  while (i < chunk.length) {
    const end = Math.min(chunk.length, i + HOLE_GRANULE - ((pos + i) % HOLE_GRANULE));
    let zero = true;
    for (let k = i; k < end; k++) if (chunk[k] !== 0) { zero = false; break; }
    if (!zero) {
      // coalesce consecutive non-zero granules into one write
      let stop = end;
      while (stop < chunk.length) {
        const next = Math.min(chunk.length, stop + HOLE_GRANULE);
        let z = true;
        for (let k = stop; k < next; k++) if (chunk[k] !== 0) { z = false; break; }
        if (z) break;
        stop = next;
      }
      let done = 0;
      while (done < stop - i) done += writeSync(fd, chunk, i + done, stop - i - done, pos + i + done);
      i = stop;
    } else {
      i = end;
    }
  }
}
