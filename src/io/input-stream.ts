/**
 * Streams the bytes of an input file, decompressing .gz, .xz and .zst transparently. The
 * compression is recognised by magic bytes, not by the file name:
 *   gzip: 1f 8b (RFC 1952 section 2.3.1), several members allowed
 *   xz:   fd 37 7a 58 5a 00 (xz file format 1.0.4, section 2.1.1.1), decoded by the xz tool
 *   zstd: 28 b5 2f fd (RFC 8878 section 3.1.1)
 */
import { createReadStream, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../util/errors.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

/** Recognise the compression of a buffer from its first bytes. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (
    head.length >= 6 &&
    head[0] === 0xfd &&
    head[1] === 0x37 &&
    head[2] === 0x7a &&
    head[3] === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0x00
  )
    return 'xz';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Read the first `n` bytes of a file (fewer if it is shorter). */
export function readHead(path: string, n: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    // a directory opens read-only; reading it fails with EISDIR
    if (fstatSync(fd).isDirectory()) throw new InputError(path, 'is a directory: expected a file');
    const buf = new Uint8Array(n);
    let got: number;
    try {
      got = readSync(fd, buf, 0, n, 0);
    } catch (e) {
      throw new InputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** A file opened for streaming: its decompressed bytes, and progress over the raw file. */
export interface InputStream extends AsyncIterable<Uint8Array> {
  readonly path: string;
  readonly compression: Compression;
  /** Size of the file on disk (compressed size when compressed); 0 for pipes and devices of unknown size. */
  readonly fileSize: number;
  /** Bytes of the file on disk consumed so far: for progress reporting. */
  readonly fileBytesRead: number;
}

const CHUNK = 1 << 20;

/**
 * Open a file as a stream of decompressed chunks (of about `chunkBytes`, 1 MiB by default: less
 * for many streams read side by side). The file is opened read-only.
 */
export function openInputStream(path: string, chunkBytes = CHUNK): InputStream {
  const head = readHead(path, 6);
  const compression = detectCompression(head);
  let fileSize = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      fileSize = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    /* readHead already reported unreadable files */
  }
  let fileBytesRead = 0;
  const stream: InputStream = {
    path,
    compression,
    fileSize,
    get fileBytesRead() {
      return fileBytesRead;
    },
    async *[Symbol.asyncIterator]() {
      const raw = createReadStream(path, { highWaterMark: chunkBytes, flags: 'r' });
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const b of raw as AsyncIterable<Buffer>) {
          fileBytesRead += b.length;
          yield b;
        }
      }
      let source: AsyncIterable<Uint8Array>;
      let child: ReturnType<typeof spawn> | null = null;
      if (compression === 'gzip') {
        // pipeline, not pipe: a read error of the file reaches the consumer through the gunzip
        // stream, and a consumer that stops early (a format probe) tears down both streams
        // without an unhandled 'error' event. The consumer sees errors via the iterator.
        source = pipeline(Readable.from(counted()), createGunzip({ chunkSize: chunkBytes }), () => {});
      } else if (compression === 'xz') {
        // No npm package decodes xz streams reliably in-process (xz-decompress fails at stream
        // ends and serialises all streams through one context), so the xz tool does it.
        raw.destroy();
        child = spawnXz(path);
        source = child.stdout as AsyncIterable<Uint8Array>;
      } else if (compression === 'zstd') {
        source = zstdChunks(counted());
      } else {
        source = counted();
      }
      try {
        for await (const chunk of source) yield chunk as Uint8Array;
        if (child) await xzExit(child, path);
      } catch (e) {
        if (e instanceof InputError) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        throw new InputError(
          path,
          `cannot read ${compression === 'none' ? 'file' : compression + ' stream'}: ${msg}`,
          { offset: fileBytesRead },
          { cause: e },
        );
      } finally {
        raw.destroy();
        child?.kill();
        // returned only once the file is closed: a consumer that stops early leaves no open fd and
        // no stream that could still emit
        // (errors of the teardown itself, such as the iterator's AbortError, are not the consumer's)
        if (!raw.closed) {
          raw.on('error', () => {});
          await new Promise<void>((resolve) => raw.once('close', () => resolve()));
        }
      }
    },
  };
  return stream;
}

function spawnXz(path: string): ReturnType<typeof spawn> {
  const child = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    if (err.length < 500) err += b.toString();
  });
  (child as unknown as { errText: () => string }).errText = () => err.trim();
  return child;
}

function xzExit(child: ReturnType<typeof spawn>, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (code: number | null) => {
      if (code === 0) resolve();
      else
        reject(
          new InputError(
            path,
            `xz could not decompress it: ${(child as unknown as { errText: () => string }).errText() || 'exit ' + code}`,
          ),
        );
    };
    if (child.exitCode !== null) done(child.exitCode);
    else {
      child.once('close', done);
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new InputError(
            path,
            e.code === 'ENOENT' ? 'is xz-compressed, and reading it needs the xz tool (Debian package xz-utils)' : `xz: ${e.message}`,
          ),
        ),
      );
    }
  });
}

async function* zstdChunks(raw: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const fzstd = await import('fzstd');
  const out: Uint8Array[] = [];
  const d = new fzstd.Decompress((chunk: Uint8Array) => {
    out.push(chunk);
  });
  for await (const b of raw) {
    d.push(b);
    while (out.length) yield out.shift()!;
  }
  d.push(new Uint8Array(0), true);
  while (out.length) yield out.shift()!;
}

/** Read a whole (possibly compressed) file into memory. For small inputs: metadata, manifests. */
export async function readInputBytes(path: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of openInputStream(path)) {
    parts.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
