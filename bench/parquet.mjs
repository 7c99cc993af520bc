// Parquet and SQL benchmark (issue 14's speed clause), two parts.
//
// A. Export of a big analyze output: the tables of `iolineage analyze data/m128-buffered` replayed
//    K times (default 200: about the 10M+10M block events of bench/analyze-e2e.mjs, which replays
//    the same capture; ~2M application I/Os, ~18M rows over all tables). Each replay shifts every
//    id column by k x 2^20 and every *_ns column by k x 1000 s, so ids stay unique and joins hold;
//    other values repeat, as in analyze-e2e's replay. Measured, each in its own child process:
//    writing the Arrow files (what analyze does), writing Parquet from the same in-memory tables
//    (analyze --parquet), and `iolineage export` of the Arrow files (read + write). Sizes of both.
// B. DuckDB over a 100M-row lineage dataset in 100 partitions (host=h0..h9/vm=vm0/run=r000..r099),
//    with an app_io dataset of as many rows, made by replaying the capture's lineage and app_io
//    rows in DuckDB (ids shifted by the replay's index x the capture's app_io rows, times by
//    1000 s per replay), written by the export code's COPY options. Queries, each in a child
//    process with DuckDB's memory_limit at 2 GiB (spilling to a temp folder): a group-by of bytes
//    per outcome (the lineage's cause) at each layer, and a join of lineage with app_io (top files
//    by host bytes). Wall time and peak RSS per query.
//
// Usage: node bench/parquet.mjs [K] [PARTITIONS] [ROWS_PER_PARTITION]   (default 200 100 1000000)
//        node bench/parquet.mjs A|B ...   runs one part
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
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

/** Run this script with a role in a child process under /usr/bin/time; its JSON line and peak RSS. */
function child(roleArgs, timeoutS = 3600) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, '--expose-gc', SELF, ...roleArgs], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
  });
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (r.error || r.signal) return { failed: `did not finish within ${timeoutS} s (${r.error?.message ?? r.signal})` };
  if (r.status !== 0) throw new Error(`bench/parquet.mjs ${roleArgs[0]}: exit status ${r.status}: ${r.stderr}`);
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  return { ...(line ? JSON.parse(line) : {}), wall_s: m ? Number(m[1]) : NaN, peak_rss_mib: m ? Number(m[2]) / 1024 : NaN };
}

const seconds = (t0) => (performance.now() - t0) / 1000;
/** CPU seconds (user + system, all threads: DuckDB's too) used by this process so far. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

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
          const values = b.values.slice();
          if (values instanceof BigInt64Array) {
            const d = shift === 'ns' ? BigInt(r) * SPAN_NS : BigInt(r * ID_STRIDE);
            for (let i = 0; i < values.length; i++) values[i] += d;
          } else {
            const d = r * ID_STRIDE;
            for (let i = 0; i < values.length; i++) values[i] += d;
          }
          batches.push(new b.constructor({ length: b.length, nullCount: b.nullCount, type: b.type, validity: b.validity, values }));
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
  const { exportTables, tableInputs } = await import(join(ROOT, 'dist', 'export', 'export-tables.js'));
  let t0 = performance.now();
  const tables = await replayedTables(out, Number(k));
  const build = seconds(t0);
  t0 = performance.now();
  const c0 = cpuSeconds();
  await exportTables(tableInputs(tables), undefined, dest, { format: 'parquet' });
  console.log(JSON.stringify({ build_s: build, write_s: seconds(t0), cpu_s: cpuSeconds() - c0, bytes: treeBytes(dest, '.parquet') }));
}

async function roleExportFiles([, src, dest]) {
  const { exportDir } = await import(join(ROOT, 'dist', 'export', 'export-tables.js'));
  const t0 = performance.now();
  const c0 = cpuSeconds();
  await exportDir(src, dest, { format: 'parquet' });
  console.log(JSON.stringify({ export_s: seconds(t0), cpu_s: cpuSeconds() - c0, bytes: treeBytes(dest, '.parquet') }));
}

/** Part B's dataset: lineage and app_io replayed into PARTITIONS partitions of ROWS rows. */
async function roleMakeDataset([, out, ds, partitions, rowsPerPartition]) {
  const { SqlSession } = await import(join(ROOT, 'dist', 'sql', 'sql-session.js'));
  const { copySelectToFile } = await import(join(ROOT, 'dist', 'export', 'copy-to-file.js'));
  const { mkdirSync } = await import('node:fs');
  const s = await SqlSession.open({ memoryLimit: '2GiB', tempDirectory: join(ds, '..', 'duckdb-tmp') });
  await s.addDir(out);
  await s.query('CREATE TABLE base_lineage AS SELECT * FROM lineage');
  await s.query('CREATE TABLE base_app_io AS SELECT * FROM app_io');
  const n = Number((await s.query('SELECT count(*) AS n FROM base_app_io')).getRowObjectsJS()[0].n);
  const per = Math.ceil(Number(rowsPerPartition) / n);
  const t0 = performance.now();
  for (let p = 0; p < Number(partitions); p++) {
    const host = `h${p % 10}`,
      run = `r${String(p).padStart(3, '0')}`;
    const g = `(${p * per} + k)`;
    const times = { base_lineage: ['app_start_ns', 'app_end_ns'], base_app_io: ['ts_ns'] };
    const replay = (
      table,
      idCols,
    ) => `SELECT t.* REPLACE (${[...idCols.map((c) => `${c} + ${g} * ${n} AS ${c}`), ...times[table].map((c) => `${c} + ${g} * ${SPAN_NS} AS ${c}`)].join(', ')}),
      '${host}' AS host, '${run}' AS run FROM ${table} AS t, range(${per}) AS replay(k)`;
    for (const [table, name, ids] of [
      ['base_lineage', 'lineage', ['app_id']],
      ['base_app_io', 'app_io', ['id']],
    ]) {
      const dir = join(ds, name, `host=${host}`, 'vm=vm0', `run=${run}`);
      mkdirSync(dir, { recursive: true });
      const select = `${replay(table, ids)} LIMIT ${rowsPerPartition}`;
      await copySelectToFile(s.connection, select, join(dir, `${name}.parquet`), { format: 'parquet' });
    }
  }
  s.close();
  console.log(
    JSON.stringify({
      make_s: seconds(t0),
      replays_per_partition: per,
      lineage_bytes: treeBytes(join(ds, 'lineage'), '.parquet'),
      app_io_bytes: treeBytes(join(ds, 'app_io'), '.parquet'),
    }),
  );
}

const QUERIES = {
  'bytes-per-outcome-per-layer': `SELECT op, outcome, count(*) AS ios, sum(app_bytes) AS app_bytes, sum(guest_bytes) AS guest_bytes, sum(host_bytes) AS host_bytes
    FROM lineage GROUP BY op, outcome ORDER BY op, outcome`,
  'join-lineage-app_io-top-files': `SELECT a.path, count(*) AS ios, sum(l.host_bytes) AS host_bytes
    FROM lineage l JOIN app_io a ON a.run = l.run AND a.host = l.host AND a.id = l.app_id
    GROUP BY a.path ORDER BY host_bytes DESC, a.path LIMIT 10`,
};

async function roleQuery([, ds, name]) {
  const { SqlSession } = await import(join(ROOT, 'dist', 'sql', 'sql-session.js'));
  const s = await SqlSession.open({ memoryLimit: '2GiB', tempDirectory: join(ds, '..', 'duckdb-tmp') });
  await s.addDir(ds);
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const r = await s.query(QUERIES[name]);
  const rows = r.getRowObjectsJS();
  const query_s = seconds(t0);
  const cpu_s = cpuSeconds() - c0;
  const count = Number((await s.query('SELECT count(*) AS n FROM lineage')).getRowObjectsJS()[0].n);
  s.close();
  console.log(
    JSON.stringify({
      query_s,
      cpu_s,
      result_rows: rows.length,
      lineage_rows: count,
      first: JSON.stringify(rows[0], (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
    }),
  );
}

function analyse(tmp) {
  const out = join(tmp, 'analysis');
  const r = spawnSync(process.execPath, [CLI, 'analyze', join(ROOT, 'data', 'm128-buffered'), '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`analyze: exit status ${r.status}: ${r.stderr}`);
  return out;
}

async function main() {
  const roles = {
    'arrow-write': roleArrowWrite,
    'parquet-write': roleParquetWrite,
    'export-files': roleExportFiles,
    'make-dataset': roleMakeDataset,
    query: roleQuery,
  };
  if (roles[role]) return roles[role](args);
  const parts = role === 'A' || role === 'B' ? [role] : ['A', 'B'];
  const nums = (role === 'A' || role === 'B' ? args.slice(1) : args).map(Number);
  const [k = 200, partitions = 100, rowsPerPartition = 1_000_000] = nums;
  const tmp = mkdtempSync(join(tmpdir(), 'iol-bench-parquet-'));
  try {
    const out = analyse(tmp);
    if (parts.includes('A')) {
      const arrowDir = mkdtempSync(join(tmp, 'arrow-'));
      const a = child(['arrow-write', out, arrowDir, String(k)]);
      const p = child(['parquet-write', out, mkdtempSync(join(tmp, 'parquet-')), String(k)]);
      const e = child(['export-files', arrowDir, mkdtempSync(join(tmp, 'export-'))]);
      console.log(`A. analyze output of data/m128-buffered replayed ${k}x: ${(a.rows / 1e6).toFixed(1)}M rows in all tables`);
      const fig = (x, wall) => `${wall.toFixed(2)} s wall, ${x.cpu_s.toFixed(2)} s CPU`;
      console.log(
        `   write Arrow files (analyze)             ${fig(a, a.write_s)}   ${(a.bytes / MiB).toFixed(0)} MiB   peak RSS ${a.peak_rss_mib.toFixed(0)} MiB (replaying the tables took ${a.build_s.toFixed(2)} s)`,
      );
      console.log(
        `   write Parquet, zstd (analyze --parquet) ${fig(p, p.write_s)}   ${(p.bytes / MiB).toFixed(0)} MiB   peak RSS ${p.peak_rss_mib.toFixed(0)} MiB`,
      );
      console.log(
        `   iolineage export of the Arrow files     ${fig(e, e.export_s)}   (reads and writes)   peak RSS ${e.peak_rss_mib.toFixed(0)} MiB`,
      );
      console.log(
        `   Parquet/Arrow: wall ${(p.write_s / a.write_s).toFixed(2)}x, CPU ${(p.cpu_s / a.cpu_s).toFixed(2)}x, size ${(p.bytes / a.bytes).toFixed(3)}x`,
      );
      rmSync(arrowDir, { recursive: true, force: true });
    }
    if (parts.includes('B')) {
      const ds = join(tmp, 'dataset');
      const m = child(['make-dataset', out, ds, String(partitions), String(rowsPerPartition)]);
      console.log(
        `B. dataset: ${partitions} partitions x ${rowsPerPartition} rows of lineage and of app_io (made in ${m.make_s.toFixed(0)} s): lineage ${(m.lineage_bytes / MiB).toFixed(0)} MiB, app_io ${(m.app_io_bytes / MiB).toFixed(0)} MiB of Parquet`,
      );
      for (const name of Object.keys(QUERIES)) {
        const q = child(['query', ds, name], 1200);
        if (q.failed) {
          console.log(`   ${name.padEnd(32)} ${q.failed}`);
          continue;
        }
        console.log(
          `   ${name.padEnd(32)} ${q.query_s.toFixed(2)} s wall, ${q.cpu_s.toFixed(2)} s CPU   peak RSS ${q.peak_rss_mib.toFixed(0)} MiB   (memory_limit 2 GiB; ${q.lineage_rows} lineage rows; first row ${q.first})`,
        );
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
