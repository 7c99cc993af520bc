/**
 * Every shipped notebook executes, with no error output and with its figures, on every capture
 * bundle in data/ (each analysed first by `iolineage analyze`), the several-VM bundle included
 * (its first VM, as a user who changes nothing sees it, and its second through IOLINEAGE_VM).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeNotebook, figures, haveJupyter, notebooksDir, problems, projectRoot } from './notebook-runner.js';

const dataDir = join(projectRoot, 'data');
const bundles = existsSync(dataDir) ? readdirSync(dataDir).filter((d) => existsSync(join(dataDir, d, 'manifest.json'))).sort() : [];
const notebooks = readdirSync(notebooksDir).filter((f) => /^[^_.][^.]*\.ipynb$/.test(f)).map((f) => f.slice(0, -6)).sort();
const perCapture = notebooks.filter((n) => n !== '02-throughput-grid');
if (!haveJupyter) console.log('notebook tests skipped: jupyter nbconvert is not installed (Debian: jupyter-nbconvert python3-ipykernel)');

/** Run tasks two at a time (the machine's two cores; each kernel compiles its cells). */
async function pool<T>(tasks: (() => Promise<T>)[], width = 2): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) { const k = next++; results[k] = await tasks[k]!(); }
  }));
  return results;
}

describe.skipIf(!haveJupyter || bundles.length === 0)('every notebook on every bundled capture', () => {
  let work: string;
  const outOf = (bundle: string) => join(work, bundle);
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'iol-every-capture-'));
    for (const b of bundles) {
      const r = spawnSync(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'analyze', join(dataDir, b), '-o', outOf(b)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`analyze ${b}: ${r.stderr.slice(-1500)}`);
    }
  }, 600_000);
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  it('runs the capture-set notebook over data/', async () => {
    const nb = await executeNotebook(join(notebooksDir, '02-throughput-grid.ipynb'), { IOLINEAGE_CAPTURE_SET: dataDir });
    expect(problems(nb)).toEqual([]);
    const [grid] = figures(nb);
    expect(grid!.rows.length).toBe(bundles.reduce((n, b) => n + (JSON.parse(readFileSync(join(dataDir, b, 'manifest.json'), 'utf8')).guests?.length ?? 1), 0));
  }, 300_000);

  it('runs every per-capture notebook on every bundle without an error and with its figures', async () => {
    const runs: { bundle: string; vm?: string; notebook: string }[] = [];
    for (const bundle of bundles) {
      const vms = JSON.parse(readFileSync(join(dataDir, bundle, 'manifest.json'), 'utf8')).guests.map((g: { id: string }) => g.id) as string[];
      for (const notebook of perCapture) {
        runs.push({ bundle, notebook });
        if (vms.length > 1) runs.push({ bundle, vm: vms[1]!, notebook });
      }
    }
    const results = await pool(runs.map((r) => async () => {
      const manifest = JSON.parse(readFileSync(join(dataDir, r.bundle, 'manifest.json'), 'utf8'));
      const env: Record<string, string> = { IOLINEAGE_OUT: outOf(r.bundle), IOLINEAGE_CAPTURED_MEM: String(manifest.lab?.vm_mem_bytes ?? '') };
      if (r.vm) env.IOLINEAGE_VM = r.vm;
      try {
        const run = () => executeNotebook(join(notebooksDir, `${r.notebook}.ipynb`), env);
        // a kernel that never answered its start (nbclient's startup wait, not a cell) is run once more
        const nb = await run().catch((e: unknown) => {
          if (/Kernel didn't respond/.test(String(e))) return run();
          throw e;
        });
        return { ...r, problems: problems(nb), figures: figures(nb) };
      } catch (e) {
        return { ...r, problems: [`did not run: ${String(e).split('\n').slice(-3).join(' ')}`], figures: [] };
      }
    }));
    const failures = results.filter((r) => r.problems.length > 0).map((r) => `${r.bundle}${r.vm ? `/${r.vm}` : ''} ${r.notebook}: ${r.problems.join(' | ')}`);
    expect(failures).toEqual([]);
    const empty = results.filter((r) => r.figures.length === 0 || r.figures.some((f) => f.rows.length === 0))
      .map((r) => `${r.bundle}${r.vm ? `/${r.vm}` : ''} ${r.notebook}: ${r.figures.map((f) => `${f.title} (${f.rows.length} rows)`).join(', ')}`);
    expect(empty).toEqual([]);
  }, 1_800_000);
});
