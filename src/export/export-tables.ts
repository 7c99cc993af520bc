/**
 * Export the tables of an iolineage output as Parquet or CSV files, one `<table>.<format>` per
 * table (and summary.json as `summary.<format>`, one row per value), through embedded DuckDB:
 * COPY ... TO (copy-to-file.ts) reads each table's Arrow buffers through a scan
 * (arrow-to-duckdb.ts, openArrowScan) with no DuckDB table in between. A COPY of one table runs
 * on one DuckDB thread, so several tables are written at once, one per connection (exportWorkers),
 * and memory holds the tables being written.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readArrowFile } from '../table/arrow-file.js';
import { UsageError } from '../util/errors.js';
import { openArrowScan } from '../sql/arrow-to-duckdb.js';
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
  /** How big the table is, in any unit (bytes, cells): the biggest tables are started first. */
  weight?: number;
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
    .map((f) => arrowTableInput(f.slice(0, -'.arrow'.length), join(dir, f)));
}

/** A table to export from its Arrow file (read when its turn comes; weighed by its size in 8-byte cells, as tableInputs weighs). */
export function arrowTableInput(name: string, path: string): TableInput {
  return { name, read: () => readArrowFile(path), weight: statSync(path).size / 8 };
}

/** Read one table and write it to path. */
export async function exportOneTable(
  connection: DuckDBConnection,
  input: TableInput,
  path: string,
  options: CopyOptions,
): Promise<ExportedFile> {
  const table = input.read();
  const scan = await openArrowScan(connection, input.name, table);
  try {
    await copySelectToFile(connection, `SELECT ${scan.exportColumns} FROM ${scan.from}`, path, options, tableKeyValueMetadata(table));
  } finally {
    scan.close();
  }
  return { table: input.name, path, rows: scan.rows };
}

/**
 * Tables written at once by default: one per core. DuckDB writes one COPY from a scan on one
 * thread, so the session has one DuckDB thread per connection instead (exportSession): with more
 * threads than running COPYs, the thread that waits for a query spins on a core.
 */
export function exportWorkers(options: ExportOptions): number {
  return options.threads ?? availableParallelism();
}

/** The DuckDB session of an export: one thread per query; see exportWorkers. */
export function exportSession(options: ExportOptions): Promise<SqlSession> {
  return SqlSession.open({ ...options, threads: 1 });
}

/**
 * Run jobs on up to `workers` connections of the session at once, the heaviest first; the results
 * in the jobs' order. The first failure is thrown once every running job has ended.
 */
export async function onConnections<T>(
  session: SqlSession,
  workers: number,
  jobs: readonly { weight?: number; run: (connection: DuckDBConnection) => Promise<T> }[],
): Promise<T[]> {
  const order = jobs.map((_, i) => i).sort((a, b) => (jobs[b]!.weight ?? 0) - (jobs[a]!.weight ?? 0));
  const results: T[] = new Array(jobs.length);
  let next = 0;
  let failed = false;
  const worker = async (connection: DuckDBConnection) => {
    while (next < order.length && !failed) {
      const i = order[next++]!;
      try {
        results[i] = await jobs[i]!.run(connection);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const n = Math.max(1, Math.min(workers, jobs.length));
  const connections = [session.connection];
  while (connections.length < n) connections.push(await session.connect());
  const settled = await Promise.allSettled(connections.map(worker));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
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
 * Export tables (and a summary) into destDir as `<table>.<format>`. Each table is read through its
 * read() when its turn comes; up to exportWorkers(options) tables are written at once.
 */
export async function exportTables(
  inputs: readonly TableInput[],
  summary: unknown,
  destDir: string,
  options: ExportOptions,
): Promise<ExportedFile[]> {
  mkdirSync(destDir, { recursive: true });
  const session = await exportSession(options);
  const files: ExportedFile[] = [];
  try {
    const jobs = inputs.map((input) => ({
      weight: input.weight,
      run: (connection: DuckDBConnection) => exportOneTable(connection, input, join(destDir, `${input.name}.${options.format}`), options),
    }));
    files.push(...(await onConnections(session, exportWorkers(options), jobs)));
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
  return Object.entries(tables).map(([name, table]) => ({ name, read: () => table, weight: table.numRows * table.numCols }));
}
