/**
 * The throughput grid (the seed study's Fig. 1): the workload's throughput against its data size,
 * one panel per VM memory size, one series per I/O mode (buffered, O_DIRECT, and variants of the
 * host cache or image format), across the runs of a capture set.
 */
import { CHART_CONFIG, chartTitleBlock } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface ThroughputGridRow {
  run: string;
  vm_mem_mib: number;
  data_mib: number;
  mode: string;
  mb_per_s: number;
  ops_per_s: number;
}

export function throughputGridChart(rows: readonly ThroughputGridRow[], opts: { what?: string; phase?: string } = {}): ChartSpec {
  const modes = [...new Set(rows.map((r) => r.mode))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const palette = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#e45756', '#72b7b2', '#9d755d'];
  const values = rows.map((r) => ({ ...r, vm_mem_label: `VM memory ${r.vm_mem_mib} MiB` }));
  const mems = [...new Set(rows.map((r) => r.vm_mem_mib))].sort((a, b) => a - b).map((m) => `VM memory ${m} MiB`);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Workload throughput by data size, VM memory and I/O mode', [
      `${opts.what ?? 'runs of the capture set'}: ${rows.length} runs; throughput of the ${opts.phase ?? 'random'} phase from the workload's own I/O log`,
      'throughput = bytes the read and write calls transferred / time from the first call to the last (MB = 10^6 bytes)',
    ]),
    config: CHART_CONFIG,
    data: { values },
    facet: { column: { field: 'vm_mem_label', type: 'nominal', title: null, sort: mems, header: { labelFontSize: 13 } } },
    spec: {
      width: 240,
      height: 240,
      layer: [
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: { field: 'data_mib', type: 'quantitative' }, y: { field: 'mb_per_s', type: 'quantitative' }, color: { field: 'mode', type: 'nominal' } } },
        {
          mark: { type: 'point', filled: true, size: 90, tooltip: true },
          encoding: {
            x: { field: 'data_mib', type: 'quantitative', title: 'Data size (MiB)', scale: { zero: true } },
            y: { field: 'mb_per_s', type: 'quantitative', title: 'Throughput (MB/s)', scale: { zero: true } },
            color: { field: 'mode', type: 'nominal', title: 'I/O mode', scale: { domain: modes, range: palette.slice(0, modes.length) } },
            shape: { field: 'mode', type: 'nominal', title: 'I/O mode', scale: { domain: modes } },
            tooltip: [
              { field: 'run', type: 'nominal', title: 'run' },
              { field: 'mode', type: 'nominal', title: 'I/O mode' },
              { field: 'vm_mem_mib', type: 'quantitative', title: 'VM memory (MiB)' },
              { field: 'data_mib', type: 'quantitative', title: 'data size (MiB)' },
              { field: 'mb_per_s', type: 'quantitative', title: 'throughput (MB/s)', format: ',.2f' },
              { field: 'ops_per_s', type: 'quantitative', title: 'operations/s', format: ',.0f' },
            ],
          },
        },
      ],
    },
  } as ChartSpec;
}

const rank = (mode: string) => (mode === 'buffered' ? 0 : mode === 'O_DIRECT' ? 1 : 2);
