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
import { dropLoadedTable, loadArrowTable, quoteIdent, quoteString, type LoadedTable } from '../sql/arrow-to-duckdb.js';
import { SqlSession } from '../sql/sql-session.js';
import { loadSummary, readSummaryJson } from '../sql/summary-rows.js';
import { copySelectToFile, tableKeyValueMetadata } from './copy-to-file.js';
import { arrowTablesOf, type ExportedFile, type ExportOptions } from './export-tables.js';

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

async function distinctVms(connection: DuckDBConnection, name: string): Promise<(string | null)[]> {
  const r = await connection.runAndReadAll(`SELECT DISTINCT vm FROM ${quoteIdent(name)} ORDER BY vm NULLS LAST`);
  return r.getRowObjectsJS().map((row) => (row.vm ?? null) as string | null);
}

/** Export one run's tables into the dataset. */
async function exportRun(
  connection: DuckDBConnection,
  run: DatasetRun,
  datasetDir: string,
  options: ExportOptions,
): Promise<ExportedFile[]> {
  const host = checkPartitionValue('host', run.host);
  const runName = checkPartitionValue('run', run.run);
  const inputs = arrowTablesOf(run.dir);
  const files: ExportedFile[] = [];
  let defaultVm: string | null = run.vm === undefined ? null : checkPartitionValue('vm', run.vm);
  const lineage = inputs.find((i) => i.name === 'lineage');
  if (run.vm === undefined && lineage && !inputs.some((i) => perVmName(i.name))) {
    // one VM: the tables that name none are that VM's
    await loadArrowTable(connection, 'lineage', lineage.read());
    const vms = (await distinctVms(connection, 'lineage')).filter((v): v is string => v !== null);
    await dropLoadedTable(connection, 'lineage');
    if (vms.length === 1) defaultVm = checkPartitionValue('vm', vms[0]!);
  }
  const write = async (name: string, table: Table, loaded: LoadedTable, vm: string | null, where: string, extra: string) => {
    const path = partitionFile(datasetDir, name, host, vm, runName, options.format);
    mkdirSync(join(path, '..'), { recursive: true });
    const select = `SELECT ${loaded.exportColumns}, ${extra} FROM ${loaded.raw}${where}`;
    await copySelectToFile(connection, select, path, options, partitionMetadata(tableKeyValueMetadata(table), host, vm, runName));
    const n = await connection.runAndReadAll(`SELECT count(*) AS n FROM ${loaded.raw}${where}`);
    files.push({ table: name, path, rows: Number(n.getRowObjectsJS()[0]!.n) });
  };
  const literal = (v: string | null) => (v === null ? 'CAST(NULL AS VARCHAR)' : quoteString(v));
  for (const input of inputs) {
    const table = input.read();
    const split = perVmName(input.name);
    const name = split?.base ?? input.name;
    const loaded = await loadArrowTable(connection, 't', table);
    try {
      if (hasVmColumn(table)) {
        for (const vm of await distinctVms(connection, 't')) {
          if (vm !== null) checkPartitionValue('vm', vm);
          const where = vm === null ? ' WHERE vm IS NULL' : ` WHERE vm = ${quoteString(vm)}`;
          await write(name, table, loaded, vm, where, `${literal(host)} AS host, ${literal(runName)} AS run`);
        }
      } else {
        const vm = split ? checkPartitionValue('vm', split.vm) : name.startsWith('host_') ? null : defaultVm;
        await write(name, table, loaded, vm, '', `${literal(host)} AS host, ${literal(vm)} AS vm, ${literal(runName)} AS run`);
      }
    } finally {
      await dropLoadedTable(connection, 't');
    }
  }
  const summaryPath = join(run.dir, 'summary.json');
  if (existsSync(summaryPath)) {
    const path = partitionFile(datasetDir, 'summary', host, null, runName, options.format);
    mkdirSync(join(path, '..'), { recursive: true });
    const rows = await loadSummary(connection, readSummaryJson(summaryPath), 'summary');
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
        `SELECT *, ${literal(host)} AS host, CAST(NULL AS VARCHAR) AS vm, ${literal(runName)} AS run FROM summary`,
        path,
        options,
        kv,
      );
    } finally {
      await connection.run('DROP TABLE IF EXISTS summary');
    }
    files.push({ table: 'summary', path, rows });
  }
  return files;
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
  const session = await SqlSession.open(options);
  const files: ExportedFile[] = [];
  try {
    for (const r of runs) files.push(...(await exportRun(session.connection, r, datasetDir, options)));
  } finally {
    session.close();
  }
  return files;
}
