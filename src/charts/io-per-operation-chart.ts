/**
 * Bytes per application operation at the application, guest-disk and host-disk layers, stacked
 * by cause (the seed study's Figs. 2 and 3): one panel for reads, one for writes. A bar taller
 * than the application's means the layers below moved more bytes than the application asked for.
 */
import { CAUSE_DOMAIN, CAUSE_RANGE, CHART_CONFIG, chartTitleBlock } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface IoPerOperationChartRow {
  direction: string;
  layer: string;
  cause: string;
  bytes: number;
  bytes_per_op: number;
}

export function ioPerOperationChart(rows: readonly IoPerOperationChartRow[], opts: { what?: string; appOps?: { read: number; write: number } } = {}): ChartSpec {
  const labels: Record<string, string> = { app: 'application', guest: 'guest disk', host: 'host disk' };
  const values = rows.map((r) => ({ ...r, kib_per_op: r.bytes_per_op / 1024, layer_label: labels[r.layer] ?? r.layer, order: CAUSE_DOMAIN.indexOf(r.cause as never) }));
  const present = new Set(rows.map((r) => r.cause));
  const domain = CAUSE_DOMAIN.filter((c) => present.has(c));
  const range = domain.map((c) => CAUSE_RANGE[CAUSE_DOMAIN.indexOf(c)]!);
  const ops = opts.appOps ? `: ${opts.appOps.read.toLocaleString('en-US')} reads and ${opts.appOps.write.toLocaleString('en-US')} writes that moved data` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Bytes per application operation, by layer and cause', [
      `${opts.what ?? 'application I/O'}${ops}`,
      'each layer\'s read (write) bytes divided by the number of application reads (writes)',
    ]),
    config: CHART_CONFIG,
    data: { values },
    facet: { column: { field: 'direction', type: 'nominal', title: null, header: { labelFontSize: 13, labelExpr: "datum.value == 'read' ? 'Reads' : 'Writes'" } } },
    spec: {
      width: 260,
      height: 260,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'layer_label', type: 'nominal', sort: ['application', 'guest disk', 'host disk'], title: null, axis: { labelAngle: 0, labelLimit: 120 } },
        y: { field: 'kib_per_op', type: 'quantitative', stack: 'zero', title: 'KiB per application operation' },
        color: { field: 'cause', type: 'nominal', title: 'Cause', scale: { domain, range } },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [
          { field: 'layer_label', type: 'nominal', title: 'layer' },
          { field: 'direction', type: 'nominal', title: 'direction' },
          { field: 'cause', type: 'nominal', title: 'cause' },
          { field: 'kib_per_op', type: 'quantitative', title: 'KiB per operation', format: ',.2f' },
          { field: 'bytes', type: 'quantitative', title: 'bytes in total', format: ',' },
        ],
      },
    },
    resolve: { scale: { y: 'shared' } },
  } as ChartSpec;
}
