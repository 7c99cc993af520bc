/**
 * Running the built CLI as a user does (a child process: exit status, stdout, stderr), and the
 * fixtures the safety tests start from.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const cli = join(root, 'dist', 'cli', 'main.js');
export const fixture = (...p: string[]) => join(root, 'test', 'fixtures', ...p);

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `iolineage ARGS...` to its end. */
export function iolineage(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, IOLINEAGE_NO_PROGRESS: '1' },
    ...(input !== undefined ? { input } : {}),
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** `iolineage ARGS...` started in the background. */
export function startIolineage(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IOLINEAGE_NO_PROGRESS: '1', ...env },
  });
}
