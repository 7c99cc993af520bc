/**
 * Frames byte chunks into lines without decoding them, for readers that parse bytes directly
 * (the block text readers, the strace byte lane). The string-based twin for other text is
 * LineSplitter (line-splitter.ts); both refuse lines longer than MAX_LINE_BYTES.
 *
 * Shaped for a handler that runs per line at millions of lines per second: every line is handed
 * over in a plain Uint8Array (never a Buffer), so the handler's element loads see one array type;
 * and the loop over the lines of a chunk is a method of its own whose only code after the loop is
 * `return`: V8 compiles that loop on stack replacement during the first chunk and reuses the code
 * for every later chunk, where code after the loop without type feedback at that point would
 * bail out of it once per chunk.
 */
import { InputError } from '../util/errors.js';

/** Longest line accepted in a text input (a guard against binary files and runaway lines). */
export const MAX_LINE_BYTES = 1 << 20;

/** Called once per line with its byte range [s, e) (no terminator, CR dropped) and 1-based number. */
export type ByteLineHandler = (bytes: Uint8Array, s: number, e: number, lineNo: number) => void;

/**
 * Frames byte chunks into lines without decoding them: lines are reported as ranges of the chunk
 * (only a line that spans two chunks is copied). Throws InputError past MAX_LINE_BYTES, so a
 * binary or corrupt file cannot make a line grow without bound.
 */
export class ByteLineFramer {
  private carry = new Uint8Array(256);
  private carryLen = 0;
  private offset = 0;
  lineNo = 0;
  constructor(
    private readonly file: string,
    private readonly onLine: ByteLineHandler,
  ) {}

  push(input: Uint8Array): void {
    // lines are handed over as plain Uint8Array views whether the input is a Buffer or not, and
    // so is the carry: the handlers then see one array type (monomorphic element access). Line
    // ends are found through a Buffer view of the same bytes (memchr, not a per-element loop).
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const search = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    let start = 0;
    const n = chunk.length;
    if (this.carryLen > 0) {
      const nl = search.indexOf(10);
      const take = nl < 0 ? n : nl;
      this.append(chunk, 0, take);
      if (nl < 0) {
        this.offset += n;
        return;
      }
      this.emit(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      start = nl + 1;
    }
    start = this.lines(chunk, search, start);
    if (start < n) this.append(chunk, start, n);
    this.offset += n;
  }

  /** Hand over the complete lines of `chunk` from `start`; returns where the cut last line starts. */
  private lines(chunk: Uint8Array, search: Buffer, start: number): number {
    const onLine = this.onLine;
    for (let nl = search.indexOf(10, start); nl >= 0; nl = search.indexOf(10, start)) {
      onLine(chunk, start, nl > start && chunk[nl - 1] === 13 ? nl - 1 : nl, ++this.lineNo);
      start = nl + 1;
    }
    return start;
  }

  /** Report a last line without a terminator. */
  finish(): void {
    if (this.carryLen > 0) this.emit(this.carry, 0, this.carryLen);
    this.carryLen = 0;
  }

  private emit(b: Uint8Array, s: number, e: number): void {
    if (e > s && b[e - 1] === 13) e--;
    this.onLine(b, s, e, ++this.lineNo);
  }

  private append(chunk: Uint8Array, s: number, e: number): void {
    const len = this.carryLen + e - s;
    if (len > MAX_LINE_BYTES) {
      throw new InputError(this.file, `not a text trace: line ${this.lineNo + 1} is longer than ${MAX_LINE_BYTES} bytes`, {
        offset: this.offset + s - this.carryLen,
        what: 'line',
      });
    }
    if (len > this.carry.length) {
      const bigger = new Uint8Array(Math.max(len, this.carry.length * 2, 256));
      bigger.set(this.carry.subarray(0, this.carryLen));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(s, e), this.carryLen);
    this.carryLen = len;
  }
}
