/**
 * Bytes per layer and operation: one horizontal bar per layer (application, guest block, host
 * block), split by operation; the first look at a capture (does the host write more than the
 * application asked for? are reads absorbed by a cache?).
 */
import { CHART_CONFIG, CHART_WIDTH, LAYER_DOMAIN, LAYER_LABELS, chartTitleBlock, opColor } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface LayerTotalsRow {
  layer: string;
  op: string;
  requests: number;
  bytes: number;
}

const layerLabel = (layer: string) => (LAYER_LABELS as Record<string, string>)[layer] ?? `${layer} (block trace)`;

export function layerTotalsChart(rows: readonly LayerTotalsRow[], opts: { what?: string } = {}): ChartSpec {
  const layers = [...new Set(rows.map((r) => r.layer))]
    .sort((a, b) => idx(a) - idx(b))
    .map(layerLabel);
  const values = rows.filter((r) => r.bytes > 0).map((r) => ({ ...r, layer_label: layerLabel(r.layer), mib: r.bytes / 1048576 }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Bytes per layer', [`${opts.what ?? 'the capture'}: bytes moved at each layer, by operation`]),
    width: CHART_WIDTH,
    height: { step: 34 },
    config: CHART_CONFIG,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'layer_label', type: 'nominal', sort: layers, title: null, axis: { labelLimit: 240 } },
      x: { field: 'mib', type: 'quantitative', stack: 'zero', title: 'Bytes (MiB)' },
      color: opColor(values.map((r) => r.op)),
      tooltip: [
        { field: 'layer_label', type: 'nominal', title: 'layer' },
        { field: 'op', type: 'nominal', title: 'operation' },
        { field: 'requests', type: 'quantitative', title: 'requests / calls', format: ',' },
        { field: 'bytes', type: 'quantitative', title: 'bytes', format: ',' },
      ],
    },
  } as ChartSpec;
}

function idx(layer: string): number {
  const i = (LAYER_DOMAIN as readonly string[]).indexOf(layer);
  return i < 0 ? LAYER_DOMAIN.length : i;
}
