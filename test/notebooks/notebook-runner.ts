/**
 * Execute a notebook the way JupyterLab's "Run all" does, with the project's tslab kernel
 * (scripts/kernel.mjs registers it under .jupyter/), through `jupyter nbconvert --execute`, and read
 * what it showed: error outputs and stderr, printed text, and the data of every Vega-Lite figure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error the kernel script is plain JavaScript without declarations
import { jupyterEnv, registerKernel } from '../../scripts/kernel.mjs';

export const projectRoot = join(import.meta.dirname, '..', '..');
export const notebooksDir = join(projectRoot, 'notebooks');
export const python = process.env.JUPYTER_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
export const haveJupyter = spawnSync(python, ['-m', 'jupyter', 'nbconvert', '--version'], { encoding: 'utf8' }).status === 0;

export interface NotebookCell { cell_type: string; source: string | string[]; outputs?: NotebookOutput[] }
export interface NotebookOutput { output_type: string; name?: string; text?: string | string[]; ename?: string; evalue?: string; data?: Record<string, unknown> }
export interface Notebook { cells: NotebookCell[]; metadata: Record<string, unknown> }

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : s ?? '');

let registered = false;

/** Run a notebook file; resolves to the executed notebook. */
export function executeNotebook(path: string, env: Record<string, string>, timeoutS = 300): Promise<Notebook> {
  if (!registered) { registerKernel(); registered = true; }
  const outDir = mkdtempSync(join(tmpdir(), 'iol-nb-run-'));
  const out = join(outDir, 'executed.ipynb');
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--allow-errors',
      `--ExecutePreprocessor.timeout=${timeoutS}`, `--ExecutePreprocessor.startup_timeout=${timeoutS}`, '--output-dir', outDir, '--output', 'executed', path],
    { cwd: join(path, '..'), env: { ...jupyterEnv(), TZ: 'UTC', PYDEVD_DISABLE_FILE_VALIDATION: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8000); });
    child.on('close', (status) => {
      try {
        if (status !== 0 || !existsSync(out)) { reject(new Error(`nbconvert ${path} exited ${status}: ${stderr}`)); return; }
        resolve(JSON.parse(readFileSync(out, 'utf8')) as Notebook);
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    });
  });
}

/** Error outputs and stderr of an executed notebook, one line each ("cell N: message"). */
export function problems(nb: Notebook): string[] {
  const found: string[] = [];
  nb.cells.forEach((c, i) => {
    for (const o of c.outputs ?? []) {
      if (o.output_type === 'error') found.push(`cell ${i + 1}: ${o.ename}: ${o.evalue}`);
      if (o.output_type === 'stream' && o.name === 'stderr') found.push(`cell ${i + 1}: ${text(o.text).slice(0, 400)}`);
    }
  });
  return found;
}

/** Everything printed on stdout. */
export function printed(nb: Notebook): string {
  return nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => text(o.text))).join('');
}

/** Each Vega-Lite figure: its title text and its inline data rows (top level, or of its sub-views). */
export function figures(nb: Notebook): { title: string; rows: Record<string, unknown>[] }[] {
  const out: { title: string; rows: Record<string, unknown>[] }[] = [];
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const spec = o.data?.['application/vnd.vegalite.v5+json'] as { title?: unknown; data?: { values?: unknown[] }; hconcat?: { data?: { values?: unknown[] } }[]; vconcat?: { data?: { values?: unknown[] } }[] } | undefined;
      if (!spec) continue;
      const title = typeof spec.title === 'string' ? spec.title : String((spec.title as { text?: string } | undefined)?.text ?? '');
      const rows = [spec.data?.values ?? [], ...[...(spec.hconcat ?? []), ...(spec.vconcat ?? [])].map((v) => v.data?.values ?? [])].flat() as Record<string, unknown>[];
      out.push({ title, rows });
    }
  }
  return out;
}

/** Write a notebook (nbformat 4) of TypeScript code cells into the notebooks folder (name starting with "_": never published). */
export function writeNotebook(name: string, cells: string[]): string {
  const path = join(notebooksDir, name);
  const nb = {
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, execution_count: null, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: 'TypeScript (iolineage)', language: 'typescript', name: 'tslab' } },
    nbformat: 4, nbformat_minor: 5,
  };
  writeFileSync(path, JSON.stringify(nb, null, 1));
  return path;
}

/** A shipped notebook with a change made to one of its code cells (find → replace, which must match). */
export function changedNotebook(shipped: string, name: string, find: string, replace: string): string {
  const nb = JSON.parse(readFileSync(join(notebooksDir, `${shipped}.ipynb`), 'utf8')) as Notebook;
  const cell = nb.cells.find((c) => c.cell_type === 'code' && text(c.source).includes(find));
  if (!cell) throw new Error(`${shipped}: no code cell contains ${JSON.stringify(find)}`);
  cell.source = text(cell.source).replace(find, replace);
  const path = join(notebooksDir, name);
  writeFileSync(path, JSON.stringify(nb, null, 1));
  return path;
}
