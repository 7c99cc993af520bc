/**
 * Export the tables of an iolineage output as Parquet or CSV files, one `<table>.<format>` per
 * table (and summary.json as `summary.<format>`, one row per value), through embedded DuckDB: the
 * Arrow columns are copied into DuckDB (arrow-to-duckdb.ts) one table at a time, written with
 * COPY ... TO (copy-to-file.ts) and dropped, so memory holds one table at a time.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readArrowFile } from '../table/arrow-file.js';
import { UsageError } from '../util/errors.js';
import { dropLoadedTable, loadArrowTable } from '../sql/arrow-to-duckdb.js';
import { SqlSession, type SqlSessionOptions } from '../sql/sql-session.js';
import { loadSummary, readSummaryJson } from '../sql/summary-rows.js';
import { copySelectToFile, tableKeyValueMetadata, type CopyOptions } from './copy-to-file.js';

export interface ExportOptions extends CopyOptions, SqlSessionOptions {}

export interface ExportedFile {
  table: string;
  path: string;
  rows: number;
}

/** A table to export: its name and how to get it (read on demand, one at a time). */
export interface TableInput {
  name: string;
  read: () => Table;
}

/** The tables of an output folder: every `<table>.arrow`, sorted by name. */
export function arrowTablesOf(dir: string): TableInput[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(
      `${dir}: expected an output folder of \`iolineage analyze\` or \`ingest\`, found ${existsSync(dir) ? 'a file' : 'nothing'}`,
    );
  return readdirSync(dir)
    .sort()
    .filter((f) => /^[A-Za-z_][A-Za-z0-9_]*\.arrow$/.test(f) && statSync(join(dir, f)).isFile())
    .map((f) => ({ name: f.slice(0, -'.arrow'.length), read: () => readArrowFile(join(dir, f)) }));
}

/** Load one table, write it to path, drop it. */
export async function exportOneTable(
  connection: DuckDBConnection,
  input: TableInput,
  path: string,
  options: CopyOptions,
): Promise<ExportedFile> {
  const table = input.read();
  const loaded = await loadArrowTable(connection, input.name, table);
  try {
    await copySelectToFile(connection, `SELECT ${loaded.exportColumns} FROM ${loaded.raw}`, path, options, tableKeyValueMetadata(table));
  } finally {
    await dropLoadedTable(connection, input.name);
  }
  return { table: input.name, path, rows: loaded.rows };
}

/** Write summary.json's values as `summary.<format>`. */
export async function exportSummary(
  connection: DuckDBConnection,
  json: unknown,
  path: string,
  options: CopyOptions,
): Promise<ExportedFile> {
  const rows = await loadSummary(connection, json, 'summary');
  const kv = new Map([
    ['iolineage.table', 'summary'],
    [
      'iolineage.column.key',
      JSON.stringify({ doc: 'Dotted path of the value in summary.json (array items by index), e.g. layers.guest.read_bytes.' }),
    ],
    ['iolineage.column.number', JSON.stringify({ doc: 'The value when it is a number (booleans as 0/1), as summary.json holds it.' })],
    ['iolineage.column.text', JSON.stringify({ doc: 'The value when it is a string or a boolean.' })],
  ]);
  try {
    await copySelectToFile(connection, 'SELECT * FROM summary', path, options, kv);
  } finally {
    await connection.run('DROP TABLE IF EXISTS summary');
  }
  return { table: 'summary', path, rows };
}

/**
 * Export tables (and a summary) into destDir as `<table>.<format>`. The tables are read one at a
 * time through their read().
 */
export async function exportTables(
  inputs: readonly TableInput[],
  summary: unknown,
  destDir: string,
  options: ExportOptions,
): Promise<ExportedFile[]> {
  mkdirSync(destDir, { recursive: true });
  const session = await SqlSession.open(options);
  const files: ExportedFile[] = [];
  try {
    for (const input of inputs)
      files.push(await exportOneTable(session.connection, input, join(destDir, `${input.name}.${options.format}`), options));
    if (summary !== undefined)
      files.push(await exportSummary(session.connection, summary, join(destDir, `summary.${options.format}`), options));
  } finally {
    session.close();
  }
  return files;
}

/** Export every table of an output folder (and its summary.json) into destDir. */
export async function exportDir(srcDir: string, destDir: string, options: ExportOptions): Promise<ExportedFile[]> {
  const inputs = arrowTablesOf(srcDir);
  const summaryPath = join(srcDir, 'summary.json');
  const summary = existsSync(summaryPath) ? readSummaryJson(summaryPath) : undefined;
  if (inputs.length === 0 && summary === undefined) throw new UsageError(`${srcDir}: no .arrow tables or summary.json to export`);
  return exportTables(inputs, summary, destDir, options);
}

/** Wrap in-memory tables (analyze's result) as export inputs. */
export function tableInputs(tables: Record<string, Table>): TableInput[] {
  return Object.entries(tables).map(([name, table]) => ({ name, read: () => table }));
}
