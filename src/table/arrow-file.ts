/**
 * Arrow IPC file I/O (Arrow columnar format, "IPC File Format"). Writing streams the encoded
 * messages to the file descriptor instead of assembling the whole file in memory.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tableFromIPC, tableToIPC, type Table } from '@uwdata/flechette';
// flechette's own IPC encoder (the one tableToIPC ends in), which takes the record batches as any
// iterable: writeTableBuilder hands it one batch at a time
import { encodeIPC } from '@uwdata/flechette/src/encode/encode-ipc.js';
import { InputError } from '../util/errors.js';
import type { TableBuilder } from './table-builder.js';

/** A flechette sink that writes through to a file descriptor. */
function fileSink(fd: number) {
  return {
    write(bytes: Uint8Array) { for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done); },
    pad(n: number) { if (n > 0) writeSync(fd, new Uint8Array(n)); },
    finish() { return null; },
  };
}

/** Write a table as an Arrow IPC file. */
export function writeArrowFile(path: string, table: Table): void {
  const fd = openSync(path, 'w');
  try {
    tableToIPC(table, { format: 'file', sink: fileSink(fd) } as never);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write the table of a builder as an Arrow IPC file, one record batch at a time: chunks the
 * builder moved to its scratch file (TableBuilder.spillTo) are read back batch by batch, so
 * memory stays at one batch however long the table. The bytes are those writeArrowFile writes
 * for builder.finish(metadata) (a test compares them).
 */
export function writeTableBuilder(path: string, builder: TableBuilder, metadata?: Record<string, string>): void {
  const parts = builder.ipcParts(metadata);
  const fd = openSync(path, 'w');
  try {
    encodeIPC(parts, { format: 'file', sink: fileSink(fd) as never });
  } finally {
    closeSync(fd);
  }
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
