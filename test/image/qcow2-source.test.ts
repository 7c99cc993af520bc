import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2BlockSource } from '../../src/image/qcow2-source.js';
import { QCOW2_FIXTURES, golden, haveTool, prng, removeDir, run, unpackFixtures } from './fixtures.js';

const haveQemu = haveTool('qemu-img');
if (!haveQemu) console.log('qcow2-source: qemu-img not installed, live comparisons skipped');

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('guest view of qcow2 images (sha256 of qemu-img convert -O raw, golden)', () => {
  for (const f of QCOW2_FIXTURES) {
    it(`${f}.qcow2 reads the same bytes as qemu`, () => {
      const src = Qcow2BlockSource.open(join(dir, `${f}.qcow2`));
      try {
        const h = createHash('sha256');
        const step = 4 << 20;
        for (let o = 0; o < src.size; o += step) h.update(src.read(o, Math.min(step, src.size - o)));
        expect(h.digest('hex')).toBe(golden(`${f}.guest.sha256`).trim());
      } finally {
        src.close();
      }
    });
  }

  it('refuses reads beyond the end with the offset in the message', () => {
    const src = Qcow2BlockSource.open(join(dir, 'v2.qcow2'));
    try {
      expect(() => src.read(src.size - 10, 20, 'probe')).toThrow(/v2\.qcow2.*byte offset .* \(probe\).*beyond the end/);
    } finally {
      src.close();
    }
  });
});

describe.skipIf(!haveQemu)('guest view against live qemu-img convert -O raw', () => {
  for (const f of ['top', 'xover', 'ext32k', 'c512', 'zstd'] as const) {
    it(`${f}.qcow2: 300 seeded random reads equal the converted raw disk`, () => {
      const work = mkdtempSync(join(tmpdir(), 'iol-image-conv-'));
      const src = Qcow2BlockSource.open(join(dir, `${f}.qcow2`));
      try {
        const raw = join(work, 'guest.raw');
        run('qemu-img', ['convert', '-O', 'raw', join(dir, `${f}.qcow2`), raw]);
        const fd = openSync(raw, 'r');
        const rnd = prng(7);
        try {
          const differ: string[] = [];
          for (let i = 0; i < 300; i++) {
            const len = 1 + Math.floor(rnd() * 200_000);
            const off = Math.floor(rnd() * (src.size - len));
            const want = new Uint8Array(len);
            readSync(fd, want, 0, len, off);
            const got = src.read(off, len);
            if (Buffer.compare(got, want) !== 0) differ.push(`${f}: ${len} bytes at ${off}`);
          }
          expect(differ).toEqual([]);
        } finally {
          closeSync(fd);
        }
      } finally {
        src.close();
        removeDir(work);
      }
    });
  }
});
