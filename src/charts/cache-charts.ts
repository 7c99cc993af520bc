/**
 * Caches: the read hit ratio inferred at each layer's page cache (the share of application read
 * bytes that did not reach the disk below), and the memory what-if: predicted disk bytes for
 * other VM memory sizes and host page-cache sizes.
 */
import { CHART_CONFIG, chartTitleBlock } from './chart-style.js';
import type { ChartSpec } from './render-svg.js';

export interface HitRatioRow {
  layer: string;
  read_bytes: number;
  miss_bytes: number;
  hit_ratio: number;
}

const cacheLabel = (layer: string) => (layer === 'guest' ? 'guest page cache' : layer === 'host' ? 'host page cache' : layer);

export function hitRatioChart(rows: readonly HitRatioRow[], opts: { what?: string } = {}): ChartSpec {
  // a cache that no read reached has no hit ratio: named in the subtitle instead of drawn as 0 %
  const idle = rows.filter((r) => !(r.read_bytes > 0)).map((r) => cacheLabel(r.layer));
  const values = rows.filter((r) => r.read_bytes > 0)
    .map((r) => ({ ...r, cache: cacheLabel(r.layer), read_mib: r.read_bytes / 1048576, miss_mib: r.miss_bytes / 1048576 }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Read hit ratio per cache', [
      `${opts.what ?? 'the capture'}: share of the read bytes arriving at each cache that it served (did not pass to the disk below)`,
      ...(idle.length ? [`no read bytes reached: ${idle.join(', ')}`] : []),
    ]),
    config: CHART_CONFIG,
    width: 420,
    height: { step: 40 },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', color: '#54a24b', tooltip: true },
        encoding: {
          y: { field: 'cache', type: 'nominal', title: null, sort: ['guest page cache', 'host page cache'], axis: { labelLimit: 200 } },
          x: { field: 'hit_ratio', type: 'quantitative', title: 'Read hit ratio (share of read bytes)', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
          tooltip: [
            { field: 'cache', type: 'nominal', title: 'cache' },
            { field: 'hit_ratio', type: 'quantitative', title: 'hit ratio', format: '.1%' },
            { field: 'read_mib', type: 'quantitative', title: 'read MiB arriving', format: ',.2f' },
            { field: 'miss_mib', type: 'quantitative', title: 'read MiB passed below', format: ',.2f' },
          ],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: {
          y: { field: 'cache', type: 'nominal', sort: ['guest page cache', 'host page cache'] },
          x: { field: 'hit_ratio', type: 'quantitative' },
          text: { field: 'hit_ratio', type: 'quantitative', format: '.1%' },
        },
      },
    ],
  } as ChartSpec;
}

export interface WhatifChartRow {
  guest_mem_mib: number;
  host_cache_mib: number;
  layer: string;
  direction: string;
  bytes: number;
}

export function memoryWhatifChart(rows: readonly WhatifChartRow[], opts: { what?: string; capturedMemMib?: number } = {}): ChartSpec {
  const values = rows.filter((r) => r.direction === 'read').map((r) => ({
    ...r,
    mib: r.bytes / 1048576,
    disk: r.layer === 'guest' ? 'guest disk' : 'host disk',
    host_cache: r.host_cache_mib === 0 ? 'no host cache' : `host cache ${r.host_cache_mib >= 1024 ? `${r.host_cache_mib / 1024} GiB` : `${r.host_cache_mib} MiB`}`,
  }));
  const mems = [...new Set(values.map((v) => v.guest_mem_mib))].sort((a, b) => a - b);
  const captured = opts.capturedMemMib ? `; the captured run had ${opts.capturedMemMib} MiB` : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: chartTitleBlock('Predicted disk reads for other VM memory sizes', [
      `${opts.what ?? 'the capture'}: bytes read from the guest disk and the host disk, predicted from the application's page accesses${captured}`,
    ]),
    config: CHART_CONFIG,
    data: { values },
    facet: { column: { field: 'disk', type: 'nominal', title: null, sort: ['guest disk', 'host disk'], header: { labelFontSize: 13 } } },
    spec: {
      width: 280,
      height: 220,
      mark: { type: 'line', point: { size: 50, filled: true }, tooltip: true },
      encoding: {
        x: {
          field: 'guest_mem_mib', type: 'quantitative', title: 'VM memory (MiB, log scale)',
          scale: { type: 'log', base: 2, nice: false, domain: [Math.min(...mems) / 1.15, Math.max(...mems) * 1.15] },
          axis: { values: mems },
        },
        y: { field: 'mib', type: 'quantitative', title: 'Predicted reads (MiB)' },
        color: { field: 'host_cache', type: 'nominal', title: 'Host page cache' },
        tooltip: [
          { field: 'disk', type: 'nominal', title: 'disk' },
          { field: 'guest_mem_mib', type: 'quantitative', title: 'VM memory (MiB)' },
          { field: 'host_cache', type: 'nominal', title: 'host cache' },
          { field: 'mib', type: 'quantitative', title: 'predicted reads (MiB)', format: ',.2f' },
        ],
      },
    },
  } as ChartSpec;
}
