/**
 * End to end on a real capture (test/fixtures/correlate/loop-direct, see its README): the links,
 * attribution and lineage are checked against ground truth that does not come from our readers —
 * the workload's own log of (file, offset, size, monotonic times), debugfs's block lists of the
 * guest files, and filefrag's extents of the image file recorded at capture time.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture, type AnalyzeOutput } from '../../src/analyze/analyze-capture.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { debugfsFileMap, fileRangeOnDisk, haveDebugfs, num, overlap, rows, type Ranges } from '../correlate/ground-truth.js';

const DIR = 'test/fixtures/correlate/loop-direct';
const MOUNT = '/mnt/data';

describe('analyze on a real loop-device capture (O_DIRECT workload, cache=none)', () => {
  let res: AnalyzeOutput;
  let tmp: string;
  let guestImg: string;
  const manifest = readManifest(DIR);
  const bs = manifest.guests[0]!.fs.block_size;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'iol-analyze-test-'));
    guestImg = join(tmp, 'guest.img');
    writeFileSync(guestImg, gunzipSync(readFileSync(join(DIR, 'vm0/fs.e2i.gz'))));
    res = await analyzeCapture(
      { kind: 'bundle', dir: DIR, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
      new IngestStats(),
    );
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('per-layer attribution sums equal the layer totals exactly', () => {
    const attr = rows(res.tables['attribution']!);
    for (const [layer, reqTable] of [
      ['guest', 'guest_requests'],
      ['host', 'host_requests'],
    ] as const) {
      let total = 0;
      for (const r of rows(res.tables[reqTable]!)) if (r['issue_ns'] !== null && r['sector'] !== null) total += num(r['bytes']);
      let sum = 0;
      for (const a of attr) if (a['layer'] === layer) sum += num(a['bytes']);
      expect(sum).toBe(total);
      expect(total).toBeGreaterThan(0);
    }
  });

  it('finds the mount point and estimates the app → guest clock offset like the workload log says', () => {
    const s = res.summary as {
      clocks: Record<string, { app_to_guest: { offset_ns: string; source: string } }>;
      mount_prefix: Record<string, { prefix: string }>;
    };
    expect(s.mount_prefix['vm0']!.prefix).toBe(MOUNT);
    const est = BigInt(s.clocks['vm0']!.app_to_guest.offset_ns);
    expect(s.clocks['vm0']!.app_to_guest.source).toBe('pairs');
    // ground truth: the workload read CLOCK_MONOTONIC around each call; strace printed CLOCK_REALTIME at entry
    const log = gunzipSync(readFileSync(join(DIR, 'vm0/workload.log.gz')))
      .toString()
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => l.split('\t'));
    const app = rows(res.tables['app_io']!).filter((r) => r['op'] === 'read' || r['op'] === 'write');
    const diffs: number[] = [];
    let j = 0;
    for (const w of log) {
      if (w[1] !== 'run') continue;
      while (j < app.length && !(app[j]!['path'] === w[3] && num(app[j]!['offset']) === Number(w[4]) && app[j]!['op'] === w[2])) j++;
      if (j === app.length) break;
      diffs.push(Number(BigInt(w[7]!) - (app[j]!['ts_ns'] as bigint) - est));
      j++;
    }
    expect(diffs.length).toBeGreaterThan(500);
    diffs.sort((a, b) => a - b);
    // the workload's own clock read happens within a few µs of strace's entry stamp
    expect(Math.abs(diffs[diffs.length >> 1]!)).toBeLessThan(50_000);
  });

  it.skipIf(!haveDebugfs)(
    'links each app I/O to guest bytes of the right file and offset (debugfs), covering >= 99% of guest data bytes',
    () => {
      const files = ['/f000', '/f001', '/f002', '/f003'];
      const maps = new Map(files.map((f) => [f, debugfsFileMap(guestImg, f)]));
      const dataRanges: Ranges = [];
      for (const m of maps.values()) for (const r of m) dataRanges.push([r.physical * bs, (r.physical + r.count) * bs]);
      const app = rows(res.tables['app_io']!);
      const guest = rows(res.tables['guest_requests']!);
      let linked = 0,
        right = 0;
      for (const l of rows(res.tables['links_app_guest']!)) {
        const a = app[l['upper_id'] as number]!,
          g = guest[l['lower_id'] as number]!;
        const p = String(a['path']);
        expect(p.startsWith(MOUNT + '/')).toBe(true);
        const map = maps.get(p.slice(MOUNT.length))!;
        const onDisk = fileRangeOnDisk(map, bs, num(a['offset']), num(a['bytes_done']));
        const gs = num(g['sector']) * 512;
        const ok = Math.min(num(l['bytes']), overlap(onDisk, gs, gs + num(g['bytes'])));
        linked += num(l['bytes']);
        right += ok;
      }
      expect(right).toBe(linked);
      // guest data-request bytes (requests that touch the workload files' blocks)
      let dataBytes = 0;
      for (const g of guest) {
        if (g['issue_ns'] === null || g['sector'] === null) continue;
        const gs = num(g['sector']) * 512;
        dataBytes += overlap(dataRanges, gs, gs + num(g['bytes']));
      }
      expect(dataBytes).toBeGreaterThan(1e6);
      expect(right / dataBytes).toBeGreaterThanOrEqual(0.99);
    },
  );

  it('links every O_DIRECT read to guest and host requests covering exactly its bytes', () => {
    const app = rows(res.tables['app_io']!);
    const lineage = rows(res.tables['lineage']!);
    const guestLinked = new Map<number, number>();
    for (const l of rows(res.tables['links_app_guest']!))
      guestLinked.set(l['upper_id'] as number, (guestLinked.get(l['upper_id'] as number) ?? 0) + num(l['bytes']));
    let n = 0;
    for (const [i, a] of app.entries()) {
      if (a['op'] !== 'read' || !a['direct'] || !(num(a['bytes_done']) > 0)) continue;
      n++;
      expect(guestLinked.get(i) ?? 0).toBe(num(a['bytes_done']));
      const lin = lineage[i]!;
      expect(lin['app_id']).toBe(i);
      expect(num(lin['host_bytes'])).toBe(num(a['bytes_done']));
      expect(lin['outcome']).toBe('read_disk');
    }
    expect(n).toBeGreaterThan(500);
  });

  it('links guest requests to host requests inside the image file where filefrag placed it', () => {
    // filefrag -v of the image at capture time: logical..:physical.. in 4 KiB blocks of the host fs
    const text = readFileSync(join(DIR, 'vm0/image.filefrag.txt'), 'utf8');
    const runs: { logical: number; physical: number; count: number }[] = [];
    for (const m of text.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+(\d+)\.\.\s*(\d+):/gm))
      runs.push({ logical: Number(m[1]), physical: Number(m[3]), count: Number(m[2]) - Number(m[1]) + 1 });
    expect(runs.length).toBeGreaterThan(3);
    const hostBs = manifest.host!.fs.block_size;
    const guest = rows(res.tables['guest_requests']!),
      host = rows(res.tables['host_requests']!);
    let linked = 0,
      right = 0;
    for (const l of rows(res.tables['links_guest_host']!)) {
      const g = guest[l['upper_id'] as number]!,
        h = host[l['lower_id'] as number]!;
      // raw image: guest disk byte = image file byte
      const onHost = fileRangeOnDisk(runs, hostBs, num(g['sector']) * 512, num(g['bytes']));
      const hs = num(h['sector']) * 512;
      linked += num(l['bytes']);
      right += Math.min(num(l['bytes']), overlap(onHost, hs, hs + num(h['bytes'])));
    }
    expect(linked).toBeGreaterThan(1e6);
    expect(right).toBe(linked);
  });

  it('summary.json carries the per-layer figures and metrics other tools rely on', () => {
    const s = res.summary;
    for (const layer of [s.layers.app, s.layers.guest, s.layers.host!]) {
      for (const k of ['read_bytes', 'write_bytes', 'requests'] as const) expect(typeof layer[k]).toBe('number');
    }
    expect(s.amplification.guest!.read).toBeGreaterThan(0.99);
    expect(s.cache.guest!.hit_ratio).toBeLessThan(0.05);
    expect(s.reordering.host!.all.n).toBeGreaterThan(1000);
  });
});
