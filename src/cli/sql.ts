/**
 * `iolineage sql`: one SQL query (embedded DuckDB) over the tables of one or more iolineage
 * output folders, printed as an aligned table, CSV or JSON.
 */
import { readFileSync } from 'node:fs';
import { parseCommandArgs } from './args.js';
import { UsageError } from '../util/errors.js';
import { SqlSession } from '../sql/sql-session.js';
import { resultColumns } from '../sql/result-columns.js';
import { formatResult, OUTPUT_FORMATS, type OutputFormat } from '../sql/format-result.js';

export const help = `usage: iolineage sql OUT [OUT...] "SELECT ..." [--format table|csv|json]
       iolineage sql OUT [OUT...] -f QUERY.sql
       iolineage sql OUT [OUT...] --tables

Runs SQL with an embedded DuckDB (nothing to install or start) over the tables of OUT: every
<table>.arrow of \`iolineage analyze\` / \`ingest\` (lineage, attribution, app_io, guest_requests,
host_requests, links_app_guest, ...; loaded when a query first names it), every <table>.parquet
or .csv of \`iolineage export\`, the tables of an exported dataset (folders <table>/host=.../
vm=.../run=.../, with host, vm and run as columns), and summary.json as the table
summary(key, number, text), one row per value (key like 'layers.guest.read_bytes').
Columns are documented in docs/tables.md; example queries in docs/sql.md.

options:
  --format FORMAT       table (default: aligned, numbers right), csv, or json (array of rows;
                        64-bit integers written exactly)
  --max-rows N          rows an aligned table shows (default 200; csv and json print all)
  -f, --file FILE       read the query from FILE instead of the last argument
  --tables              list the tables with their source and columns
  --memory-limit SIZE   DuckDB memory limit, e.g. 2GiB (default: DuckDB's, 80% of RAM)
  --threads N           DuckDB worker threads (default: the number of cores)`;

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseCommandArgs('sql', argv, {
    format: { type: 'string' },
    'max-rows': { type: 'string' },
    file: { type: 'string', short: 'f' },
    tables: { type: 'boolean' },
    'memory-limit': { type: 'string' },
    threads: { type: 'string' },
  });
  const format = (typeof o.format === 'string' ? o.format : 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) throw new UsageError(`sql: --format ${format}: expected ${OUTPUT_FORMATS.join(', ')}`);
  const maxRowsText = typeof o['max-rows'] === 'string' ? o['max-rows'] : '200';
  if (!/^[1-9]\d*$/.test(maxRowsText)) throw new UsageError(`sql: --max-rows: expected a positive integer, got "${maxRowsText}"`);
  const threadsText = typeof o.threads === 'string' ? o.threads : undefined;
  if (threadsText !== undefined && !/^[1-9]\d*$/.test(threadsText))
    throw new UsageError(`sql: --threads: expected a positive integer, got "${threadsText}"`);
  const args = [...positionals];
  let query: string | undefined;
  if (typeof o.file === 'string') query = readFileSync(o.file, 'utf8');
  else if (!o.tables) query = args.pop();
  if (args.length === 0)
    throw new UsageError(`sql: expected OUT folder(s) and a query, got ${positionals.length} argument(s) (see --help)`);
  if (!o.tables && !query?.trim()) throw new UsageError('sql: empty query (see --help)');

  const session = await SqlSession.open({
    ...(typeof o['memory-limit'] === 'string' ? { memoryLimit: o['memory-limit'] } : {}),
    ...(threadsText ? { threads: Number(threadsText) } : {}),
  });
  try {
    for (const dir of args) await session.addDir(dir);
    if (o.tables)
      query = `SELECT table_name AS "table", string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS columns
      FROM information_schema.columns WHERE table_schema = 'main' GROUP BY table_name ORDER BY table_name`;
    if (o.tables) await session.loadAll();
    const columns = await resultColumns(await session.query(query!));
    process.stdout.write(formatResult(columns, format, Number(maxRowsText)));
  } finally {
    session.close();
  }
  return 0;
}
