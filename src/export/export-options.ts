/**
 * What an export takes and writes: its inputs, the formats, Parquet's codecs and row groups, how
 * many tables at once, and the footer metadata every file carries (the table's Arrow schema
 * metadata and each column's doc, unit and clock).
 */
import { availableParallelism } from 'node:os';
import type { Table } from '@uwdata/flechette';

export const EXPORT_FORMATS = ['parquet', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Parquet page compression. snappy (the default): every reader has it, and pages it does not
 * shrink by an eighth are left uncompressed (delta-packed ids and times seldom shrink further);
 * uncompressed: none at all.
 */
export const PARQUET_COMPRESSIONS = ['snappy', 'uncompressed'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

/**
 * Rows per Parquet row group: the unit a reader skips by its statistics and scans in parallel.
 * About 2^20 rows is 5-40 MB for the lineage tables, within the 100K-1M rows DuckDB advises and
 * near the tens of MB Spark and Trino split on.
 */
export const ROW_GROUP_ROWS = 1 << 20;

export interface ExportOptions {
  format: ExportFormat;
  compression?: ParquetCompression;
  rowGroupRows?: number;
  /** Tables written at once (default: the number of cores). */
  threads?: number;
  /** DuckDB's memory limit (CSV goes through DuckDB). */
  memoryLimit?: string;
}

/** A table to export: its name and how to get it (read on demand, one at a time). */
export interface TableInput {
  name: string;
  read: () => Table;
  /** How big the table is, in any unit (bytes, cells): the biggest tables are started first. */
  weight?: number;
  /** The Arrow file read() reads, when there is one: a worker thread can read it itself. */
  source?: string;
}

/** Tables written at once by default: one per core. */
export function exportWorkers(options: ExportOptions): number {
  return options.threads ?? availableParallelism();
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
