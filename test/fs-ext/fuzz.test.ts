/**
 * Seeded fuzzing of real images: bytes flipped in the superblock, group descriptors, inode
 * tables, extent headers and tree blocks, indirect and directory blocks; truncation. The reader
 * must end (no hang), throw nothing but InputError (naming the structure and a byte offset), and
 * count per-inode problems with their offsets.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { BlockSource } from '../../src/io/block-source.js';
import { checkRange } from '../../src/io/block-source.js';
import { InputError } from '../../src/util/errors.js';
import { buildFsMap } from '../../src/fs/ext/fs-map-builder.js';
import { FIXTURES } from './oracle-output.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';

/** An in-memory image (a mutated copy) as a BlockSource. */
class MemorySource implements BlockSource {
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
    readonly size = bytes.length,
  ) {}
  read(offset: number, length: number, what?: string): Uint8Array {
    checkRange(this, offset, length, what);
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

const images: Record<string, Uint8Array> = {};
/** Rounds per image: more for the small images, which map fast. */
const ROUNDS: Record<string, number> = { 'ext3-1k': 50, 'ext4-4k': 20, 'ext4-1k-noflex': 40, 'ext4-inline-metabg': 40 };
/** Byte ranges worth mutating in an image: [start, end) per structure, taken from a clean map. */
const targets: Record<string, { what: string; start: number; end: number }[]> = {};

beforeAll(() => {
  for (const name of ['ext3-1k', 'ext4-4k', 'ext4-1k-noflex', 'ext4-inline-metabg']) {
    const img = new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, `${name}.e2image-r.img.gz`))));
    images[name] = img;
    const { map } = buildFsMap(new MemorySource(name, img), { strict: true });
    const bs = map.geometry.blockSize;
    const t = [{ what: 'superblock', start: 1024, end: 2048 }];
    const c = map.columns;
    for (let i = 0; i < map.rows; i++) {
      const kind = map.kindOf(i);
      const start = c.fsBlock[i]! * bs;
      const len = Math.min(c.blocks[i]!, 8) * bs;
      if (kind === 'group_desc' || kind === 'extent_node' || kind === 'indirect' || kind === 'dir' || kind === 'inode_bitmap')
        t.push({ what: kind, start, end: start + len });
      if (kind === 'inode_table') t.push({ what: kind, start, end: start + Math.min(c.blocks[i]!, 64) * bs });
    }
    targets[name] = t;
  }
});

describe('fuzzed images', () => {
  it.each(['ext3-1k', 'ext4-4k', 'ext4-1k-noflex', 'ext4-inline-metabg'])(
    '%s: mutated copies end with a map or an InputError naming the place',
    (name) => {
      const random = rng(0x5eed + name.length);
      const base = images[name]!;
      const t = targets[name]!;
      let errors = 0;
      let counted = 0;
      let clean = 0;
      for (let round = 0; round < ROUNDS[name]!; round++) {
        const img = base.slice();
        const target = t[Math.floor(random() * t.length)]!;
        const flips = 1 + Math.floor(random() * 16);
        for (let f = 0; f < flips; f++) {
          const at = target.start + Math.floor(random() * (target.end - target.start));
          img[at] = random() < 0.3 ? 0xff : img[at]! ^ (1 << Math.floor(random() * 8));
        }
        let size = img.length;
        if (round % 7 === 6) size = Math.floor(random() * img.length); // truncation
        const src = new MemorySource(`${name}#${round}`, img, size);
        try {
          const { map, stats } = buildFsMap(src);
          expect(map.rows).toBeGreaterThan(0);
          for (const c of stats.list()) {
            counted++;
            for (const e of c.examples) expect(e.text, `${c.name} example`).toMatch(/inode|directory|group|block|journal|entries/);
            // problems confined to one structure carry the byte offset of that structure
            if (c.name === 'inode_map_unreadable' || c.name === 'dir_entry_malformed')
              expect(c.examples.every((e) => e.offset !== undefined)).toBe(true);
          }
          if (stats.list().length === 0) clean++;
          // lookups on a map of a damaged fs still answer
          map.lookupSectors(0, 64);
        } catch (e) {
          if (!(e instanceof InputError)) throw new Error(`${name} round ${round} (${target.what}): ${String(e)}`, { cause: e });
          errors++;
          expect(e.message).toContain(`${name}#${round}`);
          expect(e.message).toMatch(/byte offset \d+|superblock|group descriptor/);
        }
      }
      expect(errors + counted + clean).toBeGreaterThan(0);
    },
  );

  it('a loop in an extent tree, a directory pointing at itself and a triple-indirect block that points at itself all end', () => {
    const base = images['ext4-4k']!;
    const { map } = buildFsMap(new MemorySource('clean', base), { strict: true });
    const bs = map.geometry.blockSize;
    const c = map.columns;
    const img = base.slice();
    // every extent index entry of the first tree block points at the block itself
    let node = -1;
    for (let i = 0; i < map.rows; i++)
      if (map.kindOf(i) === 'extent_node') {
        node = c.fsBlock[i]!;
        break;
      }
    expect(node).toBeGreaterThan(0);
    const o = node * bs;
    // turn the leaf into an index node of depth 1 whose entries all point back at it
    img[o + 6] = 1;
    img[o + 7] = 0;
    for (let e = 0; e < 4; e++) {
      const p = o + 12 + e * 12;
      img[p + 4] = node & 0xff;
      img[p + 5] = (node >> 8) & 0xff;
      img[p + 6] = (node >> 16) & 0xff;
      img[p + 7] = 0;
      img[p + 8] = 0;
      img[p + 9] = 0;
    }
    const r = buildFsMap(new MemorySource('loop', img));
    expect(r.stats.get('inode_map_unreadable')).toBeGreaterThan(0);
    expect(r.stats.list().find((x) => x.name === 'inode_map_unreadable')!.examples[0]!.text).toMatch(/eh_depth|extent/);

    // ext3: the triple-indirect block of the sparse file points at itself in every slot
    const b3 = images['ext3-1k']!;
    const m3 = buildFsMap(new MemorySource('clean3', b3), { strict: true }).map;
    const ino = m3.inodeOf('/sparse.bin')!;
    const img3 = b3.slice();
    const bs3 = m3.geometry.blockSize;
    const tind: number[] = [];
    for (let i = 0; i < m3.rows; i++) if (m3.kindOf(i) === 'indirect' && m3.columns.inode[i] === ino) tind.push(m3.columns.fsBlock[i]!);
    const self = tind[tind.length - 3]!; // TIND, then its DIND and IND (allocated in that order)
    for (let k = 0; k < bs3 / 4; k++) {
      const p = self * bs3 + k * 4;
      img3[p] = self & 0xff;
      img3[p + 1] = (self >> 8) & 0xff;
      img3[p + 2] = 0;
      img3[p + 3] = 0;
    }
    const r3 = buildFsMap(new MemorySource('tind-loop', img3));
    expect(r3.stats.get('inode_map_unreadable')).toBe(1);
    expect(r3.stats.list()[0]!.examples[0]!.offset).toBeGreaterThan(0);

    // a directory entry naming the root's parent loop: /a's entry for "b" points at /a itself
    const aIno = m3.inodeOf('/a')!;
    const bIno = m3.inodeOf('/a/b')!;
    const img4 = b3.slice();
    let patched = 0;
    for (let i = 0; i < m3.rows; i++) {
      if (m3.kindOf(i) !== 'dir' || m3.columns.inode[i] !== aIno) continue;
      const start = m3.columns.fsBlock[i]! * bs3;
      for (let p = start; p < start + bs3 - 4; p += 4) {
        if (
          img4[p] === (bIno & 0xff) &&
          img4[p + 1] === ((bIno >> 8) & 0xff) &&
          img4[p + 2] === 0 &&
          img4[p + 3] === 0 &&
          img4[p + 8] === 0x62
        ) {
          img4[p] = aIno & 0xff;
          img4[p + 1] = (aIno >> 8) & 0xff;
          patched++;
        }
      }
    }
    expect(patched).toBe(1);
    const r4 = buildFsMap(new MemorySource('dir-loop', img4));
    // "b" is now a second name of /a (like a hard link); /a is walked once, so nothing repeats
    expect(r4.map.pathsOf(aIno)).toEqual(['/a', '/a/b']);
    expect(r4.map.inodeOf('/a/b/b')).toBeNull();
    expect(r4.map.inodeOf('/a/b/linked.txt')).toBeNull();
  });

  it('errors name the structure and the offset: bad magic, bad descriptor, truncated image', () => {
    const base = images['ext4-4k']!;
    const img = base.slice();
    img[1024 + 0x38] = 0;
    expect(() => buildFsMap(new MemorySource('nomagic', img))).toThrow(
      /nomagic:byte offset 1080 \(0x438\) \(superblock s_magic\): not an ext2\/3\/4 file system: s_magic: expected 0xef53, got 0xef00/,
    );
    const img2 = base.slice();
    // group descriptor 0: bg_inode_table far past the end (block 4096 holds the GDT of a 4 KiB fs)
    img2[4096 + 8 + 3] = 0x7f;
    expect(() => buildFsMap(new MemorySource('badgdt', img2))).toThrow(
      /badgdt:byte offset 4104 \(0x1008\) \(group descriptor 0 bg_inode_table\): bg_inode_table: expected a block in/,
    );
    expect(() => buildFsMap(new MemorySource('short', base, 2000))).toThrow(/short.*superblock|short.*beyond the end/);
    // truncated: directory and tree blocks past the end are counted with their offsets
    const r = buildFsMap(new MemorySource('cut', base, 6 * 2 ** 20));
    expect(r.map.rows).toBeGreaterThan(10000);
    expect(r.stats.get('source_truncated')).toBe(1);
    expect(r.stats.get('dir_block_unreadable')).toBeGreaterThan(0);
    for (const c of r.stats.list().filter((x) => x.name !== 'source_truncated'))
      expect(c.examples[0]!.text).toMatch(/^cut:byte offset \d+ \(0x[0-9a-f]+\) \((directory|inode) .*beyond the end/);
    // truncated inside the inode table of group 0 (blocks 49 and up)
    const r2 = buildFsMap(new MemorySource('cut2', base, 2 * 2 ** 20));
    expect(r2.stats.list().find((c) => c.name === 'inode_table_unreadable')!.examples[0]!.text).toMatch(
      /^cut2:byte offset \d+ \(0x[0-9a-f]+\) \(inode table of group 0\).*beyond the end/,
    );
    // inodes in the part of the table before the cut are still mapped
    expect(r2.map.inodeOf('/small.txt')).not.toBeNull();
  });
});
