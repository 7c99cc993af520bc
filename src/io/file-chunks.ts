/**
 * Chunks of an input file for the text readers (block traces, strace logs). An uncompressed
 * regular file is read with positioned reads into two buffers that are reused (the next read runs
 * while the current chunk is parsed), so a multi-GB trace allocates no memory per chunk (a fresh
 * buffer per chunk costs a page fault per page on first touch: 0.35 s of system time per 160 MiB
 * on a VM here); compressed files, pipes (trace_pipe) and devices go through openInputStream.
 *
 * A chunk stays valid only until the next one is requested: the consumer copies what it keeps
 * (ByteLineFramer copies a partial last line).
 */
import { open } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { openInputStream, type InputStream } from './input-stream.js';
import { InputError } from '../util/errors.js';

/** Bytes per read. */
const CHUNK = 1 << 20;

/** The decompressed bytes of `path` as chunks that may reuse one another's memory (see above). */
export function openFileChunks(path: string, chunkBytes = CHUNK): InputStream {
  const input = openInputStream(path);
  let regular = false;
  try {
    regular = statSync(path).isFile();
  } catch {
    /* openInputStream reports unreadable files */
  }
  if (input.compression !== 'none' || !regular) return input;
  let fileBytesRead = 0;
  return {
    path,
    compression: 'none',
    fileSize: input.fileSize,
    get fileBytesRead() {
      return fileBytesRead;
    },
    async *[Symbol.asyncIterator]() {
      let fh;
      try {
        fh = await open(path, 'r');
      } catch (e) {
        throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      const bufs = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
      let k = 0;
      let pending: Promise<{ bytesRead: number }> | null = fh.read(bufs[0]!, 0, chunkBytes, 0);
      try {
        for (;;) {
          let got: number;
          try {
            got = (await pending).bytesRead;
          } catch (e) {
            pending = null;
            const msg = e instanceof Error ? e.message : String(e);
            throw new InputError(path, `cannot read file: ${msg}`, { offset: fileBytesRead }, { cause: e });
          }
          pending = null;
          if (got === 0) break;
          const cur = bufs[k]!;
          fileBytesRead += got;
          k ^= 1;
          pending = fh.read(bufs[k]!, 0, chunkBytes, fileBytesRead);
          yield cur.subarray(0, got);
        }
      } finally {
        // a consumer that stops early leaves a read in flight: let it settle before closing
        if (pending) await pending.catch(() => undefined);
        await fh.close();
      }
    },
  };
}
