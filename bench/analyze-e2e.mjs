// End-to-end benchmark of `iolineage analyze` (issue 7's speed clause): parsing the text inputs,
// loading both file systems' metadata, correlating and writing the tables, in a child process.
//
// Inputs are a real capture scaled up: data/m128-buffered (ffsb-lite, 8 files, 10 000 random 4 KiB
// reads/writes, buffered, raw image in an ext3 host fs). Its strace log and its guest and host
// tracefs block traces are replayed K times, every timestamp shifted by k × SPAN (SPAN = the
// longest of the three logs' spans + 1 s; the same shift for all three, so the capture's
// app→guest and guest→host clock offsets still hold). Offsets and sectors are kept as they are, so
// every file and sector maps through the capture's own guest fs metadata, image and host fs
// metadata. Each replayed line keeps its kernel/strace layout; only the timestamp token changes.
// The scaled files are written uncompressed to a temp dir (deleted at the end) and analyzed in
// files mode with the clock offsets that `iolineage analyze` estimates on the original bundle
// (its first run, also reported as the 1× point).
//
// K is chosen so that both block traces hold at least TARGET block events (default 10M); the
// application then has ~2M I/Os (the capture has ~1 app I/O per 5 guest block events), i.e. more
// than the clause's 1M; a point at 1M application I/Os (~5M guest, ~4.5M host events) and one at
// K/10 give the growth figures.
//
// analyze parses the three text inputs at the same time in worker threads (default --jobs: cores
// + 1); the largest size is also run with --jobs 1 (everything in one thread, one after another),
// the figure for a single core.
//
// Each analyze run is measured with /usr/bin/time (wall, user+sys CPU, peak RSS of the process).
// Sanity per run: exit status 0, and in summary.json each layer's attribution by cause sums to
// the layer total.
//
// Usage: node bench/analyze-e2e.mjs [TARGET_BLOCK_EVENTS]   (default 10000000)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadReplaySource, writeReplay } from './_replay.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'data', 'm128-buffered');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TARGET = Number(process.argv[2] ?? 10_000_000);
if (!Number.isSafeInteger(TARGET) || TARGET <= 0) {
  console.error(`analyze-e2e: expected a positive integer event count, got ${process.argv[2]}`);
  process.exit(2);
}

const MiB = 1024 * 1024;

/** Run `iolineage analyze ARGS` under /usr/bin/time; returns wall/CPU/RSS and summary.json. */
function timedAnalyze(args, outDir, tmp) {
  const timeFile = join(tmp, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, CLI, 'analyze', '-o', outDir, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) {
    throw new Error(`analyze exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}:\n${(r.stderr ?? '').slice(-3000)}`);
  }
  const [wall, user, sys, rssKiB] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
  const summary = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8'));
  return { wall, cpu: user + sys, rssMiB: rssKiB / 1024, summary, stderr: r.stderr };
}

/** Attribution by cause must sum to the layer's total bytes, per layer. */
function checkAttribution(summary, label) {
  const problems = [];
  for (const [layer, a] of Object.entries(summary.attribution ?? {})) {
    if (!a || typeof a !== 'object' || !a.by_cause) continue;
    const sum = Object.values(a.by_cause).reduce((s, v) => s + Number(v), 0);
    if (sum !== Number(a.layer_total) || Number(a.total) !== Number(a.layer_total)) {
      problems.push(`${layer}: by_cause sums to ${sum}, total ${a.total}, layer_total ${a.layer_total}`);
    }
  }
  if (!summary.attribution?.guest || !summary.attribution?.host) problems.push('summary.json has no guest/host attribution');
  if (problems.length) throw new Error(`${label}: attribution does not add up: ${problems.join('; ')}`);
  return true;
}

const manifest = JSON.parse(readFileSync(join(BUNDLE, 'manifest.json'), 'utf8'));
const g = manifest.guests[0];
const tmp = mkdtempSync(join(tmpdir(), 'iol-analyze-e2e-'));
const rows = [];
try {
  // 1× point: the bundle itself; its estimated clock offsets drive the files-mode runs.
  const base = timedAnalyze([BUNDLE], join(tmp, 'out-1'), tmp);
  checkAttribution(base.summary, '1x');
  const clocks = base.summary.clocks[g.id ?? 'vm0'];

  const src = loadReplaySource(BUNDLE);
  const guest = src.guest,
    host = src.hostLog;
  const kBig = Math.ceil(TARGET / Math.min(guest.blockEvents, host.blockEvents));
  // points: 1/10 of the big one, the 1M-application-I/O one, the big one (≥ TARGET events per trace)
  const kApp = Math.ceil(1_000_000 / base.summary.layers.app.requests);
  const ks = [...new Set([Math.max(2, Math.round(kBig / 10)), kApp, kBig])].filter((k) => k <= kBig).sort((a, b) => a - b);
  rows.push({
    k: 1,
    app: base.summary.layers.app.requests,
    guestEv: guest.blockEvents,
    hostEv: host.blockEvents,
    bytes: null,
    gen: null,
    ...base,
  });

  for (const k of ks) {
    const dir = join(tmp, `x${k}`);
    rmSync(dir, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', dir]);
    const t0 = performance.now();
    const { args, bytes } = writeReplay(src, k, dir, clocks);
    const gen = (performance.now() - t0) / 1000;
    const out = join(tmp, `out-${k}`);
    const run = timedAnalyze(args, out, tmp);
    checkAttribution(run.summary, `${k}x`);
    rows.push({
      k,
      app: run.summary.layers.app.requests,
      guestEv: guest.blockEvents * k,
      hostEv: host.blockEvents * k,
      bytes,
      gen,
      ...run,
    });
    if (k === kBig) {
      rmSync(out, { recursive: true, force: true });
      const one = timedAnalyze(['--jobs', '1', ...args], out, tmp);
      checkAttribution(one.summary, `${k}x --jobs 1`);
      rows.push({
        k,
        jobs1: true,
        app: one.summary.layers.app.requests,
        guestEv: guest.blockEvents * k,
        hostEv: host.blockEvents * k,
        bytes,
        gen,
        ...one,
      });
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    if (k === kBig) {
      const a = run.summary.layers;
      console.error(
        `analyze-e2e: ${k}x: app ${a.app.requests} I/Os, guest ${a.guest.requests} requests, host ${a.host.requests} requests; attribution sums = layer totals`,
      );
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** Share of a layer's bytes with no cause: should stay near the 1x figure if the replay still correlates. */
const unattributed = (s, layer) => {
  const a = s.attribution[layer];
  return ((100 * Number(a.by_cause.unattributed ?? 0)) / Number(a.layer_total)).toFixed(2) + '%';
};
const M = (n) => (n / 1e6).toFixed(2) + 'M';
console.log(
  `iolineage analyze end to end (files parsed, fs metadata loaded, tables written); capture data/m128-buffered replayed K times; ${process.execPath.split('/').pop()} ${process.version}`,
);
console.log(
  '| K | threads | app I/Os | guest events | host events | input text | wall s | CPU s | peak RSS | unattributed guest / host bytes | ok |',
);
console.log('|---:|:--|---:|---:|---:|---:|---:|---:|---:|---:|:--|');
for (const r of rows) {
  console.log(
    `| ${r.k} | ${r.jobs1 ? '--jobs 1' : 'default'} | ${M(r.app)} | ${M(r.guestEv)} | ${M(r.hostEv)} | ${r.bytes === null ? 'bundle (gz)' : (r.bytes / MiB).toFixed(0) + ' MiB'} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.rssMiB.toFixed(0)} MiB | ${unattributed(r.summary, 'guest')} / ${unattributed(r.summary, 'host')} | exit 0, attribution sums |`,
  );
}
const par = rows.filter((r) => !r.jobs1);
const big = par[par.length - 1];
for (let i = 2; i < par.length; i++) {
  const a = par[i - 1],
    b = par[i];
  const ev = (b.guestEv + b.hostEv) / (a.guestEv + a.hostEv);
  console.log(
    `${i === 2 ? '\n' : ''}growth ${a.k}x → ${b.k}x: events ×${ev.toFixed(2)}, wall ×${(b.wall / a.wall).toFixed(2)}, CPU ×${(b.cpu / a.cpu).toFixed(2)}, peak RSS ×${(b.rssMiB / a.rssMiB).toFixed(2)}`,
  );
}
console.log(
  `per million block events at ${big.k}x: ${(big.wall / ((big.guestEv + big.hostEv) / 1e6)).toFixed(2)} wall s, ${(big.rssMiB / ((big.guestEv + big.hostEv) / 1e6)).toFixed(0)} MiB`,
);
for (const r of rows.slice(1)) {
  const ok = r.wall <= 60 && r.rssMiB <= 4096;
  console.log(
    `target ≤ 60 s and ≤ 4 GiB at ${r.k}x${r.jobs1 ? ' with --jobs 1' : ''} (${M(r.app)} app I/Os + ${M(r.guestEv)} guest + ${M(r.hostEv)} host events): ${ok ? 'met' : 'NOT met'} (${r.wall.toFixed(1)} s, ${(r.rssMiB / 1024).toFixed(2)} GiB)`,
  );
}
// issue 15: 10M guest + 10M host events (+1M application I/Os) in ≤ 30 s and ≤ 2 GiB, as run by default
for (const r of rows.filter((x) => x.guestEv >= 10e6 && x.hostEv >= 10e6)) {
  const ok = r.wall <= 30 && r.rssMiB <= 2048;
  console.log(
    `target ≤ 30 s and ≤ 2 GiB at 10M + 10M events (${r.k}x${r.jobs1 ? ', --jobs 1' : ''}): ${ok ? 'met' : 'NOT met'} (${r.wall.toFixed(1)} s, ${(r.rssMiB / 1024).toFixed(2)} GiB)`,
  );
}
// issue 15: 100M guest + 100M host events (+10M application I/Os) in ≤ 4 GiB, time growing
// linearly from the 10M + 10M point (`node bench/analyze-e2e.mjs 100000000` runs both)
const tenM = rows.find((x) => !x.jobs1 && x.guestEv >= 10e6 && x.guestEv < 100e6);
for (const r of rows.filter((x) => x.guestEv >= 100e6 && x.hostEv >= 100e6)) {
  const growth = tenM
    ? `; from ${tenM.k}x: events ×${((r.guestEv + r.hostEv) / (tenM.guestEv + tenM.hostEv)).toFixed(2)}, wall ×${(r.wall / tenM.wall).toFixed(2)}, peak RSS ×${(r.rssMiB / tenM.rssMiB).toFixed(2)}`
    : '';
  console.log(
    `target ≤ 4 GiB at 100M + 100M events, time linear (${r.k}x${r.jobs1 ? ', --jobs 1' : ''}): ${r.rssMiB <= 4096 ? 'memory met' : 'memory NOT met'} (${r.wall.toFixed(1)} s, ${(r.rssMiB / 1024).toFixed(2)} GiB${growth})`,
  );
}
