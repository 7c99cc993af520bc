// Disk-image benchmark: image_map of big qcow2 images next to `qemu-img map --output=json` on the
// same files in the same run, and the guest view read sequentially next to `qemu-img convert -O raw`.
// Images are made here with qemu-img/qemu-io in a temporary directory (sparse; a few hundred MB on disk).
//   prealloc: 16 GiB, 4 KiB clusters, preallocation=metadata (4M allocated clusters, 32 MiB of L2 tables)
//   fragmented: 1 GiB, 4 KiB clusters, every other cluster written (131072 data extents)
//   compressed: 256 MiB converted with -c, 64 KiB clusters (4096 compressed clusters)
import { spawnSync, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const have = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
if (!have('qemu-img')) {
  console.log('bench/image: qemu-img not installed; nothing to compare with');
  process.exit(0);
}
const haveTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'iol-bench-image-'));
const q = (...a) => execFileSync('qemu-img', a, { stdio: ['ignore', 'ignore', 'inherit'] });
try {
  const images = [];
  // prealloc
  const pre = join(dir, 'prealloc.qcow2');
  q('create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata,cluster_size=4096', pre, '16G');
  images.push(['prealloc 16G/4K', pre, 16 * 2 ** 30]);
  // fragmented: a sparse raw with every other 4 KiB block written, converted
  const raw = join(dir, 'frag.raw');
  const fd = openSync(raw, 'w');
  const blk = new Uint8Array(4096);
  for (let i = 0; i < 262144; i += 2) {
    blk.fill((i >> 1) & 0xff || 1);
    writeSync(fd, blk, 0, 4096, i * 4096);
  }
  ftruncateSync(fd, 2 ** 30);
  closeSync(fd);
  const frag = join(dir, 'frag.qcow2');
  q('convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4096', raw, frag);
  rmSync(raw);
  images.push(['fragmented 1G/4K', frag, 2 ** 30]);
  // compressed
  const craw = join(dir, 'c.raw');
  const fd2 = openSync(craw, 'w');
  const chunk = new Uint8Array(1 << 20);
  let x = 12345;
  for (let m = 0; m < 256; m++) {
    for (let i = 0; i < chunk.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      chunk[i] = (i & 0x3ff) < 512 ? x >>> 24 : m;
    }
    writeSync(fd2, chunk, 0, chunk.length, m << 20);
  }
  closeSync(fd2);
  const comp = join(dir, 'c.qcow2');
  q('convert', '-c', '-f', 'raw', '-O', 'qcow2', craw, comp);
  rmSync(craw);
  images.push(['compressed 256M/64K', comp, 256 * 2 ** 20]);

  const ours = (mode, img) => {
    // module loading is not timed (node startup is not either; qemu-img's own startup is ~10 ms)
    const script = `
      const { mapImage } = await import(${JSON.stringify(join(dist, 'image/image-map.js'))});
      const { Qcow2BlockSource } = await import(${JSON.stringify(join(dist, 'image/qcow2-source.js'))});
      const t0 = process.hrtime.bigint();
      let out;
      if (${JSON.stringify(mode)} === 'map') {
        const { summary } = mapImage(${JSON.stringify(img)});
        out = summary.extents;
      } else {
        const s = Qcow2BlockSource.open(${JSON.stringify(img)});
        let sum = 0;
        for (let o = 0; o < s.size; o += 1 << 20) sum += s.read(o, Math.min(1 << 20, s.size - o))[0];
        s.close(); out = sum;
      }
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(JSON.stringify({ sec, out, rssKiB: process.resourceUsage().maxRSS }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const incumbent = (args) => {
    const t0 = process.hrtime.bigint();
    const r = haveTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', 'qemu-img', ...args], { encoding: 'utf8', maxBuffer: 1 << 30 })
      : spawnSync('qemu-img', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(r.stderr);
    const rssKiB = haveTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
    return { sec, rssKiB, stdout: r.stdout };
  };

  const rows = [];
  for (const [name, img, size] of images) {
    const a = ours('map', img);
    const b = incumbent(['map', '--output=json', img]);
    const qemuExtents = (b.stdout.match(/"start"/g) ?? []).length;
    rows.push([
      `map ${name}`,
      `${(size / 2 ** 30 / a.sec).toFixed(1)} GiB/s`,
      a.sec,
      a.rssKiB,
      `${a.out} rows`,
      b.sec,
      b.rssKiB,
      `${qemuExtents} rows`,
      b.sec / a.sec,
    ]);
  }
  for (const [name, img, size] of images.slice(1)) {
    const a = ours('read', img);
    const b = incumbent(['convert', '-O', 'raw', img, join(dir, 'out.raw')]);
    rmSync(join(dir, 'out.raw'), { force: true });
    rows.push([
      `read ${name}`,
      `${(size / 2 ** 20 / a.sec).toFixed(0)} MiB/s`,
      a.sec,
      a.rssKiB,
      '',
      b.sec,
      b.rssKiB,
      'convert -O raw',
      b.sec / a.sec,
    ]);
  }
  // address translation on the fragmented image's map (no incumbent: qemu has no lookup API)
  {
    const script = `
      const { mapImage } = await import(${JSON.stringify(join(dist, 'image/image-map.js'))});
      const { ImageMap } = await import(${JSON.stringify(join(dist, 'image/image-map-lookup.js'))});
      const { table } = mapImage(${JSON.stringify(frag)});
      let t0 = process.hrtime.bigint();
      const m = new ImageMap(table);
      const build = Number(process.hrtime.bigint() - t0) / 1e9;
      let x = 1, s = 0;
      t0 = process.hrtime.bigint();
      for (let i = 0; i < 1e6; i++) { x = (x * 1103515245 + 12345) >>> 0; m.forEachGuestPiece(x % (2 ** 30 - 65536), 16384, (g, l, st, d, h) => { s += h; }); }
      const g2h = Number(process.hrtime.bigint() - t0) / 1e9;
      t0 = process.hrtime.bigint();
      for (let i = 0; i < 1e6; i++) { x = (x * 1103515245 + 12345) >>> 0; m.forEachHostPiece(0, x % (2 ** 29), 16384, (g) => { s += g; }); }
      const h2g = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(JSON.stringify({ rows: m.length, build, g2h, h2g, rssKiB: process.resourceUsage().maxRSS, s: s > 0 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const o = JSON.parse(r.stdout.trim());
    rows.push([
      `ImageMap build (${o.rows} rows)`,
      `${(o.rows / o.build / 1e6).toFixed(2)} M rows/s`,
      o.build,
      o.rssKiB,
      '',
      NaN,
      NaN,
      'n/a',
      NaN,
    ]);
    rows.push(['1M guestToHost (16 KiB)', `${(1e6 / o.g2h / 1e6).toFixed(2)} M/s`, o.g2h, o.rssKiB, '', NaN, NaN, 'n/a', NaN]);
    rows.push(['1M hostToGuest (16 KiB)', `${(1e6 / o.h2g / 1e6).toFixed(2)} M/s`, o.h2g, o.rssKiB, '', NaN, NaN, 'n/a', NaN]);
  }
  const head = ['task', 'iolineage', 'ours s', 'ours peak RSS', '', 'qemu-img s', 'qemu peak RSS', '', 'qemu/ours'];
  const fmt = (r) =>
    [
      r[0].padEnd(26),
      String(r[1]).padStart(11),
      Number(r[2]).toFixed(3).padStart(8),
      `${(r[3] / 1024).toFixed(0)} MiB`.padStart(14),
      String(r[4]).padStart(12),
      (Number.isFinite(r[5]) ? Number(r[5]).toFixed(3) : 'n/a').padStart(10),
      (Number.isFinite(r[6]) ? `${(r[6] / 1024).toFixed(0)} MiB` : 'n/a').padStart(14),
      String(r[7]).padStart(16),
      (Number.isFinite(r[8]) ? `${Number(r[8]).toFixed(2)}x` : '').padStart(10),
    ].join(' ');
  console.log(
    [
      head[0].padEnd(26),
      head[1].padStart(11),
      head[2].padStart(8),
      head[3].padStart(14),
      ''.padStart(12),
      head[5].padStart(10),
      head[6].padStart(14),
      ''.padStart(16),
      head[8].padStart(10),
    ].join(' '),
  );
  for (const r of rows) console.log(fmt(r));
  console.log(
    '(ratio > 1: iolineage faster. qemu-img map also asks the host file system about holes inside allocated clusters; read = whole guest disk sequentially in 1 MiB reads vs qemu-img convert -O raw to a file)',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
