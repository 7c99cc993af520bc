/**
 * The app → guest lineage of every bundled lab capture scored page by page against the workload's
 * own log (lineage-oracle.ts): at most 0.1% of the guest data bytes that a call caused are missed
 * or linked to another call, and no O_DIRECT read is said to be served by the guest page cache.
 * Skipped for bundles not in the checkout, or without debugfs. Each bundle's figures are printed
 * as one JSON line (IOL_LINEAGE_BUNDLES=a,b limits the bundles).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture } from '../../src/analyze/analyze-capture.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { haveDebugfs } from './ground-truth.js';
import { readWorkloadLog, scoreLineage } from './lineage-oracle.js';
import { sfdiskStart } from './sfdisk-oracle.js';

/** Every bundle in data/ (IOL_LINEAGE_BUNDLES=a,b: those). */
const BUNDLES = (
  process.env['IOL_LINEAGE_BUNDLES']?.split(',') ??
  (existsSync('data') ? readdirSync('data').filter((b) => existsSync(join('data', b, 'manifest.json'))) : []).sort()
).map((b) => join('data', b));

describe('app → guest lineage against the workload log', () => {
  for (const dir of BUNDLES) {
    const present = existsSync(join(dir, 'manifest.json'));
    it.skipIf(!present || !haveDebugfs)(
      `${dir}: every guest data page linked to its call (<= 0.1% wrong or missed)`,
      async () => {
        const manifest = readManifest(dir);
        const res = await analyzeCapture(
          { kind: 'bundle', dir, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
          new IngestStats(),
        );
        const tmp = mkdtempSync(join(tmpdir(), 'iol-lineage-'));
        try {
          for (const g of manifest.guests) {
            const img = join(tmp, `${g.id}.img`);
            writeFileSync(img, gunzipSync(readFileSync(join(dir, g.fs.metadata))));
            // the fs offset from sfdisk's reading of the saved partition table, not from the manifest
            const fsOffset = g.disk.partition_table ? sfdiskStart(join(dir, g.disk.partition_table)) : 0;
            const sfx = manifest.guests.length > 1 ? `_${g.id}` : '';
            const s = scoreLineage(res.tables, readWorkloadLog(dir, g.id), img, fsOffset, g.fs.mount, g.fs.block_size, g.id, sfx);
            const figures = {
              bundle: dir,
              vm: g.id,
              ...s,
              examples: undefined,
              wrong_share: s.wrong / s.oracleBytes,
              missed_share: s.missed / s.oracleBytes,
            };
            console.log(JSON.stringify(figures));
            expect(s.dataBytes).toBeGreaterThan(0);
            expect(s.oracleBytes / s.dataBytes).toBeGreaterThan(0.5);
            expect((s.wrong + s.missed) / s.oracleBytes, s.examples.join('\n')).toBeLessThanOrEqual(0.001);
            // O_DIRECT bypasses the guest page cache: each such read has its guest request
            expect(s.directReadOutcomes['read_guest_cache'] ?? 0).toBe(0);
            expect(s.directReadOutcomes['read_unlinked'] ?? 0).toBe(0);
          }
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      },
      300_000,
    );
  }
});
