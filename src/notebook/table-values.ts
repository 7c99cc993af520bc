/**
 * A column's values out of an Arquero table without a call per value where the column is one
 * buffer: what the big-table helpers read. Arquero's columns are arrays, typed arrays or Arrow
 * vectors (each with `at(row)`); a table's filter (a bit mask) and order (an index) apply to rows
 * of those backing columns.
 */
import type { ColumnTable } from 'arquero';
import { UsageError } from '../util/errors.js';

export type TableValue = number | string | boolean | bigint | null | undefined;

/** Arquero's column object: an array, a typed array, or an Arrow vector; each has `at(row)`. */
export interface BackingColumn {
  at(row: number): TableValue;
  length: number;
  nullCount?: number;
  data?: readonly unknown[];
  toArray?: () => unknown;
}

export function checkColumn(table: ColumnTable, name: string, what: string): void {
  if (!table.columnNames().includes(name)) {
    throw new UsageError(`${what}: the table has no column "${name}" (columns: ${table.columnNames().join(', ')})`);
  }
}

/**
 * A column's values by backing row (the table's filter and order not applied): the column itself
 * when it is an array or typed array, an Arrow vector's one buffer when it has one and no nulls
 * (a null would read as 0 there), else the values read once through `at`. Not to be modified.
 */
export function backingValues(table: ColumnTable, name: string, what: string): ArrayLike<TableValue> {
  checkColumn(table, name, what);
  const col = table.column(name) as unknown as BackingColumn;
  const total = table.totalRows();
  if (Array.isArray(col) || (ArrayBuffer.isView(col) && !(col instanceof DataView))) return col as ArrayLike<TableValue>;
  if (typeof col.toArray === 'function' && col.nullCount === 0 && (col.data?.length ?? 1) === 1) {
    const values = col.toArray();
    if (ArrayBuffer.isView(values) && (values as unknown as ArrayLike<TableValue>).length === total)
      return values as unknown as ArrayLike<TableValue>;
  }
  const out = new Array<TableValue>(total);
  for (let row = 0; row < total; row++) out[row] = col.at(row);
  return out;
}

/** The backing rows of a table's rows, in its order (filter and order applied); null for 0..n-1. */
export function rowsOf(table: ColumnTable): ArrayLike<number> | null {
  return table.isFiltered() || table.isOrdered() ? table.indices() : null;
}

/** A column's values for the table's rows, in its order: what `table.array(name)` gives. Not to be modified. */
export function visibleValues(table: ColumnTable, name: string, what: string): ArrayLike<TableValue> {
  const values = backingValues(table, name, what);
  const rows = rowsOf(table);
  if (rows === null) return values;
  const out = new Array<TableValue>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]!];
  return out;
}

/** A key a Map or Set compares as Arquero's joins and groups compare values (a Date by its time). */
export const setKey = (v: unknown): unknown => (v instanceof Date ? +v : v);
