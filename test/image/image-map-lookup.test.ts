import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mapImage } from '../../src/image/image-map.js';
import { ImageMap } from '../../src/image/image-map-lookup.js';
import { Qcow2BlockSource } from '../../src/image/qcow2-source.js';
import { FileBlockSource } from '../../src/io/block-source.js';
import { writeArrowFile, readArrowFile } from '../../src/table/arrow-file.js';
import { prng, removeDir, unpackFixtures } from './fixtures.js';

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('ImageMap translation', () => {
  for (const f of ['top', 'v3', 'ext64k', 'xover', 'c4k'] as const) {
    it(`${f}: guest bytes read through guestToHost pieces equal the guest view`, () => {
      const { table } = mapImage(join(dir, `${f}.qcow2`));
      const map = new ImageMap(table);
      const guest = Qcow2BlockSource.open(join(dir, `${f}.qcow2`));
      const files = map.files.map((n) => new FileBlockSource(n));
      const rnd = prng(3);
      try {
        // sample inside data extents so that host bytes are compared, plus random ranges
        const data = map.guestToHost(0, map.size).filter((p) => p.state === 'data');
        expect(data.length).toBeGreaterThan(0);
        for (let i = 0; i < 200; i++) {
          let off: number, len: number;
          if (i % 2 === 0) {
            const p = data[Math.floor(rnd() * data.length)]!;
            off = p.guestOffset + Math.floor(rnd() * p.length);
            len = 1 + Math.floor(rnd() * 70000);
          } else {
            off = Math.floor(rnd() * map.size);
            len = 1 + Math.floor(rnd() * 300000);
          }
          len = Math.min(len, map.size - off);
          const want = guest.read(off, len);
          let at = off;
          for (const p of map.guestToHost(off, len)) {
            expect(p.guestOffset).toBe(at);
            if (p.state === 'data') {
              const file = files[p.depth]!;
              const n = Math.max(0, Math.min(p.length, file.size - p.hostOffset));
              const got = file.read(p.hostOffset, n);
              if (Buffer.compare(got, want.subarray(at - off, at - off + n)) !== 0) expect.fail(`${f}: data piece at guest ${at} differs`);
            } else if (p.state === 'zero' || p.state === 'unallocated') {
              if (want.subarray(at - off, at - off + p.length).some((x) => x !== 0))
                expect.fail(`${f}: ${p.state} piece at guest ${at} is not zero`);
            }
            at += p.length;
          }
          expect(at).toBe(off + len);
        }
      } finally {
        guest.close();
        for (const s of files) s.close();
      }
    });
  }

  it('hostToGuest inverts guestToHost for every data byte range, and survives an Arrow round trip', () => {
    const { table } = mapImage(join(dir, 'top.qcow2'));
    const path = join(dir, 'top.image_map.arrow');
    writeArrowFile(path, table);
    const map = new ImageMap(readArrowFile(path));
    const rnd = prng(11);
    for (const p of map.guestToHost(0, map.size)) {
      if (p.state !== 'data') continue;
      const k = Math.floor(rnd() * p.length);
      const len = Math.min(4096, p.length - k);
      const back = map.hostToGuest(p.file, p.hostOffset + k, len);
      expect(back).toEqual([
        {
          guestOffset: p.guestOffset + k,
          length: len,
          state: 'data',
          depth: p.depth,
          file: p.file,
          hostOffset: p.hostOffset + k,
          hostLength: len,
        },
      ]);
    }
  });

  it('a host read inside a compressed cluster maps to the whole guest cluster', () => {
    const { table } = mapImage(join(dir, 'v3.qcow2'));
    const map = new ImageMap(table);
    const comp = map.guestToHost(0, map.size).filter((p) => p.state === 'compressed');
    expect(comp.length).toBe(2);
    for (const c of comp) {
      const back = map.hostToGuest(0, c.hostOffset + 10, 1);
      expect(back.map((b) => [b.guestOffset, b.length, b.state])).toContainEqual([c.guestOffset, c.length, 'compressed']);
    }
    // qcow2 metadata (the header cluster) holds no guest byte
    expect(map.hostToGuest(0, 0, 512)).toEqual([]);
  });

  it('clips ranges to the disk and returns nothing outside it', () => {
    const { table } = mapImage(join(dir, 'v2.qcow2'));
    const map = new ImageMap(table);
    expect(map.guestToHost(map.size, 100)).toEqual([]);
    const last = map.guestToHost(map.size - 10, 100);
    expect(last.reduce((s, p) => s + p.length, 0)).toBe(10);
    expect(map.findGuest(-1)).toBe(-1);
  });
});
