// Block trace TEXT readers against the plain-Node baseline, in one process, on the same input:
// the real capture test/fixtures/block/ext4.trace.gz (its block I/O event lines), repeated with
// shifted timestamps up to N lines, as tracefs text, as trace-cmd report text (the real trace-cmd
// rendering of the same buffer) and as blkparse text (the real blkparse rendering). Rounds
// alternate baseline and reader; the best CPU time of each is kept (the machine may be busy).
// The baseline is the loop the issue names: node:readline over the file + line.split(' ').
// Each input runs in its own process (peak RSS and bytes per event are its own).
// Usage: node bench/block-text.mjs [--lines N] [--rounds R]
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { replicateBlockText } from './_block-text-input.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && Number(args[i + 1]) > 0 ? Number(args[i + 1]) : dflt;
};
const N = opt('--lines', 5_000_000);
const ROUNDS = opt('--rounds', 2);
const dist = (p) => import(join(root, 'dist', p));
const { BlockEventsBuilder } = await dist('ingest/block/block-events-builder.js');
const { IngestStats } = await dist('util/ingest-stats.js');
const { readTracefsText } = await dist('ingest/block/tracefs-text.js');
const { readTraceCmdText } = await dist('ingest/block/trace-cmd-text.js');
const { readBlkparseText } = await dist('ingest/block/blkparse-text.js');

const dir = args[0] === '--child' ? '' : mkdtempSync(join(tmpdir(), 'iol-bench-block-text-'));

const inputs = [
  ['tracefs text', readTracefsText, 'tracefs'],
  ['trace-cmd report text', readTraceCmdText, 'trace-cmd'],
  ['blkparse text', readBlkparseText, 'blkparse'],
];

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
async function baseline(file) {
  let n = 0;
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) n += line.split(' ').length > 0 ? 1 : 0;
  return n;
}

/** One input in a fresh process (so that resident memory per event is its own). */
async function measure(k, file, lines) {
  const [label, read] = inputs[k];
  let bestBase = Infinity,
    bestRead = Infinity,
    events = 0,
    perEvent = 0;
  for (let r = 0; r < ROUNDS; r++) {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let t = cpu();
    const b = new BlockEventsBuilder();
    const s = await read(file, b, new IngestStats());
    const rss1 = process.memoryUsage().rss;
    const table = b.finish({});
    bestRead = Math.min(bestRead, cpu() - t);
    events = table.numRows;
    if (s.bad) throw new Error(`${label}: ${s.bad} unusable lines in the generated input`);
    if (r === 0) perEvent = (rss1 - rss0) / events;
    t = cpu();
    await baseline(file);
    bestBase = Math.min(bestBase, cpu() - t);
  }
  return { label, lines, events, base: lines / bestBase, rate: events / bestRead, peak: process.resourceUsage().maxRSS * 1024, perEvent };
}

if (args[0] === '--child') {
  process.stdout.write(JSON.stringify(await measure(Number(args[1]), args[2], Number(args[3]))) + '\n');
  process.exit(0);
}

const rows = [];
try {
  for (let k = 0; k < inputs.length; k++) {
    const kind = inputs[k][2];
    const file = join(dir, `${kind}.txt`);
    const lines = replicateBlockText(kind, file, N);
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--child', String(k), file, String(lines), '--rounds', String(ROUNDS)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (r.status !== 0) throw new Error(`child for ${kind} failed: ${r.stderr}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const pad = (s, n) => String(s).padStart(n);
console.log(`block text readers, ${N.toLocaleString()} lines each, best of ${ROUNDS} rounds (CPU time)`);
console.log(
  `${'input'.padEnd(24)} ${pad('events', 11)} ${pad('readline+split', 15)} ${pad('iolineage', 11)} ${pad('ratio', 6)} ${pad('peak RSS', 9)} ${pad('B/event', 8)}`,
);
for (const r of rows) {
  console.log(
    `${r.label.padEnd(24)} ${pad(r.events.toLocaleString(), 11)} ${pad((r.base / 1e6).toFixed(2) + ' M/s', 15)} ${pad((r.rate / 1e6).toFixed(2) + ' M/s', 11)} ${pad((r.rate / r.base).toFixed(2) + 'x', 6)} ${pad((r.peak / 2 ** 20).toFixed(0) + ' MiB', 9)} ${pad(r.perEvent.toFixed(1), 8)}`,
  );
}
console.log('Target: >= 2 M events/s where readline+split does 1.45 M lines/s (ratio >= 1.38); <= 64 B/event resident.');
