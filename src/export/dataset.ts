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
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UsageError } from '../util/errors.js';
import { openArrowScan, quoteIdent, quoteString } from '../sql/arrow-to-duckdb.js';
import { loadSummary, readSummaryJson } from '../sql/summary-rows.js';
import { copySelectToFile, tableKeyValueMetadata } from './copy-to-file.js';
import { arrowTablesOf, exportSession, exportWorkers, onConnections, type ExportedFile, type ExportOptions } from './export-tables.js';

/** Hive's name for a NULL partition value. */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
const PARTITION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
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

const PARTITION_DOCS: Record<string, string> = {
  host: 'Host the run was captured and analysed on (dataset partition).',
  vm: 'Guest (VM) the rows belong to; null for host-level rows (dataset partition).',
  run: 'Name of the run: one capture analysed (dataset partition).',
};

export function checkPartitionValue(what: string, value: string): string {
  if (!PARTITION_VALUE.test(value) || value === NULL_PARTITION) {
    throw new UsageError(
      `dataset ${what} "${value}": expected letters, digits, ".", "_" or "-" (starting with a letter or digit), so that every engine reads the partition folder as it is`,
    );
  }
  return value;
}

/** Where one table of one run goes. */
export function partitionFile(datasetDir: string, table: string, host: string, vm: string | null, run: string, format: string): string {
  return join(datasetDir, table, `host=${host}`, `vm=${vm ?? NULL_PARTITION}`, `run=${run}`, `${table}.${format}`);
}

function partitionMetadata(base: Map<string, string>, host: string, vm: string | null, run: string): Map<string, string> {
  const kv = new Map(base);
  for (const [k, doc] of Object.entries(PARTITION_DOCS)) kv.set(`iolineage.column.${k}`, JSON.stringify({ doc }));
  kv.set('iolineage.partition', `host=${host}/vm=${vm ?? NULL_PARTITION}/run=${run}`);
  return kv;
}

/** The table name and VM of a file stem: app_io_vm1 → app_io, vm1. */
function perVmName(stem: string): { base: string; vm: string } | undefined {
  for (const base of PER_VM_TABLES) {
    if (stem.startsWith(`${base}_`) && stem.length > base.length + 1) return { base, vm: stem.slice(base.length + 1) };
  }
  return undefined;
}

function hasVmColumn(table: Table): boolean {
  return table.schema.fields.some((f) => f.name === 'vm');
}

/** Rows per value of a table's vm column (null: rows of no VM), values in order, null last. */
export function vmCounts(table: Table): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const v of table.getChild('vm') as Iterable<unknown>) {
    const key = v === null || v === undefined ? null : String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0)));
}

let summaryCount = 0;

/** One run's tables, each a job that writes its files into the dataset (see exportDataset). */
function runJobs(run: DatasetRun, datasetDir: string, options: ExportOptions) {
  const host = checkPartitionValue('host', run.host);
  const runName = checkPartitionValue('run', run.run);
  const inputs = arrowTablesOf(run.dir);
  let defaultVm: string | null = run.vm === undefined ? null : checkPartitionValue('vm', run.vm);
  const lineage = inputs.find((i) => i.name === 'lineage');
  if (run.vm === undefined && lineage && !inputs.some((i) => perVmName(i.name))) {
    // one VM: the tables that name none are that VM's
    const vms = [...vmCounts(lineage.read()).keys()].filter((v): v is string => v !== null);
    if (vms.length === 1) defaultVm = checkPartitionValue('vm', vms[0]!);
  }
  const literal = (v: string | null) => (v === null ? 'CAST(NULL AS VARCHAR)' : quoteString(v));
  const write = async (connection: DuckDBConnection, name: string, table: Table, select: string, vm: string | null) => {
    const path = partitionFile(datasetDir, name, host, vm, runName, options.format);
    mkdirSync(join(path, '..'), { recursive: true });
    await copySelectToFile(connection, select, path, options, partitionMetadata(tableKeyValueMetadata(table), host, vm, runName));
    return path;
  };
  const jobs = inputs.map((input) => ({
    weight: input.weight,
    run: async (connection: DuckDBConnection): Promise<ExportedFile[]> => {
      const table = input.read();
      const split = perVmName(input.name);
      const name = split?.base ?? input.name;
      const scan = await openArrowScan(connection, 't', table);
      const files: ExportedFile[] = [];
      try {
        if (hasVmColumn(table)) {
          for (const [vm, rows] of vmCounts(table)) {
            if (vm !== null) checkPartitionValue('vm', vm);
            const where = vm === null ? ' WHERE vm IS NULL' : ` WHERE vm = ${quoteString(vm)}`;
            const select = `SELECT ${scan.exportColumns}, ${literal(host)} AS host, ${literal(runName)} AS run FROM ${scan.from}${where}`;
            files.push({ table: name, path: await write(connection, name, table, select, vm), rows });
          }
        } else {
          const vm = split ? checkPartitionValue('vm', split.vm) : name.startsWith('host_') ? null : defaultVm;
          const select = `SELECT ${scan.exportColumns}, ${literal(host)} AS host, ${literal(vm)} AS vm, ${literal(runName)} AS run FROM ${scan.from}`;
          files.push({ table: name, path: await write(connection, name, table, select, vm), rows: scan.rows });
        }
      } finally {
        scan.close();
      }
      return files;
    },
  }));
  const summaryPath = join(run.dir, 'summary.json');
  if (existsSync(summaryPath)) {
    jobs.push({
      weight: 0,
      run: async (connection: DuckDBConnection): Promise<ExportedFile[]> => {
        const path = partitionFile(datasetDir, 'summary', host, null, runName, options.format);
        mkdirSync(join(path, '..'), { recursive: true });
        // a name of its own: summaries of several runs may be written at once
        const table = `summary_${++summaryCount}`;
        const rows = await loadSummary(connection, readSummaryJson(summaryPath), table);
        try {
          const kv = partitionMetadata(
            new Map([
              ['iolineage.table', 'summary'],
              ['iolineage.column.key', JSON.stringify({ doc: 'Dotted path of the value in summary.json.' })],
            ]),
            host,
            null,
            runName,
          );
          await copySelectToFile(
            connection,
            `SELECT *, ${literal(host)} AS host, CAST(NULL AS VARCHAR) AS vm, ${literal(runName)} AS run FROM ${quoteIdent(table)}`,
            path,
            options,
            kv,
          );
        } finally {
          await connection.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
        }
        return [{ table: 'summary', path, rows }];
      },
    });
  }
  return jobs;
}

/** Export several runs into one dataset folder (created; a run exported again is replaced file by file). */
export async function exportDataset(runs: readonly DatasetRun[], datasetDir: string, options: ExportOptions): Promise<ExportedFile[]> {
  const seen = new Set<string>();
  for (const r of runs) {
    const key = `${r.host}/${r.run}`;
    if (seen.has(key)) throw new UsageError(`dataset: run "${r.run}" of host "${r.host}" given twice (name runs apart with --run)`);
    seen.add(key);
  }
  mkdirSync(datasetDir, { recursive: true });
  const jobs = runs.flatMap((r) => runJobs(r, datasetDir, options));
  const session = await exportSession(options);
  try {
    return (await onConnections(session, exportWorkers(options), jobs)).flat();
  } finally {
    session.close();
  }
}
