/**
 * Write the result of a SELECT to a CSV file with DuckDB's COPY ... TO (RFC 4180 quoting, a
 * header row, nulls as empty fields, 64-bit integers exact), through a temporary name
 * (io/output-folder.ts).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteString } from '../sql/arrow-to-duckdb.js';
import { writeFileAtomicallyByPath } from '../io/output-folder.js';

/** COPY (select) TO path as CSV, atomically. */
export async function copySelectToCsv(connection: DuckDBConnection, select: string, path: string): Promise<void> {
  await writeFileAtomicallyByPath(path, async (temporary) => {
    await connection.run(`COPY (${select}) TO ${quoteString(temporary)} (FORMAT csv, HEADER true)`);
  });
}
