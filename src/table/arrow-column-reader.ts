/**
 * Some columns of an Arrow IPC file, read without the rest of it: the footer (File.fbs Footer: the
 * schema and the record batches' Blocks), each record batch's message (Message.fbs RecordBatch: one
 * FieldNode per field, the Buffers in field order) and the buffers of the wanted columns only, at
 * the offsets the message gives from the start of its body (Arrow columnar format, "IPC File
 * Format" and "Buffer Listing for Each Layout").
 *
 * For flat schemas whose buffer counts follow from the field types (fixed-width and boolean: 2;
 * variable-size binary and utf8: 3; a dictionary-encoded field: its index's 2). Anything else (a
 * nested or view type, a compressed body, a footer or message that does not read back) gives null:
 * the caller then reads the whole file, whose reader states what is wrong.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FlatbufferWalk } from './arrow-ipc-check.js';
import { ioPiece } from '../io/io-limits.js';

/** What the reader knows of a field (Schema.fbs Field). */
export interface ArrowFieldInfo {
  name: string;
  /** Schema.fbs Type union id (2 Int, 3 FloatingPoint, 5 Utf8, 6 Bool, ...). */
  typeId: number;
  /** Int bitWidth (Schema.fbs Int), else null. */
  bitWidth: number | null;
  dictionary: boolean;
  metadata: Map<string, string>;
}

/** One record batch's slice of a column: its validity bitmap (null: no nulls) and values buffer. */
export interface ArrowColumnChunk {
  length: number;
  nullCount: number;
  validity: Uint8Array | null;
  values: Uint8Array;
}

const MAGIC = 'ARROW1';
/** Block (File.fbs): offset long, metaDataLength int (+4 padding), bodyLength long. */
const BLOCK_BYTES = 24;
/** Type ids (Schema.fbs) of two-buffer layouts: Int, FloatingPoint, Bool, Decimal, Date, Time, Timestamp, Interval, FixedSizeBinary, Duration. */
const TWO_BUFFERS = new Set([2, 3, 6, 7, 8, 9, 10, 11, 15, 18]);
/** Binary, Utf8, LargeBinary, LargeUtf8: validity, offsets, data. */
const THREE_BUFFERS = new Set([4, 5, 19, 20]);
/** Message.fbs MessageHeader: RecordBatch. */
const RECORD_BATCH = 3;

function readAt(fd: number, position: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, b, got, ioPiece(length - got), position + got);
    if (n === 0) throw new RangeError('short read');
    got += n;
  }
  return b;
}

function utf8(b: Uint8Array, at: number, length: number): string {
  return Buffer.from(b.buffer, b.byteOffset + at, length).toString('utf8');
}

/** Fields of a Schema table (Schema.fbs: fields 1; Field: name 0, type_type 2, type 3, dictionary 4, children 5, custom_metadata 6). */
function schemaFields(w: FlatbufferWalk, b: Uint8Array, schema: number): ArrowFieldInfo[] | null {
  const fp = w.field(schema, 1);
  if (!fp) return [];
  const fv = w.vector(fp, 4, 'fields');
  const fields: ArrowFieldInfo[] = [];
  for (let j = 0; j < fv.length; j++) {
    const f = w.target(fv.at + 4 * j);
    const children = w.field(f, 5);
    if (children && w.vector(children, 4, 'children').length > 0) return null;
    const np = w.field(f, 0);
    const name = np ? (({ at, length }) => utf8(b, at, length))(w.vector(np, 1, 'name')) : '';
    const tt = w.field(f, 2);
    const typeId = tt ? (w.need(tt, 1, 'type id'), b[tt]!) : 0;
    let bitWidth: number | null = null;
    const tp = w.field(f, 3);
    if (typeId === 2 && tp) {
      const bw = w.field(w.target(tp), 0);
      bitWidth = bw ? w.i32(bw) : 0;
    }
    const metadata = new Map<string, string>();
    const mp = w.field(f, 6);
    if (mp) {
      const kv = w.vector(mp, 4, 'custom_metadata');
      for (let k = 0; k < kv.length; k++) {
        const e = w.target(kv.at + 4 * k);
        const kp = w.field(e, 0),
          vp = w.field(e, 1);
        if (!kp || !vp) continue;
        const key = w.vector(kp, 1, 'key'),
          value = w.vector(vp, 1, 'value');
        metadata.set(utf8(b, key.at, key.length), utf8(b, value.at, value.length));
      }
    }
    fields.push({ name, typeId, bitWidth, dictionary: w.field(f, 4) !== 0, metadata });
  }
  return fields;
}

/**
 * The fields of an Arrow IPC file and the chunks (one per record batch) of the columns `want`
 * picks; null when the file is not one this reader handles (see the header).
 */
export function readArrowColumns(
  path: string,
  want: (f: ArrowFieldInfo) => boolean,
): { fields: ArrowFieldInfo[]; columns: Map<string, ArrowColumnChunk[]> } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 18) return null;
    if (Buffer.from(readAt(fd, 0, 6)).toString('latin1') !== MAGIC) return null;
    // the file ends with the footer, its int32 length and the magic
    const tail = readAt(fd, size - 10, 10);
    if (Buffer.from(tail.subarray(4)).toString('latin1') !== MAGIC) return null;
    const footerLength = new DataView(tail.buffer).getInt32(0, true);
    if (!(footerLength > 0 && footerLength <= size - 18)) return null;
    const fb = readAt(fd, size - 10 - footerLength, footerLength);
    const w = new FlatbufferWalk(fb, path);
    const root = w.target(0);
    const sp = w.field(root, 1);
    if (!sp) return null;
    const fields = schemaFields(w, fb, w.target(sp));
    if (!fields) return null;
    // each field's first buffer in a record batch's buffer list
    const firstBuffer: number[] = [];
    let buffers = 0;
    for (const f of fields) {
      firstBuffer.push(buffers);
      if (f.dictionary || TWO_BUFFERS.has(f.typeId)) buffers += 2;
      else if (THREE_BUFFERS.has(f.typeId)) buffers += 3;
      else return null;
    }
    const picked = fields.map((f, k) => [f, k] as const).filter(([f]) => want(f));
    const columns = new Map<string, ArrowColumnChunk[]>(picked.map(([f]) => [f.name, []]));
    const bp = w.field(root, 3);
    const blocks = bp ? w.vector(bp, BLOCK_BYTES, 'recordBatches') : { at: 0, length: 0 };
    for (let j = 0; j < blocks.length; j++) {
      const at = blocks.at + BLOCK_BYTES * j;
      const offset = w.i64(at),
        metaLength = w.i32(at + 8),
        bodyLength = w.i64(at + 16);
      if (!(offset >= 8 && metaLength >= 8 && bodyLength >= 0 && offset + metaLength + bodyLength <= size)) return null;
      const mb = readAt(fd, offset, metaLength);
      const m = new FlatbufferWalk(mb, path);
      // encapsulated message: 0xFFFFFFFF, int32 metadata size, the Message flatbuffer
      const start = m.i32(0) === -1 ? 8 : 4;
      const msg = m.target(start);
      const ht = m.field(msg, 1);
      if (!ht || mb[ht] !== RECORD_BATCH) return null;
      const hp = m.field(msg, 2);
      if (!hp) return null;
      const rb = m.target(hp);
      if (m.field(rb, 3)) return null; // a compressed body
      const lp = m.field(rb, 0);
      const length = lp ? m.i64(lp) : 0;
      const np = m.field(rb, 1),
        bup = m.field(rb, 2);
      const nodes = np ? m.vector(np, 16, 'nodes') : { at: 0, length: 0 };
      const bufs = bup ? m.vector(bup, 16, 'buffers') : { at: 0, length: 0 };
      if (nodes.length !== fields.length || bufs.length !== buffers) return null;
      const body = offset + metaLength;
      const buffer = (k: number): Uint8Array | null => {
        const o = m.i64(bufs.at + 16 * k),
          n = m.i64(bufs.at + 16 * k + 8);
        if (!(o >= 0 && n >= 0 && o + n <= bodyLength)) throw new RangeError('buffer past the body');
        return n === 0 ? null : readAt(fd, body + o, n);
      };
      for (const [f, k] of picked) {
        const nodeLength = m.i64(nodes.at + 16 * k),
          nullCount = m.i64(nodes.at + 16 * k + 8);
        if (nodeLength !== length || !(nullCount >= 0 && nullCount <= length)) return null;
        const validity = nullCount > 0 ? buffer(firstBuffer[k]!) : null;
        if (nullCount > 0 && (validity === null || validity.length < (length + 7) >> 3)) return null;
        const values = buffer(firstBuffer[k]! + 1) ?? new Uint8Array(0);
        columns.get(f.name)!.push({ length, nullCount, validity, values });
      }
    }
    return { fields, columns };
  } catch {
    // a footer or message that does not read back: the whole-file reader says what is wrong
    return null;
  } finally {
    closeSync(fd);
  }
}
