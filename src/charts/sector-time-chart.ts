/**
 * Seek pattern: each block request as a point at (issue time, first sector). Sequential streams
 * are rising lines, random I/O a cloud, and jumps between file regions vertical gaps.
 * Interactive view: drag to pan, wheel to zoom on time and sector.
 */
import { CHART_CONFIG, CHART_WIDTH, chartTitleBlock, opColor } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface SectorTimePoint {
  op: string;
  /** Issue time in seconds since the first request of the trace. */
  t_s: number;
  /** First sector (512-byte units). */
  sector: number;
  /** Request size in KiB. */
  kib: number;
}

export interface SectorTimeChartOptions {
  what?: string;
  /** Requests in the data before sampling (the subtitle says when points were thinned). */
  total?: number;
}

export function sectorTimeChart(points: readonly SectorTimePoint[], opts: SectorTimeChartOptions = {}): ChartSpec {
  const total = opts.total ?? points.length;
  const sampled = total > points.length ? `, ${points.length.toLocaleString('en-US')} shown (evenly thinned)` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Sector over time (seek pattern)', [
      `${opts.what ?? 'block requests'}: ${total.toLocaleString('en-US')} requests by issue time${sampled}`,
    ]),
    width: CHART_WIDTH,
    height: 320,
    config: CHART_CONFIG,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'point', filled: true, size: 14, opacity: 0.7, tooltip: true },
    encoding: {
      x: { field: 't_s', type: 'quantitative', title: 'Issue time since trace start (s)' },
      y: { field: 'sector', type: 'quantitative', title: 'First sector (512-byte units)', scale: { zero: false }, axis: { format: '~s' } },
      color: opColor(points.map((p) => p.op)),
      tooltip: [
        { field: 'op', type: 'nominal', title: 'operation' },
        { field: 't_s', type: 'quantitative', title: 'time (s)', format: ',.6f' },
        { field: 'sector', type: 'quantitative', title: 'sector', format: ',' },
        { field: 'kib', type: 'quantitative', title: 'size (KiB)', format: ',' },
      ],
    },
    params: [{ name: 'zoom', select: { type: 'interval' }, bind: 'scales' }],
  } as ChartSpec;
}
