/**
 * `iolineage export`: the tables of analyze/ingest outputs as Parquet or CSV files, or several
 * outputs as one Hive-partitioned dataset.
 */
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseCommandArgs } from './args.js';
import { UsageError } from '../util/errors.js';
import { formatBytes } from '../util/numbers.js';
import { EXPORT_FORMATS, PARQUET_COMPRESSIONS, type ExportFormat, type ParquetCompression } from '../export/export-options.js';
import { exportDir, type ExportOptions, type ExportResult } from '../export/export-tables.js';
import { exportDataset, type DatasetRun } from '../export/dataset.js';

export const help = `usage: iolineage export OUT [-o DIR] [--format parquet|csv]
       iolineage export OUT [OUT...] --dataset DATASET [--host NAME] [--run NAME] [--vm NAME]

Writes every table of OUT (an \`iolineage analyze\` or \`ingest\` output: <table>.arrow and
summary.json) as <table>.parquet (default) or <table>.csv in DIR (default: OUT itself), and
summary.json's values as summary.<format> (key, number, text). Each file is written under a
temporary name and renamed into place.

Parquet files keep Int64 values exact and nulls as nulls, store integers delta-encoded and
strings dictionary-encoded, compress pages with snappy where it pays (--compression), hold row
groups of up to 1,048,576 rows with min/max statistics, and carry each column's doc, unit and
clock (docs/tables.md) in the footer's key-value metadata (iolineage.column.<name>).
pandas (pyarrow), Spark, Trino, DuckDB and Polars read them. Tables are written on several
cores: each table of OUT is read and encoded by a worker thread.

With --dataset, each OUT is one run added to a Hive-partitioned dataset:
  DATASET/<table>/host=<host>/vm=<vm>/run=<run>/<table>.parquet
host, vm and run are also columns of each file; rows of no VM (host tables) are under
vm=__HIVE_DEFAULT_PARTITION__ (NULL). One query then spans hosts, VMs and runs
(\`iolineage sql DATASET "..."\`; Spark SQL and Trino: docs/sql.md).

options:
  -o, --out DIR          folder for the files (default: OUT)
  --format FORMAT        parquet (default) or csv
  --compression CODEC    snappy (default) or uncompressed (Parquet)
  --dataset DATASET      add the OUTs to this dataset folder instead
  --host NAME            host partition value (default: this machine's host name)
  --run NAME             run partition value (one OUT only; default: the OUT folder's name)
  --vm NAME              VM of tables that name none (default: the lineage table's one VM)
  --memory-limit SIZE    DuckDB memory limit for CSV, e.g. 2GiB
  --threads N            tables written at once (default: the number of cores)`;

function report({ files, notes }: ExportResult): void {
  for (const f of files) {
    let size = '';
    try {
      size = formatBytes(statSync(f.path).size);
    } catch {
      /* reported as written; size unknown */
    }
    process.stdout.write(`${f.table.padEnd(18)} ${String(f.rows).padStart(10)} rows  ${size.padStart(10)}  ${f.path}\n`);
  }
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseCommandArgs('export', argv, {
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    compression: { type: 'string' },
    dataset: { type: 'string' },
    host: { type: 'string' },
    run: { type: 'string' },
    vm: { type: 'string' },
    'memory-limit': { type: 'string' },
    threads: { type: 'string' },
  });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const format = (str(o.format) ?? 'parquet') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`export: --format ${format}: expected ${EXPORT_FORMATS.join(' or ')}`);
  const compression = (str(o.compression) ?? 'snappy') as ParquetCompression;
  if (!PARQUET_COMPRESSIONS.includes(compression))
    throw new UsageError(`export: --compression ${compression}: expected ${PARQUET_COMPRESSIONS.join(', ')}`);
  const threads = str(o.threads);
  if (threads !== undefined && !/^[1-9]\d*$/.test(threads))
    throw new UsageError(`export: --threads: expected a positive integer, got "${threads}"`);
  if (positionals.length === 0) throw new UsageError('export: expected an OUT folder (see --help)');
  const options: ExportOptions = {
    format,
    compression,
    ...(str(o['memory-limit']) ? { memoryLimit: str(o['memory-limit'])! } : {}),
    ...(threads ? { threads: Number(threads) } : {}),
  };
  const dataset = str(o.dataset);
  if (dataset === undefined) {
    if (o.host !== undefined || o.run !== undefined || o.vm !== undefined)
      throw new UsageError('export: --host, --run and --vm go with --dataset');
    if (positionals.length > 1 && o.out !== undefined)
      throw new UsageError('export: -o DIR takes one OUT (several OUTs are exported each into itself, or into a --dataset)');
    for (const dir of positionals) report(await exportDir(dir, str(o.out) ?? dir, options));
    return 0;
  }
  if (o.out !== undefined) throw new UsageError('export: give -o DIR or --dataset DATASET, not both');
  if (format !== 'parquet')
    throw new UsageError(`export: --dataset writes Parquet (the format Spark, Trino and DuckDB read partitions of), not ${format}`);
  if (o.run !== undefined && positionals.length > 1)
    throw new UsageError(
      `export: --run names one run, but ${positionals.length} OUT folders were given (each run is named after its folder)`,
    );
  const host = str(o.host) ?? hostname();
  const runs: DatasetRun[] = positionals.map((dir) => ({
    dir,
    host,
    run: str(o.run) ?? basename(resolve(dir)),
    ...(str(o.vm) ? { vm: str(o.vm)! } : {}),
  }));
  report(await exportDataset(runs, dataset, options));
  return 0;
}
