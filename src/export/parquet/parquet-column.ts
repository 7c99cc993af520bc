/**
 * One column chunk of a Parquet row group (parquet-format, README "Column chunks", "Data Pages"):
 * an optional dictionary page, then data pages (v1) of at most PAGE_ROWS rows, each
 * `[definition levels: 4-byte length + RLE hybrid] [values]`, compressed whole by the chunk's
 * codec. Values are those of the Arrow batches as they are: no row is converted to a JavaScript
 * value, 64-bit integers go through their two 32-bit halves.
 */
import type { Column } from '@uwdata/flechette';
import { writeValidityLevels } from './bit-packing.js';
import { snappyCompress } from './snappy.js';
import { Encoding, type ParquetColumnType } from './parquet-schema.js';
import type { ThriftCompactWriter } from './thrift-compact.js';
import {
  chunkDictionary,
  MinMax,
  nullsIn,
  pageSlices,
  statistics,
  validRows,
  VALUE_WRITERS,
  type ChunkScratch,
  type ChunkStatistics,
} from './page-values.js';

export { ChunkScratch, PAGE_ROWS } from './page-values.js';

export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1 } as const;

/** Where the bytes of a file go, and how many have gone. */
export interface FileOut {
  position: number;
  write(bytes: Uint8Array): void;
}

/** What the footer says of a written column chunk (ColumnMetaData). */
export interface WrittenChunk {
  codec: number;
  encodings: number[];
  numValues: number;
  uncompressedSize: number;
  compressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  statistics: ChunkStatistics;
}

function pageHeader(
  w: ThriftCompactWriter,
  pageType: 0 | 2,
  uncompressed: number,
  compressed: number,
  numValues: number,
  encoding: number,
): Uint8Array {
  w.out.reset();
  w.message(() => {
    w.i32(1, pageType);
    w.i32(2, uncompressed);
    w.i32(3, compressed);
    if (pageType === 0)
      w.struct(5, () => {
        w.i32(1, numValues);
        w.i32(2, encoding);
        w.i32(3, Encoding.RLE);
        w.i32(4, Encoding.RLE);
      });
    else
      w.struct(7, () => {
        w.i32(1, numValues);
        w.i32(2, encoding);
      });
  });
  return w.out.view();
}

/** Compressed bytes of one page body (the body itself for an uncompressed chunk). */
function compressPage(body: Uint8Array, codec: number, scratch: ChunkScratch): Uint8Array {
  if (codec === Codec.UNCOMPRESSED) return body;
  scratch.packed.reset();
  snappyCompress(scratch.packed, body);
  return scratch.packed.view();
}

/**
 * Write rows [start, end) of a column as one column chunk. `compress` false: no codec; true:
 * snappy, unless the chunk's first page shrinks by less than an eighth (then the chunk is
 * uncompressed: delta-packed ids and times seldom shrink further).
 */
export function writeColumnChunk(
  file: FileOut,
  column: Column<unknown>,
  type: ParquetColumnType,
  optional: boolean,
  start: number,
  end: number,
  compress: boolean,
  scratch: ChunkScratch,
): WrittenChunk {
  const dict = type.kind === 'dictionary' ? chunkDictionary(column, start, end) : null;
  let codec: number = compress ? Codec.SNAPPY : Codec.UNCOMPRESSED;
  let uncompressedSize = 0;
  let compressedSize = 0;
  let dictionaryPageOffset: number | undefined;
  const encodings = new Set<number>([Encoding.RLE]);
  const page = scratch.page;
  let decided = !compress;

  const emit = (pageType: 0 | 2, body: Uint8Array, numValues: number, encoding: number): void => {
    let packed = compressPage(body, codec, scratch);
    if (!decided) {
      decided = true;
      if (packed.length > body.length - (body.length >>> 3)) {
        codec = Codec.UNCOMPRESSED;
        packed = body;
      }
    }
    const head = pageHeader(scratch.header, pageType, body.length, packed.length, numValues, encoding);
    file.write(head);
    file.write(packed);
    uncompressedSize += head.length + body.length;
    compressedSize += head.length + packed.length;
    encodings.add(encoding);
  };

  if (dict) {
    page.reset();
    for (const e of dict.entries) {
      page.u32le(e.length);
      page.raw(e);
    }
    dictionaryPageOffset = file.position;
    emit(2, page.view(), dict.entries.length, Encoding.PLAIN);
  }
  const dataPageOffset = file.position;
  const mm = new MinMax();
  let nullCount = 0;
  for (const s of pageSlices(column, start, end)) {
    page.reset();
    const validity = validRows(s);
    if (validity) nullCount += s.from === 0 && s.to === s.batch.length ? s.batch.nullCount : nullsIn(validity, s.from, s.to);
    if (optional) {
      const at = page.length;
      page.u32le(0);
      writeValidityLevels(page, validity, s.from, s.to - s.from);
      const len = page.length - at - 4;
      page.bytes[at] = len;
      page.bytes[at + 1] = len >>> 8;
      page.bytes[at + 2] = len >>> 16;
      page.bytes[at + 3] = len >>> 24;
    }
    const encoding = VALUE_WRITERS[type.kind]({ out: page, batch: s.batch, from: s.from, to: s.to, validity, type, scratch, mm, dict });
    emit(0, page.view(), s.to - s.from, encoding);
  }
  return {
    codec,
    encodings: [...encodings].sort((a, b) => a - b),
    numValues: end - start,
    uncompressedSize,
    compressedSize,
    dataPageOffset,
    dictionaryPageOffset,
    statistics: statistics(type, mm, nullCount, dict),
  };
}
