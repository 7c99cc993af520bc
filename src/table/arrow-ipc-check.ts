/**
 * The lengths of the flatbuffer vectors in an Arrow IPC file, checked against the bytes that must
 * hold them before flechette decodes it: its decoder makes an array of whatever length a vector
 * declares (util/read.js readVector), so one damaged length in a footer or message would take
 * memory out of all proportion to the file. The tables walked are those of the Arrow format's
 * File.fbs (Footer, Block), Message.fbs (Message, RecordBatch, FieldNode, Buffer, DictionaryBatch)
 * and Schema.fbs (Schema, Field, KeyValue, DictionaryEncoding, Union); a flatbuffer table starts
 * with a soffset to its vtable, whose u16 entries give each field's offset (0: absent), and a
 * vector is a u32 length followed by its elements (FlatBuffers "Binary Format").
 */
import { InputError } from '../util/errors.js';

/** How a field of a flatbuffer table is checked; `name` is the field's name in the .fbs file. */
type Slot = { name: string } & (
  | { kind: 'vector'; stride: number }
  | { kind: 'table'; shape: () => Shape }
  | { kind: 'tables'; shape: () => Shape }
  /** A union: the table's shape is chosen by the ubyte field `typeSlot`. */
  | { kind: 'union'; typeSlot: number; shapes: Record<number, () => Shape> }
);
/** Field index → check, for the fields that hold vectors or lead to tables that do. */
type Shape = Record<number, Slot>;

const string = (name: string): Slot => ({ name, kind: 'vector', stride: 1 });
const KeyValue: Shape = { 0: string('key'), 1: string('value') };
const customMetadata: Slot = { name: 'custom_metadata', kind: 'tables', shape: () => KeyValue };
/** Union (Schema.fbs type id 14): typeIds [int]. */
const UnionType: Shape = { 1: { name: 'typeIds', kind: 'vector', stride: 4 } };
const DictionaryEncoding: Shape = { 1: { name: 'indexType', kind: 'table', shape: () => ({}) } };
const Field: Shape = {
  0: string('name'),
  3: { name: 'type', kind: 'union', typeSlot: 2, shapes: { 14: () => UnionType } },
  4: { name: 'dictionary', kind: 'table', shape: () => DictionaryEncoding },
  5: { name: 'children', kind: 'tables', shape: () => Field },
  6: customMetadata,
};
const Schema: Shape = {
  1: { name: 'fields', kind: 'tables', shape: () => Field },
  2: customMetadata,
  3: { name: 'features', kind: 'vector', stride: 8 },
};
/** Block: offset long, metaDataLength int (+4 padding), bodyLength long. */
const BLOCK_BYTES = 24;
const Footer: Shape = {
  1: { name: 'schema', kind: 'table', shape: () => Schema },
  2: { name: 'dictionaries', kind: 'vector', stride: BLOCK_BYTES },
  3: { name: 'recordBatches', kind: 'vector', stride: BLOCK_BYTES },
  4: customMetadata,
};
/** FieldNode and Buffer structs are 16 bytes each. */
const RecordBatch: Shape = {
  1: { name: 'nodes', kind: 'vector', stride: 16 },
  2: { name: 'buffers', kind: 'vector', stride: 16 },
  3: { name: 'compression', kind: 'table', shape: () => ({}) },
  4: { name: 'variadicBufferCounts', kind: 'vector', stride: 8 },
};
const DictionaryBatch: Shape = { 1: { name: 'data', kind: 'table', shape: () => RecordBatch } };
const Message: Shape = {
  2: { name: 'header', kind: 'union', typeSlot: 1, shapes: { 1: () => Schema, 2: () => DictionaryBatch, 3: () => RecordBatch } },
  4: customMetadata,
};

/** Nested fields deeper than this are refused (iolineage writes flat tables). */
const MAX_DEPTH = 64;
const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"

/** Reads a flatbuffer as the Arrow decoders do, every position checked against the bytes (an InputError naming the file when one runs past them). */
export class FlatbufferWalk {
  constructor(
    private readonly b: Uint8Array,
    private readonly file: string,
  ) {}

  private fail(what: string, at: number): InputError {
    return new InputError(this.file, `not a readable Arrow IPC file: ${what} at byte ${at} runs past the end (${this.b.length} bytes)`, {
      offset: at,
      what: 'Arrow flatbuffer',
    });
  }
  need(at: number, bytes: number, what: string): void {
    if (!(at >= 0 && bytes >= 0 && at + bytes <= this.b.length)) throw this.fail(what, at);
  }
  u16(at: number): number {
    this.need(at, 2, 'u16');
    return this.b[at]! | (this.b[at + 1]! << 8);
  }
  u32(at: number): number {
    this.need(at, 4, 'u32');
    return (this.b[at]! | (this.b[at + 1]! << 8) | (this.b[at + 2]! << 16)) + this.b[at + 3]! * 0x1000000;
  }
  i32(at: number): number {
    this.need(at, 4, 'i32');
    return this.b[at]! | (this.b[at + 1]! << 8) | (this.b[at + 2]! << 16) | (this.b[at + 3]! << 24);
  }
  i64(at: number): number {
    return this.u32(at) + this.i32(at + 4) * 0x100000000;
  }

  i16(at: number): number {
    this.need(at, 2, 'i16');
    return ((this.b[at]! | (this.b[at + 1]! << 8)) << 16) >> 16;
  }

  /**
   * Position of field `i` of the table at `t`, or 0 when absent, read as the decoder reads it
   * (flechette util/read.js readObject: signed vtable size and field offsets; a field is present
   * when its slot starts below the vtable's size, even if that size is odd).
   */
  field(t: number, i: number): number {
    const vt = t - this.i32(t);
    const vtBytes = this.i16(vt);
    if (4 + 2 * i >= vtBytes) return 0;
    const off = this.i16(vt + 4 + 2 * i);
    return off ? t + off : 0;
  }

  /** Where the offset at `p` points (flechette readObject and readVector add it signed). */
  target(p: number): number {
    return p + this.i32(p);
  }

  /** The vector a uoffset at `p` points to: its first element and length, checked against the bytes. */
  vector(p: number, stride: number, what: string): { at: number; length: number } {
    const v = this.target(p);
    // a negative length makes an empty array in the decoder (Array.from clamps it to 0)
    const length = Math.max(0, this.i32(v));
    if (length * stride > this.b.length - v - 4) throw this.fail(`${what} of ${length} entries`, v);
    return { at: v + 4, length };
  }

  table(t: number, shape: Shape, what: string, depth: number): void {
    if (depth > MAX_DEPTH)
      throw new InputError(this.file, `not a readable Arrow IPC file: ${what} nested deeper than ${MAX_DEPTH}`, {
        offset: t,
        what: 'Arrow flatbuffer',
      });
    for (const [k, slot] of Object.entries(shape)) {
      const p = this.field(t, Number(k));
      if (!p) continue;
      const name = `${what}.${slot.name}`;
      if (slot.kind === 'vector') this.vector(p, slot.stride, name);
      else if (slot.kind === 'table') this.table(this.target(p), slot.shape(), name, depth + 1);
      else if (slot.kind === 'tables') {
        const v = this.vector(p, 4, name);
        for (let j = 0; j < v.length; j++) {
          const e = v.at + 4 * j;
          this.table(this.target(e), slot.shape(), `${name}[${j}]`, depth + 1);
        }
      } else {
        const tp = this.field(t, slot.typeSlot);
        const type = tp ? (this.need(tp, 1, 'union type'), this.b[tp]!) : 0;
        const shapeOf = slot.shapes[type];
        if (shapeOf) this.table(this.target(p), shapeOf(), name, depth + 1);
      }
    }
  }

  /** The message at `at` (continuation marker, metadata length, flatbuffer); returns where its metadata ends and its body length. */
  message(at: number, what: string): { end: number; bodyLength: number } | null {
    let meta = at + 4;
    let length = this.i32(at);
    if (length === -1) {
      length = this.i32(at + 4);
      meta = at + 8;
    }
    if (length === 0) return null; // end-of-stream marker
    this.need(meta, length, `${what} metadata of ${length} bytes`);
    const root = this.target(meta);
    this.table(root, Message, what, 0);
    const bl = this.field(root, 3);
    return { end: meta + length, bodyLength: bl ? this.i64(bl) : 0 };
  }
}

/** Check the flatbuffer vectors of Arrow IPC bytes (file or stream format); throws an InputError naming the file. */
export function checkArrowIpcBytes(bytes: Uint8Array, file: string): void {
  const w = new FlatbufferWalk(bytes, file);
  const isFile = bytes.length >= 8 && MAGIC.every((c, i) => bytes[i] === c);
  if (isFile) {
    // footer: ... flatbuffer, int32 length, "ARROW1"
    const lengthAt = bytes.length - 10;
    const footer = lengthAt - w.i32(lengthAt);
    w.need(footer, 4, 'footer');
    const root = w.target(footer);
    w.table(root, Footer, 'footer', 0);
    for (const slot of [2, 3]) {
      const p = w.field(root, slot);
      if (!p) continue;
      const blocks = w.vector(p, BLOCK_BYTES, 'footer blocks');
      for (let j = 0; j < blocks.length; j++)
        w.message(w.i64(blocks.at + BLOCK_BYTES * j), `${slot === 2 ? 'dictionary' : 'record batch'} message ${j}`);
    }
    return;
  }
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const m = w.message(at, `message ${k}`);
    if (!m) return;
    w.need(m.end, m.bodyLength, `message ${k} body of ${m.bodyLength} bytes`);
    // a message moves forward (metadata of at least 4 bytes), so the walk ends
    at = m.end + m.bodyLength;
  }
}
