/**
 * Write-back on a real capture (test/fixtures/correlate/loop-buffered: buffered 4 KiB writes and
 * reads, host page cache): every guest write linked by write-back must go to the latest earlier
 * write of those blocks according to the workload's own log (CLOCK_MONOTONIC, the trace clock of
 * the loop backend), with the blocks located by debugfs, not by our fs reader.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture, type AnalyzeOutput } from '../../src/analyze/analyze-capture.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { debugfsFileMap, haveDebugfs, num, rows, workloadLog } from './ground-truth.js';

const DIR = 'test/fixtures/correlate/loop-buffered';
const MOUNT = '/mnt/data';

describe('analyze on a real buffered capture', () => {
  let res: AnalyzeOutput;
  let tmp: string;
  const manifest = readManifest(DIR);
  const bs = manifest.guests[0]!.fs.block_size;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'iol-analyze-buffered-'));
    writeFileSync(join(tmp, 'guest.img'), gunzipSync(readFileSync(join(DIR, 'vm0/fs.e2i.gz'))));
    res = await analyzeCapture(
      { kind: 'bundle', dir: DIR, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
      new IngestStats(),
    );
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.skipIf(!haveDebugfs)('links each write-back to the latest earlier write of its blocks (workload log + debugfs)', () => {
    const files = ['/f000', '/f001', '/f002', '/f003'];
    // physical block → [file, logical block]
    const owner = new Map<number, [string, number]>();
    for (const f of files)
      for (const r of debugfsFileMap(join(tmp, 'guest.img'), f))
        for (let k = 0; k < r.count; k++) owner.set(r.physical + k, [f, r.logical + k]);
    // workload writes per (file, block): start times (monotonic = the trace clock here)
    const writes = new Map<string, bigint[]>();
    const log = workloadLog(gunzipSync(readFileSync(join(DIR, 'vm0/workload.log.gz'))).toString());
    for (const w of log) {
      if (w[2] !== 'write') continue;
      const f = w[3]!.slice(MOUNT.length),
        off = Number(w[4]),
        size = Number(w[6]);
      for (let b = Math.floor(off / bs); b * bs < off + size; b++) {
        const k = `${f}:${b}`;
        (writes.get(k) ?? writes.set(k, []).get(k)!).push(BigInt(w[7]!));
      }
    }
    const app = rows(res.tables['app_io']!),
      guest = rows(res.tables['guest_requests']!);
    // app_io row → workload start time: the i-th write of (file, offset, size) in both logs
    const seen = new Map<string, number>();
    const logByKey = new Map<string, bigint[]>();
    for (const w of log)
      if (w[2] === 'write') {
        const k = `${w[3]}:${w[4]}:${w[6]}`;
        (logByKey.get(k) ?? logByKey.set(k, []).get(k)!).push(BigInt(w[7]!));
      }
    const startOf = (i: number): bigint | undefined => {
      const a = app[i]!;
      const k = `${a['path']}:${num(a['offset'])}:${num(a['bytes_done'])}`;
      const n =
        seen.get(`${i}`) ??
        (() => {
          const c = seen.get(k) ?? 0;
          seen.set(k, c + 1);
          seen.set(`${i}`, c);
          return c;
        })();
      return logByKey.get(k)?.[n];
    };
    // assign workload times in app_io order
    for (const [i, a] of app.entries()) if (a['op'] === 'write') startOf(i);
    let checked = 0,
      agree = 0;
    for (const l of rows(res.tables['links_app_guest']!)) {
      if (l['how'] !== 'writeback') continue;
      const a = app[l['upper_id'] as number]!,
        g = guest[l['lower_id'] as number]!;
      const mine = startOf(l['upper_id'] as number);
      expect(mine).toBeDefined();
      const issue = g['issue_ns'] as bigint;
      const file = String(a['path']).slice(MOUNT.length);
      const first = num(a['offset']) / bs,
        last = (num(a['offset']) + num(a['bytes_done']) - 1) / bs;
      const gFirst = (num(g['sector']) * 512) / bs,
        gLast = gFirst + num(g['bytes']) / bs;
      for (let p = Math.floor(gFirst); p < gLast; p++) {
        const o = owner.get(p);
        if (!o || o[0] !== file || o[1] < Math.floor(first) || o[1] > Math.floor(last)) continue;
        // the latest write of this block that started before the request was issued
        let latest = -1n;
        for (const t of writes.get(`${file}:${o[1]}`) ?? []) if (t < issue && t > latest) latest = t;
        checked += bs;
        if (latest === mine) agree += bs;
      }
    }
    expect(checked).toBeGreaterThan(1e6);
    expect(agree / checked).toBeGreaterThanOrEqual(0.99);
  });

  it('accounts for every guest and host byte and names the write-back', () => {
    const s = res.summary as {
      attribution: Record<string, { total: number; layer_total: number; by_cause: Record<string, number> }>;
      outcomes: Record<string, number>;
    };
    for (const layer of ['guest', 'host']) expect(s.attribution[layer]!.total).toBe(s.attribution[layer]!.layer_total);
    expect(s.attribution['guest']!.by_cause['writeback']).toBeGreaterThan(1e6);
    expect(s.outcomes['write_back']).toBeGreaterThan(500);
    // the loop backend has one page cache: the reads of the freshly written files are all hits
    expect(s.outcomes['read_guest_cache']).toBeGreaterThan(500);
  });
});
