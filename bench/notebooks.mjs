// The notebooks' own cells, timed: each shipped notebook's code cells (the Arquero queries and the
// figures they draw, as a user runs them) on the bundled capture and on a replay of it holding about
// 1M application I/Os (bench/_replay.mjs, the analyze-e2e replay). Each notebook runs in its own
// child process: its cells are compiled from TypeScript (the kernel's language) with typescript's
// transpileModule and run one after the other in one module, as the kernel runs them, with the time
// of each cell and the process's peak RSS reported. Target (issue 12): every cell within 2 s at 1M
// application I/Os on this machine. Figures are rendered to SVG as in a published report.
//
// Usage: node bench/notebooks.mjs [APP_IOS]   (default 1000000)
//        node bench/notebooks.mjs --only NOTEBOOK --out DIR   (one notebook's cells on an existing analysis)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { loadReplaySource, writeReplay } from './_replay.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'data', 'm128-buffered');
const NOTEBOOKS = join(ROOT, 'notebooks');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const APP_IOS = Number(process.argv[2] ?? 1_000_000);
const TARGET_S = 2;

function analyze(args, out) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'analyze', '-o', out, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`analyze exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { s: (performance.now() - t0) / 1000, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) };
}

/** One module running the notebook's code cells in order, printing each cell's time. */
function notebookModule(name) {
  const nb = JSON.parse(readFileSync(join(NOTEBOOKS, `${name}.ipynb`), 'utf8'));
  const cells = nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
  const parts = cells.map(
    (src, i) =>
      `__cellStart = performance.now();\n${src}\nprocess.stdout.write("BENCH-CELL " + JSON.stringify({ cell: ${i + 1}, ms: performance.now() - __cellStart, first: ${JSON.stringify(src.split('\n').find((l) => l.trim() && !l.trim().startsWith('//') && !l.startsWith('import')) ?? '')} }) + "\\n");`,
  );
  const source = `let __cellStart = 0;\n${parts.join('\n')}\nprocess.stdout.write("BENCH-RSS " + process.resourceUsage().maxRSS * 1024 + "\\n");\n`;
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
}

function runNotebook(name, env) {
  const file = join(NOTEBOOKS, `_bench-${name}.mjs`);
  writeFileSync(file, notebookModule(name));
  try {
    const r = spawnSync(process.execPath, [file], {
      cwd: NOTEBOOKS,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 1 << 28,
    });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    const cells = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('BENCH-CELL '))
      .map((l) => JSON.parse(l.slice(11)));
    const rss = Number(/BENCH-RSS (\d+)/.exec(r.stdout)?.[1] ?? NaN);
    return { cells, rss };
  } finally {
    rmSync(file, { force: true });
  }
}

const only = process.argv.indexOf('--only');
if (only > 0) {
  const out = process.argv[process.argv.indexOf('--out') + 1];
  const r = runNotebook(process.argv[only + 1], { IOLINEAGE_OUT: out });
  for (const c of r.cells) console.log(`cell ${c.cell}: ${(c.ms / 1000).toFixed(2)} s  ${c.first.trim().slice(0, 60)}`);
  console.log(`peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB`);
  process.exit(0);
}
const tmp = mkdtempSync(join(tmpdir(), 'iol-bench-notebooks-'));
try {
  const base = analyze([BUNDLE], join(tmp, 'out-1'));
  const k = Math.ceil(APP_IOS / base.summary.layers.app.requests);
  const src = loadReplaySource(BUNDLE);
  const { args } = writeReplay(src, k, join(tmp, 'replay'), base.summary.clocks[src.guestVm.id ?? 'vm0']);
  const big = analyze(args, join(tmp, `out-${k}`));
  rmSync(join(tmp, 'replay'), { recursive: true, force: true });
  const mem = String(src.manifest.lab?.vm_mem_bytes ?? '');
  console.log(`notebook cells timed (query + figure as SVG), each notebook in its own process; ${process.version}`);
  console.log(
    `inputs: data/m128-buffered analysed (${base.summary.layers.app.requests} app I/Os, ${base.s.toFixed(1)} s) and replayed ${k}x (${big.summary.layers.app.requests} app I/Os, ${big.summary.layers.guest.requests} guest + ${big.summary.layers.host.requests} host requests; analyze ${big.s.toFixed(1)} s)`,
  );
  console.log(
    '| notebook | cells | bundle: total s / slowest cell s | 1M replay: total s / slowest cell s (which) | peak RSS 1M | every cell <= 2 s at 1M |',
  );
  console.log('|---|---:|---:|---:|---:|:--|');
  const names = readdirSync(NOTEBOOKS)
    .filter((f) => /^[^_.][^.]*\.ipynb$/.test(f))
    .map((f) => f.slice(0, -6))
    .sort();
  let allMet = true;
  for (const name of names) {
    const setOnly = name === '02-throughput-grid';
    const small = runNotebook(name, {
      IOLINEAGE_OUT: join(tmp, 'out-1'),
      IOLINEAGE_CAPTURE_SET: join(ROOT, 'data'),
      IOLINEAGE_CAPTURED_MEM: mem,
    });
    const large = setOnly ? null : runNotebook(name, { IOLINEAGE_OUT: join(tmp, `out-${k}`), IOLINEAGE_CAPTURED_MEM: mem });
    const sum = (r) => r.cells.reduce((s, c) => s + c.ms, 0) / 1000;
    const slowest = (r) => r.cells.reduce((a, c) => (c.ms > a.ms ? c : a), { ms: 0, cell: 0, first: '' });
    const met = large ? large.cells.every((c) => c.ms <= TARGET_S * 1000) : true;
    allMet &&= met;
    const l = large ? slowest(large) : null;
    console.log(
      `| ${name} | ${small.cells.length} | ${sum(small).toFixed(2)} / ${(slowest(small).ms / 1000).toFixed(2)} | ${large ? `${sum(large).toFixed(2)} / ${(l.ms / 1000).toFixed(2)} (cell ${l.cell}: \`${l.first.trim().slice(0, 40)}\`)` : 'reads the capture set, not one analysis'} | ${large ? (large.rss / 2 ** 20).toFixed(0) + ' MiB' : '-'} | ${large ? (met ? 'met' : 'NOT met') : '-'} |`,
    );
  }
  console.log(`\ntarget: every notebook cell within ${TARGET_S} s at ~1M application I/Os: ${allMet ? 'met' : 'NOT met'}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
