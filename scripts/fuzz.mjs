#!/usr/bin/env node
/**
 * The fuzz campaign: seeded mutations of the real fixtures (test/fixtures, data/) for every reader
 * and command, each input run by a worker process (scripts/fuzz/worker.mjs) under a CPU-time limit
 * and a memory cap, results counted by class:
 *   ok, user_error          what should happen
 *   internal                an exception that is not an InputError/UsageError (the CLI's exit 70),
 *                           or an output folder left with a partial set of tables
 *   crash                   the worker died (a signal, an abort)
 *   hang                    the input used more CPU time than the limit, or was blocked (neither
 *                           running nor waiting for a CPU) for 5× it
 *   memory                  the worker passed the memory cap or ran out of heap
 * Findings (every class but ok and user_error) are written with the input to reproduce them.
 *
 * usage: npm run fuzz -- [--seconds N] [--kind K[,K...]] [--inputs N] [--seed S] [--start I]
 *          [--time-limit SECONDS] [--memory MB] [--findings DIR] [--json]
 * SIGUSR1 prints the counts so far to stderr; SIGINT/SIGTERM end the campaign with every kind's counts so far.
 * Runs the built CLI (npm run build first). Kinds: see scripts/fuzz/kinds.mjs.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KINDS, KIND_NAMES } from './fuzz/kinds.mjs';
import { hangReason, processTimes, waitsOnDisk } from './fuzz/process-times.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    kind: { type: 'string' },
    inputs: { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string' },
    'time-limit': { type: 'string' },
    memory: { type: 'string' },
    findings: { type: 'string' },
    json: { type: 'boolean' },
    dist: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  // the usage and the classes from the comment at the top of this file
  const doc = readFileSync(new URL(import.meta.url))
    .toString()
    .split('\n')
    .map((l) => l.slice(3));
  const usageAt = doc.findIndex((l) => l.startsWith('usage'));
  const classes = doc.filter((l) => /^ {2}\S/.test(l) || /^ {20,}\S/.test(l)).filter((l) => !l.startsWith('         ['));
  process.stdout.write([doc[usageAt], doc[usageAt + 1], `kinds: ${KIND_NAMES.join(', ')}`, 'classes:', ...classes].join('\n') + '\n');
  process.exit(0);
}
const num = (name, dflt) => {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) {
    process.stderr.write(`fuzz: --${name} "${v}": expected a non-negative number\n`);
    process.exit(2);
  }
  return n;
};
const kinds = values.kind === undefined || values.kind === 'all' ? KIND_NAMES : values.kind.split(',');
for (const k of kinds)
  if (!KINDS[k]) {
    process.stderr.write(`fuzz: --kind ${k}: expected one of ${KIND_NAMES.join(', ')}\n`);
    process.exit(2);
  }
const seconds = num('seconds', values.inputs === undefined ? 60 : Infinity);
const inputsPerKind = num('inputs', Infinity);
const seed = num('seed', 1);
const start = num('start', 0);
const cpuLimitMs = num('time-limit', 20) * 1000;
const memoryMb = num('memory', 1024);
const distDir = values.dist ?? join(ROOT, 'dist');
if (!existsSync(join(distDir, 'cli', 'main.js'))) {
  process.stderr.write(`fuzz: ${distDir} has no built CLI: run npm run build\n`);
  process.exit(2);
}
const findingsDir = values.findings ?? mkdtempSync(join(tmpdir(), 'iolineage-fuzz-findings-'));
const CLASSES = ['ok', 'user_error', 'internal', 'crash', 'hang', 'memory'];
/** Kinds whose bases this process has made (their setup). */
const setUp = new Set();

/** Write a finding's input (regenerated from its seed and index) and what happened. */
async function saveFinding(kindName, index, cls, detail) {
  const { mulberry32 } = await import(join(distDir, 'util', 'seeded-random.js'));
  const kind = KINDS[kindName];
  if (kind.setup && !setUp.has(kindName)) {
    await kind.setup(distDir, join(findingsDir, `${kindName}-bases`));
    setUp.add(kindName);
  }
  const input = kind.make(mulberry32((seed * 1000003 + index) >>> 0));
  const dir = join(findingsDir, `${kindName}-seed${seed}-${index}`);
  mkdirSync(dir, { recursive: true });
  for (const f of input.files) {
    mkdirSync(dirname(join(dir, f.name)), { recursive: true });
    writeFileSync(join(dir, f.name), f.bytes);
  }
  for (const img of input.images ?? []) {
    const bytes = img.base.bytes.slice();
    bytes.set(img.patch.bytes, img.patch.at);
    writeFileSync(join(dir, img.name), bytes.subarray(0, img.size));
  }
  const argv = input.args(dir, join(dir, 'out'));
  writeFileSync(
    join(dir, 'FINDING.txt'),
    `class: ${cls}\ncommand: iolineage ${argv.join(' ')}${input.bundle ? `\n(the other files of the bundle: ${input.bundle})` : ''}\n\n${detail}\n`,
  );
  return dir;
}

/** Run one kind until its share of the time or its input count is used up. */
async function runKind(kindName, deadline) {
  const counts = Object.fromEntries(CLASSES.map((c) => [c, 0]));
  const findings = [];
  const workDir = mkdtempSync(join(tmpdir(), `iolineage-fuzz-${kindName}-`));
  let index = start;
  let worker = null;
  running = {
    kind: kindName,
    counts,
    findings,
    get inputs() {
      return index - start;
    },
    stop() {
      worker?.kill('SIGKILL');
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  let stderrTail = '';
  const spawnWorker = () =>
    new Promise((resolve) => {
      stderrTail = '';
      let ready = false;
      worker = fork(join(ROOT, 'scripts', 'fuzz', 'worker.mjs'), [kindName, distDir, workDir], {
        execArgv: [`--max-old-space-size=${Math.max(64, Math.floor(memoryMb / 2))}`],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: { ...process.env, IOLINEAGE_NO_PROGRESS: '1' },
      });
      worker.stderr.on('data', (d) => {
        stderrTail = (stderrTail + d.toString()).slice(-4000);
      });
      worker.once('message', () => {
        ready = true;
        resolve();
      });
      // a worker that cannot start (a missing build, a bad --dist) ends the campaign
      worker.once('exit', (code, signal) => {
        if (!ready) {
          process.stderr.write(`fuzz: the ${kindName} worker did not start (${signal ?? `exit ${code}`}):\n${stderrTail}\n`);
          process.exit(2);
        }
      });
    });
  try {
    // every kind runs at least one input, however short its share of the time
    while ((index === start || Date.now() < deadline) && index - start < inputsPerKind) {
      // a worker the campaign killed (memory, hang) may not have exited yet: never reuse it
      if (!worker || worker.killed || worker.exitCode !== null || worker.signalCode !== null) await spawnWorker();
      const w = worker;
      const before = processTimes(w.pid);
      if (!before) {
        worker = null;
        continue;
      }
      const startedAt = Date.now();
      // time the worker was seen waiting on the disk, between two polls
      let diskWaitMs = 0;
      let polledAt = startedAt;
      const result = await new Promise((resolve) => {
        const poll = setInterval(() => {
          const u = processTimes(w.pid);
          if (!u) return;
          const now = Date.now();
          if (waitsOnDisk(w.pid)) diskWaitMs += now - polledAt;
          polledAt = now;
          if (u.rssMb > memoryMb) {
            w.kill('SIGKILL');
            settle({ cls: 'memory', detail: `resident memory ${u.rssMb.toFixed(0)} MB > cap ${memoryMb} MB` });
          } else {
            const hang = hangReason(before, u, now - startedAt, cpuLimitMs, { diskWaitMs });
            if (hang !== null) {
              w.kill('SIGKILL');
              settle({ cls: 'hang', detail: hang });
            }
          }
        }, 50);
        const onMessage = (m) => settle({ cls: m.cls, detail: m.detail });
        const onExit = (code, signal) =>
          setTimeout(() => {
            const oom = /heap out of memory|Allocation failed|Array buffer allocation failed/.test(stderrTail);
            settle({ cls: oom ? 'memory' : 'crash', detail: `worker exited (${signal ?? `code ${code}`})\n${stderrTail.slice(-1500)}` });
          }, 50);
        let settled = false;
        function settle(r) {
          if (settled) return;
          settled = true;
          clearInterval(poll);
          w.off('message', onMessage);
          w.off('exit', onExit);
          resolve(r);
        }
        w.on('message', onMessage);
        w.on('exit', onExit);
        w.send({ index, seed });
      });
      if (result.cls === 'harness') {
        process.stderr.write(`fuzz ${kindName} #${index}: the campaign itself failed: ${result.detail}\n`);
        process.exit(2);
      }
      counts[result.cls]++;
      if (result.cls !== 'ok' && result.cls !== 'user_error') {
        const where = await saveFinding(kindName, index, result.cls, result.detail);
        findings.push({ index, cls: result.cls, detail: result.detail.split('\n')[0], where });
        if (!values.json)
          process.stderr.write(`fuzz ${kindName} #${index}: ${result.cls}: ${result.detail.split('\n')[0]}\n  -> ${where}\n`);
      }
      index++;
    }
  } finally {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  }
  return { kind: kindName, inputs: index - start, counts, findings };
}

/** The kind being run, for a report of the counts so far when the campaign is interrupted. */
let running = null;
const began = Date.now();
const results = [];
const line = (r) =>
  `${r.kind.padEnd(10)} ${String(r.inputs).padStart(8)} inputs  ${CLASSES.map((c) => `${c} ${r.counts[c]}`).join('  ')}\n`;
/** The kinds done and the one running (its counts so far). */
const soFar = () =>
  running
    ? [...results, { kind: running.kind, inputs: running.inputs, counts: running.counts, findings: running.findings, partial: true }]
    : results;
// interrupted: every kind's counts so far (the JSON report too), then the findings kept as usual
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    const all = soFar();
    running?.stop();
    if (values.json)
      process.stdout.write(
        JSON.stringify({ seed, start, seconds: (Date.now() - began) / 1000, interrupted: signal, results: all, findingsDir }, null, 1) +
          '\n',
      );
    else for (const r of all) process.stdout.write(line(r).replace('\n', r.partial ? ` (interrupted by ${signal})\n` : '\n'));
    if (values.findings === undefined && !all.some((r) => r.findings.length)) rmSync(findingsDir, { recursive: true, force: true });
    process.exit(130);
  });
}
// SIGUSR1: the counts so far on stderr, the campaign goes on
process.on('SIGUSR1', () => {
  for (const r of soFar()) process.stderr.write(line(r).replace('\n', r.partial ? ' (running)\n' : '\n'));
});
for (let k = 0; k < kinds.length; k++) {
  // each kind gets an equal share of what is left
  const share = (seconds * 1000 - (Date.now() - began)) / (kinds.length - k);
  const r = await runKind(kinds[k], Number.isFinite(share) ? Date.now() + Math.max(share, 0) : Infinity);
  results.push(r);
  running = null;
  if (!values.json) process.stdout.write(line(r));
}
const bad = results.reduce((n, r) => n + r.counts.internal + r.counts.crash + r.counts.hang + r.counts.memory, 0);
if (values.json)
  process.stdout.write(JSON.stringify({ seed, start, seconds: (Date.now() - began) / 1000, results, findingsDir }, null, 1) + '\n');
else
  process.stdout.write(
    `${results.reduce((n, r) => n + r.inputs, 0)} inputs in ${((Date.now() - began) / 1000).toFixed(0)} s (seed ${seed}, from index ${start}); findings: ${bad ? findingsDir : 'none'}\n`,
  );
if (!bad && values.findings === undefined) rmSync(findingsDir, { recursive: true, force: true });
process.exit(bad ? 1 : 0);
