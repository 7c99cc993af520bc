/**
 * app_io from real strace captures (test/fixtures/strace, made by capture.sh) against the
 * ground truth the traced programs wrote themselves: fio --write_iolog, and the Python and Node
 * programs' JSON logs of every call with the offset from their own model of the file position.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppIoFlag } from '../../src/table/schemas/app-io.js';
import { fioIolog, fixture, FIXTURES, multisetDiff, parseFiles, truthOf, type Row } from './helpers.js';

const key = (pid: number, call: string, path: string | null, offset: bigint | number | null, bytes: bigint | number | null): string =>
  `${pid} ${call} ${path} ${offset === null ? 'null' : String(offset)} ${bytes === null ? 'null' : String(bytes)}`;

/** Successful read/write rows on the given paths, as "pid call path offset bytes". */
function transferKeys(rows: Row[], paths: Set<string>): string[] {
  return rows
    .filter((r) => (r.op === 'read' || r.op === 'write') && r.path !== null && paths.has(r.path) && r.error === null)
    .map((r) => key(r.pid, r.op, r.path, r.offset, r.bytes_done));
}

describe('programs that log their own calls', () => {
  for (const [log, truth, what] of [
    ['python.strace.gz', 'python.truth.jsonl.gz', 'strace -f -tt -T -y -o'],
    [
      'python-stderr.strace.gz',
      'python-stderr.truth.jsonl.gz',
      'strace -f -ttt -T -y to stderr ("[pid N]" prefixes, strace messages inside lines)',
    ],
    ['python-raw-ns.strace.gz', 'python-raw-ns.truth.jsonl.gz', 'strace -f --timestamps=unix,ns -X raw (numeric flags)'],
    ['node.strace.gz', 'node.truth.jsonl.gz', 'strace -f -ttt -T -y -yy, libuv thread pool'],
  ] as const) {
    it(`${log}: every read/write the program logged, with its offset and size (${what})`, async () => {
      const want = truthOf(truth);
      const { rows, stats } = await parseFiles([fixture(log)]);
      const paths = new Set(want.map((r) => r.path));
      const diff = multisetDiff(
        want.map((r) => key(r.pid, r.call, r.path, r.offset, r.bytes)),
        transferKeys(rows, paths),
      );
      expect(diff).toEqual([]);
      expect(want.length).toBeGreaterThan(40);
      expect(stats.total('error')).toBe(0);
    });
  }

  it('python.strace.gz: the call sequence of the main process in log order (lseek, dup, fork, O_APPEND, EOF)', async () => {
    const want = truthOf('python.truth.jsonl.gz');
    const { rows } = await parseFiles([fixture('python.strace.gz')]);
    const mainPid = want[0]!.pid;
    const paths = new Set(want.map((r) => r.path));
    // the single-threaded part (before the reader threads start): order must match call for call
    const seq = want
      .filter((r) => r.pid === mainPid)
      .slice(0, 27)
      .map((r) => key(r.pid, r.call, r.path, r.offset, r.bytes));
    const got = transferKeys(
      rows.filter((r) => r.pid === mainPid),
      paths,
    ).slice(0, 27);
    expect(got).toEqual(seq);
  });

  it('python.strace.gz: O_APPEND to a file of unknown size has no offset and is flagged; threads carry the process id', async () => {
    const { rows } = await parseFiles([fixture('python.strace.gz')]);
    const pre = rows.filter((r) => r.path === '/mnt/data/py/py_pre.txt' && r.op === 'write');
    expect(pre).toHaveLength(1);
    expect(pre[0]).toMatchObject({ append: true, offset: null, bytes_done: 9n, uncertain: true });
    expect(pre[0]!.flags & AppIoFlag.OffsetUnknown).toBeTruthy();
    const b = rows.filter((r) => r.path === '/mnt/data/py/py_b.bin' && r.op === 'write' && r.append);
    expect(b.map((r) => r.offset)).toEqual([2000n, 2100n]);
    const threads = rows.filter((r) => r.syscall === 'pread64' && r.path === '/mnt/data/py/py_a.bin' && r.tid !== r.pid);
    expect(threads.length).toBe(120);
    expect(new Set(threads.map((r) => r.tid)).size).toBe(3);
    const mm = rows.find((r) => r.op === 'map' && r.path === '/mnt/data/py/py_a.bin');
    expect(mm).toMatchObject({ offset: 4096n, bytes_req: 8192n, bytes_done: 8192n });
    const tr = rows.find((r) => r.op === 'truncate' && r.path === '/mnt/data/py/py_a.bin');
    expect(tr).toMatchObject({ offset: 16384n });
    const fa = rows.find((r) => r.op === 'allocate');
    expect(fa).toMatchObject({ offset: 16384n, bytes_req: 8192n, path: '/mnt/data/py/py_a.bin' });
    const failed = rows.find((r) => r.op === 'write' && r.error === 'EBADF');
    expect(failed).toMatchObject({ bytes_done: 0n });
    expect(rows.filter((r) => r.op === 'sync' && r.path === '/mnt/data/py/py_a.bin').map((r) => r.syscall)).toEqual(['fsync', 'fdatasync']);
  });
});

describe('fio with --write_iolog', () => {
  const check = async (logs: string[], iologs: string[]): Promise<number> => {
    const { rows, stats } = await parseFiles(logs.map(fixture));
    expect(stats.total('error')).toBe(0);
    let n = 0;
    for (const io of iologs) {
      for (const [path, want] of fioIolog(io)) {
        const got = rows
          .filter((r) => r.path === path && (r.op === 'read' || r.op === 'write'))
          .map((r) => `${r.op} ${r.offset} ${r.bytes_done}`);
        expect(got, `${io}: ${path}`).toEqual(want);
        n += want.length;
      }
    }
    return n;
  };

  it('psync and sync engines, buffered and O_DIRECT, processes and threads (-ttt -y): offsets and sizes call for call', async () => {
    const iologs = readdirSync(FIXTURES).filter((f) => /^(psync|sync)-.*\.iolog\.gz$/.test(f));
    expect(iologs).toHaveLength(7);
    expect(await check(['fio-ttt-y.strace.gz'], iologs)).toBe(736);
    const { rows } = await parseFiles([fixture('fio-ttt-y.strace.gz')]);
    const direct = rows.filter((r) => r.path?.includes('-direct-') && r.path.endsWith('.0.0') && (r.op === 'read' || r.op === 'write'));
    expect(direct.length).toBeGreaterThan(0);
    expect(direct.every((r) => r.direct)).toBe(true);
    expect(rows.filter((r) => r.path?.includes('-buf-') && r.path.endsWith('.0.0') && r.op === 'read').every((r) => !r.direct)).toBe(true);
    // the sync engine positions with lseek, then read/write use the tracked position
    expect(rows.filter((r) => r.path === '/mnt/data/fio/sync-buf-0.0.0' && r.syscall === 'lseek').length).toBeGreaterThan(50);
  });

  it('-ff per-task files without -y, -tt: merged by time, paths from the opens', async () => {
    const ff = readdirSync(FIXTURES).filter((f) => /^fio-ff-tt\.\d+\.gz$/.test(f));
    expect(ff.length).toBeGreaterThan(2);
    expect(await check(ff, ['ff-sync.iolog.gz', 'ff-psync-thr.iolog.gz'])).toBe(64);
  });

  it('io_uring: calls kept and flagged invisible, never guessed', async () => {
    const { rows } = await parseFiles([fixture('fio-uring.strace.gz')]);
    const enter = rows.filter((r) => r.syscall === 'io_uring_enter');
    expect(enter.length).toBeGreaterThan(10);
    expect(enter.every((r) => r.uncertain && (r.flags & AppIoFlag.Invisible) !== 0 && r.offset === null)).toBe(true);
    expect(rows.filter((r) => r.syscall === 'io_uring_setup')).toHaveLength(1);
  });
});

describe('coreutils', () => {
  it('dd bs=64k skip=3 seek=5 count=20: lseek then reads and writes at the tracked positions', async () => {
    const { rows } = await parseFiles([fixture('dd.strace.gz')]);
    const rd = rows.filter((r) => r.path === '/mnt/data/dd/src.bin' && r.op === 'read');
    const wr = rows.filter((r) => r.path === '/mnt/data/dd/dst.bin' && r.op === 'write');
    expect(rd.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, k) => BigInt((3 + k) * 65536)));
    expect(wr.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, k) => BigInt((5 + k) * 65536)));
    expect([...rd, ...wr].every((r) => r.bytes_done === 65536n && !r.uncertain)).toBe(true);
  });

  it('cp of a 3 MiB file: read and write sides cover the file exactly once', async () => {
    const { rows } = await parseFiles([fixture('cp.strace.gz')]);
    const rd = rows.filter((r) => r.path === '/mnt/data/dd/src.bin' && r.op === 'read' && r.bytes_done! > 0n);
    const wr = rows.filter((r) => r.path === '/mnt/data/dd/copy.bin' && r.op === 'write' && r.bytes_done! > 0n);
    const cover = (rs: Row[]): bigint => {
      let pos = 0n;
      for (const r of rs) {
        expect(r.offset).toBe(pos);
        pos += r.bytes_done!;
      }
      return pos;
    };
    expect(cover(rd)).toBe(3145728n);
    expect(cover(wr)).toBe(3145728n);
  });
});
