import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Every output of analyze, ingest, map, whatif and btt on every bundled capture and fixture, against
// the sha256 recorded in test/golden/same-outputs.json (scripts/same-outputs.mjs --record re-records it
// when a change of behaviour is meant; the commit's diff then shows which outputs moved).
describe('outputs stay byte-identical', () => {
  it('on every bundled capture and fixture', () => {
    let out = '';
    try {
      out = execFileSync(process.execPath, ['scripts/same-outputs.mjs'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toMatch(/^\d+ jobs: every output byte-identical/);
  }, 600_000);

  it('on every block trace fixture with the request sweep in a worker thread (what large inputs get)', () => {
    let out = '';
    try {
      out = execFileSync(process.execPath, ['scripts/same-outputs.mjs', '--only', 'ingest/b'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, IOLINEAGE_SWEEP_THREAD: 'always' },
      });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toMatch(/^\d+ jobs: every output byte-identical/);
    expect(Number(/^(\d+) jobs/.exec(out)?.[1])).toBeGreaterThanOrEqual(20);
  }, 600_000);
});
