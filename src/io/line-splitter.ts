/**
 * Frames text into lines without creating a string per line: each line is reported as a range
 * [start, end) of a larger string, with its 1-based line number. CR before LF is dropped.
 * One core serves both the in-memory and the streaming readers, so they cannot drift apart.
 */
import type { InputStream } from './input-stream.js';

/** Called once per line; `text.slice(start, end)` is the line without its terminator. */
export type LineHandler = (text: string, start: number, end: number, lineNo: number) => void;

export class LineSplitter {
  private fragment = '';
  private lineNo = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  constructor(private readonly onLine: LineHandler) {}

  /** Number of complete lines reported so far. */
  get lines(): number { return this.lineNo; }

  pushBytes(chunk: Uint8Array): void {
    this.pushText(this.decoder.decode(chunk, { stream: true }));
  }

  pushText(chunk: string): void {
    const text = this.fragment.length ? this.fragment + chunk : chunk;
    let start = 0;
    let nl = text.indexOf('\n', start);
    const onLine = this.onLine;
    while (nl !== -1) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text, start, end, ++this.lineNo);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.fragment = start < text.length ? text.slice(start) : '';
  }

  /** Report a last line that had no terminator. */
  finish(): void {
    const rest = this.fragment + this.decoder.decode();
    this.fragment = '';
    if (rest.length) {
      const end = rest.charCodeAt(rest.length - 1) === 13 ? rest.length - 1 : rest.length;
      this.onLine(rest, 0, end, ++this.lineNo);
    }
  }
}

/** Run `onLine` over every line of an in-memory string. */
export function forEachLineOfText(text: string, onLine: LineHandler): number {
  const s = new LineSplitter(onLine);
  s.pushText(text);
  s.finish();
  return s.lines;
}

/** Run `onLine` over every line of a streamed input; `onChunk` is called after each chunk (progress). */
export async function forEachLineOfStream(
  input: InputStream | AsyncIterable<Uint8Array>,
  onLine: LineHandler,
  onChunk?: () => void,
): Promise<number> {
  const s = new LineSplitter(onLine);
  for await (const chunk of input) {
    s.pushBytes(chunk);
    onChunk?.();
  }
  s.finish();
  return s.lines;
}
