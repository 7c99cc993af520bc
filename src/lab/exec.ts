/**
 * Running the system tools the lab needs (losetup, mkfs, qemu...), and undoing what it did.
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';

/** A tool failed: names the command line, the exit status and the end of its stderr. */
export class ToolError extends Error {
  constructor(readonly command: string, readonly status: number | null, readonly stderr: string) {
    super(`\`${command}\` failed (exit ${status ?? 'signal'}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'ToolError';
  }
}

/** Run a command to completion and return its stdout; throws ToolError when it fails. */
export function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  const line = [cmd, ...args].join(' ');
  if (r.error) throw new ToolError(line, null, String(r.error.message));
  if (r.status !== 0) throw new ToolError(line, r.status, String(r.stderr ?? ''));
  return String(r.stdout ?? '');
}

/** Run a shell pipeline (`/bin/sh -c`), e.g. `e2image -r X - | gzip > Y`, with pipefail semantics emulated. */
export function pipeline(script: string): string {
  return sh('/bin/bash', ['-o', 'pipefail', '-c', script]);
}

/** Run a command asynchronously, resolve with its exit status (never rejects). */
export function spawnAsync(cmd: string, args: string[], log?: (s: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (b: Buffer) => log?.(b.toString()));
    p.stderr.on('data', (b: Buffer) => log?.(b.toString()));
    p.on('error', () => resolve(127));
    p.on('close', (code) => resolve(code ?? 128));
  });
}

/** Whether a program is on PATH. */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Undo actions registered as the lab goes (unmount, detach loop, remove tracefs instance, kill
 * QEMU), run last-in first-out on success, error, and SIGINT/SIGTERM. Each undo runs once; a
 * failing undo is reported and the others still run.
 */
export class Cleanup {
  private readonly undo: { what: string; fn: () => void }[] = [];
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.runAll((s) => process.stderr.write(s + '\n'));
    process.kill(process.pid, sig);
  };
  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }
  /** Register an undo; returns a function that runs it now (and unregisters it). */
  add(what: string, fn: () => void): () => void {
    const entry = { what, fn };
    this.undo.push(entry);
    return () => {
      const i = this.undo.indexOf(entry);
      if (i >= 0) {
        this.undo.splice(i, 1);
        fn();
      }
    };
  }
  /** Run every registered undo, newest first. */
  runAll(warn: (s: string) => void = () => {}): void {
    while (this.undo.length) {
      const e = this.undo.pop()!;
      try {
        e.fn();
      } catch (err) {
        warn(`lab cleanup: ${e.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
  }
}
