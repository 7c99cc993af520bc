/**
 * Latency distribution per operation: a histogram over logarithmic classes (five per decade), so
 * that cache-speed and disk-speed requests both show. Bars of the operations are stacked.
 */
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, chartTitleBlock, opColor } from './chart-style.js';
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
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock(`Latency, ${stage}`, [
      `${opts.what ?? 'block requests'}: ${total.toLocaleString('en-US')} completed requests, five classes per decade`
        + (medians ? `; median ${medians}` : ''),
    ]),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    config: CHART_CONFIG,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: { type: 'bar', tooltip: true, stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'lo_us', type: 'quantitative', scale: { type: 'log' }, title: `Latency, ${stage} (µs, log scale)` },
      x2: { field: 'hi_us' },
      y: { field: 'requests', type: 'quantitative', stack: 'zero', title: 'Requests (count)' },
      color: opColor(),
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
