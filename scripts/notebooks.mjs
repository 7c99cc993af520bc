#!/usr/bin/env node
/**
 * Execute every notebook headlessly on a capture's tables and publish self-contained HTML reports.
 *
 *   npm run notebooks                                   # tables in out/ (what `npm start` ingests)
 *   IOLINEAGE_OUT=DIR npm run notebooks                 # tables of another capture
 *   node scripts/notebooks.mjs --out DIR [--reports DIR] [NAME ...]
 *
 * Steps: register the project kernel (scripts/kernel.mjs); run `jupyter nbconvert --execute` on
 * each notebooks/*.ipynb with the kernel's environment naming the tables (IOLINEAGE_OUT); check
 * the executed notebooks for error outputs (an `error` output or anything on stderr); render each
 * with nbconvert's "basic" template (the notebook body, no page scaffolding) and wrap it in a page
 * of our own with inline CSS, so that a report loads nothing from the network (nbconvert's default
 * template pulls MathJax and require.js from a CDN); write reports/<name>.html and reports/index.html.
 * Exit status: 0 when every notebook ran without error output, 1 otherwise, 2 on usage errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jupyterEnv, kernelName, projectRoot, registerKernel } from './kernel.mjs';

/** The Python that has Jupyter: JUPYTER_PYTHON, else Debian's /usr/bin/python3, else python3 on PATH. */
function jupyterPython() {
  if (process.env.JUPYTER_PYTHON) return process.env.JUPYTER_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function parseArgs(argv) {
  const opts = { out: undefined, reports: join(projectRoot, 'reports'), notebooks: join(projectRoot, 'notebooks'), names: [], timeout: 600, jobs: Math.min(2, availableParallelism()) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--out') opts.out = resolve(value());
    else if (a === '--reports') opts.reports = resolve(value());
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

const HELP = `usage: node scripts/notebooks.mjs [--out DIR] [--captures DIR] [--reports DIR] [--notebooks DIR]
                                  [--timeout SECONDS] [--jobs N] [NAME ...]

Executes notebooks/*.ipynb (or the NAMEs given) on the tables in DIR (default: $IOLINEAGE_OUT,
else $IOLINEAGE_CAPTURE, else out/); when DIR is a capture bundle (manifest.json, no tables), it is
analysed first (iolineage analyze) into a temporary folder. Writes REPORTS/<name>.html plus REPORTS/index.html
(default REPORTS: reports/). Notebooks over a set of captures (the throughput grid) read the
capture bundles under --captures (default: $IOLINEAGE_CAPTURE_SET, else data/).
A notebook whose tables the capture lacks (metadata "iolineage.requires") is skipped, with the
reason on the index page. --jobs: notebooks executed at once (default: 2, or 1 on one CPU).
Fails (exit 1) when a notebook produces an error output.`;

/** Notebooks to run: DIR/*.ipynb in name order, or the names asked for. */
function listNotebooks(dir, names) {
  if (!existsSync(dir)) throw new UsageError(`no notebooks folder ${dir}`);
  const all = readdirSync(dir).filter((f) => f.endsWith('.ipynb') && !f.startsWith('_')).sort();
  if (names.length === 0) return all.map((f) => join(dir, f));
  return names.map((n) => {
    const f = join(dir, `${n}.ipynb`);
    if (!existsSync(f)) throw new UsageError(`no notebook ${n}.ipynb in ${dir} (have: ${all.join(', ')})`);
    return f;
  });
}

/** Table names present in an output folder and its immediate subfolders (as openCapture finds them). */
function tablesIn(dir) {
  const names = new Set();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return names;
  const scan = (d) => { for (const f of readdirSync(d)) if (f.endsWith('.arrow')) names.add(f.slice(0, -6)); };
  scan(dir);
  for (const f of readdirSync(dir)) if (statSync(join(dir, f)).isDirectory()) scan(join(dir, f));
  if (existsSync(join(dir, 'summary.json'))) names.add('summary.json');
  return names;
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
  if (missing.length) return `needs table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (make them with \`iolineage analyze\` or \`iolineage ingest\`)`;
  if (meta.requires_capture_set && bundlesIn(captures).length === 0) return 'needs a set of capture bundles (--captures DIR or $IOLINEAGE_CAPTURE_SET)';
  return null;
}

/** Run a command without blocking; resolves to its exit status and stderr. */
function runAsync(cmd, args, env) {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-65536); });
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
  const para = src.split(/\n\s*\n/).map((p) => p.trim()).find((p) => p && !p.startsWith('#'));
  return para ?? '';
}

function countFigures(nb) {
  let n = 0;
  for (const cell of nb.cells) for (const o of cell.outputs ?? []) if (o.data?.['image/svg+xml']) n++;
  return n;
}

const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** Inline Markdown of a summary paragraph as HTML: `code`, *emphasis*, line breaks as spaces. */
const inlineMarkdown = (s) => escapeHtml(s.replace(/\s*\n\s*/g, ' '))
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
`;

function page({ title, body, footer }) {
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
</body>
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
  for (let m; (m = re.exec(html)); ) refs.push(m[1]);
  const css = /url\(\s*["']?((?:https?:)?\/\/[^"')]*)/gi;
  for (let m; (m = css.exec(html)); ) refs.push(m[1]);
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
  writeFileSync(join(dir, 'index.html.j2'), `{%- extends 'classic/base.html.j2' -%}
{% block data_svg scoped -%}
<div class="output_svg output_subarea {{ extra_class }}">
{{ output.data['image/svg+xml'] }}
</div>
{%- endblock data_svg %}
`);
}

function describeCapture(outDir) {
  const rel = relative(projectRoot, outDir);
  return rel && !rel.startsWith('..') ? rel : basename(outDir);
}

export async function publish(opts) {
  registerKernel();
  let outDir = opts.out ?? resolve(process.env.IOLINEAGE_OUT ?? process.env.IOLINEAGE_CAPTURE ?? join(projectRoot, 'out'));
  const shownCapture = describeCapture(outDir);
  const captures = opts.captures ?? resolve(process.env.IOLINEAGE_CAPTURE_SET ?? join(projectRoot, 'data'));
  const listed = listNotebooks(opts.notebooks, opts.names);
  if (listed.length === 0) throw new UsageError(`no notebooks in ${opts.notebooks}`);
  if (!existsSync(join(projectRoot, 'dist', 'index.js'))) throw new UsageError('dist/index.js is missing: run `npm run build` first');
  mkdirSync(opts.reports, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'iolineage-notebooks-'));
  let tables = tablesIn(outDir);
  const extraEnv = {};
  // a capture bundle (manifest.json, no tables yet) is analysed first, into the work folder
  if (tables.size === 0 && existsSync(join(outDir, 'manifest.json'))) {
    const analysis = join(work, 'analysis');
    process.stderr.write(`notebooks: ${describeCapture(outDir)} is a capture bundle: running iolineage analyze\n`);
    const an = run(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'analyze', outDir, '-o', analysis], process.env);
    if (an.status !== 0) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`iolineage analyze ${outDir} failed: ${(an.stderr || '').trim().split('\n').pop()}`);
    }
    try {
      const m = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
      const mem = m.lab?.vm_mem_bytes ?? m.guests?.[0]?.mem_bytes;
      if (mem && !process.env.IOLINEAGE_CAPTURED_MEM) extraEnv.IOLINEAGE_CAPTURED_MEM = String(mem);
    } catch { /* analyze has validated the manifest; without it the what-if asks for the memory */ }
    outDir = analysis;
    tables = tablesIn(outDir);
  }
  const results = [];
  const notebooks = [];
  for (const nbPath of listed) {
    const nb = JSON.parse(readFileSync(nbPath, 'utf8'));
    const name = basename(nbPath, '.ipynb');
    const why = missingInputs(nb, tables, captures);
    if (why) results.push({ name, title: notebookTitle(nb, name), summary: notebookSummary(nb), figures: 0, problems: [], skipped: why });
    else notebooks.push(nbPath);
  }
  const env = { ...jupyterEnv(), ...extraEnv, IOLINEAGE_OUT: outDir, IOLINEAGE_CAPTURE_SET: captures, TZ: process.env.TZ ?? 'UTC', PYDEVD_DISABLE_FILE_VALIDATION: '1' };
  const python = jupyterPython();
  try {
    // Each nbconvert run executes its notebooks in turn (one Python start-up); each notebook's
    // kernel starts in the notebook's folder, so `../dist/index.js` is the built library.
    // Notebooks are shared round-robin among `jobs` nbconvert processes running at once.
    process.stderr.write(`notebooks: executing ${notebooks.length} notebook(s) on ${shownCapture}\n`);
    const groups = Array.from({ length: Math.min(opts.jobs, notebooks.length) }, (_, g) => notebooks.filter((_, i) => i % opts.jobs === g));
    const runs = await Promise.all(groups.map((group) => runAsync(python, ['-Xfrozen_modules=off', '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--allow-errors',
      `--ExecutePreprocessor.kernel_name=${kernelName}`, `--ExecutePreprocessor.timeout=${opts.timeout}`,
      '--output-dir', work, ...group], env)));
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
      results.push({ name, title: notebookTitle(nb, name), summary: notebookSummary(nb), figures: countFigures(nb), problems: notebookProblems(nb), executed });
    }
    results.sort((a, b) => a.name.localeCompare(b.name));
    const done = results.filter((r) => r.executed);
    if (done.length > 0) {
      writeTemplate(work);
      const html = run(python, ['-Xfrozen_modules=off', '-m', 'jupyter', 'nbconvert', '--to', 'html',
        `--TemplateExporter.extra_template_basedirs=${join(work, 'templates')}`, '--template', 'iolineage',
        '--output-dir', work, ...done.map((r) => r.executed)], env);
      if (html.status !== 0) throw new Error(`nbconvert --to html failed: ${html.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const capture = escapeHtml(shownCapture);
    for (const r of done) {
      let body = readFileSync(join(work, `${r.name}.html`), 'utf8');
      body = stripNetworkReferences(body);
      const problems = r.problems.length
        ? `<div class="problems"><strong>This notebook produced error output:</strong><ul>${r.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>`
        : '';
      writeFileSync(join(opts.reports, `${r.name}.html`), page({
        title: r.title,
        body: problems + body,
        footer: `Executed ${when} on the tables in <code>${capture}</code> from notebooks/${escapeHtml(r.name)}.ipynb.`,
      }));
    }
    const rows = results.map((r) => `<tr><td>${r.executed ? `<a href="${escapeHtml(r.name)}.html">${escapeHtml(r.title)}</a>` : escapeHtml(r.title)}</td>`
      + `<td>${inlineMarkdown(r.summary)}</td><td class="num">${r.figures}</td>`
      + `<td>${r.skipped ? `skipped: ${escapeHtml(r.skipped)}` : r.problems.length ? `${r.problems.length} problem(s)` : 'ok'}</td></tr>`).join('\n');
    writeFileSync(join(opts.reports, 'index.html'), page({
      title: 'iolineage reports',
      body: `<h1>iolineage reports</h1>\n<p>Each report is a notebook executed on the tables in <code>${capture}</code>. `
        + `Figures are static SVG; open the notebooks in JupyterLab for interactive views.</p>\n`
        + `<table><thead><tr><th>Report</th><th>What it shows</th><th>Figures</th><th>Status</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
      footer: `Generated ${when}.`,
    }));
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
        process.stdout.write(`${status.padEnd(6)} ${r.name}  ${r.skipped ? `(${r.skipped})` : `(${r.figures} figure${r.figures === 1 ? '' : 's'})`}\n`);
        for (const p of r.problems) process.stdout.write(`         ${p}\n`);
        if (r.problems.length) failed++;
      }
      process.stdout.write(`reports written to ${relative(process.cwd(), opts.reports) || '.'}/index.html\n`);
      const ran = results.filter((r) => !r.skipped).length;
      if (ran === 0) process.stderr.write('notebooks: no notebook could run on these tables (see the reasons above)\n');
      process.exitCode = failed || ran === 0 ? 1 : 0;
    }
  } catch (e) {
    process.stderr.write(`notebooks: ${e instanceof Error ? e.message : String(e)}\n`);
    if (!(e instanceof UsageError) && process.env.IOLINEAGE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
