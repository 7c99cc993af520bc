/**
 * Line framing for strace logs, tuned for their content: strace escapes every non-printable or
 * non-ASCII byte of the data it shows (strace(1) "-x"; print_quoted_string in util.c), so a log is
 * ASCII except for paths and strings printed with -e decode or newer `--strings-in-hex=non-ascii`
 * settings. A chunk that is all ASCII (checked with buffer.isAscii, a vector scan) is turned into
 * a one-byte string with latin1 (a copy, no UTF-8 decoding); only other chunks go through
 * TextDecoder. Lines are reported like LineSplitter (io/line-splitter.ts): ranges of the chunk
 * string, CR before LF dropped, 1-based numbers; only a line that spans two chunks is a new string.
 */
import { isAscii } from 'node:buffer';
import type { InputStream } from '../../io/input-stream.js';
import type { LineHandler } from '../../io/line-splitter.js';

export class AsciiLineSplitter {
  private fragment = '';
  private lineNo = 0;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  /** The decoder holds the first bytes of a UTF-8 sequence cut by the chunk boundary. */
  private decoderBusy = false;
  constructor(private readonly onLine: LineHandler) {}

  /** Number of complete lines reported so far. */
  get lines(): number { return this.lineNo; }

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
      if (nl < 0) { this.fragment += text; return; }
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
    if (start < text.length) this.fragment = text.slice(start);
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

/** Run `onLine` over every line of a streamed input; `onChunk` is called after each chunk (progress). */
export async function forEachStraceLineOfStream(input: InputStream | AsyncIterable<Uint8Array>, onLine: LineHandler, onChunk?: () => void): Promise<number> {
  const s = new AsciiLineSplitter(onLine);
  for await (const chunk of input) {
    s.pushBytes(chunk);
    onChunk?.();
  }
  s.finish();
  return s.lines;
}
