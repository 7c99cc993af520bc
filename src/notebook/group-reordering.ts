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
  const keys = options.groupby.map((name) => table.array(name) as ArrayLike<unknown>);
  const issue = table.array(options.issue) as ArrayLike<number | null>;
  const processed = table.array(options.processed) as ArrayLike<number | null>;
  const groups = new Map<string, number[]>();
  const n = table.numRows();
  for (let i = 0; i < n; i++) {
    const key = JSON.stringify(keys.map((k) => k[i] ?? null));
    let rows = groups.get(key);
    if (!rows) groups.set(key, (rows = []));
    rows.push(i);
  }
  const out: Record<string, unknown>[] = [];
  for (const [key, rows] of groups) {
    const ik = new Float64Array(rows.length);
    const pk = new Float64Array(rows.length);
    rows.forEach((r, k) => {
      ik[k] = issue[r] ?? NaN;
      pk[k] = processed[r] ?? NaN;
    });
    const stats = reorderingStats(ik, pk);
    const values = JSON.parse(key) as unknown[];
    const row: Record<string, unknown> = {};
    options.groupby.forEach((name, k) => { row[name] = values[k]; });
    out.push({ ...row, ...stats });
  }
  return aq.from(out);
}
