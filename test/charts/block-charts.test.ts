/**
 * The block-layer charts of notebooks/01-block-layer.ipynb on a real trace (test/fixtures/notebooks,
 * README there): the views are checked against counts computed independently from the trace text
 * (block_rq_issue / block_rq_complete lines, parsed here with a plain regex), the Vega-Lite specs
 * against golden JSON, and the rendered SVG for its title, axis titles, legend and marks.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Table } from '@uwdata/flechette';
import { latencyChart } from '../../src/charts/latency-chart.js';
import { queueDepthChart } from '../../src/charts/queue-depth-chart.js';
import { renderSvg, type ChartSpec } from '../../src/charts/render-svg.js';
import { requestSizeChart } from '../../src/charts/request-size-chart.js';
import { sectorTimeChart } from '../../src/charts/sector-time-chart.js';
import { latencyView, queueDepthView, requestSizeRows, requestsSummary, sectorTimeView } from '../../src/notebook/block-views.js';
import { openCapture } from '../../src/notebook/open-capture.js';
import { iostatSeries } from '../../src/metrics/iostat-series.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test', 'fixtures', 'notebooks', 'loop-ext4-fio.trace.gz');
const cli = join(root, 'dist', 'cli', 'main.js');

let work: string;
let requests: Table;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'iol-charts-'));
  // the tables come from the public command, as a notebook user makes them: `analyze` with only a
  // guest trace rebuilds that trace's requests (guest_requests, the block_requests schema)
  const r = spawnSync(process.execPath, [cli, 'analyze', '-o', join(work, 'out'), '--guest-trace', fixture, '--guest-dev', '7:6'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`iolineage analyze failed (${r.status}): ${r.stderr}`);
  requests = openCapture(join(work, 'out')).table('guest_requests');
});
afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

/** Issue/complete events of the fixture, parsed independently of the project's readers. */
interface TextRequest { op: string; sector: bigint; bytes: number; issueNs: bigint; completeNs: bigint | null }

function opOf(rwbs: string): string {
  // include/trace/events/block.h, blk_fill_rwbs: an optional F (preflush) then the op letter
  const c = rwbs.length > 1 && rwbs[0] === 'F' ? rwbs[1] : rwbs[0];
  return c === 'R' ? 'read' : c === 'W' ? 'write' : c === 'D' ? 'discard' : c === 'F' ? 'flush' : 'other';
}

function requestsFromText(): TextRequest[] {
  const text = gunzipSync(readFileSync(fixture)).toString('utf8');
  const re = /\s(\d+)\.(\d{6}): block_rq_(issue|complete): (\d+),(\d+) (\S+) (?:(\d+) )?\(\S*\) (\d+) \+ (\d+)/;
  const out: TextRequest[] = [];
  const pending = new Map<string, TextRequest[]>(); // FIFO per (op, sector) awaiting completion
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const ns = BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!) * 1000n;
    const op = opOf(m[6]!);
    // a flush completes with sector (u64)-1 although it was issued with 0
    const key = op === 'flush' ? 'flush' : `${op}|${m[8]}`;
    if (m[3] === 'issue') {
      const r: TextRequest = { op, sector: BigInt(m[8]!), bytes: Number(m[7]), issueNs: ns, completeNs: null };
      out.push(r);
      const q = pending.get(key) ?? [];
      q.push(r);
      pending.set(key, q);
    } else {
      const r = pending.get(key)?.shift();
      if (r) r.completeNs = ns; // completions of requests issued before the trace began have no issue line
    }
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Golden JSON of a spec: rewritten when UPDATE_GOLDEN=1, else compared (a missing golden fails). */
function expectGolden(name: string, spec: ChartSpec) {
  const file = join(import.meta.dirname, 'golden', `${name}.vl.json`);
  const text = JSON.stringify(spec, null, 1) + '\n';
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(existsSync(file), `golden ${file} (make it with UPDATE_GOLDEN=1)`).toBe(true);
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

/** Text of the <text> elements of an SVG, and of each <tspan> line of multi-line texts. */
const svgTexts = (svg: string) => [...svg.matchAll(/<(text|tspan)\b[^>]*>([^<]+)<\/\1>/g)].map((m) => m[2]!.replace(/&amp;/g, '&'));
/** Number of marks (<path> items) in the SVG group of a mark type. */
function markCount(svg: string, mark: string): number {
  const start = svg.indexOf(`class="mark-${mark} role-mark`);
  if (start < 0) return 0;
  const end = svg.indexOf('</g>', start);
  return (svg.slice(start, end).match(/<path /g) ?? []).length;
}

describe('block-layer views vs the trace text', () => {
  it('request sizes: issued requests per op and size class equal the block_rq_issue lines', () => {
    const expected = new Map<string, number>();
    for (const r of requestsFromText()) {
      if (r.bytes <= 0) continue;
      const key = `${r.op}|${2 ** Math.ceil(Math.log2(r.bytes))}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const rows = requestSizeRows(requests);
    const got = new Map(rows.map((r) => [`${r.op}|${r.size_bytes}`, r.requests]));
    expect(got).toEqual(expected);
    expect(rows.reduce((s, r) => s + r.requests, 0)).toBeGreaterThan(2000);
  });

  it('latency D2C: completed requests, per-op medians and histogram totals equal issue→complete pairs', () => {
    const done = requestsFromText().filter((r) => r.completeNs !== null);
    const view = latencyView(requests);
    expect(view.completed).toBe(done.length);
    for (const op of new Set(done.map((r) => r.op))) {
      const us = done.filter((r) => r.op === op).map((r) => Number(r.completeNs! - r.issueNs) / 1000);
      expect(view.medians[op], op).toBeCloseTo(median(us), 6);
      expect(view.rows.filter((r) => r.op === op).reduce((s, r) => s + r.requests, 0)).toBe(us.length);
    }
    // classes are contiguous decades/5 and each request lies in its class
    for (const r of view.rows) expect(r.hi_us / r.lo_us).toBeCloseTo(10 ** 0.2, 2);
  });

  it('queue depth: peak equals the maximum of +1 at issue / -1 at completion over the text', () => {
    const edges: [bigint, number][] = [];
    for (const r of requestsFromText()) {
      edges.push([r.issueNs, 1]);
      if (r.completeNs !== null) edges.push([r.completeNs, -1]);
    }
    edges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    let depth = 0;
    let peak = 0;
    for (const [, d] of edges) { depth += d; peak = Math.max(peak, depth); }
    const view = queueDepthView(requests, 400);
    expect(view.peak).toBe(peak);
    expect(view.rows).toHaveLength(400);
    expect(Math.max(...view.rows.map((r) => r.max_depth))).toBe(peak);
    // the time-weighted mean never exceeds the slice's maximum
    for (const r of view.rows) expect(r.mean_depth).toBeLessThanOrEqual(r.max_depth + 1e-9);
  });

  it('queue depth: per-slice means equal the iostat series (aqu-sz) of the btt metrics over the same slices', () => {
    const view = queueDepthView(requests, 400);
    const iostat = iostatSeries(requests, { intervalNs: view.slice_s * 1e9 });
    expect(iostat.queueDepth.length).toBeGreaterThanOrEqual(view.rows.length);
    // the view rounds to 4 significant digits
    view.rows.forEach((r, i) => expect(Math.abs(r.mean_depth - iostat.queueDepth[i]!), `slice ${i}`).toBeLessThanOrEqual(1e-3 * Math.max(1, r.mean_depth)));
  });

  it('sector over time: one point per issued request with a sector, thinned evenly above the cap', () => {
    const issued = requestsFromText().filter((r) => r.op !== 'flush');
    const all = sectorTimeView(requests, 1e9);
    expect(all.total).toBe(issued.length);
    expect(all.points).toHaveLength(issued.length);
    expect(all.points[0]!.t_s).toBeGreaterThanOrEqual(0);
    const sectors = new Set(issued.map((r) => Number(r.sector)));
    for (const p of all.points) expect(sectors.has(p.sector)).toBe(true);
    const thin = sectorTimeView(requests, 500);
    expect(thin.total).toBe(issued.length);
    expect(thin.points.length).toBeLessThanOrEqual(500);
    expect(thin.points.length).toBeGreaterThan(400);
  });
});

describe('block-layer chart specs and SVG', () => {
  it('request sizes: golden spec; SVG has title, unit axes, legend, one bar per row', async () => {
    const rows = requestSizeRows(requests);
    const spec = requestSizeChart(rows, { what: requestsSummary(requests).what });
    expectGolden('request-sizes', spec);
    const svg = await renderSvg(spec);
    const texts = svgTexts(svg);
    expect(texts).toContain('Request sizes by operation');
    expect(texts).toContain('Request size (bytes, power-of-two class)');
    expect(texts).toContain('Requests (count)');
    expect(texts).toEqual(expect.arrayContaining(['Operation', 'read', 'write', '4 KiB', '128 KiB']));
    expect(markCount(svg, 'rect')).toBe(rows.length);
  });

  it('latency: golden spec; SVG has log axis in µs and one rect per (op, class)', async () => {
    const view = latencyView(requests);
    const spec = latencyChart(view.rows, { what: 'block requests on 7:6', medians: view.medians });
    expectGolden('latency-d2c', spec);
    const svg = await renderSvg(spec);
    const texts = svgTexts(svg);
    expect(texts).toContain('Latency, issue to completion (D2C)');
    expect(texts).toContain('Latency, issue to completion (D2C) (µs, log scale)');
    expect(texts.some((t) => t.startsWith('median: '))).toBe(true);
    expect(markCount(svg, 'rect')).toBe(view.rows.length);
  });

  it('sector over time: golden spec; SVG has one point per request', async () => {
    const view = sectorTimeView(requests, 6000);
    const spec = sectorTimeChart(view.points, { what: 'block requests on 7:6', total: view.total });
    expectGolden('sector-time', spec);
    const svg = await renderSvg(spec);
    const texts = svgTexts(svg);
    expect(texts).toContain('Sector over time (seek pattern)');
    expect(texts).toContain('Issue time since trace start (s)');
    expect(texts).toContain('First sector (512-byte units)');
    expect(markCount(svg, 'symbol')).toBe(view.points.length);
  });

  it('queue depth: golden spec; SVG has the step line and band', async () => {
    const view = queueDepthView(requests, 400);
    const spec = queueDepthChart(view.rows, { what: 'block requests on 7:6', slice_s: view.slice_s });
    expectGolden('queue-depth', spec);
    const svg = await renderSvg(spec);
    const texts = svgTexts(svg);
    expect(texts).toContain('Queue depth over time');
    expect(texts).toContain('Requests in flight (count)');
    expect(texts).toContain('Time since trace start (s)');
    expect(markCount(svg, 'line')).toBe(1);
    expect(markCount(svg, 'area')).toBe(1);
  });
});
