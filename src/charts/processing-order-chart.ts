/**
 * Processing order against issue order (the seed study's Figs. 4 and 5): each application I/O at
 * (its rank in the order the application issued it, its rank in the order a lower layer processed
 * it), one panel per layer. On the diagonal, the layer kept the application's order; points off it
 * were processed earlier (below) or later (above) than issued.
 */
import { CHART_CONFIG, chartTitleBlock, opColor } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface ProcessingOrderChartPoint {
  layer: string;
  op: string;
  issue_rank: number;
  process_rank: number;
}

export function processingOrderChart(points: readonly ProcessingOrderChartPoint[], opts: { what?: string; reached?: Record<string, number> } = {}): ChartSpec {
  const reached = Object.entries(opts.reached ?? {}).map(([l, n]) => `${n.toLocaleString('en-US')} reached the ${l}`).join(', ');
  const thinned = Object.entries(opts.reached ?? {}).some(([l, n]) => points.filter((p) => p.layer === l).length < n);
  const values = points.map((p) => ({ ...p, layer_label: p.layer === 'guest' ? 'guest block layer' : p.layer === 'host' ? 'host block layer' : p.layer }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Processing order against issue order', [
      `${opts.what ?? 'application I/Os'}${reached ? ` (${reached})` : ''}${thinned ? '; evenly thinned for display' : ''}`,
      'on the diagonal: processed in the order issued; off it: reordered below the application',
    ]),
    config: CHART_CONFIG,
    data: { values },
    facet: { column: { field: 'layer_label', type: 'nominal', title: null, sort: ['guest block layer', 'host block layer'], header: { labelFontSize: 13 } } },
    spec: {
      width: 300,
      height: 300,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 10, opacity: 0.6, tooltip: true },
          encoding: {
            x: { field: 'issue_rank', type: 'quantitative', title: 'Issue order at the application (rank)' },
            y: { field: 'process_rank', type: 'quantitative', title: 'Processing order at the layer (rank)' },
            color: opColor(points.map((p) => p.op)),
            tooltip: [
              { field: 'op', type: 'nominal', title: 'operation' },
              { field: 'issue_rank', type: 'quantitative', title: 'issue rank', format: ',' },
              { field: 'process_rank', type: 'quantitative', title: 'processing rank', format: ',' },
            ],
          },
          params: [{ name: 'zoom', select: { type: 'interval' }, bind: 'scales' }],
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as ChartSpec;
}
