/**
 * Publishing notebooks (scripts/notebooks.mjs). The shipped notebooks, executed the way `npm run
 * notebooks` does on the bundled real capture: `iolineage analyze` of the first capture bundle in
 * data/ gives the tables, data/ is the capture set; fails on any error output; checks that each
 * expected figure (an SVG carrying the chart's title) is in the published HTML, and that no report
 * refers to the network. Notebooks the tests write as a user would: errors named with cell, message
 * and failing line; the VM passed to the kernel; each chart published as static SVG plus its Vega
 * spec, turned into a live view in headless Chromium (brush, legend click, tooltip, no network);
 * missing tables, an unknown VM and skipped notebooks failing the run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { captureSetRuns } from '../../src/notebook/capture-set.js';
import { chartBundle } from '../../src/charts/show.js';

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
  '00-overview': ['Bytes per layer', 'Throughput and I/O rate over time'],
  '01-block-layer': ['Request sizes', 'Issue-to-completion latency (D2C)', 'Sector over time', 'Queue depth over time'],
  '02-throughput-grid': ['Workload throughput'],
  '03-io-per-operation': ['Bytes per application operation, by layer and cause'],
  '04-processing-order': ['Issue order against processing order'],
  '05-splitting-and-merging': ['Split: requests per application I/O', 'Merge: upper I/Os per request'],
  '06-reordering': ['Reordering over time'],
  '07-caches-and-memory': ['Application reads by where they were served', 'Predicted read bytes by VM memory'],
  '08-linked-layers': ['Application I/Os through the layers'],
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
  // Chromium's helper processes may still write to its profile for a moment after it exits: retry
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }); });

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

  it('publishes every chart as static SVG plus its Vega spec, with the Vega runtime beside the reports', () => {
    expect(existsSync(join(reports(), 'vega.min.js'))).toBe(true);
    let charts = 0;
    for (const p of readdirSync(reports()).filter((f) => f.endsWith('.html') && f !== 'index.html')) {
      const html = readFileSync(join(reports(), p), 'utf8');
      const figures = html.split('<figure class="iol-chart">').slice(1);
      for (const f of figures) {
        expect(f, p).toMatch(/^\s*<div class="iol-chart-static"><svg\b[\s\S]*?<\/svg><\/div>\s*<script type="application\/json" class="iol-chart-spec">[^<]+<\/script>\s*<\/figure>/);
        const spec = JSON.parse(/class="iol-chart-spec">([^<]+)</.exec(f)![1]!) as { marks?: unknown[] };
        expect(spec.marks?.length, p).toBeGreaterThan(0);
      }
      if (figures.length) expect(html, p).toContain('<script src="vega.min.js"></script>');
      expect(html, p).not.toContain('application/vnd.vegalite');
      charts += figures.length;
    }
    expect(charts).toBeGreaterThanOrEqual(Object.values(EXPECTED).flat().length);
  });
});

/** A notebook for the project kernel, written the way a user would: a heading, then code cells. */
function userNotebook(title: string, cells: string[], requires?: string[]): object {
  return {
    nbformat: 4, nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' }, ...(requires ? { iolineage: { requires } } : {}) },
    cells: [
      { cell_type: 'markdown', id: 'heading', metadata: {}, source: `# ${title}\n\nWritten by the publishing test.` },
      ...cells.map((source, i) => ({ cell_type: 'code', id: `code${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    ],
  };
}

/** An output folder with real Arrow tables: one per VM of a two-VM analysis (`app_io_<vm>`), plus a shared one. */
function twoVmTables(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const vm of ['vm1', 'vm2']) writeFileSync(join(dir, `app_io_${vm}.arrow`), tableToIPC(tableFromArrays({ bytes: Int32Array.from([4096, 8192]) }), 'file'));
  writeFileSync(join(dir, 'links_app_guest.arrow'), tableToIPC(tableFromArrays({ n: Int32Array.from([1]) }), 'file'));
}

/** A Vega-Lite chart with a brush on the top panel filtering the bottom one, a legend that picks an operation, and tooltips. */
const LINKED_CHART = `import * as iol from ${JSON.stringify(join(root, 'dist', 'index.js'))};
const values = Array.from({ length: 40 }, (_, i) => ({ t: i, bytes: (i * 37) % 23, op: i % 3 ? "read" : "write", note: "</script><b>x</b>" }));
const spec = {
  title: "Linked panels",
  data: { values },
  vconcat: [
    { width: 400, height: 150, mark: "point",
      params: [{ name: "span", select: { type: "interval", encodings: ["x"] } },
               { name: "pick", select: { type: "point", fields: ["op"] }, bind: "legend" }],
      encoding: { x: { field: "t", type: "quantitative" }, y: { field: "bytes", type: "quantitative" },
        color: { condition: { param: "span", field: "op", type: "nominal" }, value: "lightgray" },
        opacity: { condition: { param: "pick", value: 1 }, value: 0.2 },
        tooltip: [{ field: "t" }, { field: "bytes" }, { field: "op" }] } },
    { width: 400, height: 100, mark: "bar", transform: [{ filter: { param: "span" } }],
      encoding: { x: { field: "op", type: "nominal" }, y: { aggregate: "sum", field: "bytes", type: "quantitative" } } },
  ],
};
await iol.show(spec);`;

const haveChromium = spawnSync('chromium', ['--version'], { encoding: 'utf8' }).status === 0;
if (!haveChromium) console.log('live chart check skipped: no chromium on PATH (Debian: chromium)');

/**
 * Headless Chromium driven over the Chrome DevTools Protocol on --remote-debugging-pipe (JSON
 * messages ended by NUL, commands on fd 3, replies and events on fd 4): no dependency beyond the
 * browser. `open` loads a page in a new tab and resolves once its load event has fired.
 */
function chromium(profile: string) {
  const child = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'],
  // its own process group: close() ends the helpers too (the network service still writes into the profile after the browser exits)
  { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  type Message = { id?: number; method?: string; params?: Record<string, any>; result?: any; error?: { message: string }; sessionId?: string };
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const events: Message[] = [];
  const waiters: ((m: Message) => void)[] = [];
  let buffered = '';
  let nextId = 1;
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let end; (end = buffered.indexOf('\0')) >= 0;) {
      const m = JSON.parse(buffered.slice(0, end)) as Message;
      buffered = buffered.slice(end + 1);
      const call = m.id === undefined ? undefined : pending.get(m.id);
      if (call) {
        pending.delete(m.id!);
        if (m.error) call.reject(new Error(m.error.message)); else call.resolve(m.result);
      } else {
        events.push(m);
        for (const w of waiters) w(m);
      }
    }
  });
  const send = (method: string, params: object = {}, sessionId?: string): Promise<any> => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
  });
  return {
    events,
    async open(file: string) {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const page = (method: string, params: object = {}) => send(method, params, sessionId);
      await page('Emulation.setDeviceMetricsOverride', { width: 1200, height: 1000, deviceScaleFactor: 1, mobile: false });
      for (const domain of ['Network', 'Runtime', 'Page']) await page(`${domain}.enable`);
      const loaded = new Promise<void>((resolve) => waiters.push((m) => { if (m.method === 'Page.loadEventFired' && m.sessionId === sessionId) resolve(); }));
      await page('Page.navigate', { url: pathToFileURL(file).href });
      await loaded;
      /** The value of an expression in the page (awaited when it is a promise). */
      const evaluate = async (expression: string): Promise<any> => {
        const r = await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
        if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value;
      };
      const mouse = (type: string, x: number, y: number, buttons: number) =>
        page('Input.dispatchMouseEvent', { type, x, y, button: type === 'mouseMoved' && buttons === 0 ? 'none' : 'left', buttons, clickCount: 1 });
      return { evaluate, mouse };
    },
    /** Ends the browser and its helper processes; resolves once none is left (its profile folder can then be removed). */
    close: async () => {
      const group = -child.pid!;
      const alive = () => { try { process.kill(group, 0); return true; } catch { return false; } };
      if (alive()) process.kill(group, 'SIGKILL');
      for (let waited = 0; alive() && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

describe.skipIf(!haveJupyter)('publishing notebooks a user writes', () => {
  let work: string;
  let run: { status: number | null; stdout: string; stderr: string };
  const reports = () => join(work, 'reports');

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'iol-publish-'));
    const nbDir = join(work, 'notebooks');
    mkdirSync(nbDir);
    writeFileSync(join(nbDir, 'linked.ipynb'), JSON.stringify(userNotebook('Linked panels', [LINKED_CHART, 'console.log(`shown VM: ${process.env.IOLINEAGE_VM}`);'])));
    writeFileSync(join(nbDir, 'type-error.ipynb'), JSON.stringify(userNotebook('A type error', [
      'const blockSize: number = 4096;',
      'const sizes = [blockSize, 2 * blockSize];\nconst label: number = "KiB";\nconsole.log(sizes, label);',
    ])));
    writeFileSync(join(nbDir, 'throws.ipynb'), JSON.stringify(userNotebook('A runtime error', [
      'function readTable(name: string): never {\n  throw new RangeError(`table missing: ${name}`);\n}',
      'const ok = 1;\nconst rows = readTable("lineage");',
    ])));
    twoVmTables(join(work, 'out'));
    run = spawnSync(process.execPath, [script, '--notebooks', nbDir, '--out', join(work, 'out'), '--vm', 'vm2', '--reports', reports(), '--jobs', '1'],
      { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  }, 300_000);
  // Chromium's helper processes may still write to its profile for a moment after it exits: retry
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }); });

  it('fails (exit 1), naming each failed notebook, its cell and the error message', () => {
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^ok\s+linked\s+\(1 figure\)/m);
    expect(run.stdout).toMatch(/^FAILED\s+type-error\s+\(0 figures\)\n\s+cell 3: TypeScriptError: line 2, column 7: Type 'string' is not assignable to type 'number'\. \(TS2322\)$/m);
    expect(run.stdout).toMatch(/^FAILED\s+throws\s+\(0 figures\)\n\s+cell 3: RangeError: table missing: lineage$/m);
    expect(run.stderr).toMatch(/2 notebook\(s\) failed: throws \(cell 3: RangeError: table missing: lineage\); type-error \(cell 3: TypeScriptError/);
  });

  it('a report shows the error message and the failing line of the cell', () => {
    const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&#34;|&quot;/g, '"').replace(/&#39;/g, "'").replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
    const typeError = text(readFileSync(join(reports(), 'type-error.html'), 'utf8'));
    expect(typeError).toContain("TypeScript error TS2322 at line 2, column 7: Type 'string' is not assignable to type 'number'.");
    expect(typeError).toMatch(/--> 2 \| const label: number = "KiB";\n\s+\|\s{7}\^{5}/);
    expect(typeError).not.toContain('<Error>');
    const thrown = text(readFileSync(join(reports(), 'throws.html'), 'utf8'));
    expect(thrown).toContain('RangeError: table missing: lineage');
    // where it was thrown (the first cell), and the line of the running cell that called it
    expect(thrown).toMatch(/In\[1\], line 2:\n(?:.*\n)*?--> 2 \| {3}throw new RangeError\(`table missing: \$\{name\}`\);/);
    expect(thrown).toMatch(/In\[2\], line 2:\n(?:.*\n)*?--> 2 \| const rows = readTable\("lineage"\);/);
    for (const page of ['type-error.html', 'throws.html']) expect(readFileSync(join(reports(), page), 'utf8')).toContain('class="problems"');
  });

  it('passes the chosen VM to the kernel and says which one is shown', () => {
    const html = readFileSync(join(reports(), 'linked.html'), 'utf8');
    expect(html).toContain('shown VM: vm2');
    expect(html).toContain('VM vm2 of vm1, vm2');
    expect(readFileSync(join(reports(), 'index.html'), 'utf8')).toContain('VM vm2 of vm1, vm2');
  });

  it('publishes each chart as static SVG plus its Vega spec, with vega.min.js beside the reports and nothing from the network', () => {
    const html = readFileSync(join(reports(), 'linked.html'), 'utf8');
    const figures = [...html.matchAll(/<figure class="iol-chart">\s*<div class="iol-chart-static">(<svg\b[\s\S]*?<\/svg>)<\/div>\s*<script type="application\/json" class="iol-chart-spec">([^<]*)<\/script>\s*<\/figure>/g)];
    expect(figures).toHaveLength(1);
    const [, svg, specText] = figures[0]!;
    expect(svgTexts(svg!).flat()).toContain('Linked panels');
    // the spec is Vega (compiled at publish time), carrying its data and both params
    const spec = JSON.parse(specText!) as { marks: unknown[]; signals: { name: string }[]; data: { name: string; values?: { note: string }[] }[] };
    expect(spec.marks.length).toBeGreaterThan(0);
    expect(spec.signals.map((s) => s.name)).toEqual(expect.arrayContaining(['span', 'pick']));
    expect(spec.data.some((d) => d.values?.length === 40 && d.values[0]!.note === '</script><b>x</b>')).toBe(true);
    expect(html).not.toContain('application/vnd.vegalite');
    expect(html).toMatch(/<script src="vega\.min\.js"><\/script>/);
    expect(readFileSync(join(reports(), 'vega.min.js'), 'utf8')).toMatch(/^\/\*! Vega 5\.[\s\S]*\.vega=\{\}/);
    for (const page of readdirSync(reports()).filter((f) => f.endsWith('.html'))) expect(networkRefs(readFileSync(join(reports(), page), 'utf8')), page).toEqual([]);
  });

  it.skipIf(!haveChromium)('in Chromium the chart becomes a live Vega view: brush, legend click and tooltip work, nothing loads from the network', async () => {
    const browser = chromium(join(work, 'chromium-profile'));
    try {
      const { evaluate, mouse } = await browser.open(join(reports(), 'linked.html'));
      // resolves on the animation frame where the view has replaced the static SVG
      expect(await evaluate(`new Promise((resolve) => { const check = () => document.querySelector('figure.iol-chart-is-live') ? resolve(true) : requestAnimationFrame(check); check(); })`)).toBe(true);
      expect(await evaluate(`document.querySelectorAll('.iol-chart-static').length`)).toBe(0);
      expect(await evaluate(`document.querySelector('.iol-chart-live svg.marks') !== null`)).toBe(true);
      const box = (selector: string) => evaluate(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); el.scrollIntoView({ block: 'center' });
        const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; })()`) as Promise<{ x: number; y: number; w: number; h: number }>;
      const settled = () => evaluate(`window.iolineageViews[0].runAsync().then(() => true)`);
      const bars = () => evaluate(`[...document.querySelectorAll('.iol-chart-live .concat_1_marks path')].map((p) => p.getAttribute('d')).join(' ')`);
      // brush a time span on the top panel: the brush store holds it and the bottom panel's bars change
      const allBars = await bars();
      const plot = await box('.iol-chart-live .concat_0_group path.background');
      await mouse('mouseMoved', plot.x + 20, plot.y + 40, 0);
      await mouse('mousePressed', plot.x + 20, plot.y + 40, 1);
      await mouse('mouseMoved', plot.x + 120, plot.y + 60, 1);
      await mouse('mouseReleased', plot.x + 120, plot.y + 60, 0);
      await settled();
      const span = JSON.parse(await evaluate(`JSON.stringify(window.iolineageViews[0].data('span_store'))`)) as { values: number[][] }[];
      expect(span).toHaveLength(1);
      expect(span[0]!.values[0]![0]).toBeLessThan(span[0]!.values[0]![1]!);
      expect(await bars()).not.toBe(allBars);
      // click a legend entry: the point selection picks that operation
      const entry = await box('.iol-chart-live .role-legend-symbol path');
      await mouse('mouseMoved', entry.x + entry.w / 2, entry.y + entry.h / 2, 0);
      await mouse('mousePressed', entry.x + entry.w / 2, entry.y + entry.h / 2, 1);
      await mouse('mouseReleased', entry.x + entry.w / 2, entry.y + entry.h / 2, 0);
      await settled();
      const picked = JSON.parse(await evaluate(`JSON.stringify(window.iolineageViews[0].data('pick_store'))`)) as { values: string[] }[];
      expect(picked).toHaveLength(1);
      expect(['read', 'write']).toContain(picked[0]!.values[0]);
      // hover a point: the tooltip shows its fields
      const point = await box('.iol-chart-live .concat_0_marks path');
      await mouse('mouseMoved', point.x + point.w / 2, point.y + point.h / 2, 0);
      await settled();
      expect(await evaluate(`document.querySelector('.iol-tooltip').style.display`)).toBe('block');
      expect(await evaluate(`document.querySelector('.iol-tooltip').textContent`)).toMatch(/^t\d+bytes\d+op(read|write)$/);
      // the page and the runtime come from the reports folder; no error was thrown or logged
      const requested = browser.events.filter((e) => e.method === 'Network.requestWillBeSent').map((e) => e.params!.request.url as string);
      expect(requested.sort()).toEqual([pathToFileURL(join(reports(), 'linked.html')).href, pathToFileURL(join(reports(), 'vega.min.js')).href].sort());
      const errors = browser.events.filter((e) => e.method === 'Runtime.exceptionThrown' || (e.method === 'Runtime.consoleAPICalled' && ['error', 'warning'].includes(e.params!.type)));
      expect(errors.map((e) => JSON.stringify(e.params).slice(0, 300))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('publishing: what the transform makes of a chart bundle', () => {
  it('replaces the Vega-Lite bundle by the SVG and the compiled Vega spec; other outputs stay', async () => {
    const pub = await import(pathToFileURL(script).href) as {
      interactiveCharts(nb: object, charts: object): Promise<number>;
      VEGA_LITE_MIME: string;
    };
    const charts = await import('../../src/charts/render-svg.js');
    const spec = { title: 'Sizes', data: { values: [{ k: 'a', n: 1 }, { k: '</script>', n: 2 }] }, mark: 'bar',
      encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'n', type: 'quantitative' } } };
    const bundle = await chartBundle(spec);
    const stream = { output_type: 'stream', name: 'stdout', text: 'hello\n' };
    const nb = { cells: [{ cell_type: 'code', outputs: [stream, { output_type: 'display_data', data: bundle, metadata: {} },
      // a spec shown without SVG (e.g. by a user's own display call) gets one rendered
      { output_type: 'execute_result', execution_count: 3, data: { [pub.VEGA_LITE_MIME]: JSON.stringify(spec), 'text/plain': 'x' }, metadata: {} }] }] };
    expect(await pub.interactiveCharts(nb, charts)).toBe(2);
    const [kept, chart, result] = nb.cells[0]!.outputs as { output_type: string; data: Record<string, string>; execution_count?: number }[];
    expect(kept).toEqual(stream);
    expect(Object.keys(chart!.data).sort()).toEqual(['text/html', 'text/plain']);
    const html = chart!.data['text/html']!;
    expect(html).toContain(bundle['image/svg+xml'] as string);
    const specText = /<script type="application\/json" class="iol-chart-spec">([^<]*)<\/script>/.exec(html)![1]!;
    const vegaSpec = JSON.parse(specText) as Record<string, unknown>;
    const { $schema: _schema, ...compiled } = charts.compileToVega(spec);
    expect(vegaSpec).toEqual(JSON.parse(JSON.stringify(compiled)));
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(result!.output_type).toBe('execute_result');
    expect(result!.execution_count).toBe(3);
    expect(result!.data['text/html']).toContain('<svg');
    expect(result!.data['text/html']).toContain('class="iol-chart-spec"');
  });
});

describe.skipIf(!haveJupyter)('publishing: missing tables and skipped notebooks', () => {
  it('an --out folder without tables fails before executing, naming what is missing', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-notebooks-none-'));
    try {
      const r = spawnSync(process.execPath, [script, '--out', join(work, 'none'), '--reports', join(work, 'reports'), '00-overview'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no tables in .*none: no \.arrow file there or in its subfolders, and no manifest\.json/);
      expect(existsSync(join(work, 'reports', 'index.html'))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a VM the capture does not have is a usage error naming the VMs', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-notebooks-vm-'));
    try {
      twoVmTables(join(work, 'out'));
      const r = spawnSync(process.execPath, [script, '--out', join(work, 'out'), '--vm', 'vm9', '--reports', join(work, 'reports')], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('has no VM "vm9" (VMs: vm1, vm2)');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a skipped notebook fails the run unless --allow-skip; the index says what was skipped and why', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-notebooks-skip-'));
    try {
      const nbDir = join(work, 'notebooks');
      mkdirSync(nbDir);
      writeFileSync(join(nbDir, 'a-tables.ipynb'), JSON.stringify(userNotebook('Tables', ['const n: number = 2;\nconsole.log(n);'], ['app_io'])));
      writeFileSync(join(nbDir, 'b-lineage.ipynb'), JSON.stringify(userNotebook('Lineage', ['console.log(1);'], ['lineage'])));
      twoVmTables(join(work, 'out'));
      const args = [script, '--notebooks', nbDir, '--out', join(work, 'out'), '--reports', join(work, 'reports')];
      // a report of an earlier run must not stay for a notebook skipped now
      mkdirSync(join(work, 'reports'));
      writeFileSync(join(work, 'reports', 'b-lineage.html'), 'an earlier report');
      const strict = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(strict.stdout).toMatch(/^ok\s+a-tables\b/m); // app_io is per VM here (app_io_vm1): found for the first VM
      expect(strict.stdout).toMatch(/^skip\s+b-lineage\s+\(needs table lineage/m);
      expect(strict.stderr).toContain('1 notebook(s) skipped');
      expect(strict.status).toBe(1);
      const index = readFileSync(join(work, 'reports', 'index.html'), 'utf8');
      expect(index).toContain('1 notebook(s) skipped: <code>b-lineage</code> (needs table lineage');
      expect(index).toContain('skipped: needs table lineage');
      expect(existsSync(join(work, 'reports', 'b-lineage.html'))).toBe(false);
      const allowed = spawnSync(process.execPath, [...args, '--allow-skip'], { encoding: 'utf8' });
      expect(allowed.stdout).toMatch(/^skip\s+b-lineage/m);
      expect(allowed.status).toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
