/**
 * Arrow IPC file I/O (Arrow columnar format, "IPC File Format"). Writing streams the encoded
 * messages to the file descriptor instead of assembling the whole file in memory.
 */
import { readFileSync } from 'node:fs';
import { tableFromIPC, tableToIPC, type Table } from '@uwdata/flechette';
// flechette's own IPC encoder (the one tableToIPC ends in), which takes the record batches as any
// iterable: writeTableBuilder hands it one batch at a time
import { encodeIPC } from '@uwdata/flechette/src/encode/encode-ipc.js';
import { InputError } from '../util/errors.js';
import { writeAll, writeFileAtomically } from '../io/output-folder.js';
import type { TableBuilder } from './table-builder.js';

/** A flechette sink that writes through to a file descriptor. */
function fileSink(fd: number) {
  return {
    write(bytes: Uint8Array) { writeAll(fd, bytes); },
    pad(n: number) { if (n > 0) writeAll(fd, new Uint8Array(n)); },
    finish() { return null; },
  };
}

/** What writes a table as an Arrow IPC file to a descriptor: for OutputFolder.stage. */
export function arrowFileWriter(table: Table): (fd: number) => void {
  return (fd) => { tableToIPC(table, { format: 'file', sink: fileSink(fd) } as never); };
}

/**
 * What writes the table of a builder as an Arrow IPC file, one record batch at a time: chunks the
 * builder moved to its scratch file (TableBuilder.spillTo) are read back batch by batch, so
 * memory stays at one batch however long the table. The bytes are those arrowFileWriter writes
 * for builder.finish(metadata) (a test compares them).
 */
export function tableBuilderWriter(builder: TableBuilder, metadata?: Record<string, string>): (fd: number) => void {
  return (fd) => { encodeIPC(builder.ipcParts(metadata), { format: 'file', sink: fileSink(fd) as never }); };
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
 * 64-bit values are never rounded.
 */
export function readArrowFile(path: string): Table {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(path, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return tableFromIPC(bytes, { useBigInt: true });
  } catch (e) {
    throw new InputError(path, `not a readable Arrow IPC file: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}

/** The schema metadata of a table as a plain object. */
export function tableMetadata(table: Table): Record<string, string> {
  const m = table.schema.metadata;
  return m ? Object.fromEntries(m) : {};
}
