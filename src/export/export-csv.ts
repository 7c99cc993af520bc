/**
 * CSV export through embedded DuckDB: COPY ... TO reads each table's Arrow buffers through a scan
 * (sql/arrow-to-duckdb.ts, openArrowScan), one table per connection at once, each connection on
 * one DuckDB thread (a COPY from a scan runs on one thread, and a thread that waits for a query
 * spins on a core).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { OutputFolder } from '../io/output-folder.js';
import { openArrowScan } from '../sql/arrow-to-duckdb.js';
import { SqlSession } from '../sql/sql-session.js';
import { loadSummary } from '../sql/summary-rows.js';
import { copySelectToCsv } from './copy-to-file.js';
import { exportWorkers, type ExportOptions, type TableInput } from './export-options.js';
import type { ExportedFile } from './parquet-jobs.js';

/**
 * Run jobs on up to `workers` connections of the session at once, the heaviest first; the results
 * in the jobs' order. The first failure is thrown once every running job has ended.
 */
async function onConnections<T>(
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

/** CSV of one table through DuckDB. */
async function exportCsvTable(connection: DuckDBConnection, input: TableInput, folder: OutputFolder): Promise<ExportedFile> {
  const table = input.read();
  const scan = await openArrowScan(connection, input.name, table);
  try {
    const path = await copySelectToCsv(connection, `SELECT ${scan.exportColumns} FROM ${scan.from}`, folder, `${input.name}.csv`);
    return { table: input.name, path, rows: scan.rows };
  } finally {
    scan.close();
  }
}

export async function exportCsv(
  inputs: readonly TableInput[],
  summary: unknown,
  folder: OutputFolder,
  options: ExportOptions,
): Promise<ExportedFile[]> {
  const session = await SqlSession.open({ threads: 1, ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}) });
  try {
    const jobs = inputs.map((input) => ({
      weight: input.weight,
      run: (connection: DuckDBConnection) => exportCsvTable(connection, input, folder),
    }));
    const files = await onConnections(session, exportWorkers(options), jobs);
    if (summary !== undefined) {
      const rows = await loadSummary(session.connection, summary, 'summary');
      const path = await copySelectToCsv(session.connection, 'SELECT * FROM summary', folder, 'summary.csv');
      files.push({ table: 'summary', path, rows });
    }
    return files;
  } finally {
    session.close();
  }
}
