#!/usr/bin/env node
/**
 * Execute every notebook headlessly on a capture's tables and publish self-contained HTML reports
 * whose charts are live Vega views, offline.
 *
 *   npm run notebooks                                   # tables in out/ (analysed from data/m128-buffered when missing)
 *   IOLINEAGE_OUT=DIR npm run notebooks                 # tables of another capture
 *   node scripts/notebooks.mjs --out DIR [--vm VM] [--reports DIR] [--allow-skip] [NAME ...]
 *
 * Steps: register the project kernel (scripts/kernel.mjs); when out/ has no tables yet, analyse the
 * bundled capture into it (as `npm start` does); run `jupyter nbconvert --execute` on each
 * notebooks/*.ipynb with the kernel's environment naming the tables (IOLINEAGE_OUT) and the VM
 * (IOLINEAGE_VM); check the executed notebooks for error outputs (an `error` output or anything on
 * stderr); replace each chart's MIME bundle (nbformat 4 display_data: SVG + Vega-Lite spec) by an
 * HTML output holding the static SVG and the chart compiled to a Vega spec; render each notebook with
 * nbconvert's "basic" template (the notebook body, no page scaffolding) and wrap it in a page of our
 * own with inline CSS and the script that turns each chart into a Vega View; copy the Vega runtime
 * (vega.min.js) beside the reports. A report loads nothing from the network (nbconvert's default
 * template pulls MathJax and require.js from a CDN). Writes reports/<name>.html and reports/index.html.
 * Exit status: 0 when every notebook ran without error output, 1 when one failed or was skipped
 * (unless --allow-skip), 2 on usage errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { jupyterEnv, kernelName, projectRoot, registerKernel } from './kernel.mjs';

/** The Python that has Jupyter: JUPYTER_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH. */
function jupyterPython() {
  if (process.env.JUPYTER_PYTHON) return process.env.JUPYTER_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function parseArgs(argv) {
  const opts = {
    out: undefined,
    vm: undefined,
    allowSkip: false,
    reports: join(projectRoot, 'reports'),
    notebooks: join(projectRoot, 'notebooks'),
    names: [],
    timeout: 600,
    jobs: Math.min(2, availableParallelism()),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--out') opts.out = resolve(value());
    else if (a === '--reports') opts.reports = resolve(value());
    else if (a === '--vm') opts.vm = value();
    else if (a === '--allow-skip') opts.allowSkip = true;
    else if (a === '--notebooks') opts.notebooks = resolve(value());
    else if (a === '--captures') opts.captures = resolve(value());
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--jobs') opts.jobs = Number(value());
    else if (a === '--help' || a === '-h') opts.help = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else opts.names.push(a.replace(/\.ipynb$/, ''));
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new UsageError('--timeout expects seconds > 0');
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new UsageError('--jobs expects a whole number >= 1');
  return opts;
}

class UsageError extends Error {}

/** The capture that `npm start` analyses into out/, and that a fresh clone publishes. */
const DEFAULT_BUNDLE = join('data', 'm128-buffered');

const HELP = `usage: node scripts/notebooks.mjs [--out DIR] [--vm VM] [--captures DIR] [--reports DIR] [--notebooks DIR]
                                  [--timeout SECONDS] [--jobs N] [--allow-skip] [NAME ...]

Executes notebooks/*.ipynb (or the NAMEs given) on the tables in DIR (default: $IOLINEAGE_OUT,
else $IOLINEAGE_CAPTURE, else out/). When out/ is the default and has no tables yet, the bundled
capture (${DEFAULT_BUNDLE}) is analysed into it first, as \`npm start\` does. When DIR is a capture
bundle (manifest.json, no tables), it is analysed first (iolineage analyze) into a temporary folder.
--vm: with a capture of several VMs, the VM whose tables the notebooks show (default: $IOLINEAGE_VM,
else the first); passed to the kernel as IOLINEAGE_VM.
Writes REPORTS/<name>.html, REPORTS/index.html and REPORTS/vega.min.js (default REPORTS: reports/):
each chart is a live Vega view (tooltips, brushes, clicks) with its static SVG for viewers that run
no script; nothing is loaded from the network. Notebooks over a set of captures (the throughput
grid) read the capture bundles under --captures (default: $IOLINEAGE_CAPTURE_SET, else data/).
A notebook whose tables the capture lacks (metadata "iolineage.requires") is skipped, with the
reason on the index page; a skip fails the run (exit 1) unless --allow-skip is given.
--jobs: notebooks executed at once (default: 2, or 1 on one CPU).
Fails (exit 1) when a notebook produces an error output, naming the cell and the message.`;

/** Notebooks to run: DIR/*.ipynb in name order, or the names asked for. */
function listNotebooks(dir, names) {
  if (!existsSync(dir)) throw new UsageError(`no notebooks folder ${dir}`);
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.startsWith('_'))
    .sort();
  if (names.length === 0) return all.map((f) => join(dir, f));
  return names.map((n) => {
    const f = join(dir, `${n}.ipynb`);
    if (!existsSync(f)) throw new UsageError(`no notebook ${n}.ipynb in ${dir} (have: ${all.join(', ')})`);
    return f;
  });
}

/** Tables that `iolineage analyze` writes once per VM (`<table>_<vm>.arrow`) for several VMs. */
const PER_VM_TABLES = ['app_io', 'guest_requests', 'guest_fs_map', 'image_map'];

/**
 * The tables of an output folder and its immediate subfolders, as the notebooks' openCapture finds
 * them: table names (a per-VM table under its plain name when the chosen VM has it), the VMs of the
 * capture, and the chosen VM (`vm`, else the first; null without VMs). Throws naming the VMs when
 * `vm` is not one of them.
 */
export function tablesIn(dir, vm, label = dir) {
  const stems = new Set();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { names: stems, vms: [], vm: null };
  const scan = (d) => {
    for (const f of readdirSync(d)) if (f.endsWith('.arrow')) stems.add(f.slice(0, -6));
  };
  scan(dir);
  for (const f of readdirSync(dir)) if (statSync(join(dir, f)).isDirectory()) scan(join(dir, f));
  const vms = new Set();
  for (const stem of stems) {
    for (const t of PER_VM_TABLES) if (stem.startsWith(`${t}_`) && !stems.has(t)) vms.add(stem.slice(t.length + 1));
  }
  if (vms.size === 0 && existsSync(join(dir, 'summary.json'))) {
    try {
      const clocks = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).clocks;
      if (clocks && typeof clocks === 'object') for (const v of Object.keys(clocks)) vms.add(v);
    } catch {
      /* a summary that does not parse names no VMs */
    }
  }
  const allVms = [...vms].sort();
  if (vm && !allVms.includes(vm)) throw new UsageError(`${label} has no VM "${vm}" (VMs: ${allVms.length ? allVms.join(', ') : 'none'})`);
  const chosen = vm ?? allVms[0] ?? null;
  const names = new Set();
  for (const stem of stems) {
    const perVm = PER_VM_TABLES.find((t) => stem.startsWith(`${t}_`) && allVms.includes(stem.slice(t.length + 1)));
    if (!perVm) names.add(stem);
    else if (stem === `${perVm}_${chosen}`) names.add(perVm);
  }
  if (existsSync(join(dir, 'summary.json'))) names.add('summary.json');
  return { names, vms: allVms, vm: chosen };
}

/** Capture bundles (folders with a manifest.json) directly under a folder. */
function bundlesIn(dir) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((f) => existsSync(join(dir, f, 'manifest.json')));
}

/**
 * Why a notebook cannot run on this capture, or null. Its metadata "iolineage" may name
 * `requires`: a list of table names, each entry a name or a list of alternatives; and
 * `requires_capture_set`: true when it reads the capture bundles of a set.
 */
function missingInputs(nb, tables, captures) {
  const meta = nb.metadata?.iolineage ?? {};
  const missing = [];
  for (const need of meta.requires ?? []) {
    const alts = Array.isArray(need) ? need : [need];
    if (!alts.some((t) => tables.has(t))) missing.push(alts.join(' or '));
  }
  if (missing.length)
    return `needs table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (make them with \`iolineage analyze\` or \`iolineage ingest\`)`;
  if (meta.requires_capture_set && bundlesIn(captures).length === 0)
    return 'needs a set of capture bundles (--captures DIR or $IOLINEAGE_CAPTURE_SET)';
  return null;
}

/** Run a command without blocking; resolves to its exit status and stderr. */
function runAsync(cmd, args, env) {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-65536);
    });
    child.on('error', (e) => resolveRun({ status: -1, stderr: `cannot run ${cmd}: ${e.message}` }));
    child.on('close', (status) => resolveRun({ status, stderr }));
  });
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return r;
}

/**
 * Problems in an executed notebook (nbformat 4): `error` outputs and stderr streams, each named
 * by cell number and the first line of the message.
 */
export function notebookProblems(nb) {
  const problems = [];
  nb.cells.forEach((cell, i) => {
    for (const o of cell.outputs ?? []) {
      if (o.output_type === 'error') {
        problems.push(`cell ${i + 1}: ${o.ename}: ${String(o.evalue).split('\n')[0]}`);
      } else if (o.output_type === 'stream' && o.name === 'stderr') {
        const lines = (Array.isArray(o.text) ? o.text.join('') : String(o.text)).trim().split('\n');
        // an uncaught error prints its source line first: name the line that says what happened
        const said = lines.find((l) => /^\w*(Error|Exception)\b/.test(l.trim())) ?? lines[0];
        problems.push(`cell ${i + 1}: stderr: ${said.trim()}`);
      }
    }
  });
  return problems;
}

/** Title of a notebook: its first markdown heading, else the file name. */
function notebookTitle(nb, fallback) {
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'markdown') continue;
    const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    const m = /^#\s+(.+)$/m.exec(src);
    if (m) return m[1].trim();
  }
  return fallback;
}

/** First paragraph after the heading of the first markdown cell (for the index page). */
function notebookSummary(nb) {
  const cell = nb.cells.find((c) => c.cell_type === 'markdown');
  if (!cell) return '';
  const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
  const para = src
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .find((p) => p && !p.startsWith('#'));
  return para ?? '';
}

/** SVG outputs that are not charts with a spec (shown as they are). */
function countStaticFigures(nb) {
  let n = 0;
  for (const cell of nb.cells) for (const o of cell.outputs ?? []) if (o.data?.['image/svg+xml']) n++;
  return n;
}

/** MIME types of chart specs in notebook outputs (Jupyter's Vega-Lite 5 and Vega 5 renderers). */
export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';
export const VEGA_MIME = 'application/vnd.vega.v5+json';

/** JSON text that can sit inside a <script> element (HTML spec, "Restrictions for contents of script elements"). */
const scriptJson = (value) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * The HTML of one published chart: the static SVG (what a viewer that runs no script shows) and the
 * chart's Vega spec in a `<script type="application/json">` that the report's script turns into a
 * live Vega View in place of the SVG.
 */
export function chartHtml(svg, vegaSpec) {
  // the schema address is documentation only (Vega never fetches it); a report names no address
  const { $schema: _schema, ...spec } = vegaSpec;
  return (
    `<figure class="iol-chart">\n<div class="iol-chart-static">${svg}</div>\n` +
    `<script type="application/json" class="iol-chart-spec">${scriptJson(spec)}</script>\n</figure>`
  );
}

/**
 * Replace every chart of an executed notebook (nbformat 4: a display_data or execute_result whose
 * MIME bundle carries a Vega-Lite or Vega spec) by the same output carrying text/html: the static
 * SVG of the bundle (rendered here when the bundle has none) and the spec compiled to Vega
 * (vega-lite's compile), so that a report needs only the Vega runtime. The notebook on disk, which
 * JupyterLab opens, is not changed. `charts` is dist/charts/render-svg.js. Returns the number of charts.
 */
export async function interactiveCharts(nb, charts) {
  let n = 0;
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      const data = o.data;
      if (!data || (o.output_type !== 'display_data' && o.output_type !== 'execute_result')) continue;
      const vl = data[VEGA_LITE_MIME];
      const vg = data[VEGA_MIME];
      if (!vl && !vg) continue;
      const parse = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
      const vegaSpec = vg ? parse(vg) : charts.compileToVega(parse(vl));
      const svgText = data['image/svg+xml'];
      const svg = svgText ? (Array.isArray(svgText) ? svgText.join('') : svgText) : await charts.renderVegaSvg(vegaSpec);
      const title = data['text/plain'] ?? 'chart';
      o.data = { 'text/html': chartHtml(svg, vegaSpec), 'text/plain': title };
      n++;
    }
  }
  return n;
}

/**
 * The script of a report with charts, run after vega.min.js (Vega's browser build): each chart's
 * spec becomes a Vega View (Vega API: new vega.View(vega.parse(spec), options), renderer "svg",
 * hover on, so that Vega-Lite params, brushes and clicks run), and the static SVG is removed once
 * the view has rendered; when Vega is absent or a view fails, the static SVG stays and the failure
 * is said under it. Tooltips: a handler as Vega's view.tooltip() calls it (handler, event, item,
 * value), showing Vega-Lite's tooltip object as a table. Data never comes from the network: the
 * specs carry their data, and the loader refuses every URL. The views are kept, in page order, in
 * `window.iolineageViews` (Vega View API from the browser's console, e.g. `.data("brush_store")`).
 */
export const LIVE_CHARTS_SCRIPT = `(function () {
  'use strict';
  var figures = document.querySelectorAll('figure.iol-chart');
  if (!figures.length) return;
  function say(figure, text) {
    var note = document.createElement('p');
    note.className = 'iol-chart-note';
    note.textContent = text;
    figure.appendChild(note);
  }
  if (!window.vega) {
    for (var i = 0; i < figures.length; i++) say(figures[i], 'Static chart: vega.min.js was not found beside this report.');
    return;
  }
  var tip = null;
  function tooltip(handler, event, item, value) {
    if (!tip) {
      tip = document.createElement('div');
      tip.className = 'iol-tooltip';
      document.body.appendChild(tip);
    }
    if (value == null || value === '') { tip.style.display = 'none'; return; }
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    if (typeof value === 'object') {
      var table = document.createElement('table');
      Object.keys(value).forEach(function (key) {
        var row = table.insertRow();
        var k = row.insertCell(); k.textContent = key; k.className = 'key';
        var v = row.insertCell(); v.textContent = String(value[key]);
      });
      tip.appendChild(table);
    } else {
      tip.textContent = String(value);
    }
    tip.style.display = 'block';
    var x = event.pageX + 14, y = event.pageY + 14;
    var room = document.documentElement.clientWidth + window.pageXOffset - tip.offsetWidth - 8;
    tip.style.left = Math.max(0, Math.min(x, room)) + 'px';
    tip.style.top = y + 'px';
  }
  var loader = vega.loader();
  loader.load = function (uri) { return Promise.reject(new Error('report charts carry their data; not loading ' + uri)); };
  window.iolineageViews = [];
  Array.prototype.forEach.call(figures, function (figure) {
    var specElement = figure.querySelector('script.iol-chart-spec');
    var staticChart = figure.querySelector('.iol-chart-static');
    var live = document.createElement('div');
    live.className = 'iol-chart-live';
    figure.insertBefore(live, staticChart);
    var failed = function (e) {
      if (live.parentNode) live.parentNode.removeChild(live);
      say(figure, 'Static chart: the live view failed (' + (e && e.message ? e.message : e) + ').');
    };
    try {
      var view = new vega.View(vega.parse(JSON.parse(specElement.textContent)), {
        renderer: 'svg', container: live, hover: true, loader: loader, logLevel: vega.Warn
      });
      view.tooltip(tooltip);
      window.iolineageViews.push(view);
      view.runAsync().then(function () {
        if (staticChart.parentNode) staticChart.parentNode.removeChild(staticChart);
        figure.classList.add('iol-chart-is-live');
      }, failed);
    } catch (e) {
      failed(e);
    }
  });
})();`;

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** Inline Markdown of a summary paragraph as HTML: `code`, *emphasis*, line breaks as spaces. */
const inlineMarkdown = (s) =>
  escapeHtml(s.replace(/\s*\n\s*/g, ' '))
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*([^*\s][^*]*)\*/g, '<em>$1</em>');

/** Stylesheet of the reports: inline, no web fonts. Pygments classes of nbconvert's highlighting. */
const CSS = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; margin: 0; background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; }
nav.report-nav { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: .5rem 1.5rem; font-size: 14px; }
nav.report-nav a { color: #0969da; text-decoration: none; margin-right: 1rem; }
h1 { font-size: 1.8rem; margin: .6rem 0 .4rem; } h2 { font-size: 1.35rem; margin: 1.6rem 0 .4rem; border-bottom: 1px solid #d8dee4; padding-bottom: .2rem; }
h3 { font-size: 1.1rem; }
a.anchor-link { display: none; }
.input_prompt, .prompt, .output_prompt { display: none; }
.input_area, div.input { margin: .4rem 0; }
.highlight { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px; padding: .5rem .8rem; overflow-x: auto; }
.highlight pre { margin: 0; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.output_area pre, .output_text pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #fff; margin: .3rem 0; white-space: pre-wrap; }
.output_svg, .output_subarea svg { max-width: 100%; height: auto; }
.output_subarea { margin: .5rem 0 1rem; overflow-x: auto; }
.output_stderr pre { background: #fff0f0; }
table { border-collapse: collapse; margin: .5rem 0; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; padding: 0 .2rem; border-radius: 3px; }
footer { color: #57606a; font-size: 13px; margin-top: 3rem; border-top: 1px solid #d8dee4; padding-top: .5rem; }
.highlight .k, .highlight .kd, .highlight .kn, .highlight .kr, .highlight .kt { color: #cf222e; }
.highlight .s, .highlight .s1, .highlight .s2, .highlight .sb, .highlight .sx { color: #0a3069; }
.highlight .c, .highlight .c1, .highlight .cm { color: #6e7781; font-style: italic; }
.highlight .mi, .highlight .mf, .highlight .m { color: #0550ae; }
.highlight .nf, .highlight .nx { color: #1f2328; } .highlight .o, .highlight .p { color: #1f2328; }
.problems { background: #fff0f0; border: 1px solid #ff8182; padding: .5rem 1rem; border-radius: 6px; }
.problems pre { white-space: pre-wrap; margin: .2rem 0; }
.output_error pre, .output_stderr pre { color: #82071e; background: #fff8f8; }
.ansi-red-fg, .ansi-red-intense-fg { color: #cf222e; } .ansi-green-fg { color: #116329; } .ansi-bold { font-weight: 600; }
figure.iol-chart { margin: .5rem 0 1rem; }
.iol-chart-live svg { max-width: none; }
.iol-chart-note { color: #57606a; font-size: 13px; margin: .2rem 0; }
.iol-tooltip { position: absolute; display: none; z-index: 10; pointer-events: none; background: #fff; border: 1px solid #d0d7de;
  border-radius: 4px; box-shadow: 0 2px 6px rgba(0,0,0,.15); padding: .3rem .5rem; font-size: 12px; max-width: 420px; }
.iol-tooltip table { margin: 0; font-size: 12px; } .iol-tooltip td { border: 0; padding: .05rem .4rem .05rem 0; }
.iol-tooltip td.key { color: #57606a; }
.skipped td:last-child { color: #9a6700; }
`;

/** Name of the Vega runtime file copied beside the reports. */
export const VEGA_RUNTIME = 'vega.min.js';

function page({ title, body, footer, liveCharts = false }) {
  const scripts = liveCharts ? `<script src="${VEGA_RUNTIME}"></script>\n<script>\n${LIVE_CHARTS_SCRIPT}\n</script>\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<nav class="report-nav"><a href="index.html">iolineage reports</a></nav>
<main>
${body}
<footer>${footer}</footer>
</main>
${scripts}</body>
</html>
`;
}

/**
 * Remove anything that would make a browser go to the network: script/link/img/iframe elements
 * whose src or href is an absolute http(s) or protocol-relative URL, and CSS @import of URLs.
 * The "basic" template emits none; this guards notebook outputs (an HTML output could carry one).
 */
export function stripNetworkReferences(html) {
  return html
    .replace(/<script\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?\/\/[^>]*>\s*<\/script>/gi, '')
    .replace(/<(?:link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^>]*>/gi, '')
    .replace(/@import\s+(?:url\()?["']?(?:https?:)?\/\/[^;]*;/gi, '');
}

/** The HTML attributes of a page that point to the network (for checks). */
export function networkReferences(html) {
  const refs = [];
  const re = /\b(?:src|href)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]*)/gi;
  for (let m; (m = re.exec(html));) refs.push(m[1]);
  const css = /url\(\s*["']?((?:https?:)?\/\/[^"')]*)/gi;
  for (let m; (m = css.exec(html));) refs.push(m[1]);
  return refs;
}

/**
 * nbconvert template for the report body: the "basic" template (classic cells, no page, no
 * scripts), except that SVG outputs are emitted as they are. The classic template passes SVG
 * through lxml's clean_html, which drops every child element of <svg> and leaves only its text.
 * The SVG comes from our own renderer (src/charts/render-svg.ts), not from untrusted input.
 */
function writeTemplate(work) {
  const dir = join(work, 'templates', 'iolineage');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'conf.json'), JSON.stringify({ base_template: 'classic', mimetypes: { 'text/html': true } }));
  writeFileSync(
    join(dir, 'index.html.j2'),
    `{%- extends 'classic/base.html.j2' -%}
{% block data_svg scoped -%}
<div class="output_svg output_subarea {{ extra_class }}">
{{ output.data['image/svg+xml'] }}
</div>
{%- endblock data_svg %}
`,
  );
}

function describeCapture(outDir) {
  const rel = relative(projectRoot, outDir);
  return rel && !rel.startsWith('..') ? rel : basename(outDir);
}

/** Run `iolineage analyze BUNDLE -o DIR`; throws with its last line of stderr when it fails. */
function analyze(bundle, into) {
  const an = run(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'analyze', bundle, '-o', into], process.env);
  if (an.status !== 0)
    throw new Error(`iolineage analyze ${describeCapture(bundle)} failed: ${(an.stderr || '').trim().split('\n').pop()}`);
}

/** The VM ids a capture bundle's manifest names (its guests), in its order. */
function bundleGuests(bundle) {
  try {
    return (JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).guests ?? []).map((g) => String(g.id));
  } catch {
    return []; // analyze reports a manifest it cannot read
  }
}

/** The VM memory of a bundle's run (for the memory what-if), from its manifest; undefined when unknown. */
function capturedMemory(bundle, vm) {
  try {
    const m = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const guest = (vm && m.guests?.find((g) => g.id === vm)) || m.guests?.[0];
    return m.lab?.vm_mem_bytes ?? guest?.mem_bytes;
  } catch {
    return undefined; // analyze has validated the manifest; without it the what-if asks for the memory
  }
}

export async function publish(opts) {
  registerKernel();
  const chosenOut = opts.out ?? process.env.IOLINEAGE_OUT ?? process.env.IOLINEAGE_CAPTURE;
  let outDir = resolve(chosenOut ?? join(projectRoot, 'out'));
  const shownCapture = describeCapture(outDir);
  const wantedVm = opts.vm ?? process.env.IOLINEAGE_VM ?? undefined;
  const captures = opts.captures ?? resolve(process.env.IOLINEAGE_CAPTURE_SET ?? join(projectRoot, 'data'));
  const listed = listNotebooks(opts.notebooks, opts.names);
  if (listed.length === 0) throw new UsageError(`no notebooks in ${opts.notebooks}`);
  if (!existsSync(join(projectRoot, 'dist', 'index.js'))) throw new UsageError('dist/index.js is missing: run `npm run build` first');
  const charts = await import(pathToFileURL(join(projectRoot, 'dist', 'charts', 'render-svg.js')).href);
  const vegaRuntime = join(projectRoot, 'node_modules', 'vega', 'build', VEGA_RUNTIME);
  if (!existsSync(vegaRuntime)) throw new UsageError(`the Vega runtime is missing (node_modules/vega/build/${VEGA_RUNTIME}): run npm ci`);
  const extraEnv = {};
  let bundle = null;
  let work = null;
  if (tablesIn(outDir).names.size === 0) {
    if (existsSync(join(outDir, 'manifest.json'))) {
      // a capture bundle (manifest.json, no tables yet) is analysed first, into the work folder
      bundle = outDir;
      const guests = bundleGuests(bundle);
      if (wantedVm && guests.length && !guests.includes(wantedVm))
        throw new UsageError(`${shownCapture} has no VM "${wantedVm}" (VMs: ${guests.join(', ')})`);
      work = mkdtempSync(join(tmpdir(), 'iolineage-notebooks-'));
      outDir = join(work, 'analysis');
      process.stderr.write(`notebooks: ${shownCapture} is a capture bundle: running iolineage analyze\n`);
    } else if (!chosenOut) {
      // a fresh clone: out/ is made the way `npm start` makes it
      bundle = join(projectRoot, DEFAULT_BUNDLE);
      if (!existsSync(join(bundle, 'manifest.json'))) {
        throw new Error(
          `${shownCapture}/ has no tables, and the bundled capture ${DEFAULT_BUNDLE} is missing (no manifest.json there): ` +
            'run `iolineage analyze CAPTURE -o out`, or name the tables with --out DIR',
        );
      }
      process.stderr.write(`notebooks: ${shownCapture}/ has no tables yet: analysing ${DEFAULT_BUNDLE} into it (as \`npm start\` does)\n`);
    } else {
      throw new Error(
        `no tables in ${outDir}: no .arrow file there or in its subfolders, and no manifest.json (not a capture bundle); ` +
          'make them with `iolineage analyze CAPTURE -o DIR` or `iolineage ingest FILE -o DIR`',
      );
    }
    try {
      analyze(bundle, outDir);
    } catch (e) {
      if (work) rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }
  const tables = tablesIn(outDir, wantedVm, shownCapture);
  if (bundle) {
    const mem = capturedMemory(bundle, tables.vm);
    if (mem && !process.env.IOLINEAGE_CAPTURED_MEM) extraEnv.IOLINEAGE_CAPTURED_MEM = String(mem);
  }
  if (tables.vm) extraEnv.IOLINEAGE_VM = tables.vm;
  const shownVm = tables.vms.length > 1 ? ` (VM ${tables.vm} of ${tables.vms.join(', ')})` : tables.vm ? ` (VM ${tables.vm})` : '';
  mkdirSync(opts.reports, { recursive: true });
  work ??= mkdtempSync(join(tmpdir(), 'iolineage-notebooks-'));
  const results = [];
  const notebooks = [];
  for (const nbPath of listed) {
    const nb = JSON.parse(readFileSync(nbPath, 'utf8'));
    const name = basename(nbPath, '.ipynb');
    const why = missingInputs(nb, tables.names, captures);
    if (why) results.push({ name, title: notebookTitle(nb, name), summary: notebookSummary(nb), figures: 0, problems: [], skipped: why });
    else notebooks.push(nbPath);
  }
  const env = {
    ...jupyterEnv(),
    ...extraEnv,
    IOLINEAGE_OUT: outDir,
    IOLINEAGE_CAPTURE_SET: captures,
    TZ: process.env.TZ ?? 'UTC',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  const python = jupyterPython();
  try {
    // Each nbconvert run executes its notebooks in turn (one Python start-up); each notebook's
    // kernel starts in the notebook's folder, so `../dist/index.js` is the built library.
    // Notebooks are shared round-robin among `jobs` nbconvert processes running at once.
    process.stderr.write(`notebooks: executing ${notebooks.length} notebook(s) on ${shownCapture}${shownVm}\n`);
    const groups = Array.from({ length: Math.min(opts.jobs, notebooks.length) }, (_, g) => notebooks.filter((_, i) => i % opts.jobs === g));
    const runs = await Promise.all(
      groups.map((group) =>
        runAsync(
          python,
          [
            '-Xfrozen_modules=off',
            '-m',
            'jupyter',
            'nbconvert',
            '--to',
            'notebook',
            '--execute',
            '--allow-errors',
            `--ExecutePreprocessor.kernel_name=${kernelName}`,
            `--ExecutePreprocessor.timeout=${opts.timeout}`,
            '--output-dir',
            work,
            ...group,
          ],
          env,
        ),
      ),
    );
    const exec = { stderr: runs.map((r) => r.stderr).join('\n') };
    for (const nbPath of notebooks) {
      const name = basename(nbPath, '.ipynb');
      const executed = join(work, `${name}.ipynb`);
      if (!existsSync(executed)) {
        const why = (exec.stderr || '').trim().split('\n').slice(-3).join(' | ');
        results.push({ name, title: name, summary: '', figures: 0, problems: [`not executed: ${why || 'nbconvert produced no output'}`] });
        continue;
      }
      const nb = JSON.parse(readFileSync(executed, 'utf8'));
      const problems = notebookProblems(nb);
      let live = 0;
      try {
        live = await interactiveCharts(nb, charts);
      } catch (e) {
        problems.push(`a chart cannot be published: ${e instanceof Error ? e.message : String(e)}`);
      }
      writeFileSync(executed, JSON.stringify(nb));
      results.push({
        name,
        title: notebookTitle(nb, name),
        summary: notebookSummary(nb),
        figures: live + countStaticFigures(nb),
        live,
        problems,
        executed,
      });
    }
    results.sort((a, b) => a.name.localeCompare(b.name));
    const done = results.filter((r) => r.executed);
    if (done.length > 0) {
      writeTemplate(work);
      const html = run(
        python,
        [
          '-Xfrozen_modules=off',
          '-m',
          'jupyter',
          'nbconvert',
          '--to',
          'html',
          `--TemplateExporter.extra_template_basedirs=${join(work, 'templates')}`,
          '--template',
          'iolineage',
          '--output-dir',
          work,
          ...done.map((r) => r.executed),
        ],
        env,
      );
      if (html.status !== 0) throw new Error(`nbconvert --to html failed: ${html.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    // the Vega runtime, once for all reports; its license travels in its first line
    const vegaVersion = JSON.parse(readFileSync(join(projectRoot, 'node_modules', 'vega', 'package.json'), 'utf8')).version;
    writeFileSync(
      join(opts.reports, VEGA_RUNTIME),
      `/*! Vega ${vegaVersion} (BSD-3-Clause license, University of Washington Interactive Data Lab) */\n` +
        readFileSync(vegaRuntime, 'utf8'),
    );
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const capture = escapeHtml(shownCapture) + escapeHtml(shownVm);
    for (const r of results) {
      // a report of an earlier run must not stand for a notebook that did not run now
      if (!r.executed) rmSync(join(opts.reports, `${r.name}.html`), { force: true });
    }
    for (const r of done) {
      let body = readFileSync(join(work, `${r.name}.html`), 'utf8');
      body = stripNetworkReferences(body);
      const problems = r.problems.length
        ? `<div class="problems"><strong>This notebook produced error output:</strong><ul>${r.problems.map((p) => `<li><pre>${escapeHtml(p)}</pre></li>`).join('')}</ul></div>`
        : '';
      writeFileSync(
        join(opts.reports, `${r.name}.html`),
        page({
          title: r.title,
          body: problems + body,
          liveCharts: r.live > 0,
          footer:
            `Executed ${when} on the tables in <code>${capture}</code> from notebooks/${escapeHtml(r.name)}.ipynb.` +
            (r.live > 0 ? ` Charts are live Vega views (${VEGA_RUNTIME} beside this page); without script, static SVG.` : ''),
        }),
      );
    }
    const status = (r) =>
      r.skipped ? `skipped: ${escapeHtml(r.skipped)}` : r.problems.length ? `failed: ${r.problems.map(escapeHtml).join('<br>')}` : 'ok';
    const rows = results
      .map(
        (r) =>
          `<tr${r.skipped ? ' class="skipped"' : ''}><td>${r.executed ? `<a href="${escapeHtml(r.name)}.html">${escapeHtml(r.title)}</a>` : escapeHtml(r.title)}</td>` +
          `<td>${inlineMarkdown(r.summary)}</td><td class="num">${r.figures}</td><td>${status(r)}</td></tr>`,
      )
      .join('\n');
    const skipped = results.filter((r) => r.skipped);
    writeFileSync(
      join(opts.reports, 'index.html'),
      page({
        title: 'iolineage reports',
        body:
          `<h1>iolineage reports</h1>\n<p>Each report is a notebook executed on the tables in <code>${capture}</code>. ` +
          `Charts are live Vega views (tooltips; brushes and clicks where a chart has them), drawn by ${VEGA_RUNTIME} beside the reports, ` +
          'with nothing loaded from the network; a viewer that runs no script shows each chart as static SVG. ' +
          'Open the notebooks in JupyterLab to change the queries.</p>\n' +
          (skipped.length
            ? `<p class="problems">${skipped.length} notebook(s) skipped: ${skipped.map((r) => `<code>${escapeHtml(r.name)}</code> (${escapeHtml(r.skipped)})`).join('; ')}.</p>\n`
            : '') +
          `<table><thead><tr><th>Report</th><th>What it shows</th><th>Figures</th><th>Status</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
        footer: `Generated ${when}.`,
      }),
    );
  } finally {
    if (!process.env.IOLINEAGE_KEEP_WORK) rmSync(work, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.help) {
      process.stdout.write(HELP + '\n');
    } else {
      const results = await publish(opts);
      let failed = 0;
      for (const r of results) {
        const status = r.skipped ? 'skip' : r.problems.length ? 'FAILED' : 'ok';
        process.stdout.write(
          `${status.padEnd(6)} ${r.name}  ${r.skipped ? `(${r.skipped})` : `(${r.figures} figure${r.figures === 1 ? '' : 's'})`}\n`,
        );
        for (const p of r.problems) process.stdout.write(`         ${p}\n`);
        if (r.problems.length) failed++;
      }
      process.stdout.write(`reports written to ${relative(process.cwd(), opts.reports) || '.'}/index.html\n`);
      const ran = results.filter((r) => !r.skipped).length;
      const skipped = results.length - ran;
      if (ran === 0) process.stderr.write('notebooks: no notebook could run on these tables (see the reasons above)\n');
      else if (skipped && !opts.allowSkip)
        process.stderr.write(`notebooks: ${skipped} notebook(s) skipped (see the reasons above); --allow-skip publishes without them\n`);
      if (failed)
        process.stderr.write(
          `notebooks: ${failed} notebook(s) failed: ${results
            .filter((r) => r.problems.length)
            .map((r) => `${r.name} (${r.problems[0]})`)
            .join('; ')}\n`,
        );
      process.exitCode = failed || ran === 0 || (skipped && !opts.allowSkip) ? 1 : 0;
    }
  } catch (e) {
    process.stderr.write(`notebooks: ${e instanceof Error ? e.message : String(e)}\n`);
    if (!(e instanceof UsageError) && process.env.IOLINEAGE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
