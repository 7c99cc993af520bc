/**
 * The line driver shared by the byte-parsing text readers: it frames a (possibly compressed) file
 * or an in-memory text into lines (ByteLineFramer: no decoding, no string per line) and hands
 * every line to one handler. In-memory text is encoded to UTF-8 here, once, so the readers have a
 * single grammar over bytes whatever the input was.
 */
import type { InputStream } from '../../io/input-stream.js';
import { openFileChunks } from '../../io/file-chunks.js';
import { ByteLineFramer, type ByteLineHandler } from '../../io/byte-line-framer.js';

/**
 * Work around one file's read: called with the input's size on disk before the first chunk; the
 * function it returns (if any) runs after the last line, also when reading failed.
 */
export type AroundRead = (fileSize: number) => (() => Promise<void>) | null;

/** Hand every line of the file at `path` to `onLine`. */
export async function driveFileLines(
  path: string,
  onLine: ByteLineHandler,
  onProgress?: (input: InputStream) => void,
  around?: AroundRead,
): Promise<void> {
  const input = openFileChunks(path);
  const framer = new ByteLineFramer(path, onLine);
  const after = around?.(input.fileSize) ?? null;
  try {
    for await (const chunk of input) {
      framer.push(chunk);
      onProgress?.(input);
    }
    framer.finish();
  } finally {
    if (after) await after();
  }
}

/** Hand every line of a text held in memory to `onLine`; `file` names it in messages. */
export function driveTextLines(text: string | Uint8Array, file: string, onLine: ByteLineHandler): void {
  const framer = new ByteLineFramer(file, onLine);
  framer.push(typeof text === 'string' ? new TextEncoder().encode(text) : text);
  framer.finish();
}
