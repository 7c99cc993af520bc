/**
 * Frames strace input bytes into lines for the byte lane: lines are ranges of the chunk (only a
 * line cut by a chunk boundary is copied), CR before LF is dropped, a last line without a line
 * break is reported by finish(). Same contract and limit as ByteLineFramer (src/io), shaped for a
 * handler that runs per line at a million lines per second:
 *
 *  - every line is handed over in a plain Uint8Array (never a Buffer), so the handler's element
 *    loads see one array type;
 *  - the loop over the lines of a chunk is a method of its own whose only code after the loop is
 *    `return`: V8 compiles that loop on stack replacement during the first chunk and reuses that
 *    code for every later chunk, and any code after the loop that had no type feedback at that
 *    point would bail out of it once per chunk.
 */
import { Buffer } from 'node:buffer';
import { MAX_LINE_BYTES, type ByteLineHandler } from '../../io/byte-line-framer.js';
import { InputError } from '../../util/errors.js';

export class StraceLineFramer {
  private carry = new Uint8Array(256);
  private carryLen = 0;
  /** Bytes of the input before the current chunk (for the error offset). */
  private offset = 0;
  lineNo = 0;
  constructor(private readonly file: string, private readonly onLine: ByteLineHandler) {}

  push(input: Uint8Array): void {
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    // line ends through a Buffer view of the same bytes: Buffer#indexOf is memchr
    const search = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const n = chunk.length;
    let start = 0;
    if (this.carryLen > 0) {
      const nl = search.indexOf(10);
      this.append(chunk, 0, nl < 0 ? n : nl);
      if (nl < 0) { this.offset += n; return; }
      this.emit(this.carry, this.carryLen);
      this.carryLen = 0;
      start = nl + 1;
    }
    start = this.lines(chunk, search, start);
    if (start < n) this.append(chunk, start, n);
    this.offset += n;
  }

  /** Report a last line without a terminator. */
  finish(): void {
    if (this.carryLen > 0) this.emit(this.carry, this.carryLen);
    this.carryLen = 0;
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

  private emit(b: Uint8Array, e: number): void {
    if (e > 0 && b[e - 1] === 13) e--;
    this.onLine(b, 0, e, ++this.lineNo);
  }

  private append(chunk: Uint8Array, s: number, e: number): void {
    const len = this.carryLen + e - s;
    if (len > MAX_LINE_BYTES) {
      throw new InputError(this.file, `not a text trace: line ${this.lineNo + 1} is longer than ${MAX_LINE_BYTES} bytes`, { offset: this.offset + s - this.carryLen, what: 'line' });
    }
    if (len > this.carry.length) {
      const bigger = new Uint8Array(Math.max(len, this.carry.length * 2));
      bigger.set(this.carry.subarray(0, this.carryLen));
      this.carry = bigger;
    }
    this.carry.set(chunk.subarray(s, e), this.carryLen);
    this.carryLen = len;
  }
}
