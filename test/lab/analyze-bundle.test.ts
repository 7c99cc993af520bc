/**
 * `iolineage analyze` accepts the lab's bundles: the bundled TCG capture in data/ (runs
 * everywhere) and a fresh loop-backend bundle (needs root and tracefs; skipped elsewhere).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as analyze } from '../../src/cli/analyze.js';
import { parseLabArgs } from '../../src/cli/lab.js';
import { labUnavailable, runLab } from '../../src/lab/lab.js';

const root = mkdtempSync(join(tmpdir(), 'iolineage-analyze-lab-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bundled = join(import.meta.dirname, '../../data/m128-buffered');
const why = labUnavailable('loop');
if (why) console.log(`test/lab: skipping analyze of a fresh loop bundle: ${why}`);

function summary(out: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
}

describe('iolineage analyze on lab bundles', () => {
  it.skipIf(!existsSync(join(bundled, 'manifest.json')))('accepts the bundled TCG capture', async () => {
    const out = join(root, 'tcg');
    expect(await analyze([bundled, '-o', out])).toBe(0);
    expect(existsSync(join(out, 'lineage.arrow'))).toBe(true);
    expect(Object.keys(summary(out)).length).toBeGreaterThan(0);
  });

  it.skipIf(why !== null)('accepts a fresh loop-backend bundle', async () => {
    const bundle = join(root, 'loop');
    await runLab(
      parseLabArgs(['--backend', 'loop', '--data', '8M', '--files', '2', '--ops', '200', '--cache', join(root, 'cache'), '-o', bundle]),
      'iolineage lab (test)',
      () => {},
    );
    const out = join(root, 'loop-out');
    expect(await analyze([bundle, '-o', out])).toBe(0);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  });
});
