/**
 * Rows from summary.json of `iolineage analyze` (src/metrics/summary.ts writes it): reordering per
 * layer and op, cache-hit ratios per layer. Missing sections give no rows.
 */

export interface ReorderingSummaryRow {
  layer: string;
  op: string;
  n: number;
  inversions: number;
  inversion_ratio: number;
  kendall_tau: number;
  mean_displacement: number;
  max_displacement: number;
  displaced_fraction: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);

export function reorderingSummaryRows(summary: Obj | null): ReorderingSummaryRow[] {
  const reordering = obj(summary?.['reordering']);
  const rows: ReorderingSummaryRow[] = [];
  if (!reordering) return rows;
  for (const [layer, perOp] of Object.entries(reordering)) {
    const ops = obj(perOp);
    if (!ops) continue;
    for (const [op, s] of Object.entries(ops)) {
      const m = obj(s);
      if (!m || !(num(m['n']) > 0)) continue;
      rows.push({
        layer, op, n: num(m['n']), inversions: num(m['inversions']), inversion_ratio: num(m['inversion_ratio']),
        kendall_tau: num(m['kendall_tau']), mean_displacement: num(m['mean_displacement']),
        max_displacement: num(m['max_displacement']), displaced_fraction: num(m['displaced_fraction']),
      });
    }
  }
  return rows;
}

export interface CacheSummaryRow {
  /** The cache above that layer's disk: guest page cache (layer guest) or host page cache (layer host). */
  layer: string;
  read_bytes: number;
  miss_bytes: number;
  hit_ratio: number;
}

/** Inferred read hit ratios per layer (summary.json `cache`). */
export function cacheSummaryRows(summary: Obj | null): CacheSummaryRow[] {
  const cache = obj(summary?.['cache']);
  const rows: CacheSummaryRow[] = [];
  if (!cache) return rows;
  for (const [layer, v] of Object.entries(cache)) {
    const m = obj(v);
    if (!m || !Number.isFinite(num(m['hit_ratio']))) continue;
    rows.push({ layer, read_bytes: num(m['read_bytes']), miss_bytes: num(m['miss_bytes']), hit_ratio: num(m['hit_ratio']) });
  }
  return rows;
}
