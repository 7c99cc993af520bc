/**
 * Frames text into lines without creating a string per line: each line is reported as a range
 * [start, end) of a larger string, with its 1-based line number. CR before LF is dropped.
 * One core serves both the in-memory and the streaming readers, so they cannot drift apart.
 *
 * Trace text is almost always ASCII (strace escapes every non-printable or non-ASCII byte it
 * shows, print_quoted_string in strace's util.c; tracefs and blkparse print numbers and comms): a
 * chunk that is all ASCII (buffer.isAscii, a vector scan) becomes a one-byte string through latin1
 * with no UTF-8 decoding; only other chunks go through TextDecoder. Only a line that spans two
 * chunks is made into a string of its own.
 */
import { isAscii } from 'node:buffer';
import { MAX_LINE_BYTES } from './byte-line-framer.js';
import type { InputStream } from './input-stream.js';
import { InputError } from '../util/errors.js';

/** Called once per line; `text.slice(start, end)` is the line without its terminator. */
export type LineHandler = (text: string, start: number, end: number, lineNo: number) => void;

export class LineSplitter {
  private fragment = '';
  private lineNo = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  /** The decoder holds the first bytes of a UTF-8 sequence cut by the chunk boundary. */
  private decoderBusy = false;
  /** `file` names the input in the error for a line longer than MAX_LINE_BYTES characters. */
  constructor(
    private readonly onLine: LineHandler,
    private readonly file = 'input',
  ) {}

  /** Number of complete lines reported so far. */
  get lines(): number {
    return this.lineNo;
  }

  pushBytes(chunk: Uint8Array): void {
    if (!this.decoderBusy && isAscii(chunk)) {
      this.pushText(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'));
      return;
    }
    this.pushText(this.decoder.decode(chunk, { stream: true }));
    this.decoderBusy = endsInsideSequence(chunk);
  }

  pushText(text: string): void {
    const onLine = this.onLine;
    let start = 0;
    let nl = text.indexOf('\n');
    if (this.fragment.length) {
      // the line that spans the chunk boundary is the only one made into its own string
      if (nl < 0) {
        this.fragment += text;
        this.checkFragment();
        return;
      }
      const line = this.fragment + text.slice(0, nl);
      this.fragment = '';
      const end = line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length;
      onLine(line, 0, end, ++this.lineNo);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl !== -1) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text, start, end, ++this.lineNo);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      this.fragment = text.slice(start);
      this.checkFragment();
    }
  }

  /** A line that never ends (a binary file, a corrupt log) must not grow without bound. */
  private checkFragment(): void {
    if (this.fragment.length > MAX_LINE_BYTES) {
      throw new InputError(this.file, `not a text log: line ${this.lineNo + 1} is longer than ${MAX_LINE_BYTES} characters`, {
        line: this.lineNo + 1,
      });
    }
  }

  /** Report a last line that had no terminator. */
  finish(): void {
    const rest = this.fragment + (this.decoderBusy ? this.decoder.decode() : '');
    this.fragment = '';
    this.decoderBusy = false;
    if (rest.length) {
      const end = rest.charCodeAt(rest.length - 1) === 13 ? rest.length - 1 : rest.length;
      this.onLine(rest, 0, end, ++this.lineNo);
    }
  }
}

/**
 * Whether the bytes end inside a UTF-8 sequence (a lead byte without all its continuation bytes):
 * then the streaming decoder keeps them for the next chunk, which must go through it too.
 */
function endsInsideSequence(b: Uint8Array): boolean {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k]!;
    if (c < 0x80) return false;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return need > k;
    }
  }
  return false;
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
  const s = new LineSplitter(onLine, 'path' in input ? input.path : 'input');
  for await (const chunk of input) {
    s.pushBytes(chunk);
    onChunk?.();
  }
  s.finish();
  return s.lines;
}
