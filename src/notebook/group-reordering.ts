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
import { groupCodes, visibleValues, type TableValue } from './table-values.js';

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
  const { group, groups, firstRow } = groupCodes(table, options.groupby, 'groupReordering');
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
