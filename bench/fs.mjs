// File-system mapping benchmark: the full fs_map of an ext4 image holding 100k files (made with
// `mke2fs -t ext4 -d`, 3 GiB), side by side in the same run with debugfs answering icheck + ncheck
// for 10k sampled blocks of the same image; then 1M lookups (sector -> owner) on the map.
// The image is cached in the temp dir between runs (IOL_BENCH_FS_KEEP=0 removes it at the end).
// CPU times are printed beside wall times: on a shared, loaded machine the wall times mostly
// measure waiting for a CPU (the load average is printed in the header).
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const have = (cmd, arg = '-V') => spawnSync(cmd, [arg], { stdio: 'ignore' }).error === undefined;
if (!have('mke2fs') || !have('debugfs')) {
  console.log('bench/fs: e2fsprogs (mke2fs, debugfs) not installed; nothing to compare with');
  process.exit(0);
}

const FILES = Number(process.env.IOL_BENCH_FS_FILES ?? 100_000);
const dir = join(tmpdir(), `iol-bench-fs-${FILES}`);
const img = join(dir, 'fs.img');
mkdirSync(dir, { recursive: true });
if (!existsSync(img)) {
  const src = join(dir, 'src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src);
  // 100 directories of 1000 files, sizes 0..64 KiB (a few hundred bytes on average, some bigger)
  let x = 1;
  const buf = Buffer.alloc(65536, 0x61);
  for (let d = 0; d < Math.ceil(FILES / 1000); d++) {
    const dd = join(src, `dir${d}`);
    mkdirSync(dd);
    for (let i = 0; i < 1000 && d * 1000 + i < FILES; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const size = (x >>> 16) % 16 === 0 ? (x >>> 8) % 65536 : (x >>> 20) % 2048;
      writeFileSync(join(dd, `file_${i}_with_some_name`), buf.subarray(0, size));
    }
  }
  execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, img, '3G'], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(src, { recursive: true, force: true });
}

// ours, in a child process so its peak RSS is its own
const child = `
  const { FileBlockSource } = await import(${JSON.stringify(join(dist, 'io/block-source.js'))});
  const { buildFsMap } = await import(${JSON.stringify(join(dist, 'fs/ext/fs-map-builder.js'))});
  const base = process.memoryUsage().rss;
  gc(); await new Promise((r) => setTimeout(r, 100)); gc(); const m0 = process.memoryUsage(); const heap0 = m0.heapUsed + m0.arrayBuffers;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const src = new FileBlockSource(${JSON.stringify(img)});
  const { map } = buildFsMap(src);
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  const rssAfterBuild = process.resourceUsage().maxRSS * 1024;
  gc(); await new Promise((r) => setTimeout(r, 100)); gc(); const m1 = process.memoryUsage(); const retained = m1.heapUsed + m1.arrayBuffers - heap0;
  // 1M lookups of random allocated sectors (uniform over extents, so the path cache rarely
  // helps): allocation-free row search, then full answers
  let x = 7; const N = 1_000_000; const sectors = new Float64Array(N);
  const c = map.columns; const spb = map.geometry.blockSize / 512;
  for (let i = 0; i < N; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; const r = x % map.rows; sectors[i] = (c.fsBlock[r] + (x >>> 7) % c.blocks[r]) * spb; }
  let hits = 0;
  // one warm-up pass of each (JIT), then the timed passes
  for (let i = 0; i < N; i++) map.findRowOfSector(sectors[i]);
  for (let i = 0; i < N / 10; i++) map.lookupSectors(sectors[i], 8);
  const t2 = process.hrtime.bigint(); const u2 = process.cpuUsage();
  for (let i = 0; i < N; i++) if (map.findRowOfSector(sectors[i]) >= 0) hits++;
  const t3 = process.hrtime.bigint(); const u3 = process.cpuUsage(u2); const u3b = process.cpuUsage();
  let pieces = 0;
  for (let i = 0; i < N; i++) pieces += map.lookupSectors(sectors[i], 8).length;
  const t4 = process.hrtime.bigint(); const u4 = process.cpuUsage(u3b);
  // 10k sampled blocks for debugfs: every k-th data block
  const sample = [];
  const step = Math.max(1, Math.floor(map.rows / 10000));
  for (let r = 0; r < map.rows && sample.length < 10000; r += step) sample.push(c.fsBlock[r]);
  const rss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ mapS: Number(t1 - t0) / 1e9, rows: map.rows, files: map.summary.files, paths: map.paths.inode.length,
    findRate: N / (Number(t3 - t2) / 1e9), lookupRate: N / (Number(t4 - t3) / 1e9),
    mapCpu: (c1.user + c1.system) / 1e6, findCpuRate: N / ((u3.user + u3.system) / 1e6), lookupCpuRate: N / ((u4.user + u4.system) / 1e6), hits, pieces, peakRss: rssAfterBuild, peakRssAll: rss, baseRss: base, retained, sample }));
`;
const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child], { encoding: 'utf8', maxBuffer: 1 << 26 });
if (r.status !== 0) {
  console.error(r.stderr);
  process.exit(1);
}
const ours = JSON.parse(r.stdout);

// debugfs: icheck of the 10k blocks, then ncheck of the inodes found (what `lookup` answers),
// each under /usr/bin/time for CPU time and peak RSS when it is installed
const timed = (args) => {
  const haveTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { stdio: 'ignore' }).status === 0;
  const t0 = process.hrtime.bigint();
  const r = haveTime
    ? spawnSync('/usr/bin/time', ['-f', '@@ %U %S %M', 'debugfs', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync('debugfs', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /@@ ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  return { out: r.stdout, status: r.status, wall, cpu: m ? Number(m[1]) + Number(m[2]) : NaN, rss: m ? Number(m[3]) * 1024 : NaN };
};
const ic = timed(['-R', `icheck ${ours.sample.join(' ')}`, img]);
const inodes = [
  ...new Set(
    ic.out
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[1])
      .filter((v) => /^\d+$/.test(v ?? '')),
  ),
];
const nc = timed(['-R', `ncheck ${inodes.join(' ')}`, img]);
const dfsS = ic.wall + nc.wall;
const dfsCpu = ic.cpu + nc.cpu;
const debugfsRss = Math.max(ic.rss, nc.rss);

const mib = (b) => (b / 2 ** 20).toFixed(1) + ' MiB';
const rows = [
  ['what', 'iolineage', 'debugfs', 'ratio (debugfs / ours)'],
  [
    `full fs_map (${ours.files} files, ${ours.rows} extents) vs icheck+ncheck of ${ours.sample.length} blocks, wall`,
    `${ours.mapS.toFixed(2)} s`,
    `${dfsS.toFixed(2)} s (icheck ${ic.wall.toFixed(2)} + ncheck ${nc.wall.toFixed(2)})`,
    `${(dfsS / ours.mapS).toFixed(1)}x`,
  ],
  ['same, CPU time (user + system)', `${ours.mapCpu.toFixed(2)} s`, `${dfsCpu.toFixed(2)} s`, `${(dfsCpu / ours.mapCpu).toFixed(1)}x`],
  [
    'peak RSS (ours: at start, node + modules; after the build; after the lookups too)',
    `${mib(ours.baseRss)}; ${mib(ours.peakRss)}; ${mib(ours.peakRssAll)}`,
    Number.isFinite(debugfsRss) ? mib(debugfsRss) : 'n/a',
    '',
  ],
  [
    'memory per extent: map retained after GC (heap + array buffers) / extents',
    `${(ours.retained / ours.rows).toFixed(0)} bytes (${mib(ours.retained)})`,
    '',
    '',
  ],
  ['peak RSS growth during the build / extents', `${((ours.peakRss - ours.baseRss) / ours.rows).toFixed(0)} bytes`, '', ''],
  [
    'findRowOfSector (allocation-free): wall / CPU',
    `${(ours.findRate / 1e6).toFixed(1)} / ${(ours.findCpuRate / 1e6).toFixed(1)} M lookups/s`,
    '',
    '',
  ],
  [
    'lookupSectors(sector, 8) with owner objects and paths: wall / CPU',
    `${(ours.lookupRate / 1e6).toFixed(2)} / ${(ours.lookupCpuRate / 1e6).toFixed(2)} M lookups/s`,
    '',
    '',
  ],
];
const load = (await import('node:os')).loadavg()[0].toFixed(1);
console.log(
  `bench/fs: ${img} (${(statSync(img).size / 2 ** 30).toFixed(1)} GiB apparent), node ${process.version}, load average ${load} on ${(await import('node:os')).cpus().length} CPUs`,
);
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const row of rows) console.log(row.map((c, i) => String(c).padEnd(w[i])).join('  '));
if (ic.status !== 0 || nc.status !== 0) console.log('warning: debugfs exited with', ic.status, nc.status);
if (process.env.IOL_BENCH_FS_KEEP === '0') rmSync(dir, { recursive: true, force: true });
