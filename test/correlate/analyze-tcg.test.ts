/**
 * A real VM capture from data/ (QEMU TCG guest with its own kernel, page cache and clock; qcow2
 * image): every link from an application I/O to a guest request must land on the file and offset
 * debugfs gives, covering >= 99% of the guest's data-request bytes, and every guest and host byte
 * must be attributed. Skipped when the bundle is not in the checkout.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture } from '../../src/analyze/analyze-capture.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { debugfsFileMap, fileRangeOnDisk, haveDebugfs, num, overlap, rows, type Ranges } from './ground-truth.js';

const DIR = 'data/m128-buffered-qcow2';
const present = existsSync(join(DIR, 'manifest.json'));
if (!present) console.log(`${DIR} is not in this checkout: skipping the TCG capture test`);

describe('analyze on a real TCG VM capture with a qcow2 image', () => {
  it.skipIf(!present || !haveDebugfs)('links to the right file and offset (debugfs) and covers >= 99% of guest data bytes', async () => {
    const manifest = readManifest(DIR);
    const g0 = manifest.guests[0]!;
    const bs = g0.fs.block_size;
    const tmp = mkdtempSync(join(tmpdir(), 'iol-analyze-tcg-'));
    try {
      const img = join(tmp, 'guest.img');
      writeFileSync(img, gunzipSync(readFileSync(join(DIR, g0.fs.metadata))));
      const res = await analyzeCapture(
        { kind: 'bundle', dir: DIR, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
        new IngestStats(),
      );
      const s = res.summary as {
        attribution: Record<string, { total: number; layer_total: number }>;
        clocks: Record<string, { app_to_guest: { source: string } }>;
      };
      for (const layer of ['guest', 'host']) expect(s.attribution[layer]!.total).toBe(s.attribution[layer]!.layer_total);
      expect(s.clocks['vm0']!.app_to_guest.source).toBe('pairs');
      const mount = g0.fs.mount;
      const app = rows(res.tables['app_io']!),
        guest = rows(res.tables['guest_requests']!);
      const files = [...new Set(app.map((a) => String(a['path'])).filter((p) => p.startsWith(mount + '/f')))].map((p) =>
        p.slice(mount.length),
      );
      expect(files.length).toBe(manifest.lab!.workload.files);
      const maps = new Map(files.map((f) => [f, debugfsFileMap(img, f)]));
      const dataRanges: Ranges = [];
      for (const m of maps.values()) for (const r of m) dataRanges.push([r.physical * bs, (r.physical + r.count) * bs]);
      let linked = 0,
        right = 0;
      for (const l of rows(res.tables['links_app_guest']!)) {
        const a = app[l['upper_id'] as number]!,
          g = guest[l['lower_id'] as number]!;
        const map = maps.get(String(a['path']).slice(mount.length))!;
        const gs = num(g['sector']) * 512;
        linked += num(l['bytes']);
        right += Math.min(
          num(l['bytes']),
          overlap(fileRangeOnDisk(map, bs, num(a['offset']), num(a['bytes_done'])), gs, gs + num(g['bytes'])),
        );
      }
      expect(right).toBe(linked);
      let dataBytes = 0;
      for (const g of guest) {
        if (g['issue_ns'] === null || g['sector'] === null) continue;
        const gs = num(g['sector']) * 512;
        dataBytes += overlap(dataRanges, gs, gs + num(g['bytes']));
      }
      expect(right / dataBytes).toBeGreaterThanOrEqual(0.99);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
