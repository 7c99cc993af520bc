/**
 * The three worked changes of notebooks/README.md ("Change a question"), applied to the shipped
 * notebooks as a user would type them, change the published figures' data accordingly:
 * writes only (03), one file (08), one time window (01).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedNotebook, executeNotebook, figures, haveJupyter, problems, projectRoot } from './notebook-runner.js';

const bundle = join(projectRoot, 'data', 'm128-buffered');
const readme = readFileSync(join(projectRoot, 'notebooks', 'README.md'), 'utf8');

/** The change the README documents under a heading: the code block after "before" and after "after". */
function documentedChange(heading: string): { find: string; replace: string } {
  const section = readme.split(/^### /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`notebooks/README.md has no "### ${heading}"`);
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\n$/, ''));
  if (blocks.length !== 2) throw new Error(`"${heading}": expected two code blocks (before, after), found ${blocks.length}`);
  return { find: blocks[0]!, replace: blocks[1]! };
}

describe.skipIf(!haveJupyter || !existsSync(bundle))('Change a question (notebooks/README.md)', () => {
  let work: string;
  const made: string[] = [];
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'iol-change-'));
    const r = spawnSync(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'analyze', bundle, '-o', work], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`analyze: ${r.stderr.slice(-1500)}`);
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    for (const p of made) rmSync(p, { force: true });
  });
  const run = async (shipped: string, heading: string) => {
    const { find, replace } = documentedChange(heading);
    const path = changedNotebook(shipped, `_change-${shipped}.ipynb`, find, replace);
    made.push(path);
    const nb = await executeNotebook(path, { IOLINEAGE_OUT: work });
    expect(problems(nb)).toEqual([]);
    return figures(nb);
  };

  it('writes only: the bytes-per-operation figure shows writes alone', async () => {
    const [perOp] = await run('03-io-per-operation', 'Writes only');
    expect(perOp!.rows.length).toBeGreaterThan(0);
    expect(new Set(perOp!.rows.map((r) => r.op))).toEqual(new Set(['write']));
  }, 300_000);

  it('one file: the linked views keep that file\'s application I/Os', async () => {
    const [linked] = await run('08-linked-layers', 'One file');
    const app = linked!.rows.filter((r) => r.layer === 'app');
    expect(app.length).toBeGreaterThan(0);
    expect(new Set(app.map((r) => r.path))).toEqual(new Set(['/mnt/data/f003']));
    const linkedBelow = linked!.rows.filter((r) => r.layer !== 'app' && r.app_id !== null);
    expect(linkedBelow.length).toBeGreaterThan(0);
    expect(new Set(linkedBelow.map((r) => r.path))).toEqual(new Set(['/mnt/data/f003']));
  }, 300_000);

  it('one time window: the block-layer figures hold requests of that window only', async () => {
    const figs = await run('01-block-layer', 'One time window');
    const seeks = figs.find((f) => f.title === 'Sector over time')!;
    expect(seeks.rows.length).toBeGreaterThan(0);
    for (const r of seeks.rows) {
      expect(r.issue_s as number).toBeGreaterThanOrEqual(90);
      expect(r.issue_s as number).toBeLessThan(100);
    }
  }, 300_000);
});
