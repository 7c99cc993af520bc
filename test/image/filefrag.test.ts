import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseFilefrag, readFilefrag } from '../../src/image/filefrag.js';
import { InputError } from '../../src/util/errors.js';
import { FIXTURES, golden, prng } from './fixtures.js';

/** debugfs `stat` EXTENTS/BLOCKS lists: "(L0-L1[u]):P0-P1" or "(L):P" runs, per file; (IND)/(ETB0) entries are metadata. */
function debugfsRuns(text: string): Map<string, { logical: number; physical: number; length: number; unwritten: boolean }[]> {
  const out = new Map<string, { logical: number; physical: number; length: number; unwritten: boolean }[]>();
  let cur = '';
  for (const line of text.split('\n')) {
    const h = /^== (.*)$/.exec(line);
    if (h) {
      cur = h[1]!;
      out.set(cur, []);
      continue;
    }
    for (const m of line.matchAll(/\((\d+)(?:-(\d+))?(\[u\])?\):(\d+)(?:-(\d+))?/g)) {
      const l0 = Number(m[1]),
        l1 = Number(m[2] ?? m[1]),
        p0 = Number(m[4]);
      out.get(cur)!.push({ logical: l0, physical: p0, length: l1 - l0 + 1, unwritten: Boolean(m[3]) });
    }
  }
  return out;
}

/** Split runs into single blocks, so differently merged lists compare equal. */
function blocks(runs: { logical: number; physical: number; length: number; unwritten: boolean }[]): string[] {
  return runs
    .flatMap((r) => Array.from({ length: r.length }, (_, k) => `${r.logical + k}>${r.physical + k}${r.unwritten ? 'u' : ''}`))
    .sort();
}

describe('filefrag -v output -> fs_map rows', () => {
  for (const fs of ['ext4', 'ext3'] as const) {
    it(`${fs}: every block agrees with debugfs stat (golden)`, async () => {
      const r = await readFilefrag(join(FIXTURES, `${fs}.filefrag.txt`));
      expect(r.stats.list()).toEqual([]);
      const want = debugfsRuns(golden(`${fs}.debugfs-stat.txt`));
      const t = r.table;
      const path = t.getChild('path')!.toArray() as string[];
      const fb = t.getChild('fs_block')!.toArray() as BigInt64Array;
      const n = t.getChild('blocks')!.toArray() as Uint32Array;
      const lb = t.getChild('file_block')!.toArray() as BigInt64Array;
      const uw = t.getChild('unwritten')!.toArray() as boolean[];
      const sec = t.getChild('sector')!.toArray() as BigInt64Array;
      for (const [file, runs] of want) {
        const mine = [];
        for (let i = 0; i < t.numRows; i++) {
          if (path[i] !== file) continue;
          mine.push({ logical: Number(lb[i]), physical: Number(fb[i]), length: n[i]!, unwritten: Boolean(uw[i]) });
          expect(sec[i]).toBe(fb[i]! * 8n);
        }
        expect(blocks(mine), file).toEqual(blocks(runs));
      }
      expect(r.files.map((f) => f.blockSize)).toEqual(r.files.map(() => 4096));
      for (let i = 1; i < t.numRows; i++) expect(fb[i]! >= fb[i - 1]!).toBe(true);
    });
  }

  it('applies a partition offset to sectors', () => {
    const text = golden('ext4.filefrag.txt');
    const r = parseFilefrag(text, { partitionOffset: 1048576 });
    const fb = r.table.getChild('fs_block')!.toArray() as BigInt64Array;
    const sec = r.table.getChild('sector')!.toArray() as BigInt64Array;
    expect(sec[0]).toBe(2048n + fb[0]! * 8n);
  });

  it('counts inline-data and foreign lines, and rejects text that is not filefrag output', () => {
    const text = [
      'File size of m/inline.txt is 10 (1 block of 4096 bytes)',
      ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
      '   0:        0..       9:      27432..     27441:     10:             last,not_aligned,inline,eof',
      'm/inline.txt: 1 extent found',
      'something else',
    ].join('\n');
    const r = parseFilefrag(text, { name: 'ff.txt' });
    expect(r.table.numRows).toBe(0);
    expect(r.stats.get('filefrag_inline_data')).toBe(1);
    expect(r.stats.get('filefrag_unknown_line')).toBe(1);
    expect(() => parseFilefrag('hello\nworld\n', { name: 'x.txt' })).toThrow(InputError);
    expect(() => parseFilefrag('hello\nworld\n', { name: 'x.txt' })).toThrow(/x\.txt:line 1 .*not filefrag -v output/);
  });

  it('seeded line splices and truncations never throw anything but InputError', () => {
    const lines = golden('ext4.filefrag.txt').split('\n');
    const rnd = prng(5);
    for (let k = 0; k < 120; k++) {
      const l = lines.slice();
      const op = k % 3;
      const i = Math.floor(rnd() * l.length);
      if (op === 0) l.splice(i, 0, l[Math.floor(rnd() * l.length)]!.slice(0, Math.floor(rnd() * 60)));
      else if (op === 1)
        l[i] = l[i]!.split('')
          .map((c) => (rnd() < 0.1 ? String.fromCharCode(32 + Math.floor(rnd() * 90)) : c))
          .join('');
      else l.length = i;
      try {
        const r = parseFilefrag(l.join('\n'), { name: 'mut.txt' });
        expect(r.table.numRows).toBeGreaterThanOrEqual(0);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toMatch(/^mut\.txt:line \d+/);
      }
    }
  });
});
