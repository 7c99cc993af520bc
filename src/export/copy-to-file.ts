/**
 * Write the result of a SELECT to a CSV file with DuckDB's COPY ... TO (RFC 4180 quoting, a
 * header row, nulls as empty fields, 64-bit integers exact), under a temporary name
 * (io/output-folder.ts).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteString } from '../sql/arrow-to-duckdb.js';
import type { OutputFolder } from '../io/output-folder.js';

/** COPY (select) TO the folder's file `name` as CSV, staged (renamed into place at the folder's commit); returns its final path. */
export function copySelectToCsv(connection: DuckDBConnection, select: string, folder: OutputFolder, name: string): Promise<string> {
  return folder.stageByPath(name, async (temporary) => {
    await connection.run(`COPY (${select}) TO ${quoteString(temporary)} (FORMAT csv, HEADER true)`);
  });
}
