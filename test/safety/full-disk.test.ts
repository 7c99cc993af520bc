/**
 * A disk that fills up while a command writes is the machine's state, not a bug: a one-line
 * error saying so (no "internal error"), exit status 1, and no output set left looking complete.
 * The full disk is a 1 MiB tmpfs (needs root to mount it: skipped, and said so, without).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { environmentProblem } from '../../src/util/errors.js';
import { fromThreadError, toThreadError } from '../../src/util/thread-errors.js';
import { iolineage, root } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-full-disk-'));
const small = join(work, 'small');
mkdirSync(small);

/** A 1 MiB tmpfs at `small`, or why there is none. */
function mountSmall(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `mount -t tmpfs failed: ${(e as Error).message.split('\n')[0]}`;
  }
}
const whyNot = mountSmall();
afterAll(() => {
  if (whyNot === null) execFileSync('umount', [small]);
  rmSync(work, { recursive: true, force: true });
});

describe('a full disk', () => {
  it.skipIf(whyNot !== null)(
    `ingest into a folder on a full file system: one line, exit 1, no outputs committed${whyNot ? ` (skipped: ${whyNot})` : ''}`,
    () => {
      const out = join(small, 'out');
      // the bundled host trace makes block tables of several MiB
      const r = iolineage(['ingest', join(root, 'data/m128-buffered/host/block.trace.gz'), '-o', out]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^iolineage: no space left on the device \(.*\) \(ENOSPC, write/m);
      expect(r.stderr).not.toMatch(/internal error/);
      // the folder the run made is gone, or holds no manifest and no table
      if (existsSync(out)) expect(readdirSync(out).filter((f) => !f.startsWith('.'))).toEqual([]);
    },
  );

  it('environmentProblem: the errno of the machine state, with the call and path; null for other errors', () => {
    const e: NodeJS.ErrnoException = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
    });
    expect(environmentProblem(e)).toMatch(/^no space left on the device .*\(ENOSPC, write\)$/);
    const q: NodeJS.ErrnoException = Object.assign(new Error('x'), { code: 'EDQUOT', syscall: 'open', path: '/data/out/a.arrow' });
    expect(environmentProblem(q)).toBe('disk quota exceeded (EDQUOT, open /data/out/a.arrow)');
    expect(environmentProblem(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeNull();
    expect(environmentProblem(new TypeError('x'))).toBeNull();
    expect(environmentProblem('ENOSPC')).toBeNull();
    // from a worker thread, the code survives the crossing
    expect(environmentProblem(fromThreadError(toThreadError(e)))).toBe(environmentProblem(e));
  });
});
