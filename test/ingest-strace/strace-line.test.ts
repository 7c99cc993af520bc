/** The line grammar on the line shapes of strace 4.x-6.x (reference: strace(1), observed lines). */
import { describe, expect, it } from 'vitest';
import { LineKind, StraceLine, TimeFormat, tokenizeStraceLine } from '../../src/ingest/app/strace-line.js';
import { parseCallBody, parseCallFast } from '../../src/ingest/app/strace-call.js';
import { decodeCEscapes } from '../../src/ingest/app/strace-string.js';
import { decodeBytes, decorationRange } from '../../src/ingest/app/strace-bytes.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The line tokenized from its UTF-8 bytes; a byte after the line that no part of it may read. */
function tok(line: string): StraceLine {
  const b = enc(line + '\u0000');
  const L = new StraceLine();
  tokenizeStraceLine(b, 0, b.length - 1, L);
  return L;
}
const text = (L: StraceLine, s: number, e = L.end): string => decodeBytes(L.bytes, s, e);
function call(line: string): { L: StraceLine; args: string[]; ret: string; err: string | null } {
  const L = tok(line);
  expect(L.kind).toBe(LineKind.Call);
  expect(parseCallBody(L, L.bytes, L.bodyStart, L.end)).toBe(true);
  const args = Array.from({ length: L.argc }, (_, i) => L.arg(i));
  return { L, args, ret: text(L, L.retStart, L.retEnd), err: L.errStart >= 0 ? text(L, L.errStart, L.errEnd) : null };
}

describe('tokenizeStraceLine', () => {
  it('pid column forms: "123 " (-o), "[pid  123] " (stderr), none (-ff)', () => {
    expect(tok('19946 12:57:08.387481 close(3) = 0').tid).toBe(19946);
    expect(tok('[pid 20107] 12:57:30.813443 read(3, "x", 1) = 1').tid).toBe(20107);
    expect(tok('[pid   907] 12:57:30.813443 read(3, "x", 1) = 1').tid).toBe(907);
    expect(tok('123   1795697843.805674 close(3) = 0').tid).toBe(123);
    const L = tok('12:57:08.387481 close(3) = 0');
    expect(L.tid).toBe(-1);
    expect(L.timeFormat).toBe(TimeFormat.TimeOfDay);
  });

  it('malformed prefixes are refused; good ones give their fields', () => {
    const bad = [
      '12:0;:00 close(3) = 0', // a time of day with a non-digit minute
      '24:00:00 close(3) = 0',
      '12:60:00 close(3) = 0',
      '1:00:00 close(3) = 0',
      '12:00 close(3) = 0',
      '1795697843. close(3) = 0',
      '1795697843.5x close(3) = 0',
      '1234567890123 close(3) = 0',
      '[pid ] close(3) = 0',
      '[pid 99999999999] close(3) = 0',
      '[pix 12] close(3) = 0',
      '12:00:0\u00e9 close(3) = 0', // a non-ASCII character inside the timestamp
    ];
    for (const line of bad) expect([line, tok(line).kind]).toEqual([line, LineKind.Malformed]);
    const good: [string, number, TimeFormat, number, number, string][] = [
      ['[pid  7] 23:59:60.5 read(3, "x", 1) = 1', 7, TimeFormat.TimeOfDay, 23 * 3600 + 59 * 60 + 60, 500000000, 'read'],
      ['42 1795697843.123456789 close(3) = 0', 42, TimeFormat.Epoch, 1795697843, 123456789, 'close'],
      ['00:00:00 close(3) = 0', -1, TimeFormat.TimeOfDay, 0, 0, 'close'],
      [`[pid${' '.repeat(200)}12] close(3) = 0`, 12, TimeFormat.None, 0, 0, 'close'],
    ];
    for (const [line, tid, tf, sec, frac, name] of good) {
      const L = tok(line);
      expect([line, L.kind, L.tid, L.timeFormat, L.name()]).toEqual([line, LineKind.Call, tid, tf, name]);
      if (tf !== TimeFormat.None) expect([L.tsSec, L.tsFrac]).toEqual([sec, frac]);
    }
  });

  it('reads nothing past the end of the line (a cut prefix is not completed by the next bytes)', () => {
    for (const [line, rest] of [
      ['[pid', ' 12] close(3) = 0'],
      ['[pid 12]', ' close(3) = 0'],
      ['41000', ' 1.5 close(3) = 0'],
      ['1795697843', ' close(3) = 0'],
      ['12:00:00.1', ' close(3) = 0'],
    ]) {
      const b = enc(line! + rest!);
      const L = new StraceLine();
      expect([line, tokenizeStraceLine(b, 0, line!.length, L)]).toEqual([line, tok(line!).kind]);
      expect([LineKind.Malformed, LineKind.Blank]).toContain(L.kind);
    }
  });

  it('timestamps: -tt time of day, -ttt epoch, ns precision, none', () => {
    const a = tok('1 12:57:08.387481 close(3) = 0');
    expect([a.timeFormat, a.tsSec, a.tsFrac]).toEqual([TimeFormat.TimeOfDay, 12 * 3600 + 57 * 60 + 8, 387481000]);
    const b = tok('1 1795697843.805674 close(3) = 0');
    expect([b.timeFormat, b.tsSec, b.tsFrac]).toEqual([TimeFormat.Epoch, 1795697843, 805674000]);
    const c = tok('1 1795697874.774780525 close(3) = 0');
    expect([c.tsSec, c.tsFrac]).toEqual([1795697874, 774780525]);
    const d = tok('close(3) = 0');
    expect([d.kind, d.timeFormat]).toEqual([LineKind.Call, TimeFormat.None]);
  });

  it('unfinished, resumed (also "resumed> <unfinished ...>) = ?"), signals, exits', () => {
    const u = tok('19987 12:57:08.390125 read(4<pipe:[45239]>,  <unfinished ...>');
    expect(u.kind).toBe(LineKind.Unfinished);
    expect(text(u, u.bodyStart, u.bodyEnd)).toBe('4<pipe:[45239]>, ');
    const r = tok('19987 12:57:08.590496 <... read resumed>"ping", 10) = 4 <0.200353>');
    expect(r.kind).toBe(LineKind.Resumed);
    expect(r.name()).toBe('read');
    expect(text(r, r.bodyStart)).toBe('"ping", 10) = 4 <0.200353>');
    expect(tok('5 12:00:00.000001 <... read resumed> <unfinished ...>) = ?').resumedUnfinished).toBe(true);
    expect(tok('20030 1795697843.806841 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=20030, si_uid=0} ---').kind).toBe(
      LineKind.Signal,
    );
    expect(tok('20030 1795697843.806942 +++ exited with 3 +++').kind).toBe(LineKind.Exit);
    expect(tok('12:57:30.271677 +++ killed by SIGKILL +++').kind).toBe(LineKind.Exit);
  });

  it('garbage and cut lines are Malformed, never an exception', () => {
    for (const g of [
      '',
      'hello world',
      '123 12:5',
      '[pid x] read(',
      '<... resumed>',
      '1 99:99:99.0 read(3) = 1',
      '\u0000\u0001\u0002',
      '1 1795697843. read(3) = 1',
    ]) {
      const L = tok(g);
      expect([LineKind.Malformed, LineKind.Blank]).toContain(L.kind);
    }
  });
});

describe('parseCallBody', () => {
  it('splits arguments through strings with escapes, nested braces, -y/-yy decorations and comments', () => {
    const w = call('19946 12:57:08.387481 pwrite64(3</scratch/st/data file.bin>, "BB\\"), \\\\"..., 4096, 4096) = 4096 <0.000009>');
    expect(w.args).toEqual(['3</scratch/st/data file.bin>', '"BB\\"), \\\\"...', '4096', '4096']);
    expect([w.ret, w.L.durNs]).toEqual(['4096', 9000]);
    const v = call('1 12:00:00.1 writev(3</x>, [{iov_base="xx, )", iov_len=10}, {iov_base="y", iov_len=20}], 2) = 30');
    expect(v.args).toHaveLength(3);
    expect(v.args[2]).toBe('2');
    const yy = call('1 12:00:00.1 read(6<UNIX-STREAM:[45286->45287]>, "a", 1) = 1');
    expect(yy.args[0]).toBe('6<UNIX-STREAM:[45286->45287]>');
    const blk = call('1 12:00:00.1 pread64(3</dev/loop4<block 7:4>>, "a", 1, 0) = 1');
    expect(blk.args[0]).toBe('3</dev/loop4<block 7:4>>');
    const vb = call('1 12:00:00.1 openat(-100 /* AT_FDCWD */, "/x", 0x80241 /* O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC */, 0666) = 3');
    expect(vb.args).toHaveLength(4);
    expect(vb.ret).toBe('3');
  });

  it('return values: decorated fds, errors with text, "?" with ERESTARTSYS, padding to column 40', () => {
    expect(call('1 1.000001 openat(AT_FDCWD</s>, "d", O_RDONLY) = 3</s/d> <0.000021>').ret).toBe('3</s/d>');
    const e = call('1 1.000001 openat(AT_FDCWD</s>, "/s/missing", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory) <0.000011>');
    expect([e.ret, e.err, e.L.durNs]).toEqual(['-1', 'ENOENT', 11000]);
    const q = call('1 1.000001 read(3<pipe:[59035]>, 0x7f4ae7ff2960, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)');
    expect([q.ret, q.err]).toEqual(['?', 'ERESTARTSYS']);
    expect(call('write(1, "abc", 3)                      = 3').ret).toBe('3');
    const L = tok('1 1.1 read(3, "abc", 3');
    expect(parseCallBody(L, L.bytes, L.bodyStart, L.end)).toBe(false);
  });

  it('the fast path reads the same arguments as the general one, and declines other shapes', () => {
    const lines = [
      '2222  1795706041.849770 read(14</mnt/data/fio/sync-direct-thr-0.0.0>, "\\233[\\234\\346l\\221\\", ) = "..., 4096) = 4096 <0.000123>',
      '7 1.000001 pwrite64(3</a b/c>, "x"..., 8192, 123456789012) = 8192',
      '7 1.000001 lseek(3</x>, -10, SEEK_END) = 4106 <0.000007>',
      '7 1.000001 write(3</x>, "DD"..., 100) = -1 EINVAL (Invalid argument) <0.000010>',
    ];
    for (const line of lines) {
      const a = tok(line);
      const b = tok(line);
      expect(parseCallBody(a, a.bytes, a.bodyStart, a.end)).toBe(true);
      const isLseek = line.includes('lseek(');
      expect(parseCallFast(b, b.bytes, b.bodyStart, b.end, isLseek ? 2 : line.includes('pwrite64') ? 2 : 1, !isLseek)).toBe(true);
      expect([b.argc, b.retStart, b.retEnd, b.errStart, b.durNs]).toEqual([a.argc, a.retStart, a.retEnd, a.errStart, a.durNs]);
      for (let i = 0; i < a.argc; i++) expect(b.arg(i)).toBe(a.arg(i));
    }
    const odd = tok('7 1.000001 read(3, [1, 2], 4) = 4');
    expect(parseCallFast(odd, odd.bytes, odd.bodyStart, odd.end, 2, true)).toBe(false);
  });
});

describe('strings and -y decorations', () => {
  it('decodes C escapes: shortest octal, \\x, named escapes, UTF-8 bytes', () => {
    const s = '\\0012\\1a\\0\\0001';
    expect([...decodeCEscapes(s, 0, s.length)].map((c) => c.charCodeAt(0))).toEqual([1, 0x32, 1, 0x61, 0, 0, 0x31]);
    const u = '/scratch/st/\\303\\274n\\303\\257code \\342\\230\\203.txt';
    expect(decodeCEscapes(u, 0, u.length)).toBe('/scratch/st/ünïcode ☃.txt');
    const d = 'copy\\nof \\"it\\".bin \\x41\\t';
    expect(decodeCEscapes(d, 0, d.length)).toBe('copy\nof "it".bin A\t');
    const lt = 'a\\76b\\74c.txt';
    expect(decodeCEscapes(lt, 0, lt.length)).toBe('a>b<c.txt');
  });

  it('finds the path of an fd token with -y, -yy and "(deleted)"', () => {
    const out = new Int32Array(2);
    const at = (t: string): string | null => {
      const b = enc(t);
      decorationRange(b, 0, b.length, out);
      return out[0]! < 0 ? null : decodeBytes(b, out[0]!, out[1]!);
    };
    expect(at('3</scratch/st/direct.bin>')).toBe('/scratch/st/direct.bin');
    expect(at('3</dev/loop4<block 7:4>>')).toBe('/dev/loop4');
    expect(at('4</s/x.txt>(deleted)')).toBe('/s/x.txt');
    expect(at('6<UNIX-STREAM:[45286->45287]>')).toBe('UNIX-STREAM:[45286->45287]');
    expect(at('AT_FDCWD</scratch/st>')).toBe('/scratch/st');
    expect(at('12345')).toBeNull();
    expect(at('3</cut')).toBeNull();
  });
});
