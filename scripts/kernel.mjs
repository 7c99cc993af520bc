#!/usr/bin/env node
/**
 * Register the project's TypeScript kernel (tslab) in a project-local Jupyter data folder,
 * `.jupyter/share/jupyter/kernels/tslab/kernel.json`, without touching the user's global Jupyter
 * setup. Jupyter finds it when JUPYTER_PATH names that folder (Jupyter searches JUPYTER_PATH
 * before the user and system folders, so this kernel wins over a globally installed tslab).
 *
 *   npm run kernel                 # write the kernel spec, print how to use it
 *   node scripts/kernel.mjs --quiet
 *
 * The kernel spec is written directly (the format is jupyter_client's kernel.json: argv with
 * "{connection_file}", display_name, language), so no Python is needed to register it. The node
 * binary and tslab are named by absolute path so that the kernel runs with the project's own
 * tslab and Node, whatever is first on the user's PATH.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const jupyterDataDir = join(projectRoot, '.jupyter', 'share', 'jupyter');
export const kernelName = 'tslab';

/** Write (or refresh) the kernel spec; returns its path. Idempotent. */
export function registerKernel() {
  const tslabBin = join(projectRoot, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(tslabBin)) {
    throw new Error(`tslab is not installed (expected ${tslabBin}); run npm install first`);
  }
  const spec = {
    argv: [process.execPath, tslabBin, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (iolineage)',
    language: 'typescript',
    metadata: { iolineage: { registered_by: 'scripts/kernel.mjs' } },
  };
  const dir = join(jupyterDataDir, 'kernels', kernelName);
  const file = join(dir, 'kernel.json');
  const text = JSON.stringify(spec, null, 2) + '\n';
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
  }
  return file;
}

/** Environment for running Jupyter with the project kernel visible. */
export function jupyterEnv(base = process.env) {
  const paths = [jupyterDataDir, ...(base.JUPYTER_PATH ? base.JUPYTER_PATH.split(':') : [])];
  return { ...base, JUPYTER_PATH: [...new Set(paths)].join(':') };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const file = registerKernel();
    if (!process.argv.includes('--quiet')) {
      process.stdout.write([
        `kernel "${kernelName}" registered: ${file}`,
        '',
        'Jupyter finds it when JUPYTER_PATH names the project-local folder, e.g. from the project root:',
        '  JUPYTER_PATH=$PWD/.jupyter/share/jupyter jupyter lab notebooks/',
        '  JUPYTER_PATH=$PWD/.jupyter/share/jupyter jupyter kernelspec list',
        'Notebooks import the built library (../dist/index.js): run `npm run build` first.',
        '',
      ].join('\n'));
    }
  } catch (e) {
    process.stderr.write(`kernel: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
