/**
 * A partitioned guest disk (lab captures with --guest-partition): the traced device is the whole
 * disk and the file system starts at sector 2048. Given the whole disk's trace and the
 * partition's fs without an offset, analyze must find the offset (from the trace's remap events;
 * without them, from the fit of the fs map; from the partition table when the whole disk image is
 * given), say how in summary.json, and warn when told a wrong one. The offset is checked against
 * sfdisk's reading of the saved partition table and every link against the workload's own log.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, type CaptureManifest } from '../../src/capture/manifest.js';
import { analyzeCapture, type AnalyzeInputs } from '../../src/analyze/analyze-capture.js';
import type { FsOffsetDecision } from '../../src/correlate/fs-offset.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { haveDebugfs, haveTool } from './ground-truth.js';
import { readWorkloadLog, scoreLineage } from './lineage-oracle.js';
import { sfdiskStart } from './sfdisk-oracle.js';

const MBR = 'data/p128-mbr-buffered',
  GPT = 'data/p128-gpt-direct';
const present = existsSync(join(MBR, 'manifest.json')) && existsSync(join(GPT, 'manifest.json'));
if (!present) console.log('the partitioned lab bundles are not in this checkout: skipping the fs offset tests');

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'iol-fs-offset-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function filesInputs(dir: string, m: CaptureManifest, over: Partial<Extract<AnalyzeInputs, { kind: 'files' }>>): AnalyzeInputs {
  const g = m.guests[0]!;
  return {
    kind: 'files',
    vm: 'vm0',
    app: join(dir, g.strace!.path),
    appDate: undefined,
    guestTrace: join(dir, g.block_trace.path),
    guestDev: g.disk.dev,
    guestFs: join(dir, g.fs.metadata),
    guestPartitionOffset: undefined,
    guestPartition: undefined,
    guestMount: g.fs.mount,
    hostTrace: undefined,
    hostDev: undefined,
    hostFs: undefined,
    images: [],
    imageFormat: 'raw',
    imageFile: undefined,
    imageMapJson: undefined,
    clockOffsetNs: undefined,
    appClockOffsetNs: undefined,
    hostCache: 'writeback',
    ...over,
  };
}

/** The guest trace without its block_bio_remap lines (a tracepoint selection that leaves them out). */
function traceWithoutRemaps(dir: string, m: CaptureManifest): string {
  const text = gunzipSync(readFileSync(join(dir, m.guests[0]!.block_trace.path))).toString();
  const out = join(tmp, `${dir.replace(/\W/g, '_')}-noremap.trace.gz`);
  writeFileSync(
    out,
    gzipSync(
      text
        .split('\n')
        .filter((l) => !l.includes('block_bio_remap:'))
        .join('\n'),
    ),
  );
  return out;
}

/** The lineage of a files-mode analysis against the workload log, at the fs offset sfdisk reads. */
function expectLineageRight(dir: string, m: CaptureManifest, tables: Record<string, import('@uwdata/flechette').Table>): void {
  const g = m.guests[0]!;
  const img = join(tmp, 'fs.img');
  writeFileSync(img, gunzipSync(readFileSync(join(dir, g.fs.metadata))));
  const s = scoreLineage(
    tables,
    readWorkloadLog(dir),
    img,
    sfdiskStart(join(dir, g.disk.partition_table!)),
    g.fs.mount,
    g.fs.block_size,
    'vm0',
    '',
  );
  expect(s.oracleBytes).toBeGreaterThan(1e6);
  expect((s.wrong + s.missed) / s.oracleBytes, s.examples.join('\n')).toBeLessThanOrEqual(0.001);
}

describe.skipIf(!present || !haveDebugfs)('guest fs offset on a partitioned disk', () => {
  it("takes it from the trace's block_bio_remap events when no offset is given", async () => {
    const m = readManifest(MBR);
    const res = await analyzeCapture(filesInputs(MBR, m, {}), new IngestStats());
    const d = (res.summary['fs_offset'] as Record<string, FsOffsetDecision>)['vm0']!;
    expect(d.source).toBe('block_bio_remap');
    expect(d.offset_bytes).toBe(sfdiskStart(join(MBR, m.guests[0]!.disk.partition_table!)));
    expect(d.remap!.from_dev).toBe('254:1');
    expect(res.warnings).toEqual([]);
    expectLineageRight(MBR, m, res.tables);
  }, 120_000);

  it('finds it by the fit of the fs map when the trace has no remap events', async () => {
    const m = readManifest(GPT);
    const res = await analyzeCapture(filesInputs(GPT, m, { guestTrace: traceWithoutRemaps(GPT, m) }), new IngestStats());
    const d = (res.summary['fs_offset'] as Record<string, FsOffsetDecision>)['vm0']!;
    expect(d.source).toBe('fs_fit');
    expect(d.remap).toBeNull();
    expect(d.offset_bytes).toBe(sfdiskStart(join(GPT, m.guests[0]!.disk.partition_table!)));
    expect(d.fit!.at_chosen).toBeGreaterThan(0.9);
    expectLineageRight(GPT, m, res.tables);
    // no O_DIRECT read said to be served by the guest cache
    const outcomes = res.tables['lineage']!.toArray()
      .filter((r, i) => res.tables['app_io']!.get(i)!['direct'] && r['op'] === 'read')
      .map((r) => r['outcome']);
    expect(outcomes.length).toBeGreaterThan(500);
    expect(outcomes.filter((o) => o === 'read_guest_cache')).toEqual([]);
  }, 120_000);

  it.skipIf(!haveTool('sfdisk'))(
    'reads it from the partition table of a whole-disk image',
    async () => {
      const m = readManifest(GPT);
      const g = m.guests[0]!;
      // the disk as sfdisk writes it from the saved dump, with the file system at partition 1
      const disk = join(tmp, 'disk.img');
      const start = sfdiskStart(join(GPT, g.disk.partition_table!));
      const fs = gunzipSync(readFileSync(join(GPT, g.fs.metadata)));
      const fd = openSync(disk, 'w');
      ftruncateSync(fd, g.disk.size_bytes);
      closeSync(fd);
      execFileSync('sfdisk', ['-q', disk], { input: readFileSync(join(GPT, g.disk.partition_table!)), stdio: ['pipe', 'ignore', 'pipe'] });
      const fd2 = openSync(disk, 'r+');
      writeSync(fd2, fs, 0, fs.length, start);
      closeSync(fd2);
      const res = await analyzeCapture(filesInputs(GPT, m, { guestTrace: traceWithoutRemaps(GPT, m), guestFs: disk }), new IngestStats());
      const d = (res.summary['fs_offset'] as Record<string, FsOffsetDecision>)['vm0']!;
      expect(d.source).toBe('partition_table');
      expect(d.partition).toBe(1);
      expect(d.offset_bytes).toBe(start);
      expect(d.partition_table!.scheme).toBe('gpt');
      expect(res.warnings).toEqual([]);
    },
    120_000,
  );

  it('warns loudly when told a wrong offset', async () => {
    const m = readManifest(MBR);
    const res = await analyzeCapture(filesInputs(MBR, m, { guestPartitionOffset: 0 }), new IngestStats());
    const d = (res.summary['fs_offset'] as Record<string, FsOffsetDecision>)['vm0']!;
    expect(d.source).toBe('option');
    expect(d.offset_bytes).toBe(0);
    const w = res.warnings.join('\n');
    expect(w).toMatch(/block_bio_remap|remaps/);
    expect(w).toMatch(/fs offset is probably wrong/);
    expect(w).toMatch(/the layers do not fit/);
    expect(res.summary['warnings']).toEqual(res.warnings);
    // and the oracle sees the damage the warnings are about
    const g = m.guests[0]!;
    const img = join(tmp, 'fs-wrong.img');
    writeFileSync(img, gunzipSync(readFileSync(join(MBR, g.fs.metadata))));
    const s = scoreLineage(
      res.tables,
      readWorkloadLog(MBR),
      img,
      sfdiskStart(join(MBR, g.disk.partition_table!)),
      g.fs.mount,
      g.fs.block_size,
      'vm0',
      '',
    );
    expect((s.wrong + s.missed) / s.oracleBytes).toBeGreaterThan(0.1);
  }, 120_000);
});
