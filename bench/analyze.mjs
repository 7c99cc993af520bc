// Benchmark of the correlation (iolineage analyze's core) on generated inputs in the shape of a
// real capture: random 4 KiB reads and writes over a set of fragmented files, guest read misses
// inside the calls (some with readahead), buffered writes written back seconds later in merged
// runs, journal and metadata writes, a raw image in a fragmented host file, host requests
// (cache=none) plus host journal/metadata. Each scale runs in its own process (peak RSS).
// Incumbent: the same app → guest join as a notebook would write it with Arquero (4 KiB page
// keys, equi-join, then the time filter) on a 1/20 sample, in the same run.
// Usage: node bench/analyze.mjs [SCALE...]   (scale 1 = 1M app I/Os, ~10M guest and ~10M host block events)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../dist/util/seeded-random.js';

const EVENTS_PER_REQUEST = 5; // Q, G, I, D, C per request in a tracefs capture of blk-mq

async function dist(p) {
  return import(new URL(`../dist/${p}`, import.meta.url).href);
}

const rng = mulberry32;

class Grow {
  constructor(C, n = 1 << 16) {
    this.C = C;
    this.a = new C(n);
    this.n = 0;
  }
  push(v) {
    if (this.n === this.a.length) {
      const b = new this.C(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  out() {
    return this.a.slice(0, this.n);
  }
}

/** Generate the inputs of analyzeLayers for `nApp` application I/Os. */
export async function generate(nApp, seed = 1) {
  const { RangeMap } = await dist('correlate/range-map.js');
  const { RegionIndex } = await dist('correlate/region-index.js');
  const r = rng(seed);
  const BS = 4096,
    FILES = 64,
    FILE_BLOCKS = 16384; // 64 files of 64 MiB
  const META_END = 64 << 20; // metadata + journal live in the first 64 MiB of the guest disk
  // file extents: 8 extents per file, scattered after the metadata area
  const fileMaps = [];
  let next = META_END;
  for (let f = 0; f < FILES; f++) {
    const s = [],
      d = [],
      l = [];
    for (let e = 0; e < 8; e++) {
      s.push(e * (FILE_BLOCKS / 8) * BS);
      d.push(next);
      l.push((FILE_BLOCKS / 8) * BS);
      next += (FILE_BLOCKS / 8) * BS + (1 + Math.floor(r() * 16)) * BS;
    }
    fileMaps.push(new RangeMap(s, d, l));
  }
  const diskEnd = next;
  // application I/Os: one every 40 µs, calls take 10-30 µs (plus the disk time on misses)
  const app = {
    vm: 'vm0',
    length: nApp,
    id: new Int32Array(nApp),
    op: new Uint8Array(nApp),
    opKey: new Uint8Array(nApp),
    opNames: ['read', 'write'],
    file: new Int32Array(nApp),
    files: Array.from({ length: FILES }, (_, i) => `/mnt/data/f${i}`),
    offset: new Float64Array(nApp),
    bytes: new Float64Array(nApp).fill(BS),
    t0: new Float64Array(nApp),
    t1: new Float64Array(nApp),
    direct: new Uint8Array(nApp),
    baseNs: 1_700_000_000_000_000_000n,
  };
  const g = {
    s: new Grow(Float64Array),
    e: new Grow(Float64Array),
    op: new Grow(Uint8Array),
    is: new Grow(Float64Array),
    c: new Grow(Float64Array),
  };
  const gpush = (s, e, op, is, c) => {
    g.s.push(s);
    g.e.push(e);
    g.op.push(op);
    g.is.push(is);
    g.c.push(c);
  };
  const pendingWrites = []; // [diskAddr, time]
  let t = 0;
  for (let i = 0; i < nApp; i++) {
    app.id[i] = i;
    const isRead = r() < 0.5;
    app.op[i] = isRead ? 0 : 1;
    app.opKey[i] = app.op[i];
    const f = Math.floor(r() * FILES),
      blk = Math.floor(r() * FILE_BLOCKS);
    app.file[i] = f;
    app.offset[i] = blk * BS;
    const disk = fileMaps[f].dst[blk >> 11] + (blk & 2047) * BS;
    t += 40_000 * (0.5 + r());
    app.t0[i] = t;
    let dur = 10_000 + r() * 20_000;
    if (isRead && r() < 0.6) {
      // miss: a guest read (sometimes with 12 KiB of readahead) inside the call
      const is = t + 3_000,
        c = is + 80_000 + r() * 40_000;
      gpush(disk, disk + (r() < 0.3 ? 4 * BS : BS), 0, is, c);
      dur = c - t + 5_000;
    } else if (!isRead) pendingWrites.push(disk, t);
    app.t1[i] = t + dur;
    // every 5000 I/Os: write-back of the pending writes, sorted and merged, plus journal and metadata
    if (pendingWrites.length >= 10_000 || i === nApp - 1) {
      const order = [];
      for (let k = 0; k < pendingWrites.length; k += 2) order.push(pendingWrites[k]);
      order.sort((a, b) => a - b);
      let wt = t + 1_000_000;
      for (let k = 0; k < order.length; k++) {
        let s = order[k],
          e = s + BS;
        while (k + 1 < order.length && order[k + 1] <= e) {
          e = Math.max(e, order[k + 1] + BS);
          k++;
        }
        gpush(s, e, 1, wt, wt + 60_000);
        wt += 20_000;
      }
      for (let k = 0; k < order.length * 2.5; k++) {
        const a = Math.floor(r() * (META_END / BS)) * BS;
        gpush(a, a + BS * (1 + Math.floor(r() * 4)), 1, wt, wt + 40_000);
        wt += 15_000;
      }
      pendingWrites.length = 0;
    }
  }
  const nG = g.s.n;
  const guest = {
    length: nG,
    id: Int32Array.from({ length: nG }, (_, i) => i),
    start: g.s.out(),
    end: g.e.out(),
    op: g.op.out(),
    issue: g.is.out(),
    complete: g.c.out(),
    readahead: new Uint8Array(nG),
    meta: new Uint8Array(nG),
    baseNs: 5_000_000_000n,
  };
  // guest fs regions: metadata area (journal + kinds) and the file extents
  const rs = [0, 32 << 20],
    re = [32 << 20, META_END],
    rl = [0, 1];
  const causes = [
    { read: 'fs_metadata:inode_table', write: 'fs_metadata:inode_table', vm: 0 },
    { read: 'journal', write: 'journal', vm: 0 },
    { read: 'readahead', write: 'writeback', vm: 0 },
  ];
  for (const m of fileMaps)
    for (let k = 0; k < m.size; k++) {
      rs.push(m.dst[k]);
      re.push(m.dst[k] + m.len[k]);
      rl.push(2);
    }
  const guestRegions = { index: new RegionIndex(rs, re, rl), causes };
  // image file on the host: 16 extents of the guest disk size, after 128 MiB of host metadata
  const ext = 16,
    per = Math.ceil(diskEnd / ext / BS) * BS;
  const hs = [],
    hd = [],
    hl = [];
  let hnext = 128 << 20;
  for (let k = 0; k < ext; k++) {
    hs.push(k * per);
    hd.push(hnext);
    hl.push(per);
    hnext += per + (1 + Math.floor(r() * 64)) * BS;
  }
  const imageFile = new RangeMap(hs, hd, hl);
  const guestToHost = RangeMap.identity(ext * per).then(imageFile);
  // host requests: each guest request's pieces, 20-50 µs later inside it (cache=none), plus host journal/metadata
  const h = {
    s: new Grow(Float64Array),
    e: new Grow(Float64Array),
    op: new Grow(Uint8Array),
    is: new Grow(Float64Array),
    c: new Grow(Float64Array),
  };
  const HOST_OFFSET = 1000n; // host clock = guest clock + 1000 ns
  for (let i = 0; i < nG; i++) {
    guestToHost.translate(guest.start[i], guest.end[i] - guest.start[i], (dst, len) => {
      h.s.push(dst);
      h.e.push(dst + len);
      h.op.push(guest.op[i]);
      h.is.push(guest.issue[i] + 1000 + 2_000);
      h.c.push(guest.complete[i] + 1000 - 2_000);
    });
    if (i % 4 === 0) {
      const a = Math.floor(r() * ((128 << 20) / BS)) * BS;
      const tt = guest.issue[i] + 1000;
      h.s.push(a);
      h.e.push(a + BS);
      h.op.push(1);
      h.is.push(tt);
      h.c.push(tt + 30_000);
    }
  }
  const nH = h.s.n;
  const host = {
    length: nH,
    id: Int32Array.from({ length: nH }, (_, i) => i),
    start: h.s.out(),
    end: h.e.out(),
    op: h.op.out(),
    issue: h.is.out(),
    complete: h.c.out(),
    readahead: new Uint8Array(nH),
    meta: new Uint8Array(nH),
    baseNs: 5_000_000_000n,
  };
  const hostRegions = {
    index: RegionIndex.overlay(
      new RegionIndex([0, 64 << 20], [64 << 20, 128 << 20], [0, 1]),
      new RegionIndex(
        hd,
        hd.map((d, k) => d + hl[k]),
        hd.map(() => 2),
      ),
    ),
    causes: [
      { read: 'host_fs_metadata:inode_table', write: 'host_fs_metadata:inode_table', vm: -1 },
      { read: 'host_journal', write: 'host_journal', vm: -1 },
      { read: 'image_metadata', write: 'image_metadata', vm: 0 },
    ],
  };
  const vm = {
    vm: 'vm0',
    app,
    guest,
    fileMaps,
    guestRegions,
    appClock: { userNs: guest.baseNs - app.baseNs },
    guestToHost,
    hostClock: { userNs: HOST_OFFSET },
    hostDirect: true,
  };
  return { vm, host: { host, regions: hostRegions } };
}

async function child(scale) {
  const nApp = Math.round(1e6 * scale);
  const gen0 = performance.now();
  const { vm, host } = await generate(nApp);
  const genMs = performance.now() - gen0;
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const { analyzeLayers } = await dist('correlate/analysis.js');
  const tables = await dist('correlate/result-tables.js');
  const { buildSummary } = await dist('metrics/summary.js');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = analyzeLayers([vm], host);
  const tLink = performance.now();
  tables.linksAppGuestRows(res.vms, [vm]).finish();
  tables.linksGuestHostRows(res.guestHost, res.guestOf, [vm], host.host).finish();
  tables.lineageRows(res, [vm], host.host).finish();
  tables.attributionRows(res, [vm], host.host).finish();
  buildSummary(res, [vm], host.host);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  let linkedApp = 0;
  for (let a = 0; a < res.nApp; a++) if (res.lineage.guestRequests[a] > 0) linkedApp++;
  const out = {
    scale,
    nApp,
    guestRequests: vm.guest.length,
    hostRequests: host.host.length,
    guestEvents: vm.guest.length * EVENTS_PER_REQUEST,
    hostEvents: host.host.length * EVENTS_PER_REQUEST,
    genMs,
    linkMs: tLink - t0,
    totalMs: t1 - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    load1: (await import('node:os')).loadavg()[0],
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rssBeforeMiB: rssBefore / 2 ** 20,
    linkedApp,
  };
  if (scale <= 0.05) {
    // incumbent on the same inputs: Arquero page-key equi-join + time filter (app → guest reads only)
    const aq = await import('arquero');
    const BS = 4096;
    const appRows = { id: [], page: [], t0: [], t1: [] };
    for (let i = 0; i < vm.app.length; i++) {
      if (vm.app.op[i] !== 0) continue;
      vm.fileMaps[vm.app.file[i]].translate(vm.app.offset[i], BS, (d) => {
        appRows.id.push(i);
        appRows.page.push(d / BS);
        appRows.t0.push(vm.app.t0[i]);
        appRows.t1.push(vm.app.t1[i]);
      });
    }
    const gRows = { gid: [], page: [], is: [], c: [] };
    for (let k = 0; k < vm.guest.length; k++) {
      if (vm.guest.op[k] !== 0) continue;
      for (let p = vm.guest.start[k]; p < vm.guest.end[k]; p += BS) {
        gRows.gid.push(k);
        gRows.page.push(p / BS);
        gRows.is.push(vm.guest.issue[k]);
        gRows.c.push(vm.guest.complete[k]);
      }
    }
    const i0 = performance.now();
    const j = aq
      .table(appRows)
      .join(aq.table(gRows), 'page')
      .filter((d) => d.t0 <= d.is && d.c <= d.t1);
    const pairs = j.numRows();
    out.incumbentMs = performance.now() - i0;
    out.incumbentPairs = pairs;
    // ours, same join (app → guest only), on the same inputs
    const { fileSegments } = await dist('correlate/upper-segments.js');
    const { linkLayer } = await dist('correlate/layer-link.js');
    // (run twice: the first run pays the JIT warm-up, as Arquero's code is warm from its own use)
    for (let rep = 0; rep < 2; rep++) {
      const o0 = performance.now();
      const fsg = fileSegments(vm.app, vm.fileMaps);
      linkLayer(fsg.seg, { op: vm.app.op, t0: vm.app.t0, t1: vm.app.t1, sync: vm.app.direct }, vm.guest, {
        earlyNs: 0,
        lateNs: 0,
        syncWrites: false,
        readahead: true,
      });
      out.oursJoinMs = performance.now() - o0;
      out[`oursJoinMs${rep}`] = out.oursJoinMs;
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (!isMain) {
  // imported as a library (generate)
} else if (process.argv[2] === '--child') {
  await child(Number(process.argv[3]));
} else {
  const scales = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0.02, 0.1, 1];
  const rows = [];
  for (const s of scales) {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', fileURLToPath(import.meta.url), '--child', String(s)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (r.status !== 0) {
      console.log(`scale ${s} failed: ${r.stderr}`);
      process.exitCode = 1;
      continue;
    }
    rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  const f = (x, d = 1) => (x === undefined ? '-' : x.toFixed(d));
  console.log('iolineage analyze core (links, attribution, lineage, tables, summary) on generated capture-shaped inputs');
  console.log(
    'app I/Os | guest events | host events | correlate s (wall) | CPU s | events/CPU s | peak RSS MiB | load avg | Arquero join s (reads) | ours, same join s | ratio',
  );
  for (const r of rows) {
    const ev = r.nApp + r.guestEvents + r.hostEvents;
    console.log(
      `${r.nApp} | ${r.guestEvents} | ${r.hostEvents} | ${f(r.totalMs / 1000, 2)} | ${f(r.cpuMs / 1000, 2)} | ${f(ev / (r.cpuMs / 1000), 0)} | ${f(r.maxRssMiB, 0)} | ${f(r.load1, 1)} | ${f(r.incumbentMs && r.incumbentMs / 1000, 3)} | ${f(r.oursJoinMs && r.oursJoinMs / 1000, 3)} | ${r.incumbentMs ? f(r.incumbentMs / r.oursJoinMs, 2) + 'x' : '-'}`,
    );
  }
  console.log("(events = requests x 5: Q, G, I, D, C; the block/strace readers' parsing time is in their own benches)");
}
