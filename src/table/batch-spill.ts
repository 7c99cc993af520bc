/**
 * A scratch file for the full chunks of a TableBuilder, so that a table much larger than memory
 * can be built and then written as an Arrow file one record batch at a time (writeTableBuilder in
 * arrow-file.ts). The file is unlinked as soon as it is open: it takes disk space only while its
 * descriptor is open, and nothing is left behind when the process dies. Chunks are written once
 * and read back whole; a few values may be rewritten in place (a task renamed after its rows
 * left memory).
 */
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { ioPiece } from '../io/io-limits.js';

/** Where one chunk of one column went: byte offsets of its values and of its validity bitmap (-1: none). */
export interface SpilledChunk {
  valuesAt: number;
  validityAt: number;
}

/**
 * A scratch file, open for reading and writing and already unlinked: a new file only, never
 * through a symlink planted at its name. Close the descriptor to free its space.
 */
export function openScratchFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    throw new InputError(path, `cannot create a scratch file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  unlinkSync(path);
  return fd;
}

/** Bytes [0, size) of a file by its descriptor, into one array. */
export function readWholeFd(fd: number, size: number, path: string): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size;) {
    const n = readSync(fd, bytes, at, ioPiece(size - at), at);
    if (n === 0) throw new InputError(path, `scratch file ended at byte ${at} of ${size}`);
    at += n;
  }
  return bytes;
}

export class BatchSpill {
  private fd: number;
  private end = 0;
  constructor(readonly path: string) {
    this.fd = openScratchFile(path);
  }

  /** Append the bytes of a typed array; returns its offset in the file. */
  append(a: ArrayBufferView): number {
    const at = this.end;
    this.write(at, a);
    this.end += a.byteLength;
    return at;
  }

  /** Fill `into` (all of it) from offset `at`. */
  read(at: number, into: ArrayBufferView): void {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    for (let done = 0; done < bytes.length;) {
      let n: number;
      try {
        n = readSync(this.fd, bytes, done, ioPiece(bytes.length - done), at + done);
      } catch (e) {
        throw this.failed('read', e);
      }
      if (n === 0)
        throw new InputError(this.path, `scratch file ends at byte ${at + done}, ${bytes.length - done} bytes short of what was written`);
      done += n;
    }
  }

  /** Overwrite bytes at offset `at` (values written before). */
  rewrite(at: number, from: ArrayBufferView): void {
    this.write(at, from);
  }

  private write(at: number, a: ArrayBufferView): void {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    try {
      for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, ioPiece(bytes.length - done), at + done);
    } catch (e) {
      throw this.failed('write', e);
    }
  }

  /** A write or read error of the scratch file (a full disk: ENOSPC) as an error naming it. */
  private failed(what: string, e: unknown): InputError {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return new InputError(
      this.path,
      `cannot ${what} the scratch file of the table being written (${code}${code === 'ENOSPC' ? ': the output directory needs about as much free space again as the table' : ''})`,
      undefined,
      { cause: e },
    );
  }

  /** Bytes held in the file. */
  get size(): number {
    return this.end;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
