/**
 * The analyze command: options, usage errors, and the files it writes (files mode, two layers, on
 * the real loop-direct fixture).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/analyze.js';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { UsageError } from '../../src/util/errors.js';

const F = 'test/fixtures/correlate/loop-direct';

describe('iolineage analyze', () => {
  const out = mkdtempSync(join(tmpdir(), 'iol-analyze-cli-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('refuses contradictory or missing options with a usage error', async () => {
    await expect(run(['--guest-trace', 'x'])).rejects.toThrow(UsageError);
    await expect(run(['-o', out])).rejects.toThrow(/CAPTURE_DIR or at least --guest-trace/);
    await expect(run(['-o', out, F, '--guest-trace', 'x'])).rejects.toThrow(/either CAPTURE_DIR or --guest-trace/);
    await expect(run(['-o', out, '--guest-trace', 'x', '--host-trace', 'y'])).rejects.toThrow(/--host-fs and --image/);
    await expect(run(['-o', out, '--guest-trace', 'x', '--clock-offset', '1.5'])).rejects.toThrow(/integer number of nanoseconds/);
    await expect(run(['-o', out, '--guest-trace', 'x', '--guest-partition', '0'])).rejects.toThrow(/partition number/);
  });

  it('writes the two-layer outputs with an inferred mount point', async () => {
    const code = await run([
      '-o',
      out,
      '--guest-trace',
      `${F}/vm0/block.trace.gz`,
      '--guest-dev',
      '7:2',
      '--app',
      `${F}/vm0/app.strace.gz`,
      '--guest-fs',
      `${F}/vm0/fs.e2i.gz`,
    ]);
    expect(code).toBe(0);
    for (const t of ['app_io', 'guest_requests', 'guest_fs_map', 'links_app_guest', 'lineage', 'attribution'])
      expect(existsSync(join(out, `${t}.arrow`))).toBe(true);
    expect(existsSync(join(out, 'host_requests.arrow'))).toBe(false);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.mount_prefix.vm0.prefix).toBe('/mnt/data');
    expect(s.mount_prefix.vm0.source).toBe('inferred');
    expect(s.layers.host).toBeUndefined();
    const lineage = readArrowFile(join(out, 'lineage.arrow'));
    const outcomes = new Set<string>();
    for (const r of lineage) outcomes.add(String((r as Record<string, unknown>)['outcome']));
    expect(outcomes.has('read_guest_disk')).toBe(true);
    expect(outcomes.has('read_disk')).toBe(false);
  });
});
