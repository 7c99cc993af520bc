/**
 * Reading one binary blktrace file (blktrace-binary.ts): its bytes streamed chunk by chunk, the
 * record layout (byte order, version) found from the first record's magic.
 */
import { openInputStream, type InputStream } from '../../io/input-stream.js';
import { InputError } from '../../util/errors.js';

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** BLK_IO_TRACE_MAGIC (blktrace_api.h): the top 24 bits of the magic word. */
export const MAGIC = 0x65617400;
export const VERSION_7 = 0x07;
export const VERSION_8 = 0x08;
export const HEADER_7 = 48;
export const HEADER_8 = 64;
/** Bytes of a new chunk joined to the tail of the previous one: more than the longest record (64 + 65535). */
const JOIN_BYTES = HEADER_8 + 0x10000;

/** Reading state of one input file: the undecoded bytes, their file offset and byte order. */
export class FileCursor {
  buf = new Uint8Array(0);
  view = new DataView(this.buf.buffer);
  /** 32-bit words of the whole ArrayBuffer under buf, for aligned little-endian reads on little-endian hosts. */
  words = new Uint32Array(0);
  /** Whether `words` may be used: file and host little-endian, and buf starts 4-byte aligned. */
  fast = false;
  /** Position of the next record in buf. */
  pos = 0;
  /** File offset of buf[0] (decompressed bytes). */
  base = 0;
  le = true;
  version = 0;
  header = HEADER_7;
  done = false;
  /** Length of the record at pos when complete and valid, else 0. */
  headLen = 0;
  headHi = 0;
  headLo = 0;
  readonly it: AsyncIterator<Uint8Array>;
  readonly input: InputStream;
  constructor(readonly path: string) {
    this.input = openInputStream(path);
    this.it = this.input[Symbol.asyncIterator]();
  }

  /**
   * The chunk after a joined buffer: buf holds the unread tail of the previous chunk followed by
   * the first bytes of `next` (enough for any record that straddles the boundary), and reading
   * moves on to `next` itself once past `joinAt`. So a chunk is never copied whole.
   */
  next: Uint8Array | null = null;
  joinAt = 0;

  /** Append the next chunk after the unread bytes; false at the end of the file. */
  async fill(): Promise<boolean> {
    if (this.next !== null) {
      this.switchToNext();
      return true;
    }
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = r.value;
    const rest = this.buf.length - this.pos;
    this.base += this.pos;
    if (rest === 0) {
      this.buf = chunk;
    } else {
      const take = Math.min(chunk.length, JOIN_BYTES);
      const b = new Uint8Array(rest + take);
      b.set(this.buf.subarray(this.pos), 0);
      b.set(chunk.subarray(0, take), rest);
      this.buf = b;
      if (take < chunk.length) {
        this.next = chunk;
        this.joinAt = rest;
      }
    }
    this.pos = 0;
    this.setViews();
    return true;
  }

  /** Continue in `next`: its byte 0 is at joinAt in the joined buffer. */
  switchToNext(): void {
    const next = this.next!;
    this.next = null;
    this.base += this.joinAt;
    this.pos -= this.joinAt;
    this.buf = next;
    this.setViews();
  }

  private setViews(): void {
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.refreshFast();
  }

  get offset(): number {
    return this.base + this.pos;
  }

  refreshFast(): void {
    this.fast = this.le && HOST_LE && this.header === HEADER_7 && (this.buf.byteOffset & 3) === 0;
    this.words = this.fast ? new Uint32Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength >> 2) : new Uint32Array(0);
  }
}

function magicOk(v: number): boolean {
  return (v & 0xffffff00) >>> 0 === MAGIC;
}

/**
 * Decide the byte order and version from the first record of a file. Throws InputError when the
 * file does not start with a blk_io_trace record.
 */
export function detectLayout(c: FileCursor): void {
  if (c.buf.length - c.pos < 4) {
    if (c.buf.length === 0) throw new InputError(c.path, 'empty file: expected blktrace records (struct blk_io_trace)');
    throw new InputError(c.path, `file too short (${c.buf.length} bytes): expected blktrace records of at least ${HEADER_7} bytes`, {
      offset: 0,
    });
  }
  const le = c.view.getUint32(c.pos, true);
  const be = c.view.getUint32(c.pos, false);
  let magic: number;
  if (magicOk(le)) {
    c.le = true;
    magic = le;
  } else if (magicOk(be)) {
    c.le = false;
    magic = be;
  } else {
    throw new InputError(
      c.path,
      `not a binary blktrace file: expected magic 0x656174xx (struct blk_io_trace), got 0x${le.toString(16).padStart(8, '0')}`,
      { offset: 0, what: 'blk_io_trace record' },
    );
  }
  const version = magic & 0xff;
  if (version === VERSION_7) c.header = HEADER_7;
  else if (version === VERSION_8) c.header = HEADER_8;
  else
    throw new InputError(
      c.path,
      `unsupported blktrace version 0x${version.toString(16).padStart(2, '0')}: expected 0x07 (48-byte records) or 0x08 (64-byte records)`,
      { offset: 0, what: 'blk_io_trace record' },
    );
  c.version = version;
}
