/**
 * Reordering per group of an Arquero table: for each group, how far the order of one column
 * (processing: e.g. when a layer first issued an I/O) departs from the order of another (issue:
 * when the application issued it). The inversion count is a merge sort per group
 * (metrics/reordering.ts), which Arquero's verbs cannot express; the result is an Arquero table
 * that a notebook continues from (join, filter, chart).
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { reorderingStats } from '../metrics/reordering.js';
import { UsageError } from '../util/errors.js';
import { sortedOrder } from '../util/sorted.js';
import { rowsOf, setKey, visibleValues, type TableValue } from './table-values.js';

export interface GroupReorderingOptions {
  /** Columns whose values define a group (e.g. ["window", "layer", "op"]). */
  groupby: readonly string[];
  /** Column of the issue order (numbers). */
  issue: string;
  /** Column of the processing order (numbers; null or NaN rows are left out). */
  processed: string;
}

/**
 * One row per group: its key columns, then n, inversions, inversion_ratio, kendall_tau,
 * mean_displacement, max_displacement, displaced_fraction (ReorderingStats).
 */
export function groupReordering(table: ColumnTable, options: GroupReorderingOptions): ColumnTable {
  const { group, groups, firstRow } = groupCodes(table, options.groupby);
  const keyValues = options.groupby.map((name) => visibleValues(table, name, 'groupReordering'));
  const issue = visibleValues(table, options.issue, 'groupReordering');
  const processed = visibleValues(table, options.processed, 'groupReordering');
  // rows of each group, in table order (counting sort by group)
  const n = group.length;
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < n; i++) start[group[i]! + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const order = new Int32Array(n);
  const fill = start.slice(0, groups);
  for (let i = 0; i < n; i++) order[fill[group[i]!]!++] = i;
  const out: Record<string, unknown>[] = [];
  for (let g = 0; g < groups; g++) {
    const size = start[g + 1]! - start[g]!;
    const ik = new Float64Array(size);
    const pk = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      const r = order[start[g]! + k]!;
      ik[k] = asNumber(issue[r], options.issue);
      pk[k] = asNumber(processed[r], options.processed);
    }
    const row: Record<string, unknown> = {};
    options.groupby.forEach((name, c) => {
      row[name] = keyValues[c]![firstRow[g]!];
    });
    out.push({ ...row, ...reorderingStats(ik, pk) });
  }
  return aq.from(out);
}

/** A number for the stats (a missing value as NaN, which leaves the row out); a BigInt is refused, never rounded. */
function asNumber(v: TableValue, column: string): number {
  if (typeof v === 'bigint') {
    throw new UsageError(
      `groupReordering: column "${column}" holds 64-bit integers past 2^53 (BigInt), which would be rounded; convert them first`,
    );
  }
  return v === null || v === undefined ? NaN : Number(v);
}

/**
 * The group of each row (in the table's order) by the values of `names`, numbered as Arquero's
 * groupby numbers them, and a row of each group (its key values).
 */
function groupCodes(table: ColumnTable, names: readonly string[]): { group: Int32Array; groups: number; firstRow: number[] } {
  const n = table.numRows();
  let group = new Int32Array(n);
  let groups = n > 0 ? 1 : 0;
  let firstRow: number[] = n > 0 ? [0] : [];
  for (const name of names) {
    // the column's distinct values, numbered; then (group so far, value) pairs renumbered
    const values = visibleValues(table, name, 'groupReordering');
    const codes = new Map<unknown, number>();
    const code = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = setKey(values[i]);
      let c = codes.get(k);
      if (c === undefined) codes.set(k, (c = codes.size));
      code[i] = c;
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
