/**
 * Inputs users trip on (issue 16, point 6): a directory given to ingest, a file given to analyze,
 * random bytes, text with terminal escapes, strace paths with escapes, `--version`, and what
 * analyze prints (readable clock offsets and a short result).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestStrace } from '../../src/ingest/app/ingest-strace.js';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { mulberry32 } from '../../src/util/seeded-random.js';
import { excerptOfBytes, printable } from '../../src/util/printable.js';
import { formatDuration, formatSeconds } from '../../src/cli/analyze-report.js';
import { fixture, iolineage, root } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-user-inputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** Control characters that would reach the terminal (tab and newline excepted). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** A one-line error naming `path`, with exit status `status`. */
function expectOneLineError(r: ReturnType<typeof iolineage>, path: string, status = 1): void {
  expect(r.status).toBe(status);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(`iolineage: ${path}`);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stderr).not.toMatch(CONTROL);
}

describe('inputs users trip on', () => {
  it('ingest DIR: a one-line error naming the directory', () => {
    const dir = join(work, 'a-dir');
    mkdirSync(dir);
    const r = iolineage(['ingest', dir, '-o', join(work, 'out1')]);
    expectOneLineError(r, dir);
    expect(r.stderr).toMatch(/is a directory: expected a trace or log file \(give the files inside it, e.g\. DIR\/\*\)/);
  });

  it('map fs, map image, btt and lookup of a directory, and -o naming a file: one-line errors naming the path', () => {
    const dir = join(work, 'not-an-image');
    mkdirSync(dir);
    for (const args of [
      ['map', 'fs', dir, '-o', join(work, 'o-fs')],
      ['map', 'image', dir, '-o', join(work, 'o-img')],
      ['btt', dir],
      ['lookup', dir, '--sector', '1'],
    ]) {
      const r = iolineage(args);
      expect(r.status).not.toBe(70);
      expectOneLineError(r, dir, r.status ?? -1);
    }
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const r = iolineage(['ingest', fixture('block', 'ext4.trace.gz'), '-o', file]);
    expectOneLineError(r, file);
    expect(r.stderr).toMatch(/the output folder is a file \(or lies under one\): expected a directory or a new name/);
  });

  it('analyze FILE: a one-line error naming the file and what was expected', () => {
    const file = fixture('block', 'ext4.trace.gz');
    const r = iolineage(['analyze', file, '-o', join(work, 'out2')]);
    expectOneLineError(r, file);
    expect(r.stderr).toMatch(/is a file: expected a capture bundle directory \(with manifest\.json\)/);
  });

  it('random bytes: the message shows their first bytes in hex, not the bytes', () => {
    const rand = mulberry32(16);
    const bytes = new Uint8Array(4096).map(() => Math.floor(rand() * 256));
    const file = join(work, 'random.bin');
    writeFileSync(file, bytes);
    const r = iolineage(['ingest', file, '-o', join(work, 'out3')]);
    expectOneLineError(r, file);
    const hex = [...bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(r.stderr).toContain(`the input starts with bytes ${hex} … (binary, not text)`);
  });

  it('text with terminal escape sequences: quoted with the escapes written out', () => {
    const file = join(work, 'escapes.txt');
    writeFileSync(file, 'hello \x1b[31mred\x1b[0m \x07world\r\nsecond line\n');
    const r = iolineage(['ingest', file, '-o', join(work, 'out4')]);
    expectOneLineError(r, file);
    expect(r.stderr).toContain('the input starts with "hello \\x1b[31mred\\x1b[0m \\x07world"');
  });

  it('printable and excerptOfBytes: controls and bidirectional overrides written out; long lines cut', () => {
    expect(printable('a\tb\x00c\x1bd\u202ee\x9b')).toBe('a\tb\\x00c\\x1bd\\u{202e}e\\x9b');
    expect(excerptOfBytes(new TextEncoder().encode('x'.repeat(100) + '\nnext'), 10)).toBe(`"${'x'.repeat(10)}…"`);
    expect(excerptOfBytes(new TextEncoder().encode('grüße\n'))).toBe('"grüße"');
    expect(excerptOfBytes(Uint8Array.from([0, 1, 2, 0xff]))).toBe('bytes 00 01 02 ff (binary, not text)');
  });

  it('strace paths with \\n, \\" and octal escapes are decoded in app_io.path, on the general and the fast path', async () => {
    const lines: string[] = [];
    let t = 1700000000;
    // the first line goes through the general path, the reads after it through the fast path
    for (let i = 0; i < 200; i++) {
      lines.push(
        `100 ${(t += 1e-6).toFixed(6)} openat(AT_FDCWD</mnt/data>, "/mnt/data/a\\nb${i}\\"c\\101", O_RDONLY) = 3</mnt/data/a\\nb${i}"cA> <0.000010>`,
      );
      lines.push(`100 ${(t += 1e-6).toFixed(6)} read(3</mnt/data/a\\nb${i}"cA>, "xx", 4096) = 2 <0.000010>`);
      lines.push(`100 ${(t += 1e-6).toFixed(6)} close(3</mnt/data/a\\nb${i}"cA>) = 0 <0.000010>`);
    }
    const log = join(work, 'escapes.strace');
    writeFileSync(log, lines.join('\n') + '\n');
    const out = join(work, 'strace-out');
    const r = await ingestStrace([log], { outDir: out });
    expect(r.rows).toBe(600);
    const paths = readArrowFile(join(out, 'app_io.arrow')).getChild('path')!.toArray() as string[];
    expect(paths[0]).toBe('/mnt/data/a\nb0"cA');
    expect(paths[1]).toBe('/mnt/data/a\nb0"cA');
    expect(paths[598]).toBe('/mnt/data/a\nb199"cA');
    expect(paths.every((p) => !p.includes('\\'))).toBe(true);
  });

  it('--version prints the version of package.json', () => {
    const r = iolineage(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`iolineage ${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });
});

describe('what analyze prints', () => {
  it('formatSeconds is exact for 64-bit values; formatDuration picks a readable unit', () => {
    expect(formatSeconds(-1795708205521940500n)).toBe('-1795708205.521940500 s');
    expect(formatSeconds(3721567345740n)).toBe('3721.567345740 s');
    expect(formatDuration(258500)).toBe('258.5 µs');
    expect(formatDuration(3721567345740)).toBe('1.034 h');
    expect(formatDuration(-1795708205521940500)).toBe('-20784 days');
    expect(formatDuration(12)).toBe('12 ns');
  });

  it('clock offsets in seconds (no raw 19-digit ns) and a short result on a bundled capture', () => {
    const out = join(work, 'analyze-out');
    const r = iolineage(['analyze', join(root, 'data', 'm128-buffered'), '-o', out, '--jobs', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/-?\d{16,} ns/);
    expect(r.stdout).toMatch(/vm0 app → guest: -1795708\d{3}\.\d{9} s \(-\d+ days\) ± [\d.]+ µs \(from pairs, \d+ of \d+ matched\)/);
    expect(r.stdout).toMatch(/vm0 guest → host: \d+\.\d{9} s \([\d.]+ (h|min|s)\) ± /);
    expect(r.stdout).toMatch(/result:\n {2}app +[\d.]+ [KMG]iB read, +[\d.]+ [KMG]iB written in \d+ calls/);
    expect(r.stdout).toMatch(/app I\/O outcomes: write back \d+/);
    expect(r.stdout).toContain(`tables and summary.json in ${out}`);
  });
});
