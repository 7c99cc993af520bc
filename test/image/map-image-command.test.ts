import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { runMapImage } from '../../src/cli/map-image.js';
import { readArrowFile, tableMetadata } from '../../src/table/arrow-file.js';
import { UsageError } from '../../src/util/errors.js';
import { compareWithQemuMap, type QemuMapEntry } from './qemu-map-compare.js';
import { golden, removeDir, unpackFixtures } from './fixtures.js';

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('map image command', () => {
  it('writes image_map.arrow that agrees with qemu-img map, and prints the chain', async () => {
    const out = join(dir, 'out');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    let printed = '';
    try {
      code = await runMapImage([join(dir, 'xover.qcow2'), '-o', out]);
      printed = write.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      write.mockRestore();
    }
    expect(code).toBe(0);
    expect(printed).toMatch(/depth 1: .*xbase\.qcow2 \(qcow2 v3, cluster 65536/);
    const t = readArrowFile(join(out, 'image_map.arrow'));
    expect(tableMetadata(t)['iolineage.table']).toBe('image_map');
    expect(compareWithQemuMap(t, JSON.parse(golden('xover.map.json')) as QemuMapEntry[], new Set(), 4 << 20)).toEqual([]);
  });

  it('--json prints the summary with bytes by state', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let printed = '';
    try {
      await runMapImage([join(dir, 'v3.qcow2'), '-o', join(dir, 'out2'), '--json']);
      printed = write.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      write.mockRestore();
    }
    const s = JSON.parse(printed) as { bytes: Record<string, number>; virtualSize: number };
    expect(Object.values(s.bytes).reduce((a, b) => a + b, 0)).toBe(s.virtualSize);
    expect(s.bytes.compressed).toBe(131072);
  });

  it('usage errors', async () => {
    await expect(runMapImage([])).rejects.toThrow(UsageError);
    await expect(runMapImage([join(dir, 'v3.qcow2')])).rejects.toThrow(/-o DIR is required/);
    await expect(runMapImage([join(dir, 'v3.qcow2'), '-o', dir, '--format', 'vmdk'])).rejects.toThrow(/expected auto, raw or qcow2/);
  });
});
