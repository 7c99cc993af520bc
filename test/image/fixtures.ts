/** Test helpers: unpack the gzip'ed image fixtures into a fresh temporary directory. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FIXTURES = new URL('../fixtures/image/', import.meta.url).pathname;

/** qcow2 fixtures that have a qemu-img map golden (name without extension). */
export const QCOW2_FIXTURES = [
  'v3',
  'v2',
  'c512',
  'c4k',
  'c2m',
  'ext64k',
  'ext32k',
  'zstd',
  'convc',
  'top',
  'xover',
  'prealloc',
  'e2q',
] as const;

/** Unpack every *.gz image fixture into a new temporary directory; returns it. */
export function unpackFixtures(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iol-image-test-'));
  for (const f of readdirSync(FIXTURES)) {
    if (f.endsWith('.gz')) writeFileSync(join(dir, f.slice(0, -3)), gunzipSync(readFileSync(join(FIXTURES, f))));
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function golden(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** True when `cmd` runs (e.g. `qemu-img --version`). */
export function haveTool(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Run a tool and return its stdout. */
export function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}), maxBuffer: 256 << 20 });
}

export { mulberry32 as prng } from '../../src/util/seeded-random.js';
