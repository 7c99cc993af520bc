// Notebook views and chart rendering, side by side with the incumbents a notebook user would
// reach for: Arquero (the table library the notebooks load) for the block-layer aggregations, and
// vega-cli's vl2svg for rendering a Vega-Lite spec to SVG. Each measurement runs in its own child
// process (peak RSS from process.resourceUsage().maxRSS). Run after `npm run build`:
//   node bench/notebooks.mjs [REQUESTS]      (default 2,000,000 block requests)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;
const mode = process.argv[2];

/** A block_requests-shaped table (the columns the views read), shaped like the real fixture:
 * 4 KiB random and 128 KiB sequential requests, reads and writes, D2C from µs to tens of ms. */
async function generate(path, n) {
  const { defineTable, TableBuilder, writeArrowFile } = await import(dist('index.js'));
  const spec = defineTable({
    name: 'block_requests', doc: 'bench', columns: [
      { name: 'dev', type: 'string', index: 'int16', doc: 'd' },
      { name: 'op', type: 'string', index: 'int8', doc: 'o' },
      { name: 'sector', type: 'int64', nullable: true, doc: 's' },
      { name: 'bytes', type: 'int64', doc: 'b' },
      { name: 'issue_ns', type: 'int64', nullable: true, doc: 'i' },
      { name: 'complete_ns', type: 'int64', nullable: true, doc: 'c' },
    ],
  });
  const b = new TableBuilder(spec);
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  let t = 1_000_000_000;
  let seq = 1_000_000;
  for (let i = 0; i < n; i++) {
    const sequential = rnd() < 0.3;
    const read = rnd() < 0.5;
    const bytes = sequential ? 131072 : 4096 * (1 + Math.floor(rnd() * 4));
    const sector = sequential ? (seq += 256) : Math.floor(rnd() * 500_000_000);
    t += Math.floor(rnd() * 20_000);
    const d2c = Math.floor(5_000 * Math.exp(rnd() * 8));
    b.string('dev').push('254:0');
    b.string('op').push(read ? 'read' : 'write');
    b.int64('sector').push(sector);
    b.int64('bytes').push(bytes);
    b.int64('issue_ns').push(t);
    b.int64('complete_ns').push(t + d2c);
  }
  writeArrowFile(path, b.finish());
}

const cpu0 = process.cpuUsage();
/** Print a measurement with peak RSS and the CPU time of this process (user + system, ms). */
function report(extra) {
  const rss = process.resourceUsage().maxRSS * 1024;
  const c = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ ...extra, rss, cpu_ms: (c.user + c.system) / 1000 }) + '\n');
}

async function runOurs(path) {
  const iol = await import(dist('index.js'));
  const t0 = performance.now();
  const table = iol.readArrowFile(path);
  const sizes = iol.requestSizeRows(table);
  const lat = iol.latencyView(table);
  const pts = iol.sectorTimeView(table, 6000);
  const depth = iol.queueDepthView(table, 400);
  const ms = performance.now() - t0;
  report({ n: table.numRows, ms, check: [sizes.length, lat.completed, pts.points.length, depth.peak] });
}

async function runArquero(path) {
  const aq = await import('arquero');
  const { readArrowFile } = await import(dist('index.js'));
  const t0 = performance.now();
  // the same aggregations with Arquero verbs (numbers, as Arquero expressions need)
  const t = aq.fromArrow(readArrowFile(path))
    .derive({ b: aq.escape((d) => Number(d.bytes)), d2c_us: aq.escape((d) => (Number(d.complete_ns) - Number(d.issue_ns)) / 1000) });
  const sizes = t.derive({ cls: aq.escape((d) => 2 ** Math.ceil(Math.log2(d.b))) }).groupby('op', 'cls').count().objects();
  const lat = t.derive({ k: aq.escape((d) => Math.floor(Math.log10(d.d2c_us) * 5)) }).groupby('op', 'k').count().objects();
  const med = t.groupby('op').rollup({ median: aq.op.median('d2c_us') }).objects();
  const k = Math.ceil(t.numRows() / 6000);
  const pts = t.orderby('issue_ns').filter(aq.escape((d, $, i) => true)).derive({ r: () => aq.op.row_number() }).filter(aq.escape((d) => d.r % k === 0)).numRows();
  const ms = performance.now() - t0;
  report({ n: t.numRows(), ms, check: [sizes.length, lat.length, med.length, pts] });
}

async function runRender(specPath) {
  const { renderSvg } = await import(dist('index.js'));
  const { readFileSync } = await import('node:fs');
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  const t0 = performance.now();
  const svg = await renderSvg(spec);
  report({ ms: performance.now() - t0, bytes: svg.length });
}

async function main() {
  const n = Number(process.argv[2] ?? 2_000_000);
  const work = mkdtempSync(join(tmpdir(), 'iol-bench-notebooks-'));
  try {
    const arrow = join(work, 'block_requests.arrow');
    await generate(arrow, n);
    const child = (m, arg) => {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), m, arg], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new Error(`${m} failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    };
    const ours = child('--ours', arrow);
    const arq = child('--arquero', arrow);
    // rendering: the sector-over-time chart of 6000 points, ours in-process vs vl2svg's CLI
    const iol = await import(dist('index.js'));
    const table = iol.readArrowFile(arrow);
    const v = iol.sectorTimeView(table, 6000);
    const spec = iol.sectorTimeChart(v.points, { total: v.total });
    const specPath = join(work, 'spec.vl.json');
    writeFileSync(specPath, JSON.stringify(spec));
    const render = child('--render', specPath);
    const vl2svg = join(root, 'node_modules', '.bin', 'vl2svg');
    let cli = null;
    if (existsSync(vl2svg)) {
      const t0 = performance.now();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', vl2svg, specPath, join(work, 'out.svg')], { encoding: 'utf8' });
      const ms = performance.now() - t0;
      const rssKiB = Number(r.stderr.trim().split('\n').pop());
      cli = r.status === 0 ? { ms, rss: rssKiB * 1024 } : null;
    }
    const mib = (b) => `${(b / 1048576).toFixed(0)} MiB`;
    const rate = (x) => `${((x.n / x.ms) * 1000 / 1e6).toFixed(2)} M req/s`;
    console.log(`block-layer views on ${n.toLocaleString('en-US')} requests, from the Arrow file (sizes, D2C histogram + medians, sector sample; queue depth for ours only):`);
    console.log(`  ${'tool'.padEnd(34)} ${'wall'.padStart(9)} ${'CPU'.padStart(9)} ${'throughput (wall)'.padStart(18)} ${'peak RSS'.padStart(9)}`);
    for (const [name, x] of [['iolineage views (typed arrays)', ours], ['Arquero verbs', arq]]) {
      console.log(`  ${name.padEnd(34)} ${(x.ms / 1000).toFixed(2).padStart(8)}s ${(x.cpu_ms / 1000).toFixed(2).padStart(8)}s ${rate(x).padStart(18)} ${mib(x.rss).padStart(9)}`);
    }
    console.log(`  ratio: iolineage is ${(arq.ms / ours.ms).toFixed(1)}x faster (wall), ${(arq.cpu_ms / ours.cpu_ms).toFixed(1)}x less CPU, ${(arq.rss / ours.rss).toFixed(1)}x less peak RSS`);
    console.log(`render the 6,000-point sector-over-time chart to SVG:`);
    console.log(`  ${'renderSvg (in process)'.padEnd(34)} ${(render.ms / 1000).toFixed(2).padStart(8)}s ${mib(render.rss).padStart(24)}`);
    if (cli) {
      console.log(`  ${'vl2svg (vega-cli, own process)'.padEnd(34)} ${(cli.ms / 1000).toFixed(2).padStart(8)}s ${mib(cli.rss).padStart(24)}`);
      console.log(`  ratio: ${(cli.ms / render.ms).toFixed(1)}x (vl2svg time includes its process start-up)`);
    } else {
      console.log('  vl2svg not available (node_modules/.bin/vl2svg): no comparison');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (mode === '--ours') await runOurs(process.argv[3]);
else if (mode === '--arquero') await runArquero(process.argv[3]);
else if (mode === '--render') await runRender(process.argv[3]);
else await main();
