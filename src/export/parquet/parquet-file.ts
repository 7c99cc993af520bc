/**
 * A Parquet file from an Arrow table (parquet-format, README "File Format"): `PAR1`, the row
 * groups' column chunks, the FileMetaData footer (Thrift compact), its 4-byte little-endian
 * length, `PAR1`. The footer carries each chunk's codec, encodings, sizes, offsets and statistics
 * (null count, min and max under the type's own order, with TypeDefinedOrder column orders),
 * and the table's key-value metadata. A flat schema: every column a leaf of the root.
 */
import type { Column, Table } from '@uwdata/flechette';
import { writeAll } from '../../io/output-folder.js';
import { ChunkScratch, writeColumnChunk, type FileOut, type WrittenChunk } from './parquet-column.js';
import { parquetColumnType, type ParquetColumnType } from './parquet-schema.js';
import { ThriftCompactWriter } from './thrift-compact.js';
import { ByteSink } from './byte-sink.js';

const MAGIC = new TextEncoder().encode('PAR1');
/** Bytes gathered before a write to the file. */
const WRITE_BUFFER = 1 << 20;

export interface ParquetWriteOptions {
  /** Rows per row group. */
  rowGroupRows: number;
  /** Snappy pages (where they pay) or none. */
  compress: boolean;
  /** Footer key-value metadata. */
  keyValue: ReadonlyMap<string, string>;
  /** The writer's name and version, for the footer's created_by. */
  createdBy: string;
}

/** Writes to a descriptor through a buffer; counts the bytes. */
class BufferedFile implements FileOut {
  position = 0;
  private readonly buf = new ByteSink(WRITE_BUFFER);
  constructor(private readonly fd: number) {}
  write(bytes: Uint8Array): void {
    this.position += bytes.length;
    // a big piece goes straight to the file, after what the buffer holds
    if (this.buf.length + bytes.length > WRITE_BUFFER || bytes.length >= WRITE_BUFFER / 2) this.flush();
    if (bytes.length >= WRITE_BUFFER / 2) writeAll(this.fd, bytes);
    else this.buf.raw(bytes);
  }
  flush(): void {
    if (this.buf.length) writeAll(this.fd, this.buf.view());
    this.buf.reset();
  }
}

interface LeafColumn {
  name: string;
  column: Column<unknown>;
  type: ParquetColumnType;
  optional: boolean;
}

function leaves(table: Table, where: string): LeafColumn[] {
  return table.schema.fields.map((f, i) => {
    const column = table.children[i] as Column<unknown>;
    return {
      name: f.name,
      column,
      type: parquetColumnType(f.type, `${where}: column ${f.name}`),
      optional: f.nullable || column.nullCount > 0,
    };
  });
}

interface RowGroupMeta {
  rows: number;
  chunks: WrittenChunk[];
  offset: number;
}

function writeStatistics(w: ThriftCompactWriter, c: WrittenChunk): void {
  const s = c.statistics;
  w.struct(12, () => {
    w.i64(3, s.nullCount);
    if (s.max) w.binary(5, s.max);
    if (s.min) w.binary(6, s.min);
  });
}

function footer(w: ThriftCompactWriter, cols: LeafColumn[], groups: RowGroupMeta[], rows: number, options: ParquetWriteOptions): void {
  w.message(() => {
    w.i32(1, 1);
    w.listOfStructs(2, [null, ...cols], (c) => {
      if (!c) {
        w.string(4, 'schema');
        w.i32(5, cols.length);
        return;
      }
      w.i32(1, c.type.physical);
      w.i32(3, c.optional ? 1 : 0);
      w.string(4, c.name);
      if (c.type.converted !== undefined) w.i32(6, c.type.converted);
      const logical = c.type.logical;
      if (logical)
        w.struct(10, () => {
          if ('string' in logical) w.struct(1, () => {});
          else
            w.struct(10, () => {
              w.byte(1, logical.bitWidth);
              w.bool(2, logical.signed);
            });
        });
    });
    w.i64(3, rows);
    w.listOfStructs(4, groups, (g, ordinal) => {
      w.listOfStructs(1, g.chunks, (c, i) => {
        w.i64(2, 0);
        w.struct(3, () => {
          const col = cols[i]!;
          w.i32(1, col.type.physical);
          w.listOfI32(2, c.encodings);
          w.listOfStrings(3, [col.name]);
          w.i32(4, c.codec);
          w.i64(5, c.numValues);
          w.i64(6, c.uncompressedSize);
          w.i64(7, c.compressedSize);
          w.i64(9, c.dataPageOffset);
          if (c.dictionaryPageOffset !== undefined) w.i64(11, c.dictionaryPageOffset);
          writeStatistics(w, c);
        });
      });
      w.i64(
        2,
        g.chunks.reduce((n, c) => n + c.uncompressedSize, 0),
      );
      w.i64(3, g.rows);
      w.i64(5, g.offset);
      w.i64(
        6,
        g.chunks.reduce((n, c) => n + c.compressedSize, 0),
      );
      w.i16(7, ordinal);
    });
    if (options.keyValue.size)
      w.listOfStructs(5, [...options.keyValue], ([k, v]) => {
        w.string(1, k);
        w.string(2, v);
      });
    w.string(6, options.createdBy);
    // every leaf's min/max follow its type's order (parquet.thrift, ColumnOrder)
    w.listOfStructs(7, cols, () => w.struct(1, () => {}));
  });
}

/** Write a table as a Parquet file into `file` (`where` names the table in errors). */
function encodeParquet(table: Table, cols: LeafColumn[], options: ParquetWriteOptions, file: FileOut): void {
  const scratch = new ChunkScratch();
  file.write(MAGIC);
  const groups: RowGroupMeta[] = [];
  const rows = table.numRows;
  const step = Math.max(1, options.rowGroupRows);
  // a table of no rows is a schema and no row group
  for (let start = 0; start < rows; start += step) {
    const end = Math.min(rows, start + step);
    const offset = file.position;
    const chunks = cols.map((c) => writeColumnChunk(file, c.column, c.type, c.optional, start, end, options.compress, scratch));
    groups.push({ rows: end - start, chunks, offset });
  }
  const w = new ThriftCompactWriter(new ByteSink(1 << 16));
  footer(w, cols, groups, rows, options);
  const meta = w.out.view();
  file.write(meta);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, meta.length, true);
  file.write(len);
  file.write(MAGIC);
}

/** What writes a table as a Parquet file to a descriptor: for writeFileAtomically. */
export function parquetFileWriter(table: Table, where: string, options: ParquetWriteOptions): (fd: number) => void {
  // a column with no Parquet form is refused here, before a temporary file is made
  const cols = leaves(table, where);
  return (fd) => {
    const file = new BufferedFile(fd);
    encodeParquet(table, cols, options, file);
    file.flush();
  };
}

/** Bytes gathered into blocks of this size (a worker hands the blocks over, none copied twice). */
const BLOCK_BYTES = 1 << 20;

/** A table as the bytes of a Parquet file, in blocks of about 1 MiB (a worker thread hands these over). */
export function parquetFileBlocks(table: Table, where: string, options: ParquetWriteOptions): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  let block = new Uint8Array(BLOCK_BYTES);
  let used = 0;
  const flush = () => {
    if (used) blocks.push(block.subarray(0, used));
    block = new Uint8Array(BLOCK_BYTES);
    used = 0;
  };
  encodeParquet(table, leaves(table, where), options, {
    position: 0,
    write(bytes) {
      this.position += bytes.length;
      if (bytes.length >= BLOCK_BYTES / 2) {
        flush();
        blocks.push(bytes.slice());
        return;
      }
      if (used + bytes.length > BLOCK_BYTES) flush();
      block.set(bytes, used);
      used += bytes.length;
    },
  });
  flush();
  return blocks;
}
