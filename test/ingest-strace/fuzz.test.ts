/**
 * Seeded fuzzing on the real captures: truncation, flipped bytes, spliced and duplicated lines,
 * interleaved garbage, broken compressed streams. Every run must end with rows or with an
 * InputError naming the file; bad lines are counted with file:line; nothing else escapes.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { FIXTURES, gunzipText, parseFiles, parseText } from './helpers.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';

const NASTY = [
  '"',
  '(',
  ')',
  '<',
  '>',
  '[',
  ']',
  '{',
  '}',
  ',',
  ' ',
  '\\',
  '\u0000',
  '=',
  '?',
  '-',
  '9',
  'x',
  '\u00ff',
  '\n',
  '...',
  ' <unfinished ...>',
  '<... read resumed>',
  ') = -1 E',
  '+++',
  '---',
];

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const pick = (n: number): number => Math.floor(r() * n);
  const ops = 1 + pick(6);
  let out = lines;
  for (let k = 0; k < ops; k++) {
    switch (pick(7)) {
      case 0: {
        // truncate the whole log at a random character
        const s = out.join('\n');
        out = s.slice(0, pick(s.length)).split('\n');
        break;
      }
      case 1: {
        // flip characters
        const s = out.join('\n').split('');
        for (let i = 0, n = 1 + pick(200); i < n; i++) s[pick(s.length)] = NASTY[pick(NASTY.length)]!;
        out = s.join('').split('\n');
        break;
      }
      case 2: {
        // splice: move a block of lines elsewhere
        const a = pick(out.length);
        const n = pick(50);
        const block = out.splice(a, n);
        out.splice(pick(out.length + 1), 0, ...block);
        break;
      }
      case 3: {
        // duplicate or drop lines (lost resumed lines, repeated unfinished ones)
        for (let i = 0, n = pick(100); i < n; i++) {
          const j = pick(out.length);
          if (r() < 0.5) out.splice(j, 1);
          else out.splice(j, 0, out[j] ?? '');
        }
        break;
      }
      case 4: {
        // interleave garbage lines
        for (let i = 0, n = 1 + pick(50); i < n; i++)
          out.splice(pick(out.length + 1), 0, Array.from({ length: pick(120) }, () => String.fromCharCode(pick(256))).join(''));
        break;
      }
      case 5: {
        // cut lines in the middle
        for (let i = 0, n = 1 + pick(100); i < n; i++) {
          const j = pick(out.length);
          out[j] = (out[j] ?? '').slice(0, pick((out[j] ?? '').length + 1));
        }
        break;
      }
      default: {
        // unknown syscalls and odd pids
        for (let i = 0, n = 1 + pick(30); i < n; i++) {
          const j = pick(out.length);
          out[j] = (out[j] ?? '').replace(/^(\d+ )?(\S+ )?[a-z_0-9]+\(/, `$1$2zz_${pick(99)}(`).replace(/^\d+/, String(pick(1e6)));
        }
      }
    }
  }
  return out.join('\n');
}

const dir = mkdtempSync(join(tmpdir(), 'iol-strace-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SOURCES = [
  'python.strace.gz',
  'python-stderr.strace.gz',
  'python-raw-ns.strace.gz',
  'node.strace.gz',
  'fio-ttt-y.strace.gz',
  'dd.strace.gz',
];

describe('seeded fuzzing of real strace logs', () => {
  it('mutated logs in memory: rows or counted problems with file:line, never another exception', () => {
    const texts = SOURCES.map((s) => gunzipText(s));
    const r = rng(20261126);
    let withProblems = 0;
    for (let iter = 0; iter < 90; iter++) {
      const src = texts[iter % texts.length]!;
      const bad = mutate(src, r);
      const name = `fuzz-${iter}.strace`;
      try {
        const { rows, stats } = parseText(bad, { name });
        expect(rows.length).toBeGreaterThanOrEqual(0);
        for (const c of stats.list()) {
          for (const e of c.examples) {
            expect(e.file).toBe(name);
            expect(e.line).toBeGreaterThan(0);
          }
        }
        if (stats.total('data_loss') > 0) withProblems++;
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toContain(name);
      }
    }
    expect(withProblems).toBeGreaterThan(45);
  });

  it('mutated and truncated compressed files through the streaming reader', async () => {
    const r = rng(7);
    for (let iter = 0; iter < 12; iter++) {
      const src = gunzipText(SOURCES[iter % SOURCES.length]!);
      let gz = gzipSync(Buffer.from(mutate(src, r)));
      if (iter % 3 === 0) gz = gz.subarray(0, Math.floor(r() * gz.length));
      if (iter % 3 === 1) {
        gz = Buffer.from(gz);
        for (let i = 0; i < 5; i++) gz[10 + Math.floor(r() * (gz.length - 10))] ^= 0xff;
      }
      const file = join(dir, `fuzz-${iter}.strace.gz`);
      writeFileSync(file, gz);
      try {
        const { rows } = await parseFiles([file]);
        expect(rows.length).toBeGreaterThanOrEqual(0);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toContain(file);
      }
    }
  });

  it('mutated -ff per-task files merged by time', async () => {
    const r = rng(99);
    const names = readdirSync(FIXTURES).filter((f) => /^fio-ff-tt\.\d+\.gz$/.test(f));
    for (let iter = 0; iter < 4; iter++) {
      const sub = join(dir, `ff-${iter}`);
      mkdirSync(sub);
      const files = names.map((n) => {
        const file = join(sub, n.replace(/\.gz$/, ''));
        writeFileSync(file, mutate(gunzipText(n), r));
        return file;
      });
      try {
        const { rows } = await parseFiles(files);
        expect(rows.length).toBeGreaterThanOrEqual(0);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
      }
    }
  });
});
