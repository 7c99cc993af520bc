/**
 * The fast path (StraceParser.fastLine, SyscallEffects.fastCheck/fastApply) against the general
 * path: every fixture, edge cases of the shapes the fast path takes, and seeded mutations of them
 * must give the same rows, the same counted problems and the same line count whether the lines
 * may take the fast path or all go through the general one, and whatever the chunk size.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TableBuilder } from '../../src/table/table-builder.js';
import { appIoTable } from '../../src/table/schemas/app-io.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { parseStrace, parseStraceText, type StraceTextOptions } from '../../src/ingest/app/ingest-strace.js';
import { LineKind, StraceLine, tokenizeStraceLine } from '../../src/ingest/app/strace-line.js';
import { parseCallFast } from '../../src/ingest/app/strace-call.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';
import { FIXTURES, gunzipText, rowsOf } from './helpers.js';

function run(text: string, opts: StraceTextOptions): { rows: unknown[]; stats: string[]; lines: number; meta: Record<string, string> } {
  const b = new TableBuilder(appIoTable);
  const stats = new IngestStats();
  const r = parseStraceText(text, b, stats, opts);
  const t = b.finish(r.metadata);
  return { rows: rowsOf(t), stats: stats.format(), lines: r.lines, meta: r.metadata };
}

/** The fast path and the general path agree, whole and cut into chunks of `chunk` bytes. */
function expectSame(text: string, chunk = 0): void {
  const want = run(text, { generalOnly: true });
  expect(run(text, {})).toEqual(want);
  if (chunk > 0) expect(run(text, { chunkBytes: chunk })).toEqual(want);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const FIO = [
  '41000 1795697843.000025 execve("/usr/bin/fio", ["fio", "jobs.fio"], 0x7ffd4e3c1d28 /* 12 vars */) = 0 <0.000215>',
  '41000 1795697843.000043 openat(AT_FDCWD</mnt/data>, "/mnt/data/f0", O_RDWR|O_CREAT|O_DIRECT, 0600) = 5</mnt/data/f0> <0.000173>',
  '41007 1795697843.000070 openat(AT_FDCWD</mnt/data>, "/mnt/data/f1", O_RDWR|O_CREAT, 0600) = 6</mnt/data/f1> <0.000037>',
  '41000 1795697843.000230 pread64(5</mnt/data/f0>,  <unfinished ...>',
  '41007 1795697843.000252 pwrite64(6</mnt/data/f1>, "\\233[\\234\\346l"..., 4096, 143319040) = 4096 <0.000008>',
  '41000 1795697843.000294 <... pread64 resumed>"\\233[\\234\\346l\\221"..., 4096, 2060288) = 4096 <0.000044>',
  '41007 1795697843.000265 lseek(6</mnt/data/f1>, 8192, SEEK_SET) = 8192 <0.000092>',
  '41007 1795697843.000268 read(6</mnt/data/f1>,  <unfinished ...>',
  '41000 1795697843.000270 clock_gettime(CLOCK_MONOTONIC, {tv_sec=4467, tv_nsec=110911536}) = 0 <0.000130>',
  '41007 1795697843.000410 <... read resumed>"\\233[\\234"..., 4096) = 4096 <0.000107>',
  '41007 1795697843.000420 write(6</mnt/data/f1>, "ab", 2 <unfinished ...>',
  '41000 1795697843.000421 futex(0x7f2d8c000b70, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
  '41007 1795697843.000430 <... write resumed>) = 2 <0.000010>',
  '41000 1795697843.000440 <... futex resumed>) = 0 <0.000019>',
  '41007 1795697843.000450 lseek(6</mnt/data/f1>, -100, SEEK_END) = 8002 <0.000003>',
  '41007 1795697843.000460 read(6</mnt/data/f1>, "", 4096) = 0 <0.000003>',
  '41000 1795697843.000470 pwrite64(5</mnt/data/f0>, "x"..., 4096, 18446744073709547520) = 4096 <0.000003>',
  '41000 1795697843.000480 pread64(5</mnt/data/f0>, 0x7f00, 4096, 0) = -1 EAGAIN (Resource temporarily unavailable) <0.000003>',
  '41000 1795697843.000490 read(5</mnt/data/f0>, "ab", 99999999999999999) = 2 <0.000003>',
  '41000 1795697843.000500 read(5, "ab", 2) = 2 <0.000003>',
  '41000 1795697843.000510 read(7</mnt/data/f\\303\\251>, "ab", 2) = 2 <0.000003>',
  '41000 1795697843.000520 read(7</mnt/data/f\u00e9>, "ab", 2) = 2 <0.000003>',
  '41000 1795697843.000530 read(8</dev/sda<block 8:0>>, "ab", 2) = 2 <0.000003>',
  '41000 1795697843.000540 lseek(5</mnt/data/f0>, 0, 2) = 4096 <0.000003>',
  '41000 1795697843.000550 read(5</mnt/data/f0>, "ab", 2) = ? <0.000003>',
  '41007 1795697843.000560 +++ exited with 0 +++',
  '41000 1795697843.000570 read(5</mnt/data/f0>, "ab", 2) = 2',
  '41000 1795697843.000580 pread64(5</mnt/data/f0>,  <unfinished ...>',
  '41000 1795697843.000590 <... pread64 resumed> <unfinished ...>) = ?',
  '41000 1795697843.000600 +++ exited with 0 +++',
];

describe('fast path', () => {
  it('tokenizes the shapes it takes; the fast splitter marks what the fast path refuses', () => {
    const B = new StraceLine();
    const line = (s: string): LineKind => {
      const b = enc(s);
      return tokenizeStraceLine(b, 0, b.length, B);
    };
    expect(line('41 1795697843.000025 read(5</a>, "x", 1) = 1 <0.000001>')).toBe(LineKind.Call);
    expect([B.tid, B.tsSec, B.tsFrac]).toEqual([41, 1795697843, 25000]);
    expect(line('[pid  41] 12:34:56.123456789 pread64(5,  <unfinished ...>')).toBe(LineKind.Unfinished);
    expect([B.tid, B.tsSec, B.tsFrac]).toEqual([41, 12 * 3600 + 34 * 60 + 56, 123456789]);
    expect(line('41 <... read resumed>"x", 1) = 1')).toBe(LineKind.Resumed);
    expect([line('41 <... read resumed> <unfinished ...>) = ?'), B.resumedUnfinished]).toEqual([LineKind.Resumed, true]);
    expect(line('41 --- SIGCHLD {si_signo=SIGCHLD} ---')).toBe(LineKind.Signal);
    expect(line('41 +++ exited with 0 +++')).toBe(LineKind.Exit);
    expect(line('41 12:3x:56 read(5, "", 1) = 0')).toBe(LineKind.Malformed);
    expect(line('41 ')).toBe(LineKind.Blank);
    const call = (s: string, k: number, middle: boolean): boolean => {
      const b = enc(s);
      return parseCallFast(B, b, 0, b.length, k, middle);
    };
    const ret = (): string => new TextDecoder().decode(B.bytes.subarray(B.retStart, B.retEnd));
    expect(call('5</a/b>, "x", 4096, 77) = 4096 <0.000010>', 2, true)).toBe(true);
    expect([ret(), B.plainRet, B.plainFd, B.durNs, B.decoAt, B.argc, B.errStart]).toEqual(['4096', 4096, 5, 10000, 1, 4, -1]);
    expect(call('5</a/b>, "x", 4096, 77) = -1 EIO (Input/output error)', 2, true)).toBe(true);
    expect([ret(), B.plainRet, B.errStart > 0]).toEqual(['-1', -1, true]);
    expect(call('5</a/b>, "x", 4096, 77) = 1234567890123456', 2, true)).toBe(true);
    expect(B.plainRet).toBe(-1);
    expect(call('-1, "x", 4096, 77) = 1', 2, true)).toBe(true);
    expect(B.plainFd).toBe(-1);
    expect(call('5</dev/sda<block 8:0>>, "x", 4096, 77) = 1', 2, true)).toBe(true);
    expect(B.decoAt).toBe(-2);
    expect(call('5, 100, SEEK_SET) = 100', 2, false)).toBe(true);
    expect(B.decoAt).toBe(-1);
    expect(call('5, [1, 2], 4) = 4', 2, true)).toBe(false);
  });

  it('gives the rows of the general path on edge cases, whole and cut into chunks of every size', () => {
    const text = FIO.join('\n');
    expectSame(text);
    for (const chunk of [1, 2, 3, 7, 64, 113]) expect(run(text, { chunkBytes: chunk })).toEqual(run(text, { generalOnly: true }));
    expectSame(FIO.join('\r\n') + '\r\n', 5);
    expectSame(text.slice(0, text.length - 9), 17); // a cut last line without a line break
    // an unfinished call whose head holds a long data string (strace -s), then short ones on the
    // same task: the pooled head buffer grows, is dropped, and the next head fits a new one
    const big = 'x'.repeat(70000);
    const long = [
      FIO[1],
      FIO[2],
      `41007 1795697843.000420 write(6</mnt/data/f1>, "${big}", 70000 <unfinished ...>`,
      '41007 1795697843.000430 <... write resumed>) = 70000 <0.000010>',
      '41007 1795697843.000440 pread64(6</mnt/data/f1>,  <unfinished ...>',
      '41007 1795697843.000450 <... pread64 resumed>"ab", 2, 70000) = 2 <0.000010>',
      `41007 1795697843.000460 write(6</mnt/data/f1>, "${big}", 70000 <unfinished ...>`,
      '41007 1795697843.000470 <... write resumed>) = 70000 <0.000010>',
    ].join('\n');
    expectSame(long, 4096);
    expect(run(long, {}).rows).toHaveLength(5);
  });

  it('general and fast path differ when one is wrong (the comparison can fail)', () => {
    const a = run(FIO.join('\n'), { generalOnly: true });
    const b = run(FIO.slice(0, -3).join('\n'), {});
    expect(b).not.toEqual(a);
  });

  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.strace.gz') || /^fio-ff-tt\.\d+\.gz$/.test(n))) {
    it(`${f}: same rows and counts as the general path`, () => expectSame(gunzipText(f), 4093));
  }

  it('a multi-MiB file read directly (one reused buffer) gives the rows of its text in memory and of its gzip', async () => {
    // fio-ttt-y repeated with CRLF in every other copy, and no line break at the very end: lines
    // are cut by every 1 MiB read, and the reused buffer is refilled while a cut line is carried
    const one = gunzipText('fio-ttt-y.strace.gz').replace(/\n$/, '');
    const text = Array.from({ length: 9 }, (_, k) => (k % 2 ? one.replace(/\n/g, '\r\n') : one)).join('\n');
    expect(text.length).toBeGreaterThan(3 << 20);
    const dir = mkdtempSync(join(tmpdir(), 'iol-strace-direct-'));
    try {
      writeFileSync(join(dir, 'big.strace'), text);
      writeFileSync(join(dir, 'big.strace.gz'), gzipSync(text));
      const fromFile = async (name: string): Promise<unknown> => {
        const b = new TableBuilder(appIoTable);
        const stats = new IngestStats();
        let last = 0;
        const r = await parseStrace([join(dir, name)], b, stats, {
          onProgress: (n, total) => {
            expect(n).toBeGreaterThanOrEqual(last);
            expect(n).toBeLessThanOrEqual(total);
            last = n;
          },
        });
        return {
          rows: rowsOf(b.finish(r.metadata)),
          stats: stats.format().map((l) => l.replace(/big\.strace(\.gz)?/g, 'F')),
          lines: r.lines,
        };
      };
      const mem = run(text, { name: 'F' });
      const want = { rows: mem.rows, stats: mem.stats, lines: mem.lines };
      const plain = (await fromFile('big.strace')) as { rows: { file: string }[] };
      for (const r of plain.rows) r.file = 'F';
      expect(plain).toEqual(want);
      const gz = (await fromFile('big.strace.gz')) as { rows: { file: string }[] };
      for (const r of gz.rows) r.file = 'F';
      expect(gz).toEqual(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-ff per-task files (cut by many 64 KiB reads, some gzipped): the fast path merges them as the general path does, with the rows of the -f log', async () => {
    // the real -f capture fio-ttt-y repeated 6 times 1000 s apart, then split by its pid column
    // into PREFIX.TID files without that column, as strace -ff writes them
    const one = gunzipText('fio-ttt-y.strace.gz').replace(/\n$/, '').split('\n');
    const log: string[] = [];
    for (let k = 0; k < 6; k++)
      for (const l of one) log.push(l.replace(/^(\d+\s+)(\d+)\./, (_, p, sec) => `${p}${Number(sec) + 1000 * k}.`));
    const byTid = new Map<string, string[]>();
    for (const l of log) {
      const m = /^(\d+)\s+/.exec(l)!;
      if (!byTid.has(m[1]!)) byTid.set(m[1]!, []);
      byTid.get(m[1]!)!.push(l.slice(m[0].length));
    }
    expect(byTid.size).toBeGreaterThan(3);
    const dir = mkdtempSync(join(tmpdir(), 'iol-strace-ff-'));
    try {
      const files: string[] = [];
      let k = 0;
      for (const [tid, lines] of byTid) {
        const text = lines.join('\n') + '\n';
        const name = join(dir, `trace.${tid}${k++ % 2 ? '.gz' : ''}`);
        writeFileSync(name, name.endsWith('.gz') ? gzipSync(text) : text);
        files.push(name);
      }
      expect(Math.max(...[...byTid.values()].map((l) => l.join('\n').length))).toBeGreaterThan(4 << 16);
      const parse = async (paths: string[], generalOnly: boolean) => {
        const b = new TableBuilder(appIoTable);
        const stats = new IngestStats();
        const r = await parseStrace(paths, b, stats, { generalOnly });
        return { rows: rowsOf(b.finish(r.metadata)), stats: stats.format(), lines: r.lines };
      };
      const lane = await parse(files, false);
      expect(lane).toEqual(await parse(files, true));
      // the same calls, in the same order, as the -f log itself gives
      writeFileSync(join(dir, 'all.strace'), log.join('\n') + '\n');
      const f = await parse([join(dir, 'all.strace')], false);
      const pick = (rows: unknown[]) =>
        (rows as Record<string, unknown>[]).map((r) => [r.ts_ns, r.tid, r.syscall, r.path, r.offset, r.bytes_done, r.error]);
      expect(lane.rows.length).toBeGreaterThan(1000);
      expect(pick(lane.rows)).toEqual(pick(f.rows));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a byte order mark opening a file is dropped (as the streaming decoder did); one inside the log stays text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iol-strace-bom-'));
    try {
      const body = FIO.slice(0, 12).join('\n') + '\n';
      const bom = '\ufeff';
      const withMid = body + bom + FIO[12] + '\n';
      writeFileSync(join(dir, 'a.strace'), bom + withMid);
      writeFileSync(join(dir, 'b.strace'), withMid);
      const read = async (name: string): Promise<unknown> => {
        const b = new TableBuilder(appIoTable);
        const stats = new IngestStats();
        const r = await parseStrace([join(dir, name)], b, stats);
        const rows = rowsOf(b.finish(r.metadata)).map((x) => ({ ...x, file: '' }));
        return { rows, stats: stats.format().map((l) => l.replace(/[ab]\.strace/g, 'F')), lines: r.lines };
      };
      const a = (await read('a.strace')) as { stats: string[] };
      expect(a).toEqual(await read('b.strace'));
      // the mark before line 13 is kept, so that line is not a strace line (counted, with the mark)
      expect(a.stats.join('\n')).toMatch(/strace_bad_line.*F:13: \ufeff41007/);
      // -ff per-task files too: a mark opening one is dropped
      const task =
        FIO.filter((l) => l.startsWith('41007 '))
          .map((l) => l.replace(/^41007 /, ''))
          .join('\n') + '\n';
      writeFileSync(join(dir, 'ff.41007'), bom + task);
      writeFileSync(
        join(dir, 'ff.41000'),
        FIO.filter((l) => l.startsWith('41000 '))
          .map((l) => l.replace(/^41000 /, ''))
          .join('\n') + '\n',
      );
      writeFileSync(join(dir, 'gg.41007'), task);
      writeFileSync(
        join(dir, 'gg.41000'),
        FIO.filter((l) => l.startsWith('41000 '))
          .map((l) => l.replace(/^41000 /, ''))
          .join('\n') + '\n',
      );
      const ff = async (prefix: string) => {
        const b = new TableBuilder(appIoTable);
        const stats = new IngestStats();
        const r = await parseStrace([join(dir, `${prefix}.41000`), join(dir, `${prefix}.41007`)], b, stats);
        return {
          rows: rowsOf(b.finish(r.metadata)).map((x) => ({ ...x, file: '' })),
          stats: stats.format().map((l) => l.replace(/(ff|gg)\.4100\d/g, 'F')),
        };
      };
      const withMark = await ff('ff');
      expect(withMark.rows.filter((x) => x.tid === 41007).length).toBeGreaterThan(0);
      expect(withMark).toEqual(await ff('gg'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seeded mutations of the fast shapes: same rows and counts as the general path', () => {
    const r = rng(7);
    const pick = (n: number): number => Math.floor(r() * n);
    const NASTY = ['-', '9', '99999999999999999', ' ', ',', '>', '<', '"', ')', ' = ', 'SEEK_END', '\u00e9', '\r', '?', 'E'];
    for (let round = 0; round < 60; round++) {
      const lines = FIO.slice();
      for (let k = 0, n = 1 + pick(8); k < n; k++) {
        const j = pick(lines.length);
        const s = lines[j]!;
        const at = pick(s.length + 1);
        switch (pick(4)) {
          case 0:
            lines[j] = s.slice(0, at) + NASTY[pick(NASTY.length)]! + s.slice(at + pick(3));
            break;
          case 1:
            lines[j] = s.slice(0, at);
            break;
          case 2:
            lines.splice(pick(lines.length), 0, s);
            break;
          default:
            lines.splice(j, 1);
        }
      }
      expectSame(lines.join('\n'), 1 + pick(200));
    }
  });
});

describe('numbers past 64 bits', () => {
  // found by the fuzz campaign (analyze kind, seed 3): a digit run into an offset wrapped into int64
  const line = (offset: string) =>
    `114   1795708259.632310 pwrite64(4</mnt/data/f004>, "ab"..., 1048576, ${offset}) = 1048576 <0.337295>\n`;
  it('an offset longer than int64 is unknown (null), on both paths; int64 extremes are kept exactly', () => {
    const damaged = run(line('24117249223372036854775808'), {});
    expect(damaged).toEqual(run(line('24117249223372036854775808'), { generalOnly: true }));
    expect((damaged.rows[0] as { offset: unknown }).offset).toBeNull();
    const max = run(line('9223372036854775807'), {});
    expect((max.rows[0] as { offset: unknown }).offset).toBe(9223372036854775807n);
    expect((run(line('9223372036854775808'), {}).rows[0] as { offset: unknown }).offset).toBeNull();
  });
});
