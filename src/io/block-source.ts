/**
 * A random-access, read-only source of bytes: a file-system image, a block device, a partition of
 * a disk image, the guest disk inside a qcow2 file, an e2image dump. Readers of on-disk formats
 * take a BlockSource, never a path, so the same ext reader works on all of them.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, formatOffset } from '../util/errors.js';
import { ioPiece } from './io-limits.js';

export interface BlockSource {
  /** Name used in error messages (file name, plus a suffix like "#partition 2"). */
  readonly name: string;
  /** Size in bytes of the addressable content. */
  readonly size: number;
  /**
   * Read `length` bytes at `offset`. Reading past `size` is an InputError naming `what`.
   * The returned array may be a view into a cache: do not modify it.
   */
  read(offset: number, length: number, what?: string): Uint8Array;
  close(): void;
}

/** Throw the standard "beyond the end" error for a source. */
export function checkRange(src: { name: string; size: number }, offset: number, length: number, what?: string): void {
  if (offset < 0 || length < 0 || !Number.isSafeInteger(offset) || offset + length > src.size) {
    throw new InputError(
      src.name,
      `read of ${length} bytes at ${formatOffset(offset)} is beyond the end (size ${formatOffset(src.size)})`,
      { offset, ...(what ? { what } : {}) },
    );
  }
}

/** A regular file or block device, opened read-only. */
export class FileBlockSource implements BlockSource {
  readonly name: string;
  readonly size: number;
  private fd: number;
  constructor(path: string, name = path) {
    this.name = name;
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new InputError(path, `cannot open read-only: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const st = fstatSync(this.fd);
    if (st.isDirectory()) {
      closeSync(this.fd);
      throw new InputError(path, 'is a directory: expected an image file or a block device');
    }
    this.size = st.isBlockDevice() ? blockDeviceSize(this.fd) : st.size;
  }
  read(offset: number, length: number, what?: string): Uint8Array {
    checkRange(this, offset, length, what);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, ioPiece(length - done), offset + done);
      if (n === 0)
        throw new InputError(this.name, `unexpected end of file after ${formatOffset(offset + done)}`, {
          offset: offset + done,
          ...(what ? { what } : {}),
        });
      done += n;
    }
    return buf;
  }
  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Size of a block device: fstat reports 0, so find the end by probing reads (binary search). */
function blockDeviceSize(fd: number): number {
  const one = new Uint8Array(1);
  const readable = (off: number) => {
    try {
      return readSync(fd, one, 0, 1, off) === 1;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = 1;
  while (readable(hi - 1)) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 52) break;
  }
  // invariant: byte lo-1 readable (or lo = 0), byte hi-1 not readable
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (readable(mid - 1)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A byte range of another source (a partition, a file system at an offset). */
export class RangeBlockSource implements BlockSource {
  readonly name: string;
  constructor(
    private readonly base: BlockSource,
    readonly start: number,
    readonly size: number,
    name?: string,
  ) {
    this.name = name ?? `${base.name}@${start}`;
    checkRange(base, start, size, 'partition bounds');
  }
  read(offset: number, length: number, what?: string): Uint8Array {
    checkRange(this, offset, length, what);
    return this.base.read(this.start + offset, length, what);
  }
  close(): void {
    this.base.close();
  }
}
