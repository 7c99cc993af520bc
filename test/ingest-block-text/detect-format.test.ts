import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormatOfBytes, detectInputFormat } from '../../src/ingest/detect-format.js';
import { InputError } from '../../src/util/errors.js';
import { fixture } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-detect-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);

describe('detectInputFormat', () => {
  it('recognises every block fixture (gzip-compressed) by content', async () => {
    const expected: Record<string, string> = {
      'ext4.trace.gz': 'tracefs',
      'ext3.trace.gz': 'tracefs',
      'ext4.tgid-noirq.pipe.gz': 'tracefs',
      'ext4.linux-5.10.trace.gz': 'tracefs',
      'ext4.linux-4.19.trace.gz': 'tracefs',
      'ext3.tgid-noirq.linux-5.10.pipe.gz': 'tracefs',
      'ext4.trace-cmd.txt.gz': 'trace-cmd',
      'ext4.trace-cmd-t.txt.gz': 'trace-cmd',
      'ext4.trace-cmd-R.txt.gz': 'trace-cmd',
      'ext4.trace-cmd-l.txt.gz': 'trace-cmd',
      'ext3.trace-cmd.txt.gz': 'trace-cmd',
      'ext4.blkparse.txt.gz': 'blkparse',
      'ext3.blkparse.txt.gz': 'blkparse',
    };
    for (const [name, fmt] of Object.entries(expected)) expect(await detectInputFormat(fixture(name)), name).toBe(fmt);
  });

  it('recognises binary blktrace in both byte orders and the fixtures of the other readers', async () => {
    const le = new Uint8Array([0x07, 0x74, 0x61, 0x65, 0, 0, 0, 0]);
    const be = new Uint8Array([0x65, 0x61, 0x74, 0x07, 0, 0, 0, 0]);
    expect(detectFormatOfBytes(le)).toBe('blktrace');
    expect(detectFormatOfBytes(be)).toBe('blktrace');
    const bt = join(import.meta.dirname, '..', 'fixtures', 'blktrace', 'deadline.blktrace.0.gz');
    if (existsSync(bt)) expect(await detectInputFormat(bt)).toBe('blktrace');
    const straceDir = join(import.meta.dirname, '..', 'fixtures', 'strace');
    const straces = existsSync(straceDir) ? readdirSync(straceDir).filter((f) => /\.strace(\.gz)?$/.test(f)) : [];
    for (const f of straces) expect(await detectInputFormat(join(straceDir, f)), f).toBe('strace');
  });

  it('recognises strace line shapes (pid column, -tt, -ttt, [pid N], resumed, exit lines)', () => {
    for (const text of [
      '1234  12:34:56.789012 openat(AT_FDCWD, "/x", O_RDONLY) = 3\n',
      '12:34:56.789012 read(3, "abc", 3) = 3\n',
      '1700000000.123456 read(3</x>, "abc", 3) = 3 <0.000010>\n',
      '[pid  4242] 1700000000.123456 pread64(3, ..., 4096, 0) = 4096\n',
      '4242  <... read resumed>"x", 1) = 1\n4242  +++ exited with 0 +++\n',
    ])
      expect(detectFormatOfBytes(enc(text)), text).toBe('strace');
  });

  it('names the file, what was looked for and how the input starts when nothing matches', async () => {
    const junk = join(work, 'junk.txt.gz');
    writeFileSync(junk, gzipSync('hello world\nthis is not a trace\n'));
    await expect(detectInputFormat(junk)).rejects.toThrowError(InputError);
    await expect(detectInputFormat(junk)).rejects.toThrowError(
      /junk\.txt\.gz.*looked for binary blktrace.*tracefs.*trace-cmd.*blkparse.*strace.*starts with "hello world"/,
    );
    const empty = join(work, 'empty');
    writeFileSync(empty, '');
    await expect(detectInputFormat(empty)).rejects.toThrowError(/empty input/);
    const bin = join(work, 'bin');
    writeFileSync(bin, new Uint8Array([1, 2, 0, 4, 5]));
    await expect(detectInputFormat(bin)).rejects.toThrowError(/unknown input format/);
    await expect(detectInputFormat(join(work, 'missing'))).rejects.toThrowError(/missing: cannot open: ENOENT/);
  });
});
