/**
 * File-position semantics on small logs in the exact shapes strace prints: open file
 * descriptions shared by dup and fork (POSIX "open file description"), lseek, O_APPEND, EOF,
 * calls that never finish, exact 64-bit values and timestamps.
 */
import { describe, expect, it } from 'vitest';
import { AppIoFlag } from '../../src/table/schemas/app-io.js';
import { tableMetadata } from '../../src/table/arrow-file.js';
import { parseText, type Row } from './helpers.js';

const rw = (rows: Row[]): string[] =>
  rows
    .filter((r) => r.op === 'read' || r.op === 'write')
    .map((r) => `${r.tid} ${r.op} ${r.path} ${r.offset} ${r.bytes_done}${r.uncertain ? ' ?' : ''}`);

describe('file positions', () => {
  it('dup and fcntl(F_DUPFD) share the position, close drops only the fd, a reused number starts at 0', () => {
    const { rows } = parseText(
      [
        '10 1.000001 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT|O_TRUNC, 0644) = 3',
        '10 1.000002 write(3, "x"..., 100) = 100',
        '10 1.000003 dup(3) = 4',
        '10 1.000004 write(4, "x"..., 50) = 50',
        '10 1.000005 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10',
        '10 1.000006 read(10, "", 10) = 0',
        '10 1.000007 close(3) = 0',
        '10 1.000008 write(4, "y"..., 1) = 1',
        '10 1.000009 openat(AT_FDCWD, "/d/b", O_RDONLY) = 3',
        '10 1.000010 read(3, "z"..., 10) = 10',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual([
      '10 write /d/a 0 100',
      '10 write /d/a 100 50',
      '10 read /d/a 150 0',
      '10 write /d/a 150 1',
      '10 read /d/b 0 10',
    ]);
  });

  it('fork copies the table with shared descriptions; threads (CLONE_FILES|CLONE_THREAD) share the table and carry the process id', () => {
    const { rows } = parseText(
      [
        '10 1.000001 openat(AT_FDCWD, "/d/a", O_RDWR) = 3</d/a>',
        '10 1.000002 read(3</d/a>, "x"..., 100) = 100',
        '10 1.000003 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 11',
        '11 1.000004 write(3</d/a>, "x"..., 10) = 10',
        '11 1.000005 close(3</d/a>) = 0',
        '11 1.000006 +++ exited with 0 +++',
        '10 1.000007 read(3</d/a>, "x"..., 5) = 5',
        '10 1.000008 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f}, 88) = 12',
        '12 1.000009 read(3</d/a>, "x"..., 5) = 5',
        '10 1.000010 read(3</d/a>, "x"..., 5) = 5',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual([
      '10 read /d/a 0 100',
      '11 write /d/a 100 10',
      '10 read /d/a 110 5',
      '12 read /d/a 115 5',
      '10 read /d/a 120 5',
    ]);
    expect(rows.find((r) => r.tid === 12)!.pid).toBe(10);
    expect(rows.find((r) => r.tid === 11)!.pid).toBe(11);
  });

  it('a child printed before its clone returns keeps what it opened; execve closes O_CLOEXEC fds', () => {
    const { rows } = parseText(
      [
        '10 1.000001 openat(AT_FDCWD, "/d/a", O_RDONLY|O_CLOEXEC) = 3',
        '10 1.000002 openat(AT_FDCWD, "/d/b", O_RDONLY) = 4',
        '10 1.000003 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
        '11 1.000004 read(4, "x"..., 7) = 7',
        '10 1.000005 <... clone resumed>, child_tidptr=0x7f) = 11',
        '11 1.000006 execve("/bin/x", ["x"], 0x7ffd /* 3 vars */) = 0',
        '11 1.000007 read(3, "x"..., 7) = 7',
        '11 1.000008 read(4, "x"..., 7) = 7',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual(['11 read /d/b 0 7', '11 read null null 7 ?', '11 read /d/b 7 7']);
    const lost = rows.find((r) => r.tid === 11 && r.fd === 3)!;
    expect(lost.flags & (AppIoFlag.FdUnknown | AppIoFlag.OffsetUnknown)).toBe(AppIoFlag.FdUnknown | AppIoFlag.OffsetUnknown);
  });

  it('lseek SEEK_SET/CUR/END; SEEK_END of a file tells its size; reads at EOF keep the offset', () => {
    const { rows } = parseText(
      [
        '1 1.000001 openat(AT_FDCWD</d>, "a", O_RDWR|O_APPEND) = 3</d/a>',
        '1 1.000002 write(3</d/a>, "x"..., 10) = 10',
        '1 1.000003 lseek(3</d/a>, -4, SEEK_END) = 96',
        '1 1.000004 write(3</d/a>, "x"..., 10) = 10',
        '1 1.000005 lseek(3</d/a>, 0, SEEK_SET) = 0',
        '1 1.000006 lseek(3</d/a>, 8, SEEK_CUR) = 8',
        '1 1.000007 read(3</d/a>, "x"..., 200) = 102',
        '1 1.000008 read(3</d/a>, "", 200) = 0',
        '1 1.000009 read(3</d/a>, "", 200) = 0',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual([
      '1 write /d/a null 10 ?',
      '1 write /d/a 100 10',
      '1 read /d/a 8 102',
      '1 read /d/a 110 0',
      '1 read /d/a 110 0',
    ]);
    expect(rows.filter((r) => r.op === 'write').map((r) => r.append)).toEqual([true, true]);
    expect(rows.filter((r) => r.syscall === 'lseek').map((r) => r.offset)).toEqual([96n, 0n, 8n]);
  });

  it('O_APPEND offsets are known after O_TRUNC or an fstat st_size; pwrite on O_APPEND appends (pwrite(2) BUGS)', () => {
    const { rows } = parseText(
      [
        '1 1.000001 openat(AT_FDCWD, "/d/log", O_WRONLY|O_CREAT|O_APPEND|O_TRUNC, 0644) = 3',
        '1 1.000002 write(3, "x"..., 10) = 10',
        '1 1.000003 pwrite64(3, "x"..., 5, 0) = 5',
        '1 1.000004 openat(AT_FDCWD, "/d/old", O_WRONLY|O_APPEND) = 4</d/old>',
        '1 1.000005 fstat(4</d/old>, {st_mode=S_IFREG|0644, st_size=4096, ...}) = 0',
        '1 1.000006 write(4</d/old>, "x"..., 7) = 7',
        '1 1.000007 write(4</d/old>, "x"..., 7) = 7',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual(['1 write /d/log 0 10', '1 write /d/log 10 5', '1 write /d/old 4096 7', '1 write /d/old 4103 7']);
  });

  it('preadv2/pwritev2 with offset -1 use and move the file position; RWF_APPEND appends', () => {
    const { rows } = parseText(
      [
        '1 1.000001 openat(AT_FDCWD, "/d/a", O_RDWR|O_TRUNC) = 3',
        '1 1.000002 pwritev2(3, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=3}], 2, -1, 0) = 5',
        '1 1.000003 pwritev2(3, [{iov_base="ppp", iov_len=3}], 1, 100, 0) = 3',
        '1 1.000004 preadv2(3, [{iov_base="", iov_len=16}], 1, -1, RWF_HIPRI) = 0',
        '1 1.000005 pwritev2(3, [{iov_base="z", iov_len=1}], 1, 0, RWF_APPEND) = 1',
        '1 1.000006 writev(3, [{iov_base="a", iov_len=1}, ...], 9) = 9',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual(['1 write /d/a 0 5', '1 write /d/a 100 3', '1 read /d/a 5 0', '1 write /d/a 103 1', '1 write /d/a 5 9']);
    expect(rows.map((r) => r.bytes_req)).toEqual([null, 5n, 3n, 16n, 1n, null]);
    expect(rows[5]!.flags & AppIoFlag.SizeUnknown).toBeTruthy();
  });
});

describe('calls whose outcome is unknown', () => {
  it('an unfinished call that never resumes is kept, flagged, and makes later positions unknown until a seek', () => {
    const { rows, stats } = parseText(
      [
        '1 1.000001 openat(AT_FDCWD, "/d/a", O_RDONLY) = 3',
        '1 1.000002 read(3,  <unfinished ...>',
        '2 1.000003 write(1, "x", 1) = 1',
        '1 1.000004 +++ killed by SIGKILL +++',
      ].join('\n'),
    );
    const r = rows.find((x) => x.op === 'read')!;
    expect(r).toMatchObject({ offset: 0n, bytes_done: null, dur_ns: null, uncertain: true });
    expect(r.flags & AppIoFlag.Unfinished).toBeTruthy();
    expect(stats.get('strace_unfinished_never_resumed')).toBe(1);

    const two = parseText(
      [
        '1 1.000001 openat(AT_FDCWD, "/d/a", O_RDONLY) = 3',
        '1 1.000002 read(3,  <unfinished ...>',
        '1 1.000004 <... read resumed> <unfinished ...>) = ?',
        '1 1.000005 read(3, "x", 1) = 1',
        '1 1.000006 lseek(3, 4, SEEK_SET) = 4',
        '1 1.000007 read(3, "x", 1) = 1',
      ].join('\n'),
    );
    expect(rw(two.rows)).toEqual(['1 read /d/a 0 null ?', '1 read /d/a null 1 ?', '1 read /d/a 4 1']);
  });

  it('resumed lines join their start across interleaved tasks; the duration is the resumed one', () => {
    const { rows } = parseText(
      [
        '1 1.000001 openat(AT_FDCWD, "/d/a", O_RDONLY) = 3</d/a>',
        '2 1.000002 openat(AT_FDCWD, "/d/b", O_RDONLY) = 4</d/b>',
        '1 1.000003 pread64(3</d/a>,  <unfinished ...>',
        '2 1.000004 pread64(4</d/b>, "x"..., 4096, 8192 <unfinished ...>',
        '1 1.000005 <... pread64 resumed>"x"..., 4096, 12288) = 4096 <0.000100>',
        '2 1.000006 <... pread64 resumed>) = 4096 <0.000050>',
        '3 1.000007 <... read resumed>"x", 1) = 1',
      ].join('\n'),
    );
    expect(rows.filter((r) => r.op === 'read').map((r) => [r.path, r.offset, r.ts_ns, r.dur_ns])).toEqual([
      ['/d/a', 12288n, 1000003000n, 100000n],
      ['/d/b', 8192n, 1000004000n, 50000n],
    ]);
  });
});

describe('older strace shapes', () => {
  it('strace 4.x: a space after "resumed>", "[pid N]" prefixes, no -y, -t seconds only', () => {
    const { rows } = parseText(
      [
        '[pid  4711] 12:00:01 open("/d/a", O_RDONLY) = 3',
        '[pid  4711] 12:00:01 read(3,  <unfinished ...>',
        '[pid  4712] 12:00:02 read(0, "", 1) = 0',
        '[pid  4711] 12:00:02 <... read resumed> "abcdefgh", 8) = 8',
        '[pid  4711] 12:00:03 _llseek(3, 100, [100], SEEK_SET) = 0',
        '[pid  4711] 12:00:03 read(3, "x", 1) = 1',
      ].join('\n'),
    );
    expect(rw(rows)).toEqual(['4712 read null null 0 ?', '4711 read /d/a 0 8', '4711 read /d/a 100 1']);
    expect(rows.find((r) => r.syscall === '_llseek')!.offset).toBe(100n);
    expect(rows[0]!.ts_ns).toBe(BigInt(12 * 3600 + 1) * 1000000000n);
  });
});

describe('time and numbers', () => {
  it('-ttt: exact integer ns from the epoch; -T durations', () => {
    const { rows, table } = parseText(
      '1 1795697843.805674 fsync(3</d/a>) = 0 <0.000122>\n1 1795697874.774780525 fsync(3</d/a>) = 0 <0.000000001>',
    );
    expect(rows.map((r) => r.ts_ns)).toEqual([1795697843805674000n, 1795697874774780525n]);
    expect(rows.map((r) => r.dur_ns)).toEqual([122000n, 1n]);
    expect(tableMetadata(table)).toMatchObject({ clock: 'strace wall clock', time_base: 'epoch' });
    // a later line may carry an earlier (entry) time than the first line: exact below the base too
    const back = parseText('1 1795697843.805674 fsync(3) = 0\n2 1795697843.000001 fsync(3) = 0\n2 1795697842.999999 fsync(3) = 0');
    expect(back.rows.map((r) => r.ts_ns)).toEqual([1795697843805674000n, 1795697843000001000n, 1795697842999999000n]);
  });

  it('-tt: time of day anchored to --date (UTC), past midnight; without a date counted from midnight', () => {
    const text = '1 23:59:59.999999 fsync(3) = 0\n1 00:00:00.000001 fsync(3) = 0';
    const a = parseText(text, { date: '2026-11-26' });
    const day = BigInt(Date.UTC(2026, 10, 26) / 1000) * 1000000000n;
    expect(a.rows.map((r) => r.ts_ns)).toEqual([day + 86399999999000n, day + 86400000001000n]);
    expect(tableMetadata(a.table)).toMatchObject({ time_base: 'time_of_day', date: '2026-11-26' });
    const b = parseText(text);
    expect(b.rows[0]!.ts_ns).toBe(86399999999000n);
    expect(tableMetadata(b.table).date).toMatch(/unknown/);
    expect(() => parseText(text, { date: '2026-13-01' })).toThrow(/YYYY-MM-DD/);
  });

  it('offsets beyond 2^53 stay exact; a position past 2^53 becomes unknown rather than rounded', () => {
    const { rows } = parseText(
      [
        '1 1.000001 pread64(3</d/big>, "x", 1, 9007199254740993) = 1',
        '1 1.000002 lseek(3</d/big>, 9223372036854775000, SEEK_SET) = 9223372036854775000',
        '1 1.000003 read(3</d/big>, "x", 1) = 1',
      ].join('\n'),
    );
    expect(rows[0]!.offset).toBe(9007199254740993n);
    expect(rows[1]!.offset).toBe(9223372036854775000n);
    expect(rows[2]!.offset).toBeNull();
    expect(rows[2]!.flags & AppIoFlag.OffsetUnknown).toBeTruthy();
  });
});

describe('two-file calls, maps, io_uring, other calls', () => {
  it('sendfile/copy_file_range give a read row and a write row; mmap of a file has its offset; io_uring is flagged', () => {
    const { rows, stats } = parseText(
      [
        '1 1.000001 sendfile(4</d/out>, 3</d/in>, [0] => [4096], 4096) = 4096',
        '1 1.000002 copy_file_range(3</d/in>, [0], 4</d/out>, [8192], 4096, 0) = 4096',
        '1 1.000003 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3</d/in>, 0x2000) = 0x7fdd398f7000',
        '1 1.000004 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fdd398f7000',
        '1 1.000005 io_uring_enter(7<anon_inode:[io_uring]>, 1, 0, IORING_ENTER_GETEVENTS, NULL, 0) = 1',
        '1 1.000006 getpid() = 1',
        '1 1.000007 frobnicate(1, 2) = 0',
      ].join('\n'),
    );
    expect(rows.map((r) => `${r.op} ${r.path} ${r.offset} ${r.bytes_done}`)).toEqual([
      'read /d/in 0 4096',
      'write /d/out null 4096',
      'read /d/in 0 4096',
      'write /d/out 8192 4096',
      'map /d/in 8192 8192',
      'other anon_inode:[io_uring] null null',
    ]);
    expect(rows[1]!.flags & AppIoFlag.SecondHalf).toBeTruthy();
    expect(rows[5]!.flags & AppIoFlag.Invisible).toBeTruthy();
    expect(stats.get('strace_other_syscalls')).toBe(2);
  });

  it('a file that is not strace output is refused with its name and a line; garbage lines are counted with file:line', () => {
    expect(() => parseText(Array.from({ length: 1200 }, (_, i) => `${i},8 garbage`).join('\n'), { name: 'blk.txt' })).toThrow(
      /blk\.txt:line 1000.*not strace output/,
    );
    const { stats } = parseText('1 1.000001 fsync(3) = 0\n%%% garbage\n1 1.000002 read(3, "x", 1', { name: 'app.strace' });
    const ex = stats
      .list()
      .filter((c) => c.severity === 'data_loss')
      .flatMap((c) => c.examples.map((e) => `${e.file}:${e.line}`));
    expect(ex.sort()).toEqual(['app.strace:2', 'app.strace:3']);
  });
});
