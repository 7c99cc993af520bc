/**
 * Column builders: values go into fixed-size typed-array chunks, so no object is made per row and
 * no array is reallocated. Each chunk becomes one Arrow record batch; every column of a table uses
 * the same chunk size, so batch boundaries line up as long as each row sets every column.
 */

import type { BatchSpill, SpilledChunk } from './batch-spill.js';

/** Typed arrays use the platform byte order: Int64 halves can be written as two Uint32 words on little-endian machines. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Arrays a builder's owner promises hold zeros only and are never written (shared chunks of a
 * column with no value, e.g. block-event-chunk.ts zeros()): a spilled chunk that is one of them
 * is not written to the scratch file, and reads back as zeros.
 */
const KNOWN_ZEROS = new WeakSet<object>();
export function registerZeros(a: ArrayBufferView): void {
  KNOWN_ZEROS.add(a);
}

/** Rows per chunk (= per Arrow record batch). */
export const CHUNK_ROWS = 1 << 17;
/**
 * Slots of a builder's first array: it doubles up to CHUNK_ROWS as rows come, so a small table
 * (a short trace, one of many) does not take a full chunk per column; later chunks start full.
 */
const FIRST_SLOTS = 1 << 10;

type TypedArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | Float64Array;
type TypedArrayCtor<A extends TypedArray> = { new (n: number): A };

/** One chunk as a record batch takes it: values trimmed to its rows, validity (null: all valid). */
export interface ChunkView<A> {
  values: A;
  validity: Uint8Array | null;
  nullCount: number;
}

/**
 * Chunk storage shared by all builders: full chunks plus the current one, and a validity bitmap per
 * chunk. Full chunks may be moved to a scratch file (spillChunk): their slots then hold empty
 * placeholders, and reads and writes of their rows go through the file.
 */
abstract class ChunkedBuilder<A extends TypedArray> {
  readonly chunks: A[] = [];
  readonly validity: (Uint8Array | null)[] = [];
  readonly nullCounts: number[] = [];
  protected cur: A;
  protected curValid: Uint8Array | null = null;
  protected curNulls = 0;
  protected i = 0;
  /** Where spilled chunk c went (undefined: in memory). */
  private readonly spilled: (SpilledChunk | undefined)[] = [];
  private spill: BatchSpill | null = null;
  private scratchValues: A | null = null;
  private scratchValid: Uint8Array | null = null;
  constructor(protected readonly ctor: TypedArrayCtor<A>) {
    this.cur = new ctor(FIRST_SLOTS);
  }

  /** Move full chunk `c` to `spill`; its memory is released. */
  spillChunk(c: number, spill: BatchSpill): void {
    if (c >= this.chunks.length || this.spilled[c]) throw new Error(`spillChunk: chunk ${c} is not a full chunk in memory`);
    const values = this.chunks[c]!;
    const valid = this.validity[c] ?? null;
    // a shared array of zeros (registerZeros) is not written: valuesAt -1 reads back as zeros
    const valuesAt = KNOWN_ZEROS.has(values) && values.length === CHUNK_ROWS ? -1 : spill.append(values);
    this.spilled[c] = { valuesAt, validityAt: valid ? spill.append(valid) : -1 };
    this.spill = spill;
    this.chunks[c] = new this.ctor(0);
    if (valid) this.validity[c] = new Uint8Array(0);
  }

  /** A new zero-filled chunk of this column's array type (CHUNK_ROWS slots, for appendChunk; or fewer). */
  newChunk(slots = CHUNK_ROWS): A {
    return new this.ctor(slots);
  }

  /** Whether chunk c lives in the scratch file. */
  isSpilled(c: number): boolean {
    return this.spilled[c] !== undefined;
  }

  /** Chunks, the last one possibly short (an empty builder has one empty chunk). */
  get chunkCount(): number {
    return this.chunks.length + (this.i > 0 || this.chunks.length === 0 ? 1 : 0);
  }

  /**
   * Chunk k as a record batch takes it. A spilled chunk is read into arrays this builder reuses:
   * the view is valid until the next call.
   */
  chunkView(k: number): ChunkView<A> {
    if (k === this.chunks.length) {
      return {
        values: this.cur.subarray(0, this.i) as A,
        validity: this.curValid ? this.curValid.subarray(0, (this.i + 7) >> 3) : null,
        nullCount: this.curNulls,
      };
    }
    const ref = this.spilled[k];
    if (!ref) return { values: this.chunks[k]!, validity: this.validity[k] ?? null, nullCount: this.nullCounts[k]! };
    const values = this.spilledValues(ref);
    let validity: Uint8Array | null = null;
    if (ref.validityAt >= 0) {
      validity = this.scratchValid ??= new Uint8Array(CHUNK_ROWS >> 3);
      this.spill!.read(ref.validityAt, validity);
    }
    return { values, validity, nullCount: this.nullCounts[k]! };
  }

  /** The values of a spilled chunk, read into an array this builder reuses. */
  private spilledValues(ref: SpilledChunk): A {
    const values = (this.scratchValues ??= new this.ctor(CHUNK_ROWS));
    if (ref.valuesAt < 0) new Uint8Array(values.buffer, values.byteOffset, values.byteLength).fill(0);
    else this.spill!.read(ref.valuesAt, values);
    return values;
  }

  /** The value at row `row` (0 for nulls); one value of a spilled chunk is read from its file. */
  protected valueAt(row: number): A[number] {
    const c = Math.floor(row / CHUNK_ROWS);
    const r = row % CHUNK_ROWS;
    const ref = this.spilled[c];
    if (!ref) return (c < this.chunks.length ? this.chunks[c]! : this.cur)[r]!;
    const one = new this.ctor(1);
    if (ref.valuesAt < 0) return one[0]!;
    this.spill!.read(ref.valuesAt + r * one.BYTES_PER_ELEMENT, one);
    return one[0]!;
  }

  /** Overwrite the value at row `row` (in the scratch file when its chunk is there). */
  protected setValueAt(row: number, v: A[number]): void {
    const c = Math.floor(row / CHUNK_ROWS);
    const r = row % CHUNK_ROWS;
    const ref = this.spilled[c];
    if (!ref) {
      (c < this.chunks.length ? this.chunks[c]! : this.cur)[r] = v;
      return;
    }
    const one = new this.ctor(1);
    one[0] = v;
    // a chunk of zeros that was never written gets its values now
    if (ref.valuesAt < 0) ref.valuesAt = this.spill!.append(new this.ctor(CHUNK_ROWS));
    this.spill!.rewrite(ref.valuesAt + r * one.BYTES_PER_ELEMENT, one);
  }

  /**
   * Replace `from` by `to` in rows [start, end), a chunk at a time (spilled chunks are read,
   * changed and written back). Returns the rows changed.
   */
  replaceInRange(start: number, end: number, from: A[number], to: A[number]): number {
    let changed = 0;
    for (let c = Math.floor(start / CHUNK_ROWS); c * CHUNK_ROWS < end; c++) {
      const ref = this.spilled[c];
      const a = ref ? this.spilledValues(ref) : c < this.chunks.length ? this.chunks[c]! : this.cur;
      const lo = Math.max(start - c * CHUNK_ROWS, 0);
      const hi = Math.min(end - c * CHUNK_ROWS, CHUNK_ROWS);
      let here = 0;
      for (let r = lo; r < hi; r++)
        if (a[r] === from) {
          a[r] = to;
          here++;
        }
      if (ref && here > 0) {
        if (ref.valuesAt < 0) ref.valuesAt = this.spill!.append(a);
        else this.spill!.rewrite(ref.valuesAt, a);
      }
      changed += here;
    }
    return changed;
  }

  /** Rows pushed so far. */
  get length(): number {
    return this.chunks.length * CHUNK_ROWS + this.i;
  }

  /** Make room for one more row: a larger current array (the first chunk grows), or a new chunk. */
  protected grow(): void {
    if (this.cur.length >= CHUNK_ROWS) {
      this.roll();
      return;
    }
    const next = new this.ctor(Math.min(CHUNK_ROWS, this.cur.length * 2));
    next.set(this.cur as never);
    this.cur = next;
  }

  protected roll(): void {
    this.chunks.push(this.cur);
    this.validity.push(this.curValid);
    this.nullCounts.push(this.curNulls);
    this.cur = new this.ctor(CHUNK_ROWS);
    this.curValid = null;
    this.curNulls = 0;
    this.i = 0;
  }

  /** Append a null (the value slot holds 0). */
  pushNull(): void {
    if (this.i === this.cur.length) this.grow();
    if (!this.curValid) {
      // all rows so far in this chunk were valid
      this.curValid = new Uint8Array(CHUNK_ROWS >> 3);
      for (let k = 0; k < this.i; k++) this.curValid[k >> 3]! |= 1 << (k & 7);
    }
    this.curNulls++;
    this.i++;
  }

  protected markValid(): void {
    const v = this.curValid;
    if (v) v[this.i >> 3]! |= 1 << (this.i & 7);
  }

  /**
   * Append a chunk filled elsewhere (a reader that fills several columns in lock-step, without a
   * call per value). The builder must be at a chunk boundary. A chunk of CHUNK_ROWS values is
   * taken as is; a shorter `length` must be the last one (it becomes the current chunk). The
   * chunk array must have CHUNK_ROWS slots; `validity` (bit set = valid) is null when all are valid.
   */
  appendChunk(values: A, length: number, validity: Uint8Array | null, nullCount: number): void {
    if (this.i !== 0) throw new Error(`appendChunk: builder holds ${this.i} rows past a chunk boundary`);
    if (values.length !== CHUNK_ROWS || length > CHUNK_ROWS) throw new Error(`appendChunk: expected a chunk of ${CHUNK_ROWS} slots`);
    if (length === CHUNK_ROWS) {
      this.chunks.push(values);
      this.validity.push(validity);
      this.nullCounts.push(nullCount);
    } else {
      this.cur = values;
      this.curValid = validity;
      this.curNulls = nullCount;
      this.i = length;
    }
  }

  /** The chunks trimmed to their lengths, with validity and null counts (all in memory). */
  finishChunks(): { values: A[]; validity: (Uint8Array | null)[]; nullCounts: number[] } {
    if (this.spilled.length > 0)
      throw new Error('finishChunks: chunks of this builder are in a scratch file; write it with writeTableBuilder');
    const values = this.chunks.slice();
    const validity = this.validity.slice();
    const nullCounts = this.nullCounts.slice();
    if (this.i > 0 || values.length === 0) {
      values.push(this.cur.subarray(0, this.i) as A);
      validity.push(this.curValid ? this.curValid.subarray(0, (this.i + 7) >> 3) : null);
      nullCounts.push(this.curNulls);
    }
    return { values, validity, nullCounts };
  }
}

/** Builder for 8/16/32-bit integer and float64 columns. */
export class NumberColumnBuilder<A extends Exclude<TypedArray, BigInt64Array>> extends ChunkedBuilder<A> {
  push(v: number): void {
    if (this.i === this.cur.length) this.grow();
    this.cur[this.i] = v;
    if (this.curValid) this.markValid();
    this.i++;
  }
  /** Value at row `row` (0 for nulls). */
  get(row: number): number {
    return this.valueAt(row) as number;
  }
  /** Overwrite the value at row `row` (e.g. a completion time filled in later). */
  set(row: number, v: number): void {
    this.setValueAt(row, v);
  }
}

/** Builder for int64 columns (BigInt64Array chunks). Numbers must be safe integers. */
export class Int64ColumnBuilder extends ChunkedBuilder<BigInt64Array> {
  constructor() {
    super(BigInt64Array);
  }
  /** Append a value; a number that is not an integer throws (BigInt() refuses it). */
  push(v: number | bigint): void {
    if (this.i === this.cur.length) this.grow();
    this.cur[this.i] = typeof v === 'bigint' ? v : BigInt(v);
    if (this.curValid) this.markValid();
    this.i++;
  }
  /**
   * Append a safe integer without making a BigInt (hot loops: about 8x faster than push). The
   * caller guarantees Number.isSafeInteger(v); the two 32-bit halves are stored directly.
   */
  pushSafeInteger(v: number): void {
    if (this.i === this.cur.length) this.grow();
    if (LITTLE_ENDIAN) {
      let w = this.curWords;
      if (w === null || w.buffer !== this.cur.buffer)
        w = this.curWords = new Uint32Array(this.cur.buffer, this.cur.byteOffset, this.cur.length * 2);
      const k = this.i << 1;
      w[k] = v >>> 0;
      w[k + 1] = Math.floor(v / 4294967296) >>> 0;
    } else {
      this.cur[this.i] = BigInt(v);
    }
    if (this.curValid) this.markValid();
    this.i++;
  }
  private curWords: Uint32Array | null = null;
  get(row: number): bigint {
    return this.valueAt(row);
  }
  set(row: number, v: bigint): void {
    this.setValueAt(row, v);
  }
}

/** Builder for bool columns (one byte per row while building, bit-packed on output). */
export class BoolColumnBuilder extends ChunkedBuilder<Uint8Array> {
  constructor() {
    super(Uint8Array);
  }
  push(v: boolean): void {
    if (this.i === this.cur.length) this.grow();
    this.cur[this.i] = v ? 1 : 0;
    if (this.curValid) this.markValid();
    this.i++;
  }
}

/**
 * Builder for string columns, dictionary-encoded: each distinct string is stored once and rows
 * hold int32 keys. `intern` returns a key a hot loop can cache and push with `pushKey`.
 */
export class StringColumnBuilder extends ChunkedBuilder<Int32Array | Int16Array | Int8Array> {
  readonly dictionary: string[] = [];
  private readonly keys = new Map<string, number>();
  private readonly maxKeys: number;
  constructor(
    index: 'int8' | 'int16' | 'int32' = 'int32',
    private readonly column = 'string column',
  ) {
    super(index === 'int8' ? Int8Array : index === 'int16' ? Int16Array : Int32Array);
    this.maxKeys = index === 'int8' ? 0x80 : index === 'int16' ? 0x8000 : 0x7fffffff;
  }
  intern(s: string): number {
    let k = this.keys.get(s);
    if (k === undefined) {
      k = this.dictionary.length;
      if (k >= this.maxKeys) throw new RangeError(`${this.column}: more than ${this.maxKeys} distinct values`);
      this.dictionary.push(s);
      this.keys.set(s, k);
    }
    return k;
  }
  push(s: string): void {
    this.pushKey(this.intern(s));
  }
  pushKey(k: number): void {
    if (this.i === this.cur.length) this.grow();
    this.cur[this.i] = k;
    if (this.curValid) this.markValid();
    this.i++;
  }
  get(row: number): string | null {
    const c = Math.floor(row / CHUNK_ROWS);
    const view = this.isSpilled(c) ? this.chunkView(c) : null;
    const a = view ? view.values : c < this.chunks.length ? this.chunks[c]! : this.cur;
    const v = view ? view.validity : c < this.validity.length ? this.validity[c] : this.curValid;
    const r = row % CHUNK_ROWS;
    if (v && !(v[r >> 3]! & (1 << (r & 7)))) return null;
    return this.dictionary[a[r]!]!;
  }
}

export type AnyColumnBuilder =
  | NumberColumnBuilder<Int8Array>
  | NumberColumnBuilder<Int16Array>
  | NumberColumnBuilder<Int32Array>
  | NumberColumnBuilder<Uint8Array>
  | NumberColumnBuilder<Uint16Array>
  | NumberColumnBuilder<Uint32Array>
  | NumberColumnBuilder<Float64Array>
  | Int64ColumnBuilder
  | BoolColumnBuilder
  | StringColumnBuilder;
