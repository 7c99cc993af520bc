/**
 * Live comparisons on this machine: strace a fresh run of the ground-truth Python program and of
 * dd, then check app_io against what they did. Skipped with a reason when strace or Python is
 * missing, or when ptrace is not permitted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, multisetDiff, parseFiles } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-strace-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}
const haveStrace = works('strace', ['-o', '/dev/null', 'true']);
const python = '/usr/bin/python3';
const havePython = existsSync(python);
if (!haveStrace) console.log('live strace tests skipped: strace missing or ptrace not permitted');
if (!havePython) console.log('live Python test skipped: /usr/bin/python3 missing');

describe('live strace captures', () => {
  it.skipIf(!haveStrace || !havePython)('a fresh run of programs/io_prog.py: every logged call with its offset and size', async () => {
    const data = join(dir, 'py');
    rmSync(data, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', data]);
    writeFileSync(join(data, 'py_pre.txt'), 'existing\n');
    const log = join(dir, 'py.strace');
    const truth = join(dir, 'truth.jsonl');
    const r = spawnSync(
      'strace',
      ['-f', '-ttt', '-T', '-y', '-o', log, python, '-I', '-S', join(FIXTURES, 'programs', 'io_prog.py'), data, truth],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const want = [readFileSync(truth, 'utf8'), readFileSync(truth + '.child', 'utf8')]
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pid: number; call: string; path: string; offset: number | null; bytes: number });
    const { rows, stats } = await parseFiles([log]);
    const paths = new Set(want.map((w) => w.path));
    const got = rows
      .filter((x) => (x.op === 'read' || x.op === 'write') && x.path !== null && paths.has(x.path) && x.error === null)
      .map((x) => `${x.pid} ${x.op} ${x.path} ${x.offset} ${x.bytes_done}`);
    expect(
      multisetDiff(
        want.map((w) => `${w.pid} ${w.call} ${w.path} ${w.offset} ${w.bytes}`),
        got,
      ),
    ).toEqual([]);
    expect(stats.total('data_loss')).toBe(0);
  });

  it.skipIf(!haveStrace)('dd with skip/seek: offsets of every read and write', async () => {
    const src = join(dir, 'src.bin');
    const dst = join(dir, 'dst.bin');
    writeFileSync(src, Buffer.alloc(1 << 20, 7));
    const log = join(dir, 'dd.strace');
    const r = spawnSync(
      'strace',
      ['-f', '-tt', '-T', '-o', log, 'dd', `if=${src}`, `of=${dst}`, 'bs=8k', 'skip=7', 'seek=11', 'count=9', 'status=none'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const { rows } = await parseFiles([log], '2026-11-26');
    expect(rows.filter((x) => x.path === src && x.op === 'read').map((x) => x.offset)).toEqual(
      Array.from({ length: 9 }, (_, k) => BigInt((7 + k) * 8192)),
    );
    expect(rows.filter((x) => x.path === dst && x.op === 'write').map((x) => x.offset)).toEqual(
      Array.from({ length: 9 }, (_, k) => BigInt((11 + k) * 8192)),
    );
  });
});
