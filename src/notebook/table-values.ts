/**
 * A column's values out of an Arquero table without a call per value where the column is one
 * buffer, and the groups of its rows by some columns: what the big-table helpers read. Arquero's columns are arrays, typed arrays or Arrow
 * vectors (each with `at(row)`); a table's filter (a bit mask) and order (an index) apply to rows
 * of those backing columns.
 */
import type { ColumnTable } from 'arquero';
import { UsageError } from '../util/errors.js';
import { sortedOrder } from '../util/sorted.js';

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

/**
 * The group of each row (in the table's order) by the values of `names`, numbered as Arquero's
 * groupby numbers them, and a row of each group (its key values).
 */
export function groupCodes(
  table: ColumnTable,
  names: readonly string[],
  what: string,
): { group: Int32Array; groups: number; firstRow: number[] } {
  const n = table.numRows();
  let group = new Int32Array(n);
  let groups = n > 0 ? 1 : 0;
  let firstRow: number[] = n > 0 ? [0] : [];
  for (const name of names) {
    // the column's distinct values, numbered; then (group so far, value) pairs renumbered
    const values = visibleValues(table, name, what);
    const codes = new Map<unknown, number>();
    const code = new Int32Array(n);
    const firstOfCode: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = setKey(values[i]);
      let c = codes.get(k);
      if (c === undefined) {
        codes.set(k, (c = codes.size));
        firstOfCode.push(i);
      }
      code[i] = c;
    }
    if (groups <= 1) {
      // the first column: its codes are the groups
      group = code;
      groups = codes.size;
      firstRow = firstOfCode;
      continue;
    }
    const pairs = new Map<number | string, number>();
    const next = new Int32Array(n);
    const rows: number[] = [];
    const exact = groups * codes.size <= Number.MAX_SAFE_INTEGER;
    for (let i = 0; i < n; i++) {
      const k = exact ? group[i]! * codes.size + code[i]! : `${group[i]!},${code[i]!}`;
      let g = pairs.get(k);
      if (g === undefined) {
        pairs.set(k, (g = pairs.size));
        rows.push(i);
      }
      next[i] = g;
    }
    group = next;
    groups = pairs.size;
    firstRow = rows;
  }
  // Arquero numbers groups in the order of their first backing row (its scan ignores the order)
  const backing = table.isOrdered() ? rowsOf(table) : null;
  if (backing !== null && groups > 1) {
    const least = new Float64Array(groups).fill(Infinity);
    for (let i = 0; i < n; i++) if (backing[i]! < least[group[i]!]!) least[group[i]!] = backing[i]!;
    const byLeast = sortedOrder(least);
    const renumber = new Int32Array(groups);
    byLeast.forEach((g, k) => {
      renumber[g] = k;
    });
    for (let i = 0; i < n; i++) group[i] = renumber[group[i]!]!;
    firstRow = Array.from(byLeast, (g) => firstRow[g]!);
  }
  return { group, groups, firstRow };
}
