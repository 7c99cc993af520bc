import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/btt.js';
import { UsageError, InputError } from '../../src/util/errors.js';
import { fixture, perCpu } from '../ingest-blktrace/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-btt-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const w = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await run(argv), out };
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
}

describe('iolineage btt', () => {
  it('prints btt figures as JSON and writes block_requests/block_bios', async () => {
    const { code, out } = await capture([...perCpu('nosplit'), '--json', '-o', dir]);
    expect(code).toBe(0);
    const j = JSON.parse(out) as { devices: { dev: string; queued: number; issued: number; stages: Record<string, { n: number }> }[] };
    expect(j.devices.map((d) => [d.dev, d.queued, d.issued, d.stages.Q2C!.n])).toEqual([['7:1', 2003, 1965, 2003]]);
    expect(readdirSync(dir).sort()).toEqual(['block_bios.arrow', 'block_requests.arrow', 'iolineage-outputs.json']);
  });

  it('prints the text report with an iostat series, and rejects bad arguments with a usage error', async () => {
    const { out } = await capture([...perCpu('deadline'), '--iostat', '0.5', '--dev', '7:0']);
    expect(out).toMatch(/Q2C\s+0\.\d{9}/);
    expect(out).toMatch(/iostat 7:0 every 0\.5 s/);
    await expect(run([])).rejects.toBeInstanceOf(UsageError);
    await expect(run([...perCpu('deadline'), '--iostat', 'x'])).rejects.toBeInstanceOf(UsageError);
    await expect(run([fixture('README.md')])).rejects.toBeInstanceOf(InputError);
  });
});
