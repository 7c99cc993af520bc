/**
 * A short run of the fuzz campaign (scripts/fuzz.mjs): a few seeded mutations of the real
 * fixtures for every reader and command, each in a worker under the campaign's time limit and
 * memory cap. The long campaign is run by hand: npm run fuzz -- --seconds N [--kind K].
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

interface KindResult {
  kind: string;
  inputs: number;
  counts: Record<string, number>;
  findings: { index: number; cls: string; detail: string }[];
}

describe('fuzz campaign', () => {
  it('a few seconds over every kind (at least one input each): no internal error, crash, hang or memory blow-up', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'fuzz.mjs'), '--seconds', '6', '--seed', '16', '--json'], {
      encoding: 'utf8',
    });
    const report = JSON.parse(r.stdout) as { results: KindResult[] };
    const kinds = report.results.map((k) => k.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'tracefs',
        'trace-cmd',
        'blkparse',
        'blktrace',
        'btt',
        'strace',
        'ext',
        'lookup',
        'image',
        'compressed',
        'analyze',
      ]),
    );
    for (const k of report.results) {
      expect(k.inputs).toBeGreaterThanOrEqual(1);
      expect(Object.values(k.counts).reduce((a, b) => a + b, 0)).toBe(k.inputs);
      expect(k.findings).toEqual([]);
    }
    expect(r.status).toBe(0);
  });
});
