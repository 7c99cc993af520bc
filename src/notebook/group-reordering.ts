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
  const grouped = table.groupby(...options.groupby);
  const groups = grouped.groups() as unknown as {
    size: number;
    keys: Uint32Array;
    rows: ArrayLike<number>;
    get: ((row: number) => unknown)[];
  };
  const issue = table.array(options.issue) as ArrayLike<number | null>;
  const processed = table.array(options.processed) as ArrayLike<number | null>;
  // rows of each group, in table order (counting sort by group key)
  const start = new Int32Array(groups.size + 1);
  for (let i = 0; i < groups.keys.length; i++) start[groups.keys[i]! + 1]!++;
  for (let g = 0; g < groups.size; g++) start[g + 1]! += start[g]!;
  const order = new Int32Array(groups.keys.length);
  const fill = start.slice(0, groups.size);
  for (let i = 0; i < groups.keys.length; i++) order[fill[groups.keys[i]!]!++] = i;
  const out: Record<string, unknown>[] = [];
  for (let g = 0; g < groups.size; g++) {
    const n = start[g + 1]! - start[g]!;
    const ik = new Float64Array(n);
    const pk = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const r = order[start[g]! + k]!;
      ik[k] = issue[r] ?? NaN;
      pk[k] = processed[r] ?? NaN;
    }
    const row: Record<string, unknown> = {};
    options.groupby.forEach((name, c) => {
      row[name] = groups.get[c]!(groups.rows[g]!);
    });
    out.push({ ...row, ...reorderingStats(ik, pk) });
  }
  return aq.from(out);
}
