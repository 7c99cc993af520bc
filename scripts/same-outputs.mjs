#!/usr/bin/env node
// Byte-identity of everything the commands write, on every bundled capture and trace/image fixture.
//
//   node scripts/same-outputs.mjs --record   write test/golden/same-outputs.json (sha256 of each output)
//   node scripts/same-outputs.mjs            run the commands again and compare with that file
//   node scripts/same-outputs.mjs --only m128-direct   only the jobs whose name contains this
//
// A refactoring or a speed-up must leave this file unchanged; a change of behaviour re-records it in
// the same commit, so the diff shows which outputs moved. iolineage-outputs.json is left out: it
// records when the outputs were written.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const goldenPath = join(root, 'test/golden/same-outputs.json');
const cli = join(root, 'dist/cli/main.js');
const UNSTABLE = new Set(['iolineage-outputs.json']);

/** Every job: a name and the CLI arguments (the output directory is appended as `-o DIR`). */
export function sameOutputJobs() {
  const jobs = [];
  const data = join(root, 'data');
  for (const bundle of readdirSync(data).sort()) {
    if (statSync(join(data, bundle)).isDirectory()) jobs.push({ name: `analyze/${bundle}`, args: ['analyze', `data/${bundle}`] });
  }
  const block = 'test/fixtures/block';
  for (const f of readdirSync(join(root, block)).sort()) {
    if (/\.(trace|pipe|txt)\.gz$/.test(f)) jobs.push({ name: `ingest/block/${f}`, args: ['ingest', `${block}/${f}`] });
  }
  const bt = 'test/fixtures/blktrace';
  for (const f of readdirSync(join(root, bt)).sort()) {
    if (/\.(trace|blkparse\.txt)\.gz$/.test(f)) jobs.push({ name: `ingest/blktrace/${f}`, args: ['ingest', `${bt}/${f}`] });
    const m = /^(.*)\.blktrace\.0\.gz$/.exec(f);
    if (m)
      jobs.push({
        name: `ingest/blktrace/${m[1]}.blktrace`,
        args: ['ingest', `${bt}/${m[1]}.blktrace.0.gz`, `${bt}/${m[1]}.blktrace.1.gz`],
      });
  }
  const st = 'test/fixtures/strace';
  for (const f of readdirSync(join(root, st)).sort()) {
    if (/\.strace\.gz$/.test(f)) jobs.push({ name: `ingest/strace/${f}`, args: ['ingest', `${st}/${f}`, '--date', '2024-01-01'] });
  }
  const fio = readdirSync(join(root, st))
    .filter((f) => /^fio-ff-tt\.\d+\.gz$/.test(f))
    .sort();
  if (fio.length)
    jobs.push({ name: 'ingest/strace/fio-ff-tt.*', args: ['ingest', ...fio.map((f) => `${st}/${f}`), '--date', '2024-01-01'] });
  const ext = 'test/fixtures/ext';
  for (const f of readdirSync(join(root, ext)).sort()) {
    if (/\.img\.gz$/.test(f)) jobs.push({ name: `map/fs/${f}`, args: ['map', 'fs', `${ext}/${f}`] });
  }
  const img = 'test/fixtures/image';
  for (const f of readdirSync(join(root, img)).sort()) {
    if (/\.(qcow2|raw)\.gz$/.test(f)) jobs.push({ name: `map/image/${f}`, args: ['map', 'image', `${img}/${f}`] });
  }
  // commands that print their result: stdout is the output
  jobs.push({
    name: 'whatif/m128-dropcache',
    stdout: true,
    args: ['whatif', 'data/m128-dropcache', '--guest-mem', '64M,128M,256M,1G', '--json'],
  });
  jobs.push({
    name: 'whatif/m512-buffered',
    stdout: true,
    args: ['whatif', 'data/m512-buffered', '--guest-mem', '128M,512M', '--host-cache', '0,1G', '--json'],
  });
  jobs.push({
    name: 'btt/deadline.blktrace',
    stdout: true,
    args: ['btt', `${bt}/deadline.blktrace.0.gz`, `${bt}/deadline.blktrace.1.gz`, '--json'],
  });
  jobs.push({
    name: 'btt/nosplit.blktrace',
    stdout: true,
    args: ['btt', `${bt}/nosplit.blktrace.0.gz`, `${bt}/nosplit.blktrace.1.gz`, '--json'],
  });
  return jobs;
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Run one job; returns { exit, files: { name: sha256 } }. */
function runJob(job, work) {
  const out = join(work, job.name.replace(/[^A-Za-z0-9._-]+/g, '_'));
  let exit = 0;
  let stdout = '';
  const args = job.stdout ? job.args : [...job.args, '-o', out];
  try {
    stdout = execFileSync(process.execPath, [cli, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 1 << 30,
    });
  } catch (e) {
    exit = typeof e.status === 'number' ? e.status : -1;
    stdout = e.stdout ?? '';
  }
  const files = {};
  if (job.stdout) files.stdout = createHash('sha256').update(stdout).digest('hex');
  let names = [];
  try {
    names = readdirSync(out).sort();
  } catch {
    // no output directory: the exit status says why
  }
  for (const name of names) if (!UNSTABLE.has(name)) files[name] = sha256(join(out, name));
  return { exit, files };
}

function main(argv) {
  const record = argv.includes('--record');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const jobs = sameOutputJobs().filter((j) => !only || j.name.includes(only));
  const work = mkdtempSync(join(tmpdir(), 'iolineage-same-outputs-'));
  const results = {};
  try {
    for (const job of jobs) {
      const t0 = Date.now();
      results[job.name] = runJob(job, work);
      process.stderr.write(
        `${job.name}: exit ${results[job.name].exit}, ${Object.keys(results[job.name].files).length} files, ${Date.now() - t0} ms\n`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (record) {
    const previous = only ? JSON.parse(readFileSync(goldenPath, 'utf8')) : {};
    const merged = { ...previous, ...results };
    const sorted = Object.fromEntries(
      Object.keys(merged)
        .sort()
        .map((k) => [k, merged[k]]),
    );
    writeFileSync(`${goldenPath}.tmp`, `${JSON.stringify(sorted, null, 1)}\n`);
    renameSync(`${goldenPath}.tmp`, goldenPath);
    process.stderr.write(`recorded ${Object.keys(results).length} jobs in test/golden/same-outputs.json\n`);
    return 0;
  }
  const golden = JSON.parse(readFileSync(goldenPath, 'utf8'));
  const diffs = [];
  for (const [name, got] of Object.entries(results)) {
    const want = golden[name];
    if (!want) {
      diffs.push(`${name}: not in the golden file (run with --record)`);
      continue;
    }
    if (want.exit !== got.exit) diffs.push(`${name}: exit ${got.exit}, golden ${want.exit}`);
    for (const f of new Set([...Object.keys(want.files), ...Object.keys(got.files)])) {
      if (want.files[f] !== got.files[f])
        diffs.push(`${name}: ${f} ${got.files[f] ? (want.files[f] ? 'differs' : 'is new') : 'is missing'}`);
    }
  }
  if (!only) for (const name of Object.keys(golden)) if (!results[name]) diffs.push(`${name}: job gone (fixture removed?)`);
  if (diffs.length) {
    process.stdout.write(`${diffs.length} differences from test/golden/same-outputs.json:\n${diffs.map((d) => `  ${d}`).join('\n')}\n`);
    return 1;
  }
  process.stdout.write(`${jobs.length} jobs: every output byte-identical to test/golden/same-outputs.json\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
