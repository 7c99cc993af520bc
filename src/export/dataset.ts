/**
 * Many analyses as one Hive-partitioned dataset. A VM's I/O reaches only its own host, so each
 * host's lineage is computed where its traces are; the question across hosts, VMs and runs is
 * asked of the dataset:
 *
 *   DATASET/<table>/host=<host>/vm=<vm>/run=<run>/<table>.parquet
 *
 * One folder per table, so that each table is a partitioned table to Spark, Trino (Hive
 * connector: a table's partition folders hold only that table's files) and pyarrow, as well as
 * to DuckDB. host, vm and run are also columns of every file (a file read alone still says
 * where it came from). Rows that belong to no VM (the host's block requests and fs map,
 * attribution of host bytes outside every image) are in vm=__HIVE_DEFAULT_PARTITION__, which
 * Hive, Spark, Trino and DuckDB read as NULL. Per-VM tables of a several-VM analysis
 * (app_io_<vm>, ...) become the table app_io with vm=<vm>; tables with a vm column (lineage,
 * attribution, links_*) are split by it. Partition values use only plain characters, so that no
 * engine has to unescape a path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { UsageError } from '../util/errors.js';
import { readSummaryJson } from '../sql/summary-rows.js';
import { withOutputFolder } from '../io/output-folder.js';
import { exportWorkers, type ExportOptions } from './export-options.js';
import { arrowTablesOf, parquetCompressed, type ExportResult } from './export-tables.js';
import { runParquetJobs, type ParquetJob } from './parquet-jobs.js';
import { checkPartitionValue, summaryTable, valueRows } from './table-files.js';

export { checkPartitionValue, NULL_PARTITION, partitionFile } from './table-files.js';

/** Tables analyze writes once per VM (suffixed _<vm> when a bundle has several VMs). */
const PER_VM_TABLES = ['app_io', 'guest_requests', 'guest_fs_map', 'image_map'] as const;

export interface DatasetRun {
  /** Output folder of `iolineage analyze` (or ingest). */
  dir: string;
  host: string;
  run: string;
  /** VM of tables that name none (default: the one VM of the lineage table, if one). */
  vm?: string;
}

/** The table name and VM of a file stem: app_io_vm1 → app_io, vm1. */
function perVmName(stem: string): { base: string; vm: string } | undefined {
  for (const base of PER_VM_TABLES) {
    if (stem.startsWith(`${base}_`) && stem.length > base.length + 1) return { base, vm: stem.slice(base.length + 1) };
  }
  return undefined;
}

/** The VMs of a table's vm column, in order (null, rows of no VM, last). */
function vmsOf(table: Table): (string | null)[] {
  return [...valueRows(table, 'vm').keys()];
}

/** One run's tables, each a job that writes its files into the dataset (see exportDataset). */
function runJobs(run: DatasetRun, datasetDir: string, options: ExportOptions): ParquetJob[] {
  const host = checkPartitionValue('host', run.host);
  const runName = checkPartitionValue('run', run.run);
  const inputs = arrowTablesOf(run.dir);
  let defaultVm: string | null = run.vm === undefined ? null : checkPartitionValue('vm', run.vm);
  const lineage = inputs.find((i) => i.name === 'lineage');
  if (run.vm === undefined && lineage && !inputs.some((i) => perVmName(i.name))) {
    // one VM: the tables that name none are that VM's
    const vms = vmsOf(lineage.read()).filter((v): v is string => v !== null);
    if (vms.length === 1) defaultVm = checkPartitionValue('vm', vms[0]!);
  }
  const compress = parquetCompressed(options);
  const jobs: ParquetJob[] = inputs.map((input) => {
    const split = perVmName(input.name);
    const name = split?.base ?? input.name;
    // a table with a vm column is split by it (table-files.ts); others belong to one VM, or none
    const vm = split ? checkPartitionValue('vm', split.vm) : name.startsWith('host_') ? null : defaultVm;
    return {
      plan: { table: name, dataset: { dir: datasetDir, host, run: runName, vm }, compress, rowGroupRows: options.rowGroupRows },
      source: input.source,
      read: input.read,
      weight: input.weight,
    };
  });
  const summaryPath = join(run.dir, 'summary.json');
  if (existsSync(summaryPath)) {
    jobs.push({
      plan: { table: 'summary', dataset: { dir: datasetDir, host, run: runName, vm: null }, compress },
      read: () => summaryTable(readSummaryJson(summaryPath)),
      weight: 0,
    });
  }
  return jobs;
}

/**
 * Export several runs into one dataset folder (made if needed), as one set: every file is staged
 * and renamed into place at the end, and recorded in the dataset's manifest (iolineage-outputs.json),
 * so that a failed export changes nothing. A run exported again replaces its files; the notes name
 * files of earlier exports that this one did not rewrite.
 */
export async function exportDataset(runs: readonly DatasetRun[], datasetDir: string, options: ExportOptions): Promise<ExportResult> {
  const seen = new Set<string>();
  for (const r of runs) {
    const key = `${r.host}/${r.run}`;
    if (seen.has(key)) throw new UsageError(`dataset: run "${r.run}" of host "${r.host}" given twice (name runs apart with --run)`);
    seen.add(key);
  }
  const jobs = runs.flatMap((r) => runJobs(r, datasetDir, options));
  const { result, notes } = await withOutputFolder(datasetDir, 'export --dataset', async (folder) =>
    (await runParquetJobs(jobs, exportWorkers(options), folder)).flat(),
  );
  return { files: result, notes };
}
