/**
 * A DuckDB query result as typed columns, the one form every output is made from: the CLI's
 * aligned table, CSV and JSON (format-result.ts), and the tables notebooks get (sql.ts).
 * 64-bit and wider integers stay BigInt; none is rounded on the way.
 */
import { DuckDBTypeId, type DuckDBResultReader } from '@duckdb/node-api';

/** What a column's values are in JavaScript. */
export type ResultKind = 'int' | 'bigint' | 'float' | 'bool' | 'string';

export interface ResultColumn {
  name: string;
  /** DuckDB's name of the type, e.g. BIGINT, HUGEINT, VARCHAR. */
  sqlType: string;
  kind: ResultKind;
  values: (number | bigint | boolean | string | null)[];
}

function kindOf(typeId: DuckDBTypeId): ResultKind {
  switch (typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return 'int';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return 'bigint';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return 'float';
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    default:
      return 'string';
  }
}

/** Read every row of a result into columns. */
export async function resultColumns(reader: DuckDBResultReader): Promise<ResultColumn[]> {
  await reader.readAll();
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const data = reader.getColumnsJS();
  return names.map((name, c) => {
    const kind = kindOf(types[c]!.typeId);
    const raw = data[c] ?? [];
    const values =
      kind === 'string'
        ? raw.map((v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : stringOf(v)))
        : (raw as ResultColumn['values']);
    return { name, sqlType: types[c]!.toString(), kind, values };
  });
}

function stringOf(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}

/** Number of rows of a set of result columns. */
export function rowCount(columns: readonly ResultColumn[]): number {
  return columns[0]?.values.length ?? 0;
}
