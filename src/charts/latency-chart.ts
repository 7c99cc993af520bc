/**
 * Latency distribution per operation: a histogram over logarithmic classes (five per decade), so
 * that cache-speed and disk-speed requests both show. The bars of the operations are stacked in
 * each class (the stacking is computed here, since Vega-Lite does not stack ranged bars).
 */
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, OP_DOMAIN, chartTitleBlock, decadeTicks, opColor } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

/** One bar: requests of `op` whose latency is in [lo_us, hi_us). */
export interface LatencyRow {
  op: string;
  lo_us: number;
  hi_us: number;
  requests: number;
}

export interface LatencyChartOptions {
  /** The interval measured, e.g. "issue to completion (D2C)". */
  stage?: string;
  what?: string;
  /** Median per op, µs, printed in the subtitle. */
  medians?: Readonly<Record<string, number>>;
}

export function latencyChart(rows: readonly LatencyRow[], opts: LatencyChartOptions = {}): ChartSpec {
  const stage = opts.stage ?? 'issue to completion (D2C)';
  const total = rows.reduce((s, r) => s + r.requests, 0);
  const medians = Object.entries(opts.medians ?? {}).map(([op, us]) => `${op} ${formatMicros(us)}`).join(', ');
  // stack per class in the palette's op order
  const order = (op: string) => { const i = (OP_DOMAIN as readonly string[]).indexOf(op); return i < 0 ? OP_DOMAIN.length : i; };
  const sorted = [...rows].sort((a, b) => a.lo_us - b.lo_us || order(a.op) - order(b.op) || a.op.localeCompare(b.op));
  const base = new Map<number, number>();
  const values = sorted.map((r) => {
    const y0 = base.get(r.lo_us) ?? 0;
    base.set(r.lo_us, y0 + r.requests);
    return { ...r, y0, y1: y0 + r.requests };
  });
  const lo = Math.min(...rows.map((r) => r.lo_us));
  const hi = Math.max(...rows.map((r) => r.hi_us));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock(`Latency, ${stage}`, [
      `${opts.what ?? 'block requests'}: ${total.toLocaleString('en-US')} completed requests, five classes per decade`,
      ...(medians ? [`median: ${medians}`] : []),
    ]),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    config: CHART_CONFIG,
    data: { values },
    mark: { type: 'rect', tooltip: true, stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: {
        field: 'lo_us', type: 'quantitative', scale: { type: 'log' },
        axis: { values: decadeTicks(lo, hi), format: '~s' },
        title: `Latency, ${stage} (µs, log scale)`,
      },
      x2: { field: 'hi_us' },
      y: { field: 'y0', type: 'quantitative', title: 'Requests (count)' },
      y2: { field: 'y1' },
      color: opColor(rows.map((r) => r.op)),
      tooltip: [
        { field: 'op', type: 'nominal', title: 'operation' },
        { field: 'lo_us', type: 'quantitative', title: 'from (µs)', format: ',.1f' },
        { field: 'hi_us', type: 'quantitative', title: 'to (µs)', format: ',.1f' },
        { field: 'requests', type: 'quantitative', title: 'requests', format: ',' },
      ],
    },
    params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
  } as ChartSpec;
}

/** 850 µs, 12.3 ms, 1.20 s. */
export function formatMicros(us: number): string {
  if (us < 1000) return `${us.toFixed(us < 10 ? 1 : 0)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
