/**
 * Heavy steps for big tables, where Arquero's own verbs take seconds per million rows on this kind
 * of machine (a join builds row objects; a window over an ordered table sorts through a comparator
 * that reads every value through its column). Each takes an Arquero table and returns it with
 * columns added (lookup, rank, runningSum) or with fewer rows (semijoin, antijoin), so a notebook
 * continues with Arquero: the rows are the table's rows, in its order, filters, ordering and
 * grouping kept (Arquero's `assign` aligns added columns with `array()`).
 */
import { BitSet, type ColumnTable } from 'arquero';
import { UsageError } from '../util/errors.js';
import { sortedOrder } from '../util/sorted.js';
import {
  backingValues,
  checkColumn,
  groupCodes,
  rowsOf,
  setKey,
  visibleValues,
  type BackingColumn,
  type TableValue,
} from './table-values.js';

type Value = TableValue;

/**
 * The backing row of the first of a table's rows (filter and order applied) with each value of one
 * column, -1 for a value no row has; null and NaN match no row, as in Arquero's joins. Integer keys
 * in [0, 2^31) use a direct index, other keys a Map.
 */
function firstRowOfKey(table: ColumnTable, name: string, what: string): (k: Value) => number {
  const values = backingValues(table, name, what);
  const rows = rowsOf(table);
  const m = rows ? rows.length : values.length;
  let dense = true;
  let max = -1;
  for (let j = 0; j < m && dense; j++) {
    const k = values[rows ? rows[j]! : j];
    if (k === null || k === undefined) continue;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= 2 ** 31) dense = false;
    else if (k > max) max = k;
  }
  if (dense && max < 4 * m + 1024) {
    const index = new Int32Array(max + 1).fill(-1);
    for (let j = m - 1; j >= 0; j--) {
      const row = rows ? rows[j]! : j;
      const k = values[row];
      if (typeof k === 'number') index[k] = row;
    }
    return (k) => (typeof k === 'number' && k >= 0 && k <= max && Number.isInteger(k) ? index[k]! : -1);
  }
  const index = new Map<unknown, number>();
  for (let j = m - 1; j >= 0; j--) {
    const row = rows ? rows[j]! : j;
    const k = values[row];
    if (k !== null && k !== undefined && k === k) index.set(setKey(k), row);
  }
  return (k) => (k === null || k === undefined ? -1 : (index.get(setKey(k)) ?? -1));
}

/** `on` as Arquero's joins take one key column: a name for both tables, or [left, right]. */
function keyColumns(on: string | readonly [string, string], what: string): [string, string] {
  if (typeof on === 'string') return [on, on];
  if (Array.isArray(on) && on.length === 2 && typeof on[0] === 'string' && typeof on[1] === 'string') return [on[0], on[1]];
  throw new UsageError(`${what}: on must be one column name or [left column, right column]; got ${JSON.stringify(on)}`);
}

function joinFilter(
  table: ColumnTable,
  other: ColumnTable,
  on: string | readonly [string, string],
  anti: boolean,
  what: string,
): ColumnTable {
  const [left, right] = keyColumns(on, what);
  const key = backingValues(table, left, what);
  const rowOf = firstRowOfKey(other, right, what);
  const filter = new BitSet(table.totalRows());
  const mask = table.mask();
  if (mask) {
    for (let row = mask.next(0); row >= 0; row = mask.next(row + 1)) if (rowOf(key[row]) >= 0 !== anti) filter.set(row);
  } else {
    for (let row = 0; row < key.length; row++) if (rowOf(key[row]) >= 0 !== anti) filter.set(row);
  }
  return table.create({ filter });
}

/**
 * The rows of `table` whose `on` key is among the key values of `other`'s rows: what Arquero's
 * `table.semijoin(other, on)` gives for one key column (null and NaN keys never match), by one
 * typed-array or Set lookup per row instead of a key string per row and a Map of row objects.
 * The table's order and grouping are kept.
 */
export function semijoin(table: ColumnTable, other: ColumnTable, on: string | readonly [string, string]): ColumnTable {
  return joinFilter(table, other, on, false, 'semijoin');
}

/** The rows of `table` whose `on` key is not among `other`'s: Arquero's `antijoin` for one key column (see semijoin). */
export function antijoin(table: ColumnTable, other: ColumnTable, on: string | readonly [string, string]): ColumnTable {
  return joinFilter(table, other, on, true, 'antijoin');
}

/**
 * Left lookup: for each row of `table`, the `values` columns of the first row of `other` whose
 * `on[1]` equals the row's `on[0]` (undefined when none), as Arquero's `lookup` gives them.
 * Integer keys in [0, 2^31) use a direct index; other keys a Map. Only the matched rows' values
 * are read from `other`.
 */
export function lookup(table: ColumnTable, other: ColumnTable, on: readonly [string, string], values: readonly string[]): ColumnTable {
  const key = visibleValues(table, on[0], 'lookup');
  const rowOf = firstRowOfKey(other, on[1], 'lookup');
  values.forEach((v) => checkColumn(other, v, 'lookup'));
  const otherColumns = values.map((v) => other.column(v) as unknown as BackingColumn);
  const n = key.length;
  const out: Record<string, Value[]> = {};
  values.forEach((v) => {
    out[v] = new Array<Value>(n);
  });
  for (let i = 0; i < n; i++) {
    const row = rowOf(key[i]);
    if (row < 0) continue;
    values.forEach((v, c) => {
      out[v]![i] = otherColumns[c]!.at(row);
    });
  }
  return table.assign(out);
}

export interface RankOptions {
  /** Rank within each group of these columns (default: the whole table). */
  groupby?: readonly string[];
  /** Name of the added column (default `${column}_rank`). */
  as?: string;
}

/**
 * The 1-based position of each row in the order of `by` within its group (ties in table order);
 * rows whose `by` is null or NaN get null. What `orderby(by).derive({ r: op.row_number() })` gives
 * per group, by a typed-array sort.
 */
export function rank(table: ColumnTable, by: string, options: RankOptions = {}): ColumnTable {
  const values = visibleValues(table, by, 'rank');
  const n = values.length;
  const { group: groupKey, groups } = groupCodes(table, options.groupby ?? [], 'rank');
  const idx = new Uint32Array(n);
  let m = 0;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = values[i];
    v[i] = typeof x === 'number' ? x : NaN;
    if (!Number.isNaN(v[i])) idx[m++] = i;
  }
  // by value, then (a stable sort) by group: ties keep table order
  const sub = new Float64Array(m);
  for (let p = 0; p < m; p++) sub[p] = v[idx[p]!]! + 0; // -0 ranks with 0
  const byValue = sortedOrder(sub);
  let order: Uint32Array | Int32Array;
  if (options.groupby?.length) {
    // a counting sort by group key (small integers), stable
    const start = new Int32Array(groups + 1);
    for (let p = 0; p < m; p++) start[groupKey[idx[p]!]! + 1]!++;
    for (let k = 0; k < groups; k++) start[k + 1]! += start[k]!;
    order = new Uint32Array(m);
    for (let q = 0; q < m; q++) {
      const i = idx[byValue[q]!]!;
      order[start[groupKey[i]!]!++] = i;
    }
  } else {
    order = new Uint32Array(m);
    for (let p = 0; p < m; p++) order[p] = idx[byValue[p]!]!;
  }
  // every row ranked: a typed column (no boxed value per row); else nulls where `by` is missing
  const out: Int32Array | (number | null)[] = m === n ? new Int32Array(n) : new Array<number | null>(n).fill(null);
  let r = 0;
  for (let p = 0; p < m; p++) {
    const i = order[p]!;
    r = p > 0 && groupKey[order[p - 1]!] === groupKey[i] ? r + 1 : 1;
    out[i] = r;
  }
  return table.assign({ [options.as ?? `${by}_rank`]: out });
}

export interface RunningSumOptions {
  /** Column giving the order (numbers); ties broken by `then`, then by table order. */
  orderby: string;
  then?: string;
  /** Column summed. */
  value: string;
  /** Name of the added column (default `${value}_running`). */
  as?: string;
}

/**
 * The running sum of `value` in the order of `orderby` (then `then`, then table order; a missing
 * `orderby` value sorts after every other): for each row, the sum over the rows up to and including it. What `orderby(...).derive({ s: aq.rolling((d) => op.sum(d.value)) })`
 * gives, by a typed-array sort.
 */
export function runningSum(table: ColumnTable, options: RunningSumOptions): ColumnTable {
  const t = visibleValues(table, options.orderby, 'runningSum');
  const t2 = options.then ? visibleValues(table, options.then, 'runningSum') : null;
  const x = visibleValues(table, options.value, 'runningSum');
  const n = t.length;
  // -0 orders with 0; a row with no order value (null, NaN) sorts after every other
  const a = Float64Array.from({ length: n }, (_, i) => Number(t[i] ?? NaN) + 0);
  let order: Int32Array;
  if (t2) {
    // by `then`, then (a stable sort) by `orderby`: ties keep table order
    const byThen = sortedOrder(Float64Array.from({ length: n }, (_, i) => Number(t2[i] ?? 0) + 0));
    const byA = sortedOrder(Float64Array.from({ length: n }, (_, p) => a[byThen[p]!]!));
    order = Int32Array.from({ length: n }, (_, p) => byThen[byA[p]!]!);
  } else order = sortedOrder(a);
  const out = new Float64Array(n);
  let s = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    s += Number(x[i] ?? 0);
    out[i] = s;
  }
  return table.assign({ [options.as ?? `${options.value}_running`]: out });
}
