/**
 * Splitting and merging as distributions: for each relation between layers, how many items had
 * 1, 2, ... 8+ partners (an application I/O split into k guest requests; a guest request carrying
 * k application I/Os, i.e. merged).
 */
import { CHART_CONFIG, chartTitleBlock } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface FanoutChartRow {
  relation: string;
  count: string;
  k: number;
  items: number;
}

export function fanoutChart(rows: readonly FanoutChartRow[], opts: { what?: string } = {}): ChartSpec {
  const relations = [...new Set(rows.map((r) => r.relation))];
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.relation, (totals.get(r.relation) ?? 0) + r.items);
  const values = rows.map((r) => ({ ...r, share: r.items / (totals.get(r.relation) || 1) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Splitting and merging between layers', [
      `${opts.what ?? 'the capture'}: share of items with 1, 2, … 8+ partners at the other layer`,
      'above 1 on "per app I/O": the I/O was split; above 1 on "per request": requests were merged',
    ]),
    config: CHART_CONFIG,
    data: { values },
    facet: { field: 'relation', type: 'nominal', title: null, sort: relations, header: { labelFontSize: 12 } },
    columns: 2,
    spec: {
      width: 280,
      height: 150,
      mark: { type: 'bar', color: '#4c78a8', tooltip: true },
      encoding: {
        x: { field: 'count', type: 'ordinal', sort: ['1', '2', '3', '4', '5', '6', '7', '8+'], title: 'Partners (count)', axis: { labelAngle: 0 } },
        y: { field: 'share', type: 'quantitative', title: 'Share of items (square-root scale)', scale: { type: 'sqrt' }, axis: { format: '.0%' } },
        tooltip: [
          { field: 'relation', type: 'nominal', title: 'relation' },
          { field: 'count', type: 'ordinal', title: 'partners' },
          { field: 'items', type: 'quantitative', title: 'items', format: ',' },
          { field: 'share', type: 'quantitative', title: 'share', format: '.1%' },
        ],
      },
    },
  } as ChartSpec;
}
