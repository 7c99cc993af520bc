/**
 * An embedded DuckDB database (in memory, nothing to start) with the tables of iolineage outputs
 * registered by name: `<table>.arrow` files of ingest/analyze (loaded on first use: a query that
 * names a table not yet loaded is run again once it is), `<table>.parquet` and `.csv` files of
 * `iolineage export` (views over the files), the tables of a Hive-partitioned dataset
 * (`<table>/host=.../vm=.../run=.../*.parquet`, a view with the partition columns), and
 * summary.json as the table `summary` (one row per leaf: key, number, text).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { readArrowFile } from '../table/arrow-file.js';
import { UsageError } from '../util/errors.js';
import { loadArrowTable, quoteIdent, quoteString } from './arrow-to-duckdb.js';
import { loadSummary, readSummaryJson } from './summary-rows.js';

export interface SqlSessionOptions {
  /** DuckDB memory_limit, e.g. "2GiB" (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
  /** DuckDB worker threads (default: DuckDB's, the number of cores). */
  threads?: number;
  /** Where DuckDB spills when over memory_limit (default: none; DuckDB then fails instead). */
  tempDirectory?: string;
}

/** Where a registered table comes from. */
export interface TableSource {
  name: string;
  kind: 'arrow' | 'parquet' | 'csv' | 'dataset' | 'summary' | 'memory';
  /** File or folder the rows are read from. */
  path: string;
  /** Loaded into the database yet (arrow files are loaded on first use). */
  loaded: boolean;
}

const TABLE_FILE = /^([A-Za-z_][A-Za-z0-9_]*)\.(arrow|parquet|csv)$/;
const PARTITION_DIR = /^[A-Za-z_][A-Za-z0-9_]*=/;
/** A partition value every engine reads as it is (dataset.ts writes only these), and Hive's NULL. */
const PLAIN_PARTITION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/** Every `key=value` folder under a dataset table's folder: the values of each key. */
function partitionValues(dir: string, into: Map<string, Set<string>>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const eq = e.name.indexOf('=');
    if (!e.isDirectory() || eq < 1 || !PARTITION_DIR.test(e.name)) continue;
    const key = e.name.slice(0, eq);
    let values = into.get(key);
    if (!values) into.set(key, (values = new Set()));
    values.add(e.name.slice(eq + 1));
    partitionValues(join(dir, e.name), into);
  }
}
const MISSING_TABLE = /Table with name "?([^"\s!]+)"? does not exist/;

export class SqlSession {
  private readonly pending = new Map<string, () => Promise<void>>();
  private readonly extraConnections: DuckDBConnection[] = [];
  private datasetTypes = 0;
  readonly sources = new Map<string, TableSource>();

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: SqlSessionOptions = {}): Promise<SqlSession> {
    // no extension is ever downloaded: Parquet, CSV and JSON are built into the package's DuckDB
    const config: Record<string, string> = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.threads) config.threads = String(options.threads);
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    return new SqlSession(instance, connection);
  }

  /**
   * Register every table of an output folder: `.arrow`, `.parquet`, `.csv` files, summary.json,
   * and dataset tables (subfolders holding `key=value` partition folders). Returns the names.
   */
  async addDir(dir: string): Promise<string[]> {
    const root = resolve(dir);
    if (!existsSync(root) || !statSync(root).isDirectory())
      throw new UsageError(
        `${dir}: expected a folder of iolineage tables (analyze, ingest or export output), found ${existsSync(root) ? 'a file' : 'nothing'}`,
      );
    const added: string[] = [];
    const datasets: { name: string; path: string }[] = [];
    for (const entry of readdirSync(root).sort()) {
      const path = join(root, entry);
      const st = statSync(path);
      const m = TABLE_FILE.exec(entry);
      if (st.isFile() && m) {
        const [, name, ext] = m as unknown as [string, string, 'arrow' | 'parquet' | 'csv'];
        if (this.sources.has(name)) continue; // one table per name: the first of .arrow, .csv, .parquet
        if (ext === 'arrow') this.addLazyArrow(name, path);
        else
          await this.addView(
            name,
            ext,
            path,
            ext === 'parquet' ? `read_parquet(${quoteString(path)})` : `read_csv(${quoteString(path)}, header = true)`,
          );
        added.push(name);
      } else if (st.isFile() && entry === 'summary.json' && !this.sources.has('summary')) {
        await this.addSummary(path);
        added.push('summary');
      } else if (
        st.isDirectory() &&
        /^[A-Za-z_][A-Za-z0-9_]*$/.test(entry) &&
        !this.sources.has(entry) &&
        readdirSync(path).some((e) => PARTITION_DIR.test(e))
      ) {
        datasets.push({ name: entry, path });
      }
    }
    if (datasets.length) {
      const hiveTypes = await this.partitionTypes(datasets.map((d) => d.path));
      for (const { name, path } of datasets) {
        const glob = join(path, '**', '*.parquet');
        await this.addView(
          name,
          'dataset',
          path,
          `read_parquet(${quoteString(glob)}, hive_partitioning = true, union_by_name = true${hiveTypes})`,
        );
        added.push(name);
      }
    }
    if (added.length === 0) throw new UsageError(`${dir}: no tables (.arrow, .parquet, .csv, summary.json or dataset folders) in it`);
    return added;
  }

  /**
   * The partition columns of a folder's dataset tables as ENUMs of the values in their folder
   * names (one type per column, shared by the folder's tables), as a `hive_types` argument.
   * Strings compare, group and join as they would (NULL partition NULL), but a join or GROUP BY
   * on host and run keys one byte each instead of two strings: a join of two 100M-row tables on
   * (host, run, id) then holds half the memory and takes half the CPU. A column with any value
   * outside letters, digits, ".", "_", "-" (an engine might unescape it) stays VARCHAR.
   */
  private async partitionTypes(tableDirs: readonly string[]): Promise<string> {
    const values = new Map<string, Set<string>>();
    for (const dir of tableDirs) partitionValues(dir, values);
    const types: string[] = [];
    const n = ++this.datasetTypes;
    for (const [key, set] of [...values].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const members = [...set].filter((v) => v !== NULL_PARTITION).sort();
      if (members.length === 0 || !members.every((v) => PLAIN_PARTITION_VALUE.test(v))) continue;
      const type = `iol_partition_${n}_${key}`;
      await this.connection.run(`CREATE TYPE ${quoteIdent(type)} AS ENUM (${members.map(quoteString).join(', ')})`);
      types.push(`${quoteString(key)}: ${quoteString(type)}`);
    }
    return types.length ? `, hive_types = {${types.join(', ')}}` : '';
  }

  /** Register an in-memory Arrow table (loaded now). */
  async addArrowTable(name: string, table: Table): Promise<void> {
    await loadArrowTable(this.connection, name, table);
    this.sources.set(name, { name, kind: 'memory', path: '(memory)', loaded: true });
  }

  private addLazyArrow(name: string, path: string): void {
    const source: TableSource = { name, kind: 'arrow', path, loaded: false };
    this.sources.set(name, source);
    this.pending.set(name, async () => {
      await loadArrowTable(this.connection, name, readArrowFile(path));
      source.loaded = true;
    });
  }

  private async addView(name: string, kind: TableSource['kind'], path: string, from: string): Promise<void> {
    await this.connection.run(`CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT * FROM ${from}`);
    this.sources.set(name, { name, kind, path, loaded: true });
  }

  private async addSummary(path: string): Promise<void> {
    await loadSummary(this.connection, readSummaryJson(path));
    this.sources.set('summary', { name: 'summary', kind: 'summary', path, loaded: true });
  }

  /** Load every registered table not loaded yet (e.g. before exporting them all). */
  async loadAll(): Promise<void> {
    for (const name of [...this.pending.keys()]) await this.load(name);
  }

  private async load(name: string): Promise<void> {
    const f = this.pending.get(name);
    if (!f) return;
    this.pending.delete(name);
    await f();
  }

  /**
   * Run one SQL text (several statements allowed; the result is the last one's). A table of the
   * registered folders that is not loaded yet is loaded when DuckDB reports it missing, and the
   * query run again.
   */
  async query(sql: string): Promise<DuckDBResultReader> {
    for (;;) {
      try {
        return await this.connection.runAndReadAll(sql);
      } catch (e) {
        const name = MISSING_TABLE.exec(e instanceof Error ? e.message : '')?.[1];
        if (name && this.pending.has(name)) {
          await this.load(name);
          continue;
        }
        throw new UsageError(
          `SQL: ${e instanceof Error ? e.message : String(e)}${name && !this.sources.has(name) ? `\n  tables: ${[...this.sources.keys()].join(', ') || '(none)'}` : ''}`,
        );
      }
    }
  }

  /** Another connection to the same database (closed with the session), to run a query alongside. */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    this.extraConnections.push(connection);
    return connection;
  }

  close(): void {
    for (const c of this.extraConnections) c.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
