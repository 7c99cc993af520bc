/**
 * Every notebook, executed the way `npm run notebooks` does (scripts/notebooks.mjs), on the bundled
 * real capture: `iolineage analyze` of the first capture bundle in data/ gives the tables, data/ is
 * the capture set. Fails on any error output; checks that each expected figure (an SVG carrying the
 * chart's title) is in the published HTML, and that no report refers to the network.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { countInversions } from '../../src/metrics/reordering.js';
import { captureSetRuns } from '../../src/notebook/capture-set.js';
import { fanoutView, ioPerOperationView, processingOrderView } from '../../src/notebook/lineage-views.js';
import { openCapture } from '../../src/notebook/open-capture.js';
import { cacheSummaryRows, reorderingSummaryRows } from '../../src/notebook/summary-views.js';
import { hitRatioChart } from '../../src/charts/cache-charts.js';
import { fanoutChart } from '../../src/charts/fanout-chart.js';
import { ioPerOperationChart } from '../../src/charts/io-per-operation-chart.js';
import { processingOrderChart } from '../../src/charts/processing-order-chart.js';
import { renderSvg } from '../../src/charts/render-svg.js';
import { reorderingChart } from '../../src/charts/reordering-chart.js';
import { reorderingOverTime } from '../../src/notebook/lineage-views.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const script = join(root, 'scripts', 'notebooks.mjs');
const python = process.env.JUPYTER_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const haveJupyter = spawnSync(python, ['-m', 'jupyter', 'nbconvert', '--version'], { encoding: 'utf8' }).status === 0;
const dataDir = join(root, 'data');
const bundles = existsSync(dataDir) ? readdirSync(dataDir).filter((d) => existsSync(join(dataDir, d, 'manifest.json'))).sort() : [];
if (!haveJupyter) console.log(`notebook tests skipped: ${python} -m jupyter nbconvert is not available (Debian: jupyter-nbconvert python3-ipykernel)`);
if (bundles.length === 0) console.log('notebook tests skipped: no capture bundle (manifest.json) under data/');

/** The figures each notebook must show: chart titles, as rendered into the SVG. */
const EXPECTED: Record<string, string[]> = {
  '00-overview': ['Bytes per layer'],
  '02-throughput-grid': ['Workload throughput by data size, VM memory and I/O mode'],
  '01-block-layer': ['Request sizes by operation', 'Latency, issue to completion (D2C)', 'Sector over time (seek pattern)', 'Queue depth over time'],
  '03-io-per-operation': ['Bytes per application operation, by layer and cause'],
  '04-processing-order': ['Processing order against issue order'],
  '05-splitting-and-merging': ['Splitting and merging between layers'],
  '06-reordering': ['Reordering over time'],
  '07-caches-and-memory': ['Read hit ratio per cache', 'Predicted disk reads for other VM memory sizes'],
};

/** src/href attributes and CSS url()s that point to the network (http, https, protocol-relative). */
function networkRefs(html: string): string[] {
  const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]*)/gi)].map((m) => m[1]!);
  refs.push(...[...html.matchAll(/url\(\s*["']?((?:https?:)?\/\/[^"')]*)/gi)].map((m) => m[1]!));
  return refs;
}

/** For each SVG figure of a page, the text of its <text> and <tspan> elements (title, axes, legend). */
function svgTexts(html: string): string[][] {
  return [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)]
    .map((m) => [...m[0].matchAll(/<(text|tspan)\b[^>]*>([^<]+)<\/\1>/g)].map((t) => t[2]!.replace(/&amp;/g, '&')));
}

describe.skipIf(!haveJupyter || bundles.length === 0)('notebooks on the bundled capture', () => {
  let work: string;
  let run: { status: number | null; stdout: string; stderr: string };
  const reports = () => join(work, 'reports');

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'iol-notebooks-test-'));
    const bundle = join(dataDir, bundles[0]!);
    const an = spawnSync(process.execPath, [cli, 'analyze', bundle, '-o', join(work, 'out')], { encoding: 'utf8' });
    if (an.status !== 0) throw new Error(`iolineage analyze ${bundles[0]} failed (${an.status}): ${an.stderr.slice(-2000)}`);
    // the memory what-if needs the captured run's VM memory, which the analysis does not record
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as { lab?: { vm_mem_bytes?: number } };
    const mem = manifest.lab?.vm_mem_bytes;
    run = spawnSync(process.execPath, [script, '--out', join(work, 'out'), '--captures', dataDir, '--reports', reports()],
      { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', ...(mem ? { IOLINEAGE_CAPTURED_MEM: String(mem) } : {}) } });
  }, 600_000);
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  it('executes every notebook without error output (exit 0, none skipped)', () => {
    expect(run.stderr + run.stdout, 'publishing output').not.toMatch(/FAILED|skip /);
    expect(run.status).toBe(0);
    const notebooks = readdirSync(join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).map((f) => f.replace(/\.ipynb$/, ''));
    for (const n of notebooks) expect(run.stdout, n).toMatch(new RegExp(`^ok\\s+${n}\\b`, 'm'));
    // every notebook has its expected figures declared here
    expect(Object.keys(EXPECTED).sort()).toEqual(notebooks.sort());
  });

  it.each(Object.entries(EXPECTED))('%s: publishes each expected figure as SVG with its title', (name, titles) => {
    const html = readFileSync(join(reports(), `${name}.html`), 'utf8');
    const figures = svgTexts(html);
    // each expected chart is one SVG whose texts include its title
    for (const t of titles) expect(figures.some((texts) => texts.includes(t)), `${name}: figure "${t}" in ${figures.length} SVGs`).toBe(true);
    expect(html).not.toContain('class="problems"');
    // a figure has axes with titles: every SVG carries at least one axis title
    expect((html.match(/role-axis-title/g) ?? []).length).toBeGreaterThanOrEqual(titles.length);
  });

  it('cross-layer views agree with the analysis summary (summary.json) of the same capture', () => {
    const capture = openCapture(join(work, 'out'));
    const summary = capture.summary as { layers: Record<string, Record<string, number>>; split_merge: Record<string, Record<string, number>> };
    // bytes per operation: per layer, the rows add up to the layer's read and write bytes
    const io = ioPerOperationView(capture.table('app_io'), capture.table('attribution'), capture.table('guest_requests'), capture.table('host_requests'));
    for (const layer of ['app', 'guest', 'host']) {
      for (const dir of ['read', 'write']) {
        const sum = io.rows.filter((r) => r.layer === layer && r.direction === dir).reduce((a, r) => a + r.bytes, 0);
        expect(sum, `${layer} ${dir}`).toBe(summary.layers[layer]![`${dir}_bytes`]);
      }
    }
    // processing order: inversions of the full (unthinned) ranks equal the summary's, per layer
    const order = processingOrderView(capture.table('lineage'), Number.MAX_SAFE_INTEGER);
    for (const row of reorderingSummaryRows(capture.summary).filter((r) => r.op === 'all')) {
      const pts = order.points.filter((p) => p.layer === row.layer).sort((a, b) => a.issue_rank - b.issue_rank);
      expect(pts.length, row.layer).toBe(row.n);
      expect(countInversions(pts.map((p) => p.process_rank)), row.layer).toBe(row.inversions);
    }
    // splitting and merging: I/Os that reached the guest, those split, requests that merge I/Os
    const fan = fanoutView(capture.table('lineage'), capture.table('links_app_guest'), capture.table('links_guest_host'),
      capture.table('guest_requests').numRows, capture.table('host_requests').numRows);
    const split = fan.filter((r) => r.relation.startsWith('guest requests per app I/O'));
    const merged = fan.filter((r) => r.relation.startsWith('app I/Os per guest request'));
    expect(split.reduce((a, r) => a + r.items, 0)).toBe(summary.split_merge['app_guest']!['app_ios']);
    expect(split.filter((r) => r.k >= 2).reduce((a, r) => a + r.items, 0)).toBe(summary.split_merge['app_guest']!['split_ios']);
    expect(merged.filter((r) => r.k >= 2).reduce((a, r) => a + r.items, 0)).toBe(summary.split_merge['app_guest']!['merged_requests']);
  });

  it('cross-layer charts draw one mark per data row, with titled axes', async () => {
    const capture = openCapture(join(work, 'out'));
    /** Marks of a type over all groups of the SVG (faceted charts have one group per panel). */
    const marks = (svg: string, type: string) => [...svg.matchAll(new RegExp(`class="mark-${type} role-mark[^"]*"[^>]*>([\\s\\S]*?)</g>`, 'g'))]
      .reduce((n, m) => n + (m[1]!.match(/<path /g) ?? []).length, 0);
    const io = ioPerOperationView(capture.table('app_io'), capture.table('attribution'), capture.table('guest_requests'), capture.table('host_requests'));
    let svg = await renderSvg(ioPerOperationChart(io.rows, { appOps: io.appOps }));
    expect(marks(svg, 'rect')).toBe(io.rows.length);
    expect(svg).toContain('KiB per application operation');
    const order = processingOrderView(capture.table('lineage'), 1500);
    svg = await renderSvg(processingOrderChart(order.points, { reached: order.reached }));
    expect(marks(svg, 'symbol')).toBe(order.points.length);
    expect(svg).toContain('Processing order at the layer (rank)');
    const fan = fanoutView(capture.table('lineage'), capture.table('links_app_guest'), capture.table('links_guest_host'),
      capture.table('guest_requests').numRows, capture.table('host_requests').numRows);
    svg = await renderSvg(fanoutChart(fan));
    expect(marks(svg, 'rect')).toBe(fan.length);
    const windows = reorderingOverTime(capture.table('lineage'), 10);
    svg = await renderSvg(reorderingChart(windows));
    // one line per (layer, op) series in each of the two panels
    expect(marks(svg, 'line')).toBe(2 * new Set(windows.map((w) => `${w.layer}|${w.op}`)).size);
    const hits = cacheSummaryRows(capture.summary);
    svg = await renderSvg(hitRatioChart(hits));
    expect(marks(svg, 'rect')).toBe(hits.filter((h) => h.read_bytes > 0).length);
  });

  it('throughput grid: each run\'s throughput equals a plain recount of its workload log', async () => {
    const runs = await captureSetRuns(dataDir);
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      // "bundle" or "bundle/vm id" for bundles of several VMs
      const [bundle, vm] = r.run.split('/') as [string, string | undefined];
      expect(existsSync(join(dataDir, bundle, 'manifest.json'))).toBe(true);
      const m = JSON.parse(readFileSync(join(dataDir, bundle, 'manifest.json'), 'utf8')) as { guests: { id: string; workload_log: { path: string } }[] };
      const guest = vm ? m.guests.find((g) => g.id === vm)! : m.guests[0]!;
      const text = gunzipSync(readFileSync(join(dataDir, bundle, guest.workload_log.path))).toString('utf8');
      let bytes = 0, ops = 0, first = Infinity, last = -Infinity;
      for (const line of text.split('\n')) {
        const f = line.split('\t');
        if (line.startsWith('#') || f.length !== 9 || f[1] !== 'run' || (f[2] !== 'read' && f[2] !== 'write')) continue;
        first = Math.min(first, Number(f[7])); last = Math.max(last, Number(f[8]));
        if (Number(f[6]) > 0) { bytes += Number(f[6]); ops++; }
      }
      expect(r.throughput.bytes, r.run).toBe(bytes);
      expect(r.throughput.ops, r.run).toBe(ops);
      expect(r.throughput.span_ns, r.run).toBe(last - first);
      expect(r.throughput.mb_per_s, r.run).toBeCloseTo(bytes / ((last - first) / 1e9) / 1e6, 9);
    }
  });

  it('reports and the index refer to nothing on the network', () => {
    const pages = readdirSync(reports()).filter((f) => f.endsWith('.html'));
    expect(pages).toContain('index.html');
    for (const p of pages) expect(networkRefs(readFileSync(join(reports(), p), 'utf8')), p).toEqual([]);
    const index = readFileSync(join(reports(), 'index.html'), 'utf8');
    for (const name of Object.keys(EXPECTED)) expect(index).toContain(`href="${name}.html"`);
  });
});

describe.skipIf(!haveJupyter)('publishing reports failures', () => {
  it('a notebook that throws makes the run fail, naming the notebook, the cell and the error', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-notebooks-fail-'));
    try {
      const nbDir = join(work, 'notebooks');
      mkdirSync(nbDir);
      const nb = {
        nbformat: 4, nbformat_minor: 5,
        metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
        cells: [
          { cell_type: 'markdown', id: 'a', metadata: {}, source: '# Broken\n\nA notebook whose second cell throws.' },
          { cell_type: 'code', id: 'b', metadata: {}, execution_count: null, outputs: [], source: 'const x = 1;' },
          { cell_type: 'code', id: 'c', metadata: {}, execution_count: null, outputs: [], source: 'throw new Error("table missing: lineage");' },
        ],
      };
      writeFileSync(join(nbDir, 'broken.ipynb'), JSON.stringify(nb));
      const r = spawnSync(process.execPath, [script, '--notebooks', nbDir, '--out', work, '--reports', join(work, 'reports')], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/FAILED\s+broken/);
      expect(r.stdout).toMatch(/cell 3: .*table missing: lineage/);
      const html = readFileSync(join(work, 'reports', 'broken.html'), 'utf8');
      expect(html).toContain('class="problems"');
      expect(networkRefs(html)).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('a notebook whose tables are missing is skipped with the reason; nothing to run fails', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-notebooks-skip-'));
    try {
      const r = spawnSync(process.execPath, [script, '--out', join(work, 'none'), '--captures', join(work, 'none'), '--reports', join(work, 'reports'), '01-block-layer'], { encoding: 'utf8' });
      expect(r.stdout).toMatch(/skip\s+01-block-layer\s+\(needs table block_requests or guest_requests or host_requests/);
      expect(r.status).toBe(1);
      expect(readFileSync(join(work, 'reports', 'index.html'), 'utf8')).toContain('skipped: needs table');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
