/**
 * Request sizes per operation: how many block requests had each size, sizes grouped in
 * power-of-two classes (a request of 12 KiB counts in the class "16 KiB": (8 KiB, 16 KiB]).
 */
import { CHART_CONFIG, CHART_HEIGHT, CHART_WIDTH, chartTitleBlock, opColor } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

/** One bar: requests of `op` whose size falls in the class whose upper bound is `size_bytes`. */
export interface RequestSizeRow {
  op: string;
  /** Upper bound of the power-of-two size class, in bytes. */
  size_bytes: number;
  /** Label of the class, e.g. "16 KiB". */
  size_label: string;
  requests: number;
  bytes: number;
}

export interface RequestSizeChartOptions {
  /** What the requests are, for the subtitle (e.g. "guest block requests on 7:6"). */
  what?: string;
}

export function requestSizeChart(rows: readonly RequestSizeRow[], opts: RequestSizeChartOptions = {}): ChartSpec {
  const total = rows.reduce((s, r) => s + r.requests, 0);
  const labels = [...new Map(rows.map((r) => [r.size_bytes, r.size_label])).entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Request sizes by operation', [
      `${opts.what ?? 'block requests'}: ${total.toLocaleString('en-US')} issued requests with data, sizes rounded up to a power of two`,
    ]),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    config: CHART_CONFIG,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'size_label', type: 'ordinal', sort: labels, title: 'Request size (bytes, power-of-two class)', axis: { labelAngle: 0 } },
      xOffset: { field: 'op', type: 'nominal' },
      y: { field: 'requests', type: 'quantitative', title: 'Requests (count)' },
      color: opColor(rows.map((r) => r.op)),
      tooltip: [
        { field: 'op', type: 'nominal', title: 'operation' },
        { field: 'size_label', type: 'ordinal', title: 'size class (up to)' },
        { field: 'requests', type: 'quantitative', title: 'requests', format: ',' },
        { field: 'bytes', type: 'quantitative', title: 'bytes', format: ',' },
      ],
    },
  } as ChartSpec;
}
