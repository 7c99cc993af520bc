/**
 * Seeded fuzzing of real qcow2 images: flipped bytes in the header, the L1 table and L2 tables,
 * and truncation. Mapping and reading must either work or throw an InputError that names the
 * structure and the byte offset; nothing else may escape, and nothing may hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapImage } from '../../src/image/image-map.js';
import { Qcow2BlockSource } from '../../src/image/qcow2-source.js';
import { FileBlockSource } from '../../src/io/block-source.js';
import { readQcow2Header } from '../../src/image/qcow2-header.js';
import { Qcow2Tables } from '../../src/image/qcow2-tables.js';
import { InputError } from '../../src/util/errors.js';
import { prng, removeDir, unpackFixtures } from './fixtures.js';

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

/** Byte ranges worth mutating: header, L1 table, L2 tables (as the intact image has them). */
function regions(path: string): [number, number][] {
  const f = new FileBlockSource(path);
  try {
    const h = readQcow2Header(f);
    const t = new Qcow2Tables(f, h);
    const r: [number, number][] = [
      [0, Math.min(h.headerLength + 64, f.size)],
      [h.l1TableOffset, h.l1TableOffset + h.l1Size * 8],
    ];
    for (const off of t.l1) if (off) r.push([off, off + h.clusterSize]);
    return r;
  } finally {
    f.close();
  }
}

function exercise(path: string, rnd: () => number): void {
  const { summary } = mapImage(path);
  expect(summary.extents).toBeGreaterThan(0);
  const src = Qcow2BlockSource.open(path);
  try {
    for (let i = 0; i < 6 && src.size > 0; i++) {
      const len = Math.min(src.size, 1 + Math.floor(rnd() * (1 << 20)));
      src.read(Math.floor(rnd() * (src.size - len + 1)), len);
    }
  } finally {
    src.close();
  }
}

describe('fuzzed qcow2 images', () => {
  for (const [name, seed] of [
    ['v3', 1],
    ['ext64k', 2],
    ['c4k', 3],
    ['zstd', 4],
    ['convc', 5],
    ['top', 6],
    ['v2', 7],
  ] as const) {
    it(`${name}: 80 seeded mutations and truncations give results or InputErrors with a place`, () => {
      const orig = join(dir, `${name}.qcow2`);
      const bytes = readFileSync(orig);
      const regs = regions(orig);
      const rnd = prng(seed * 7919);
      const mutant = join(dir, `${name}.mut.qcow2`);
      let errors = 0;
      for (let k = 0; k < 80; k++) {
        const b = Buffer.from(bytes);
        let out: Buffer = b;
        if (k % 8 === 7) {
          out = b.subarray(0, Math.floor(rnd() * b.length));
        } else {
          const [s, e] = regs[Math.floor(rnd() * regs.length)]!;
          const flips = 1 + Math.floor(rnd() * 4);
          for (let j = 0; j < flips; j++) {
            const at = s + Math.floor(rnd() * (e - s));
            if (rnd() < 0.5) b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
            else b[at] = Math.floor(rnd() * 256);
          }
        }
        writeFileSync(mutant, out);
        // the backing files of top.qcow2 are found next to the mutant, as for the original
        try {
          exercise(mutant, rnd);
        } catch (e) {
          errors++;
          if (!(e instanceof InputError)) throw new Error(`${name} mutation ${k}: not an InputError: ${(e as Error).stack}`, { cause: e });
          expect(e.message).toMatch(/mut\.qcow2|base\.raw|mid\.qcow2/);
          expect(e.place?.what, e.message).toBeTruthy();
          if (!/cannot be opened|not supported|loops|deeper/.test(e.message)) expect(e.place?.offset, e.message).not.toBeUndefined();
        }
      }
      expect(errors).toBeGreaterThan(0);
    });
  }

  it('a backing chain that loops is an error, not a hang', () => {
    const a = join(dir, 'loop-a.qcow2');
    const b = join(dir, 'loop-b.qcow2');
    // top.qcow2 names "mid.qcow2" (9 bytes) at its backing_file_offset: make a -> b -> a
    const buf = readFileSync(join(dir, 'top.qcow2'));
    const off = Number(buf.readBigUInt64BE(8));
    const len = buf.readUInt32BE(16);
    expect(len).toBe(9);
    const named = (target: string) => {
      const c = Buffer.from(buf);
      c.write(target, off, 'latin1');
      c.writeUInt32BE(target.length, 16);
      return c;
    };
    writeFileSync(a, named('loop-b.qcow2'));
    writeFileSync(b, named('loop-a.qcow2'));
    expect(() => mapImage(a)).toThrow(/backing chain loops: ".*loop-a\.qcow2" is the same file as ".*loop-a\.qcow2"/);
    copyFileSync(join(dir, 'top.qcow2'), join(dir, 'self.qcow2'));
    writeFileSync(join(dir, 'self.qcow2'), named('self.qcow2\0\0\0').subarray(0));
    const s = readFileSync(join(dir, 'self.qcow2'));
    s.writeUInt32BE(10, 16);
    writeFileSync(join(dir, 'self.qcow2'), s);
    expect(() => mapImage(join(dir, 'self.qcow2'))).toThrow(/loops/);
  });

  it('a chain deeper than the limit is an error', () => {
    expect(() => mapImage(join(dir, 'top.qcow2'), { maxDepth: 2 })).toThrow(/deeper than 2 images/);
  });

  it('hostile header fields name the field and offset', () => {
    const buf = readFileSync(join(dir, 'v3.qcow2'));
    const p = join(dir, 'hostile.qcow2');
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      [
        'cluster_bits',
        (b) => b.writeUInt32BE(40, 20),
        /byte offset 20 \(0x14\) \(qcow2 header cluster_bits\): expected cluster_bits 9\.\.21/,
      ],
      ['l1_size', (b) => b.writeUInt32BE(0x7fffffff, 36), /\(qcow2 header l1_size\)/],
      ['l1_table_offset', (b) => b.writeBigUInt64BE(1n << 40n, 40), /\(qcow2 header l1_table_offset\): L1 table .* lies outside the file/],
      ['size', (b) => b.writeBigUInt64BE(1n << 60n, 24), /\(qcow2 header size\)/],
      ['incompatible', (b) => b.writeUInt32BE(0x80, 76), /unknown incompatible feature bits set: 0x80/],
      [
        'L1 entry',
        (b) => b.writeBigUInt64BE((1n << 63n) | (1n << 45n), Number(b.readBigUInt64BE(40))),
        /\(L1 table entry\): L1 entry 0 points to an L2 table .* beyond the end of the file/,
      ],
    ];
    for (const [what, mutate, re] of cases) {
      const b = Buffer.from(buf);
      mutate(b);
      writeFileSync(p, b);
      expect(() => mapImage(p), what).toThrow(re);
    }
  });
});
