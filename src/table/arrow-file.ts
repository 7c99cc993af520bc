/**
 * Arrow IPC file I/O (Arrow columnar format, "IPC File Format"). Writing streams the encoded
 * messages to the file descriptor instead of assembling the whole file in memory.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tableFromIPC, tableToIPC, type Table } from '@uwdata/flechette';
import { InputError } from '../util/errors.js';

/** Write a table as an Arrow IPC file. */
export function writeArrowFile(path: string, table: Table): void {
  const fd = openSync(path, 'w');
  try {
    const sink = {
      write(bytes: Uint8Array) { writeSync(fd, bytes); },
      pad(n: number) { if (n > 0) writeSync(fd, new Uint8Array(n)); },
      finish() { return null; },
    };
    tableToIPC(table, { format: 'file', sink } as never);
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
