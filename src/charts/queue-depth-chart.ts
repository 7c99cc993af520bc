/**
 * Queue depth over time: requests issued to the device and not yet completed (between D and C),
 * per time slice: the time-weighted mean as a line and the maximum as a shaded band.
 */
import { CHART_CONFIG, CHART_WIDTH, chartTitleBlock } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface QueueDepthRow {
  /** Start of the slice, seconds since the first request. */
  t_s: number;
  /** Time-weighted mean depth over the slice. */
  mean_depth: number;
  /** Largest depth reached in the slice. */
  max_depth: number;
}

export interface QueueDepthChartOptions {
  what?: string;
  /** Width of a slice in seconds (for the subtitle). */
  slice_s?: number;
}

export function queueDepthChart(rows: readonly QueueDepthRow[], opts: QueueDepthChartOptions = {}): ChartSpec {
  const peak = rows.reduce((m, r) => Math.max(m, r.max_depth), 0);
  const slice = opts.slice_s === undefined ? '' : ` (slices of ${formatSeconds(opts.slice_s)})`;
  const data = rows.map((r) => ({ ...r }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Queue depth over time', [
      `${opts.what ?? 'block requests'} in flight at the device (issued, not completed); peak ${peak}`,
      `line: time-weighted mean per slice, band: maximum per slice${slice}`,
    ]),
    width: CHART_WIDTH,
    height: 220,
    config: CHART_CONFIG,
    data: { values: data },
    encoding: {
      x: { field: 't_s', type: 'quantitative', title: 'Time since trace start (s)' },
    },
    layer: [
      {
        mark: { type: 'area', interpolate: 'step-after', color: '#4c78a8', opacity: 0.25 },
        encoding: {
          y: { field: 'max_depth', type: 'quantitative', title: 'Requests in flight (count)' },
        },
      },
      {
        mark: { type: 'line', interpolate: 'step-after', color: '#4c78a8', strokeWidth: 1.5, tooltip: true },
        encoding: {
          y: { field: 'mean_depth', type: 'quantitative' },
          tooltip: [
            { field: 't_s', type: 'quantitative', title: 'slice start (s)', format: ',.3f' },
            { field: 'mean_depth', type: 'quantitative', title: 'mean depth', format: '.2f' },
            { field: 'max_depth', type: 'quantitative', title: 'max depth' },
          ],
        },
        params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
      },
    ],
  } as ChartSpec;
}

function formatSeconds(s: number): string {
  if (s >= 1) return `${+s.toPrecision(3)} s`;
  if (s >= 1e-3) return `${+(s * 1e3).toPrecision(3)} ms`;
  return `${+(s * 1e6).toPrecision(3)} µs`;
}
