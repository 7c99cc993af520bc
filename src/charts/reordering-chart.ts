/**
 * Reordering over time: in consecutive windows of application I/Os (issue order), Kendall's tau
 * between issue and processing order at each layer (1 = same order) and the mean displacement
 * (how many places an I/O moved), per op.
 */
import { CHART_CONFIG, CHART_WIDTH, chartTitleBlock, opColor } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface ReorderingChartRow {
  layer: string;
  op: string;
  t_s: number;
  n: number;
  kendall_tau: number;
  mean_displacement: number;
}

export function reorderingChart(rows: readonly ReorderingChartRow[], opts: { what?: string } = {}): ChartSpec {
  const values = rows.map((r) => ({ ...r, layer_label: r.layer === 'guest' ? 'guest block layer' : r.layer === 'host' ? 'host block layer' : r.layer }));
  const encodingFor = (field: string, title: string) => ({
    x: { field: 't_s', type: 'quantitative', title: 'Window start, application time (s)' },
    y: { field, type: 'quantitative', title },
    color: { ...opColor(rows.map((r) => r.op)), scale: { domain: ['all', 'read', 'write'].filter((o) => rows.some((r) => r.op === o)), range: ['#333333', '#4c78a8', '#f58518'].filter((_, i) => rows.some((r) => r.op === ['all', 'read', 'write'][i])) } },
    strokeDash: { field: 'layer_label', type: 'nominal', title: 'Layer' },
    tooltip: [
      { field: 'layer_label', type: 'nominal', title: 'layer' },
      { field: 'op', type: 'nominal', title: 'operation' },
      { field: 't_s', type: 'quantitative', title: 'window start (s)', format: ',.3f' },
      { field: 'n', type: 'quantitative', title: 'I/Os in window', format: ',' },
      { field: 'kendall_tau', type: 'quantitative', title: 'Kendall tau', format: '.3f' },
      { field: 'mean_displacement', type: 'quantitative', title: 'mean displacement', format: ',.1f' },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Reordering over time', [
      `${opts.what ?? 'application I/Os'} in windows of consecutive I/Os; processing order = first issue of their requests at the layer`,
    ]),
    config: CHART_CONFIG,
    data: { values },
    vconcat: [
      {
        width: CHART_WIDTH, height: 170,
        mark: { type: 'line', point: { size: 18 }, tooltip: true },
        encoding: encodingFor('kendall_tau', 'Kendall tau (1 = in order)'),
        params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
      },
      {
        width: CHART_WIDTH, height: 170,
        mark: { type: 'line', point: { size: 18 }, tooltip: true },
        encoding: encodingFor('mean_displacement', 'Mean displacement (places)'),
      },
    ],
  } as ChartSpec;
}
