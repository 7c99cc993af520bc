/**
 * show(): one display_data MIME bundle per chart (SVG for nbconvert/GitHub, the Vega-Lite spec for
 * JupyterLab's interactive view, the title as text), and headless rendering that never loads data.
 */
import { describe, expect, it, vi } from 'vitest';
import { chartBundle, show, VEGA_LITE_MIME } from '../../src/charts/show.js';
import { compileToVega, renderSvg, renderVegaSvg } from '../../src/charts/render-svg.js';
import { CHART_CONFIG, opScale } from '../../src/charts/chart-style.js';

/** A spec as a notebook cell writes one. */
const spec = {
  title: { text: 'Request sizes by operation', subtitle: 'two ops' },
  data: {
    values: [
      { op: 'read', size_label: '4 KiB', requests: 3, bytes: 12288 },
      { op: 'write', size_label: '128 KiB', requests: 2, bytes: 262144 },
    ],
  },
  mark: 'bar',
  encoding: {
    x: { field: 'size_label', type: 'ordinal', title: 'request size' },
    y: { field: 'requests', type: 'quantitative' },
    color: { field: 'op', type: 'nominal', scale: opScale },
  },
  config: CHART_CONFIG,
};

describe('chart bundles', () => {
  it('carry SVG, the Vega-Lite v5 spec and the title', async () => {
    const b = await chartBundle(spec);
    expect(Object.keys(b).sort()).toEqual(['image/svg+xml', 'text/plain', VEGA_LITE_MIME].sort());
    expect(b['image/svg+xml']).toMatch(/^<svg [^>]*class="marks"/);
    expect(b[VEGA_LITE_MIME]).toBe(spec);
    expect(b['text/plain']).toBe('Request sizes by operation');
    expect(VEGA_LITE_MIME).toBe('application/vnd.vegalite.v5+json');
  });

  it('show() outside a notebook prints the title and returns nothing', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const r = await show(spec);
      expect(r).toBeUndefined();
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toContain('Request sizes by operation');
    } finally {
      write.mockRestore();
    }
  });

  it('renderSvg refuses data given by URL (no network, no files)', async () => {
    const byUrl = { ...spec, data: { url: 'https://example.org/data.json' } };
    await expect(renderSvg(byUrl)).rejects.toThrow(/must be inline/);
  });

  it('compileToVega gives the Vega spec that renders the same SVG', async () => {
    const vegaSpec = compileToVega(spec) as { marks?: unknown[]; data?: { name: string; values?: unknown[] }[] };
    expect(vegaSpec.marks?.length).toBeGreaterThan(0);
    // the chart's rows travel inline in the Vega spec
    expect(vegaSpec.data?.some((d) => d.values?.length === 2)).toBe(true);
    expect(await renderVegaSvg(vegaSpec)).toBe(await renderSvg(spec));
  });

  it('compileToVega and renderVegaSvg refuse data given by URL', async () => {
    expect(() => compileToVega({ ...spec, data: { url: 'data/rows.json' } })).toThrow(/must be inline.*rows\.json/);
    const byUrl = { ...compileToVega(spec), data: [{ name: 'rows', url: 'data/rows.json' }] };
    await expect(renderVegaSvg(byUrl)).rejects.toThrow(/must be inline/);
  });
});
