/**
 * Write the result of a SELECT to a Parquet or CSV file with DuckDB's COPY ... TO, through a
 * temporary name (io/output-folder.ts). Parquet: Int64 stays INT64, nulls stay nulls, strings are
 * dictionary-encoded, pages are compressed (zstd by default), row groups hold up to
 * ROW_GROUP_ROWS rows, and the table's documentation goes into the key-value metadata of the
 * file footer: the Arrow schema metadata as it is (iolineage.table, clock, ...) and one
 * `iolineage.column.<name>` entry per column with its doc, unit and clock as JSON.
 */
import type { Table } from '@uwdata/flechette';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteString } from '../sql/arrow-to-duckdb.js';
import { writeFileAtomicallyByPath } from '../io/output-folder.js';

export const EXPORT_FORMATS = ['parquet', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const PARQUET_COMPRESSIONS = ['zstd', 'snappy', 'uncompressed'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

/**
 * Rows per Parquet row group: the unit a reader skips by its statistics and scans in parallel.
 * About 2^20 rows is 10-30 MB compressed for the lineage tables, within the 100K-1M rows DuckDB
 * advises and near the tens of MB Spark and Trino split on.
 */
export const ROW_GROUP_ROWS = 1 << 20;

/**
 * Distinct values a column may have (per row group) and still be dictionary-encoded: strings are
 * ENUMs from Arrow dictionaries and always are; this stops DuckDB building a hash table of every
 * value of each id and timestamp column before it gives up on a dictionary there (its default
 * limit is a fraction of the row group). That analysis was 13% of the COPY's profile on the
 * tables of bench/parquet.mjs A; the limit cut the COPY of one 1M-row lineage file of part B from
 * 0.49 to 0.34 s of CPU, 3% smaller. Columns of few values (sizes, counts, partition columns)
 * keep their dictionary.
 */
export const DICTIONARY_VALUES = 1024;

export interface CopyOptions {
  format: ExportFormat;
  compression?: ParquetCompression;
  rowGroupRows?: number;
}

/** Key-value metadata of a table: its Arrow schema metadata and each column's field metadata. */
export function tableKeyValueMetadata(table: Table): Map<string, string> {
  const kv = new Map<string, string>();
  for (const [k, v] of table.schema.metadata ?? []) kv.set(k, v);
  for (const f of table.schema.fields) {
    if (f.metadata && f.metadata.size) kv.set(`iolineage.column.${f.name}`, JSON.stringify(Object.fromEntries(f.metadata)));
  }
  return kv;
}

function copyOptions(options: CopyOptions, kv: ReadonlyMap<string, string>): string {
  if (options.format === 'csv') return 'FORMAT csv, HEADER true';
  // zstd at DuckDB's level (3): level 1 saved about 0.3 s of CPU per 15M rows (bench/parquet.mjs
  // A) but made the files 18% bigger there, and 65% bigger on part B's lineage
  const parts = [
    'FORMAT parquet',
    `COMPRESSION ${options.compression ?? 'zstd'}`,
    `ROW_GROUP_SIZE ${options.rowGroupRows ?? ROW_GROUP_ROWS}`,
    `DICTIONARY_SIZE_LIMIT ${DICTIONARY_VALUES}`,
  ];
  if (kv.size) parts.push(`KV_METADATA {${[...kv].map(([k, v]) => `${quoteString(k)}: ${quoteString(v)}`).join(', ')}}`);
  return parts.join(', ');
}

/** COPY (select) TO path, atomically. */
export async function copySelectToFile(
  connection: DuckDBConnection,
  select: string,
  path: string,
  options: CopyOptions,
  kv: ReadonlyMap<string, string> = new Map(),
): Promise<void> {
  await writeFileAtomicallyByPath(path, async (temporary) => {
    await connection.run(`COPY (${select}) TO ${quoteString(temporary)} (${copyOptions(options, kv)})`);
  });
}
