// Parquet and SQL benchmark (issue 14's speed clause), two parts; every figure is a child
// process under /usr/bin/time (wall, user+system CPU of all threads, peak RSS).
//
// A. Export of a big analyze output: the tables of `iolineage analyze data/m128-buffered` replayed
//    K times (default 200: about the 10M+10M block events of bench/analyze-e2e.mjs, which replays
//    the same capture; ~2M application I/Os, ~15M rows over all tables). Each replay shifts every
//    id column by k x 2^20 and every *_ns column by k x 1000 s, so ids stay unique and joins hold;
//    other values repeat, as in analyze-e2e's replay. Measured, ROUNDS times, interleaved:
//    writing the Arrow files from the in-memory tables (what analyze does), writing Parquet from
//    the same tables (what analyze --parquet adds), and the command a user runs,
//    `iolineage export ARROW_DIR -o DIR`, end to end (start, read, write). Headline: each export's
//    time over the Arrow write's (target: at most 1x), medians of the rounds.
// B. DuckDB over a 100M-row lineage dataset in 100 partitions (host=h0..h9/vm=vm0/run=r000..r099),
//    with an app_io dataset of as many rows, made by replaying the capture's lineage and app_io
//    rows (ids shifted by the replay's index x the capture's app_io rows, times by 1000 s per
//    replay), written as `iolineage export --dataset` writes them. Queries, each run as
//    `iolineage sql DATASET QUERY --memory-limit 2GiB --format csv` end to end (DuckDB spills to
//    .tmp in the child's folder): bytes per outcome per layer (a group-by), and docs/sql.md's
//    top-files-across-runs (lineage joined with app_io on host, vm, run and id: top files by host
//    bytes). Headline: each query's wall time against the 10 s target.
//
// Usage: node bench/parquet.mjs [K] [PARTITIONS] [ROWS_PER_PARTITION]   (default 200 100 1000000)
//        node bench/parquet.mjs A [K]   or   node bench/parquet.mjs B [PARTITIONS] [ROWS_PER_PARTITION]
//        ROUNDS=n (default 3) rounds of part A.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const ID_STRIDE = 1 << 20;
const SPAN_NS = 1_000_000_000_000n;

const args = process.argv.slice(2);
const role = args[0];

/** Total size of the files in a folder tree with one of these extensions. */
function treeBytes(dir, ext) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += treeBytes(p, ext);
    else if (e.name.endsWith(ext)) n += statSync(p).size;
  }
  return n;
}

/** Run a command under /usr/bin/time: its output, wall seconds, CPU seconds (user + system, all threads) and peak RSS. */
function timed(argv, { timeoutS = 3600, cwd } = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
    cwd,
  });
  if (r.error || r.signal) return { failed: `did not finish within ${timeoutS} s (${r.error?.message ?? r.signal})` };
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`${argv.join(' ').slice(0, 200)}: exit status ${r.status}: ${r.stderr}`);
  return {
    stdout: r.stdout ?? '',
    wall_s: m ? Number(m[1]) : NaN,
    cpu_s: m ? Number(m[2]) + Number(m[3]) : NaN,
    peak_rss_mib: m ? Number(m[4]) / 1024 : NaN,
  };
}

/** Run this script with a role in a child process; its JSON line, with the child's figures as process_*. */
function child(roleArgs, timeoutS = 3600) {
  const r = timed([process.execPath, '--expose-gc', SELF, ...roleArgs], { timeoutS });
  if (r.failed) return r;
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  return { ...(line ? JSON.parse(line) : {}), process_wall_s: r.wall_s, process_cpu_s: r.cpu_s, peak_rss_mib: r.peak_rss_mib };
}

const seconds = (t0) => (performance.now() - t0) / 1000;
/** CPU seconds (user + system, all threads: DuckDB's too) used by this process so far. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** A copy of a batch of ids or times with `d` added to every value (a 64-bit column in BigInt, a 32-bit one as a number). */
function shiftedBatch(b, d) {
  const values = b.values.slice();
  if (values instanceof BigInt64Array) for (let i = 0; i < values.length; i++) values[i] += d;
  else for (let i = 0, n = Number(d); i < values.length; i++) values[i] += n;
  return new b.constructor({ length: b.length, nullCount: b.nullCount, type: b.type, validity: b.validity, values });
}

/** The analysis tables replayed K times (see the header). */
async function replayedTables(out, k) {
  const { arrowTablesOf } = await import(join(ROOT, 'dist', 'export', 'export-tables.js'));
  const { Table } = await import('@uwdata/flechette');
  const tables = {};
  for (const input of arrowTablesOf(out)) {
    const base = input.read();
    const cols = base.children.map((col, c) => {
      const name = base.schema.fields[c].name;
      const shift = /_ns$/.test(name) ? 'ns' : /^(id|app_id|upper_id|lower_id|split_from|merged_into)$/.test(name) ? 'id' : null;
      const batches = [];
      for (let r = 0; r < k; r++) {
        for (const b of col.data) {
          if (!shift || r === 0) {
            batches.push(b);
            continue;
          }
          batches.push(shiftedBatch(b, shift === 'ns' ? BigInt(r) * SPAN_NS : BigInt(r * ID_STRIDE)));
        }
      }
      return new col.constructor(batches);
    });
    tables[input.name] = new Table(base.schema, cols);
  }
  return tables;
}

async function roleArrowWrite([, out, dest, k]) {
  const { writeArrowFile } = await import(join(ROOT, 'dist', 'table', 'arrow-file.js'));
  let t0 = performance.now();
  const tables = await replayedTables(out, Number(k));
  const build = seconds(t0);
  t0 = performance.now();
  const c0 = cpuSeconds();
  for (const [name, t] of Object.entries(tables)) writeArrowFile(join(dest, `${name}.arrow`), t);
  const rows = Object.values(tables).reduce((n, t) => n + t.numRows, 0);
  console.log(JSON.stringify({ build_s: build, write_s: seconds(t0), cpu_s: cpuSeconds() - c0, rows, bytes: treeBytes(dest, '.arrow') }));
}

async function roleParquetWrite([, out, dest, k]) {
  const { exportTables, tableInputs, arrowTableInput } = await import(join(ROOT, 'dist', 'export', 'export-tables.js'));
  const { writeArrowFile } = await import(join(ROOT, 'dist', 'table', 'arrow-file.js'));
  const { withOutputFolder } = await import(join(ROOT, 'dist', 'io', 'output-folder.js'));
  let t0 = performance.now();
  const tables = await replayedTables(out, Number(k));
  // as analyze --parquet: the input tables analyze writes early (and lets go of) are read back from
  // their Arrow files on worker threads; the others are encoded from memory in this thread
  const early = ['guest_requests', 'host_requests', 'app_io'];
  const arrowDir = join(dest, 'arrow');
  mkdirSync(arrowDir);
  for (const name of early) writeArrowFile(join(arrowDir, `${name}.arrow`), tables[name]);
  const inputs = [
    ...early.map((name) => arrowTableInput(name, join(arrowDir, `${name}.arrow`))),
    ...tableInputs(Object.fromEntries(Object.entries(tables).filter(([name]) => !early.includes(name)))),
  ];
  const build = seconds(t0);
  t0 = performance.now();
  const c0 = cpuSeconds();
  await withOutputFolder(dest, 'analyze --parquet', (folder) => exportTables(inputs, undefined, folder, { format: 'parquet' }));
  console.log(JSON.stringify({ build_s: build, write_s: seconds(t0), cpu_s: cpuSeconds() - c0, bytes: treeBytes(dest, '.parquet') }));
}

/** Part B's dataset: lineage and app_io replayed into PARTITIONS partitions of ROWS rows, written as `iolineage export --dataset` writes (table-files.ts). */
async function roleMakeDataset([, out, ds, partitions, rowsPerPartition]) {
  const { readArrowFile } = await import(join(ROOT, 'dist', 'table', 'arrow-file.js'));
  const { takeRows } = await import(join(ROOT, 'dist', 'table', 'take-rows.js'));
  const { planTableFiles } = await import(join(ROOT, 'dist', 'export', 'table-files.js'));
  const { parquetFileWriter } = await import(join(ROOT, 'dist', 'export', 'parquet', 'parquet-file.js'));
  const { writeFileAtomically } = await import(join(ROOT, 'dist', 'io', 'output-folder.js'));
  const { Table } = await import('@uwdata/flechette');
  const { mkdirSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  const base = { lineage: readArrowFile(join(out, 'lineage.arrow')), app_io: readArrowFile(join(out, 'app_io.arrow')) };
  const n = base.app_io.numRows;
  const rows = Number(rowsPerPartition);
  const per = Math.ceil(rows / n);
  const ids = { lineage: ['app_id'], app_io: ['id'] };
  const times = { lineage: ['app_start_ns', 'app_end_ns'], app_io: ['ts_ns'] };
  // replay g of a table: ids shifted by g x the capture's app_io rows, times by g x 1000 s
  const replay = (name, first) => {
    const t = base[name];
    const cols = t.children.map((col, c) => {
      const field = t.schema.fields[c].name;
      const shift = ids[name].includes(field) ? 'id' : times[name].includes(field) ? 'ns' : null;
      const batches = [];
      for (let k = 0; k < per; k++) {
        const g = first + k;
        for (const b of col.data) {
          if (!shift) {
            batches.push(b);
            continue;
          }
          batches.push(shiftedBatch(b, shift === 'ns' ? BigInt(g) * SPAN_NS : BigInt(g * n)));
        }
      }
      return new col.constructor(batches);
    });
    const all = new Table(t.schema, cols);
    return all.numRows > rows
      ? takeRows(
          all,
          Int32Array.from({ length: rows }, (_, i) => i),
          name,
        )
      : all;
  };
  const t0 = performance.now();
  for (let p = 0; p < Number(partitions); p++) {
    const host = `h${p % 10}`,
      run = `r${String(p).padStart(3, '0')}`;
    for (const name of ['lineage', 'app_io']) {
      const plan = { table: name, dataset: { dir: ds, host, run, vm: 'vm0' }, compress: true };
      for (const f of planTableFiles(replay(name, p * per), plan)) {
        mkdirSync(dirname(f.path), { recursive: true });
        writeFileAtomically(f.path, parquetFileWriter(f.contents, f.path, f.options));
      }
    }
  }
  console.log(
    JSON.stringify({
      make_s: seconds(t0),
      replays_per_partition: per,
      lineage_bytes: treeBytes(join(ds, 'lineage'), '.parquet'),
      app_io_bytes: treeBytes(join(ds, 'app_io'), '.parquet'),
    }),
  );
}

/** A named query of docs/sql.md (`<!-- query: NAME -->` before its sql block). */
function docQuery(name) {
  const text = readFileSync(join(ROOT, 'docs', 'sql.md'), 'utf8');
  const m = new RegExp(`<!-- query: ${name} -->\\s*\`\`\`sql\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!m) throw new Error(`docs/sql.md: no query ${name}`);
  return m[1];
}

const QUERIES = {
  'bytes-per-outcome-per-layer': `SELECT op, outcome, count(*) AS ios, sum(app_bytes) AS app_bytes, sum(guest_bytes) AS guest_bytes, sum(host_bytes) AS host_bytes
    FROM lineage GROUP BY op, outcome ORDER BY op, outcome`,
  // lineage joined with app_io on the partition columns and the id: top files by host bytes
  'join-lineage-app_io-top-files': docQuery('top-files-across-runs'),
};

function analyse(tmp) {
  const out = join(tmp, 'analysis');
  const r = spawnSync(process.execPath, [CLI, 'analyze', join(ROOT, 'data', 'm128-buffered'), '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`analyze: exit status ${r.status}: ${r.stderr}`);
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const f2 = (x) => x.toFixed(2);

function partA(tmp, out, k, rounds) {
  const runs = { arrow: [], parquet: [], cli: [] };
  let arrowDir = '';
  for (let r = 0; r < rounds; r++) {
    // interleaved, so that the machine's other load falls on every alternative alike
    if (arrowDir) rmSync(arrowDir, { recursive: true, force: true });
    arrowDir = mkdtempSync(join(tmp, 'arrow-'));
    runs.arrow.push(child(['arrow-write', out, arrowDir, String(k)]));
    const pq = mkdtempSync(join(tmp, 'parquet-'));
    runs.parquet.push(child(['parquet-write', out, pq, String(k)]));
    rmSync(pq, { recursive: true, force: true });
    const dest = mkdtempSync(join(tmp, 'export-'));
    const e = timed([process.execPath, CLI, 'export', arrowDir, '-o', dest]);
    runs.cli.push({ ...e, bytes: treeBytes(dest, '.parquet') });
    rmSync(dest, { recursive: true, force: true });
  }
  rmSync(arrowDir, { recursive: true, force: true });
  const a = runs.arrow,
    p = runs.parquet,
    c = runs.cli;
  const m = {
    aWall: median(a.map((x) => x.write_s)),
    aCpu: median(a.map((x) => x.cpu_s)),
    pWall: median(p.map((x) => x.write_s)),
    pCpu: median(p.map((x) => x.cpu_s)),
    cWall: median(c.map((x) => x.wall_s)),
    cCpu: median(c.map((x) => x.cpu_s)),
  };
  const rss = (xs) => Math.max(...xs.map((x) => x.peak_rss_mib)).toFixed(0);
  console.log(
    `A. analyze output of data/m128-buffered replayed ${k}x: ${(a[0].rows / 1e6).toFixed(1)}M rows in all tables; medians of ${rounds} interleaved rounds`,
  );
  console.log(
    `   write Arrow files (analyze)                  ${f2(m.aWall)} s wall, ${f2(m.aCpu)} s CPU   ${(a[0].bytes / MiB).toFixed(0)} MiB   peak RSS ${rss(a)} MiB`,
  );
  console.log(
    `   write Parquet (analyze --parquet)            ${f2(m.pWall)} s wall, ${f2(m.pCpu)} s CPU   ${(p[0].bytes / MiB).toFixed(0)} MiB   peak RSS ${rss(p)} MiB`,
  );
  console.log(
    `   iolineage export ARROW_DIR (end to end)      ${f2(m.cWall)} s wall, ${f2(m.cCpu)} s CPU   ${(c[0].bytes / MiB).toFixed(0)} MiB   peak RSS ${rss(c)} MiB (start, read, write)`,
  );
  console.log(
    `   rounds (wall s, Arrow / Parquet / export): ${a.map((x, i) => `${f2(x.write_s)}/${f2(p[i].write_s)}/${f2(c[i].wall_s)}`).join('  ')}`,
  );
  console.log(
    `   HEADLINE A (iolineage export end to end, child process): export command / Arrow write = ${f2(m.cWall / m.aWall)}x wall, ${f2(m.cCpu / m.aCpu)}x CPU (target: at most 1x); ` +
      `Parquet size ${(p[0].bytes / a[0].bytes).toFixed(3)}x the Arrow files; ` +
      `breakdown: the Parquet write alone, as analyze --parquet does it, ${f2(m.pWall / m.aWall)}x wall, ${f2(m.pCpu / m.aCpu)}x CPU`,
  );
}

function partB(tmp, out, partitions, rowsPerPartition) {
  const ds = join(tmp, 'dataset');
  const m = child(['make-dataset', out, ds, String(partitions), String(rowsPerPartition)]);
  console.log(
    `B. dataset: ${partitions} partitions x ${rowsPerPartition} rows of lineage and of app_io (made in ${m.make_s.toFixed(0)} s): lineage ${(m.lineage_bytes / MiB).toFixed(0)} MiB, app_io ${(m.app_io_bytes / MiB).toFixed(0)} MiB of Parquet`,
  );
  const work = mkdtempSync(join(tmp, 'sql-'));
  const heads = [];
  for (const [name, sql] of Object.entries(QUERIES)) {
    const q = timed([process.execPath, CLI, 'sql', ds, sql, '--memory-limit', '2GiB', '--format', 'csv'], { timeoutS: 1200, cwd: work });
    if (q.failed) {
      console.log(`   ${name.padEnd(32)} ${q.failed}`);
      heads.push(`${name} failed`);
      continue;
    }
    const [, first] = q.stdout.trim().split('\n');
    console.log(
      `   ${name.padEnd(32)} ${f2(q.wall_s)} s wall, ${f2(q.cpu_s)} s CPU   peak RSS ${q.peak_rss_mib.toFixed(0)} MiB   (memory_limit 2 GiB; first row ${first})`,
    );
    heads.push(
      `${name} ${f2(q.wall_s)} s = ${f2(q.wall_s / 10)}x the 10 s target (CPU ${f2(q.cpu_s)} s, peak RSS ${q.peak_rss_mib.toFixed(0)} MiB)`,
    );
  }
  console.log(`   HEADLINE B (iolineage sql end to end): ${heads.join('; ')}`);
}

async function main() {
  const roles = {
    'arrow-write': roleArrowWrite,
    'parquet-write': roleParquetWrite,
    'make-dataset': roleMakeDataset,
  };
  if (roles[role]) return roles[role](args);
  const nums = (role === 'A' || role === 'B' ? args.slice(1) : args).map(Number);
  const [k = 200, partitions = 100, rowsPerPartition = 1_000_000] = role === 'B' ? [undefined, ...nums] : nums;
  const rounds = Number(process.env.ROUNDS ?? 3);
  const tmp = mkdtempSync(join(tmpdir(), 'iol-bench-parquet-'));
  try {
    const out = analyse(tmp);
    if (role !== 'B') partA(tmp, out, k, rounds);
    if (role !== 'A') partB(tmp, out, partitions, rowsPerPartition);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
