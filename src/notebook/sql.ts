/**
 * SQL for notebooks and programs: `await sql("SELECT ...")` runs one query with embedded DuckDB
 * over the tables of an iolineage output folder (see SqlSession: .arrow, .parquet, .csv,
 * summary.json, dataset folders) and returns an Arquero table; `sqlArrow` returns an apache-arrow
 * Table (which `aq.fromArrow` also takes).
 *
 * 64-bit integers: Arquero arithmetic throws on BigInt, so `sql` gives a BIGINT (or HUGEINT, as
 * SUM makes) column as numbers when every value of it is an exact double (|v| <= 2^53), and as
 * BigInt otherwise (epoch-nanosecond times): never rounded. `int64: 'bigint'` keeps BigInt
 * always. `sqlArrow` always gives Int64 (BigInt), and refuses a value beyond Int64.
 */
import { table as arqueroTable, type ColumnTable } from 'arquero';
import { Bool, Float64, Int32, Int64, Table as ArrowTable, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { captureDir } from './open-capture.js';
import { UsageError } from '../util/errors.js';
import { resultColumns, type ResultColumn } from '../sql/result-columns.js';
import { SqlSession, type SqlSessionOptions } from '../sql/sql-session.js';

export interface SqlOptions extends SqlSessionOptions {
  /** Folder(s) of tables; default the notebooks' folder (captureDir(): $IOLINEAGE_OUT, else out/). */
  dir?: string | readonly string[];
  /** 'auto' (default): BIGINT columns as numbers when every value is an exact double; 'bigint': always BigInt. */
  int64?: 'auto' | 'bigint';
}

/** Run a query over the folder(s) and return its columns. */
export async function sqlColumns(query: string, options: SqlOptions = {}): Promise<ResultColumn[]> {
  const dirs = options.dir === undefined ? [captureDir()] : typeof options.dir === 'string' ? [options.dir] : [...options.dir];
  const session = await SqlSession.open(options);
  try {
    for (const d of dirs) await session.addDir(d);
    return await resultColumns(await session.query(query));
  } finally {
    session.close();
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function allSafe(values: ResultColumn['values']): boolean {
  for (const v of values) if (typeof v === 'bigint' && (v > MAX_SAFE || v < -MAX_SAFE)) return false;
  return true;
}

/** The query's result as an Arquero table (column order kept). */
export async function sql(query: string, options: SqlOptions = {}): Promise<ColumnTable> {
  const columns = await sqlColumns(query, options);
  const data: Record<string, unknown[]> = {};
  for (const c of columns) {
    data[c.name] =
      c.kind === 'bigint' && options.int64 !== 'bigint' && allSafe(c.values)
        ? c.values.map((v) => (v === null ? null : Number(v)))
        : c.values;
  }
  return arqueroTable(
    data,
    columns.map((c) => c.name),
  );
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function arrowVector(c: ResultColumn): Vector {
  switch (c.kind) {
    case 'int':
      return vectorFromArray(c.values as (number | null)[], new Int32());
    case 'float':
      return vectorFromArray(c.values as (number | null)[], new Float64());
    case 'bool':
      return vectorFromArray(c.values as (boolean | null)[], new Bool());
    case 'string':
      return vectorFromArray(c.values as (string | null)[], new Utf8());
    case 'bigint': {
      for (const v of c.values) {
        if (typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX)) {
          throw new UsageError(
            `sqlArrow: column ${c.name} (${c.sqlType}) holds ${v}, outside Int64; CAST it to DOUBLE or VARCHAR in the query`,
          );
        }
      }
      return vectorFromArray(c.values as (bigint | null)[], new Int64());
    }
  }
}

/** The query's result as an apache-arrow Table (Int64 as BigInt, strings as Utf8). */
export async function sqlArrow(query: string, options: SqlOptions = {}): Promise<ArrowTable> {
  const columns = await sqlColumns(query, options);
  return new ArrowTable(Object.fromEntries(columns.map((c) => [c.name, arrowVector(c)])));
}
