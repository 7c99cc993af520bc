/**
 * Export the tables of an iolineage output as Parquet or CSV files, one `<table>.<format>` per
 * table (and summary.json as `summary.<format>`, one row per value).
 *
 * Parquet: iolineage's own writer (parquet/parquet-file.ts) encodes the Arrow buffers as they are,
 * tables from Arrow files on worker threads (parquet-jobs.ts). CSV: embedded DuckDB (export-csv.ts).
 * The files of one export are a set: staged in an OutputFolder (io/output-folder.ts) and renamed
 * into place together, then recorded in the folder's manifest, so that a failed or interrupted
 * export leaves none of them under a final name.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { withOutputFolder, type OutputFolder } from '../io/output-folder.js';
import { readArrowFile } from '../table/arrow-file.js';
import { UsageError } from '../util/errors.js';
import { readSummaryJson } from '../sql/summary-rows.js';
import { exportWorkers, type ExportOptions, type TableInput } from './export-options.js';
import { runParquetJobs, type ExportedFile, type ParquetJob } from './parquet-jobs.js';
import { summaryTable } from './table-files.js';

export type { ExportedFile } from './parquet-jobs.js';
export type { ExportOptions, TableInput } from './export-options.js';

/** What an export wrote, and the notes of its folder's commit (files of earlier exports kept beside them). */
export interface ExportResult {
  files: ExportedFile[];
  notes: string[];
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
  return { name, read: () => readArrowFile(path), weight: statSync(path).size / 8, source: path };
}

/** Whether Parquet pages are compressed (snappy, the default) under these options. */
export const parquetCompressed = (options: ExportOptions): boolean => (options.compression ?? 'snappy') !== 'uncompressed';

/**
 * Export tables (and a summary) into an output folder as `<table>.<format>`, staged (the caller
 * commits the folder). Each table is read when its turn comes; up to exportWorkers(options)
 * tables are written at once.
 */
export async function exportTables(
  inputs: readonly TableInput[],
  summary: unknown,
  folder: OutputFolder,
  options: ExportOptions,
): Promise<ExportedFile[]> {
  // DuckDB (a native library) is loaded only for CSV
  if (options.format === 'csv') return (await import('./export-csv.js')).exportCsv(inputs, summary, folder, options);
  const compress = parquetCompressed(options);
  const plan = (table: string) => ({ table, path: folder.path(`${table}.parquet`), compress, rowGroupRows: options.rowGroupRows });
  const jobs: ParquetJob[] = inputs.map((input) => ({
    plan: plan(input.name),
    source: input.source,
    read: input.read,
    weight: input.weight,
  }));
  if (summary !== undefined) jobs.push({ plan: plan('summary'), read: () => summaryTable(summary), weight: 0 });
  return (await runParquetJobs(jobs, exportWorkers(options), folder)).flat();
}

/**
 * Export every table of an output folder (and its summary.json) into destDir (made if needed;
 * it may be srcDir), as one set.
 */
export async function exportDir(srcDir: string, destDir: string, options: ExportOptions): Promise<ExportResult> {
  const inputs = arrowTablesOf(srcDir);
  const summaryPath = join(srcDir, 'summary.json');
  const summary = existsSync(summaryPath) ? readSummaryJson(summaryPath) : undefined;
  if (inputs.length === 0 && summary === undefined) throw new UsageError(`${srcDir}: no .arrow tables or summary.json to export`);
  const { result: files, notes } = await withOutputFolder(destDir, 'export', (folder) => exportTables(inputs, summary, folder, options));
  return { files, notes };
}

/** Wrap in-memory tables (analyze's result) as export inputs. */
export function tableInputs(tables: Record<string, Table>): TableInput[] {
  return Object.entries(tables).map(([name, table]) => ({ name, read: () => table, weight: table.numRows * table.numCols }));
}
