/**
 * Every host byte of the bundled captures is named, and each name holds against tools that do not
 * share our code: debugfs on the host fs (the image file's data and indirect blocks), the image's
 * `qemu-img map` (guest byte of each image byte), the guest trace's own timestamps and the
 * capture's clock marks (guest ↔ host time), the rwbs flags of the host requests.
 * Skipped when a bundle is not in the checkout or debugfs is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture } from '../../src/analyze/analyze-capture.js';
import { allocationUnitOfMap, qemuImgMapRangeMap } from '../../src/correlate/map-inputs.js';
import type { Summary } from '../../src/metrics/summary-json.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { debugfsFileMap, haveDebugfs, num, overlap, rows, type Ranges, type Row } from './ground-truth.js';

const BUNDLES = ['m128-buffered-qcow2', 'm128-buffered', 'm128-direct', 'm128-buffered-hostnone', 'm128-direct-hostnone', 'm96-2vms'];
/** `qemu-img convert -O qcow2` without a cluster_size option (src/lab/host.ts): QEMU's default. */
const LAB_QCOW2_CLUSTER = 65536;

/** The blocks debugfs lists as (IND), (DIND), (TIND) in `stat PATH`: the file's own mapping blocks. */
function debugfsIndirectBlocks(img: string, path: string): number[] {
  const out = execFileSync('debugfs', ['-R', `stat ${path}`, img], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const blocks: number[] = [];
  for (const m of out.matchAll(/\((?:D|T)?IND\):(\d+)(?:-(\d+))?/g))
    for (let b = Number(m[1]); b <= Number(m[2] ?? m[1]); b++) blocks.push(b);
  return blocks;
}

/** First and last timestamp (ns) of a block tracepoint line in tracefs text. */
function blockEventSpan(text: string): [number, number] {
  let first = Infinity,
    last = -Infinity;
  for (const m of text.matchAll(/ (\d+)\.(\d{6}): block_/g)) {
    const t = Number(m[1]) * 1e9 + Number(m[2]) * 1e3;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return [first, last];
}

/** Bytes of one layer's attribution by (request, cause). */
function causesByRequest(attribution: Row[], layer: string): Map<number, Map<string, number>> {
  const m = new Map<number, Map<string, number>>();
  for (const a of attribution) {
    if (a['layer'] !== layer) continue;
    const id = a['lower_id'] as number;
    if (!m.has(id)) m.set(id, new Map());
    const c = m.get(id)!;
    c.set(a['cause'] as string, (c.get(a['cause'] as string) ?? 0) + num(a['bytes']));
  }
  return m;
}

describe('host bytes named on the bundled captures', () => {
  for (const name of BUNDLES) {
    const dir = join('data', name);
    const present = existsSync(join(dir, 'manifest.json'));
    it.skipIf(!present || !haveDebugfs)(
      `${name}: no host byte unattributed; each name checked against debugfs, qemu-img map and the trace clocks`,
      async () => {
        const manifest = readManifest(dir);
        const res = await analyzeCapture(
          { kind: 'bundle', dir, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
          new IngestStats(),
        );
        const summary = res.summary as {
          attribution: Record<
            string,
            { by_cause: Record<string, number>; total: number; layer_total: number; app_read_bytes: number; app_write_bytes: number }
          >;
        };
        const attribution = rows(res.tables['attribution']!);
        const host = rows(res.tables['host_requests']!);
        const byRequest = causesByRequest(attribution, 'host');
        expect(summary.attribution['host']!.total).toBe(summary.attribution['host']!.layer_total);
        expect(
          attribution.filter((a) => a['layer'] === 'host' && a['cause'] === 'unattributed').map((a) => [a['lower_id'], a['bytes']]),
        ).toEqual([]);

        // summary.json: app_read_bytes / app_write_bytes are the attribution table's app_read / app_write bytes
        for (const layer of ['guest', 'host']) {
          const sum = (cause: string) =>
            attribution.filter((a) => a['layer'] === layer && a['cause'] === cause).reduce((s, a) => s + num(a['bytes']), 0);
          expect([summary.attribution[layer]!.app_read_bytes, summary.attribution[layer]!.app_write_bytes]).toEqual([
            sum('app_read'),
            sum('app_write'),
          ]);
        }
        if (name === 'm128-buffered') expect(summary.attribution['guest']!.app_read_bytes).toBeGreaterThan(10 << 20);
        if (name === 'm128-direct') expect(summary.attribution['host']!.app_write_bytes).toBeGreaterThan(10 << 20);
        if (name === 'm128-direct-hostnone') {
          // 7 relayed marks over a 6 s run put the drift at +27 ppm; the matched pairs (every guest
          // request has its host request under cache=none) refine it, so their windows hold
          const c = (res.summary as unknown as Summary).clocks['vm0']!.guest_to_host!;
          expect(c.source).toBe('pairs');
          const e = c.timestamp_error!;
          expect(e.matched_requests).toBeGreaterThan(5000);
          expect(e.outside_window / e.matched_requests).toBeLessThan(0.01);
        }

        const tmp = mkdtempSync(join(tmpdir(), 'iol-host-causes-'));
        try {
          const fsImg = join(tmp, 'host.img');
          writeFileSync(fsImg, gunzipSync(readFileSync(join(dir, manifest.host!.fs.metadata))));
          const bs = manifest.host!.fs.block_size;
          const bytesOf = (r: Row): [number, number] => [num(r['sector']) * 512, num(r['sector']) * 512 + num(r['bytes'])];
          const indirect: Ranges = [],
            imageData: Ranges = [];
          for (const g of manifest.guests) {
            for (const b of debugfsIndirectBlocks(fsImg, g.image!.path_in_fs)) indirect.push([b * bs, (b + 1) * bs]);
            for (const r of debugfsFileMap(fsImg, g.image!.path_in_fs)) imageData.push([r.physical * bs, (r.physical + r.count) * bs]);
          }
          expect(indirect.length).toBeGreaterThan(10);
          for (const r of host) {
            const causes = byRequest.get(r['id'] as number);
            if (!causes || r['sector'] === null) continue;
            const [a, b] = bytesOf(r);
            // the image files' mapping blocks are host fs metadata, never the image format's
            expect({ id: r['id'], indirect: causes.get('host_fs_metadata:indirect') ?? 0 }).toEqual({
              id: r['id'],
              indirect: overlap(indirect, a, b),
            });
            if (manifest.guests.every((g) => g.image!.format === 'raw')) expect(causes.get('image_metadata') ?? 0).toBe(0);
            // host readahead: reads flagged RA (include/trace/events/block.h rwbs) of image data blocks
            const ra = causes.get('host_readahead') ?? 0;
            if (ra > 0) {
              expect([r['id'], r['op'], String(r['rwbs']).includes('A')]).toEqual([r['id'], 'read', true]);
              expect(overlap(imageData, a, b)).toBeGreaterThanOrEqual(ra);
            }
          }

          // before the first or after the last block event of the guest's own trace, in guest time
          // through the capture's clock marks: a mark written in the guest reaches the host trace
          // later, so host - guest of a mark only exceeds the offset; the smallest is the tightest
          const spans = manifest.guests.map((g) => {
            const [first, last] = blockEventSpan(gunzipSync(readFileSync(join(dir, g.block_trace.path))).toString('utf8'));
            const offset = Math.min(...g.clock_marks.map((m) => Number(BigInt(m.host_ns!) - BigInt(m.guest_ns!))));
            return { first, last, offset };
          });
          const outside = host.filter((r) => (byRequest.get(r['id'] as number)?.get('guest_outside_trace') ?? 0) > 0);
          expect(outside.length).toBeGreaterThan(0);
          for (const r of outside) {
            const t = num(r['issue_ns']);
            expect({ id: r['id'], outside: spans.some((s) => t - s.offset < s.first || t - s.offset > s.last) }).toEqual({
              id: r['id'],
              outside: true,
            });
          }

          if (name === 'm128-buffered-qcow2')
            checkClusterFills(
              dir,
              manifest.guests[0]!.image!.qemu_img_map!,
              fsImg,
              manifest.guests[0]!.image!.path_in_fs,
              bs,
              host,
              byRequest,
              rows(res.tables['guest_requests']!),
              spans[0]!.offset,
            );
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      },
    );
  }
});

/**
 * Fills are host writes of bytes the guest did not write, in clusters a guest write touched earlier:
 * each host image byte goes to its guest byte through debugfs (host block → image file block)
 * and `qemu-img map` (image file byte → guest byte).
 */
function checkClusterFills(
  dir: string,
  mapJson: string,
  fsImg: string,
  imagePath: string,
  bs: number,
  host: Row[],
  byRequest: Map<number, Map<string, number>>,
  guest: Row[],
  offsetNs: number,
): void {
  const imageToGuest = qemuImgMapRangeMap(readFileSync(join(dir, mapJson), 'utf8'), mapJson).inverse();
  expect(allocationUnitOfMap(imageToGuest.inverse())).toBe(LAB_QCOW2_CLUSTER);
  const runs = debugfsFileMap(fsImg, imagePath);
  const writes = guest
    .filter((g) => g['op'] === 'write' && g['sector'] !== null && g['issue_ns'] !== null)
    .map((g) => ({ a: num(g['sector']) * 512, b: num(g['sector']) * 512 + num(g['bytes']), t: num(g['issue_ns']) }));
  let filled = 0;
  for (const r of host) {
    const fill = byRequest.get(r['id'] as number)?.get('image_cluster_fill') ?? 0;
    if (fill === 0) continue;
    expect(r['op']).toBe('write');
    filled += fill;
    const hostStart = num(r['sector']) * 512,
      hostEnd = hostStart + num(r['bytes']);
    const t = num(r['issue_ns']) - offsetNs;
    // guest bytes of this request in a cluster that a guest write touched before it, and that no
    // guest write before it covers (a later guest write of those bytes is another event)
    let notWritten = 0;
    for (const run of runs) {
      const ra = run.physical * bs,
        rb = (run.physical + run.count) * bs;
      const a = Math.max(ra, hostStart),
        b = Math.min(rb, hostEnd);
      if (b <= a) continue;
      imageToGuest.translate(run.logical * bs + (a - ra), b - a, (g0, len) => {
        for (let c = Math.floor(g0 / LAB_QCOW2_CLUSTER) * LAB_QCOW2_CLUSTER; c < g0 + len; c += LAB_QCOW2_CLUSTER) {
          const x = Math.max(c, g0),
            y = Math.min(c + LAB_QCOW2_CLUSTER, g0 + len);
          const before = writes.filter((w) => w.t <= t + 2e6);
          if (!before.some((w) => w.a < c + LAB_QCOW2_CLUSTER && w.b > c)) continue;
          notWritten += y - x - overlap(mergeRanges(before.filter((w) => w.a < y && w.b > x).map((w) => [w.a, w.b])), x, y);
        }
      });
    }
    expect({ id: r['id'], fill: fill <= notWritten }).toEqual({ id: r['id'], fill: true });
  }
  expect(filled).toBeGreaterThan(1 << 20);
}

function mergeRanges(r: Ranges): Ranges {
  const s = [...r].sort((x, y) => x[0] - y[0]);
  const out: Ranges = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

describe('the qcow2 allocation unit from qemu-img map extents', () => {
  it('equals qemu-img info cluster-size (a 32nd of it with extended L2), or is unknown, on every image fixture', () => {
    const dir = join(__dirname, '..', 'fixtures', 'image');
    const names = ['c2m', 'c4k', 'c512', 'convc', 'e2q', 'ext32k', 'ext64k', 'prealloc', 'top', 'v2', 'v3', 'xover', 'zstd'];
    let known = 0;
    for (const n of names) {
      const info = (JSON.parse(readFileSync(join(dir, `${n}.info.json`), 'utf8')) as Record<string, unknown>[])[0]!;
      const extended = (info['format-specific'] as { data?: { 'extended-l2'?: boolean } } | undefined)?.data?.['extended-l2'] === true;
      const unit = (info['cluster-size'] as number) / (extended ? 32 : 1);
      const map = qemuImgMapRangeMap(readFileSync(join(dir, `${n}.map.json`), 'utf8'), n);
      const got = allocationUnitOfMap(map);
      expect({ n, got: got === 0 ? 'unknown' : got }).toEqual({ n, got: map.size < 3 ? 'unknown' : unit });
      if (got) known++;
    }
    expect(known).toBeGreaterThanOrEqual(5);
  });
});
