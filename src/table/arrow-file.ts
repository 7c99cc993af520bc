/**
 * Arrow IPC file I/O (Arrow columnar format, "IPC File Format"). Writing streams the encoded
 * messages to the file descriptor instead of assembling the whole file in memory.
 */
import { readFileSync } from 'node:fs';
import { tableToIPC, type Table } from '@uwdata/flechette';
// flechette's own IPC encoder (the one tableToIPC ends in), which takes the record batches as any
// iterable: writeTableBuilder hands it one batch at a time
import { encodeIPC } from '@uwdata/flechette/src/encode/encode-ipc.js';
import { decodeIPC } from '@uwdata/flechette/src/decode/decode-ipc.js';
import { createTable } from '@uwdata/flechette/src/decode/table-from-ipc.js';
import { InputError } from '../util/errors.js';
import { writeAll, writeFileAtomically } from '../io/output-folder.js';
import type { TableBuilder } from './table-builder.js';
import { checkTableSchema } from './table-check.js';
import { checkArrowIpcBytes } from './arrow-ipc-check.js';

/** Bytes a sink gathers before a write; a piece at least half this size goes straight to the file. */
const SINK_BUFFER = 64 * 1024;

/**
 * A flechette sink that writes to a file descriptor: the small pieces of an IPC file (message
 * metadata, alignment padding, short buffers) are gathered into one write, large buffers go
 * through as they are. `flush` after the encoder returns (it does not call `finish`).
 */
class FileSink {
  private readonly buf = new Uint8Array(SINK_BUFFER);
  private n = 0;
  constructor(private readonly fd: number) {}
  write(bytes: Uint8Array): void {
    if (bytes.length > SINK_BUFFER - this.n) {
      this.flush();
      if (bytes.length >= SINK_BUFFER / 2) {
        writeAll(this.fd, bytes);
        return;
      }
    }
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
  }
  pad(n: number): void {
    if (n <= 0) return;
    if (n > SINK_BUFFER - this.n) {
      this.flush();
      if (n > SINK_BUFFER) {
        writeAll(this.fd, new Uint8Array(n));
        return;
      }
    }
    this.buf.fill(0, this.n, this.n + n);
    this.n += n;
  }
  finish(): null {
    return null;
  }
  flush(): void {
    if (this.n === 0) return;
    writeAll(this.fd, this.buf.subarray(0, this.n));
    this.n = 0;
  }
}

/** What writes a table as an Arrow IPC file to a descriptor: for OutputFolder.stage. */
export function arrowFileWriter(table: Table): (fd: number) => void {
  return (fd) => {
    const sink = new FileSink(fd);
    tableToIPC(table, { format: 'file', sink } as never);
    sink.flush();
  };
}

/**
 * What writes the table of a builder as an Arrow IPC file, one record batch at a time: chunks the
 * builder moved to its scratch file (TableBuilder.spillTo) are read back batch by batch, so
 * memory stays at one batch however long the table. The bytes are those arrowFileWriter writes
 * for builder.finish(metadata) (a test compares them).
 */
export function tableBuilderWriter(builder: TableBuilder, metadata?: Record<string, string>): (fd: number) => void {
  return (fd) => {
    const sink = new FileSink(fd);
    encodeIPC(builder.ipcParts(metadata), { format: 'file', sink: sink as never });
    sink.flush();
  };
}

/**
 * What writes the IPC parts of a table (TableBuilder.ipcParts' shape: schema, dictionary batches,
 * and record batches from any iterable, encoded one at a time as they come) as an Arrow IPC file.
 */
export function ipcPartsWriter(parts: ReturnType<TableBuilder['ipcParts']>): (fd: number) => void {
  return (fd) => {
    const sink = new FileSink(fd);
    encodeIPC(parts, { format: 'file', sink: sink as never });
    sink.flush();
  };
}

/** Write a table as an Arrow IPC file (safely: a temporary name renamed into place; a symlink at `path` is refused). */
export function writeArrowFile(path: string, table: Table): void {
  writeFileAtomically(path, arrowFileWriter(table));
}

/** Write the table of a builder as an Arrow IPC file (see tableBuilderWriter), safely as writeArrowFile. */
export function writeTableBuilder(path: string, builder: TableBuilder, metadata?: Record<string, string>): void {
  writeFileAtomically(path, tableBuilderWriter(builder, metadata));
}

/**
 * Read an Arrow IPC file (or stream). Int64 columns come back as BigInt64Array (useBigInt), so
 * 64-bit values are never rounded. A table of one of iolineage's schemas is checked against it
 * (checkTableSchema).
 */
export function readArrowFile(path: string): Table {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let table: Table;
  try {
    // tableFromIPC in two steps: the messages' row counts are checked before columns are built
    checkArrowIpcBytes(bytes, path);
    const data = decodeIPC(bytes);
    checkBatchLengths(data, path);
    table = createTable(data, { useBigInt: true });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(path, `not a readable Arrow IPC file: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
  checkTableSchema(table, path);
  return table;
}

/**
 * Row and null counts of every record and dictionary batch against the size of its body (Arrow
 * columnar format, "Record batches": a field node's length counts its slots; the narrowest
 * buffer of any type iolineage writes, a bit-packed bool, takes one bit per slot): a count the
 * body cannot hold comes from a damaged file, and building columns of that length would take
 * memory out of all proportion to the file.
 */
function checkBatchLengths(data: ReturnType<typeof decodeIPC>, path: string): void {
  const batches = [...(data.records ?? []), ...(data.dictionaries ?? []).map((d) => d.data)];
  for (const [k, b] of batches.entries()) {
    const bodyBytes = b.body?.length ?? b.regions.reduce((n, r) => Math.max(n, r.offset + r.length), 0);
    const most = bodyBytes * 8;
    const what = k < (data.records?.length ?? 0) ? `record batch ${k}` : `dictionary batch ${k - (data.records?.length ?? 0)}`;
    if ((b.length ?? 0) > most)
      throw new InputError(path, `${what}: ${b.length} rows cannot fit in its ${bodyBytes}-byte body`, { what: 'Arrow IPC message' });
    for (const n of b.nodes) {
      if (n.length > most || n.nullCount > n.length || n.length < 0 || n.nullCount < 0) {
        throw new InputError(
          path,
          `${what}: a column of ${n.length} rows with ${n.nullCount} nulls cannot fit in its ${bodyBytes}-byte body`,
          { what: 'Arrow IPC message' },
        );
      }
    }
  }
}

/** The schema metadata of a table as a plain object. */
export function tableMetadata(table: Table): Record<string, string> {
  const m = table.schema.metadata;
  return m ? Object.fromEntries(m) : {};
}
