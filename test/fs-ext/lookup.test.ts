/**
 * FsMap lookups against a brute-force scan of the same rows: sector ranges → owners and file
 * ranges → sectors, on a real map and on rows that overlap (as a corrupt file system can give).
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { openFsSource } from '../../src/fs/open-fs-source.js';
import { buildFsMap } from '../../src/fs/ext/fs-map-builder.js';
import { FsMap } from '../../src/fs/ext/fs-map.js';
import { FsPaths } from '../../src/fs/ext/fs-paths.js';
import { FIXTURES } from './oracle-output.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

/** Owners of [sector, sector+count) by scanning every row. */
function brute(map: FsMap, sector: number, count: number): { row: number; start: number; end: number }[] {
  const bs = map.geometry.blockSize;
  const q0 = (sector - map.geometry.partitionOffset / 512) * 512;
  const q1 = q0 + count * 512;
  const c = map.columns;
  const out = [];
  for (let i = 0; i < map.rows; i++) {
    const a = c.fsBlock[i]! * bs;
    const b = a + c.blocks[i]! * bs;
    if (a < q1 && b > q0) out.push({ row: i, start: Math.max(a, q0), end: Math.min(b, q1) });
  }
  return out;
}

function check(map: FsMap, random: () => number, n: number): void {
  const total = map.sectorOfBlock(map.geometry.blocksCount);
  for (let k = 0; k < n; k++) {
    const sector = Math.floor(random() * total);
    const count = 1 + Math.floor(random() * (random() < 0.1 ? 5000 : 16));
    const got = map.lookupSectors(sector, count);
    const want = brute(map, sector, count);
    expect(got.map((p) => [p.fsBlock, p.length, p.kind, p.inode ?? 0])).toEqual(
      want.map((w) => [Math.floor(w.start / map.geometry.blockSize), w.end - w.start, map.kindOf(w.row), map.columns.inode[w.row]]),
    );
  }
}

describe('FsMap lookups', () => {
  it('lookupSectors equals a scan of all rows on a real map; fileToSectors covers files exactly', async () => {
    const src = await openFsSource(join(FIXTURES, 'ext4-1k-noflex.e2image-r.img.gz'));
    const { map } = buildFsMap(src.source, { strict: true });
    src.source.close();
    check(map, rng(42), 3000);
    // every file's extents, read back through fileToSectors, land on the rows they came from
    const bs = map.geometry.blockSize;
    const c = map.columns;
    for (let i = 0; i < map.rows; i += 7) {
      if (map.kindOf(i) !== 'data') continue;
      const pieces = map.fileToSectors(c.inode[i]!, c.fileBlock[i]! * bs + 1, c.blocks[i]! * bs - 2);
      expect(pieces.length).toBe(1);
      expect(pieces[0]!.diskOffset).toBe(c.fsBlock[i]! * bs + 1);
      expect(pieces[0]!.length).toBe(c.blocks[i]! * bs - 2);
    }
  });

  it('overlapping rows (a block claimed twice) are all reported', () => {
    const geometry = {
      fsType: 'ext4' as const,
      blockSize: 4096,
      blocksCount: 1000,
      inodesCount: 100,
      groups: 1,
      blocksPerGroup: 32768,
      inodesPerGroup: 100,
      inodeSize: 256,
      firstDataBlock: 0,
      freeBlocksCount: 0,
      features: [],
      uuid: '',
      volumeName: '',
      partitionOffset: 1048576,
      source: 'synthetic',
      journalInode: 0,
    };
    // a long extent [10, 510) and shorter ones inside and after it
    const starts = [0, 10, 20, 30, 600];
    const lens = [5, 500, 5, 400, 10];
    const cols = {
      fsBlock: Float64Array.from(starts),
      blocks: Uint32Array.from(lens),
      inode: Uint32Array.from([0, 12, 13, 14, 15]),
      fileBlock: Float64Array.from([-1, 0, 0, 0, 0]),
      kind: Uint8Array.from([10, 0, 0, 0, 0]),
      unwritten: new Uint8Array(5),
    };
    const map = new FsMap(geometry, cols, FsPaths.fromRows(Uint32Array.from([12, 13]), ['/a', '/b'], new Uint8Array(2), 'synthetic'));
    expect(map.lookupSectors(2048 + 8 * 22, 1).map((p) => p.inode)).toEqual([12, 13]);
    expect(map.lookupSectors(2048 + 8 * 35, 1).map((p) => p.inode)).toEqual([12, 14]);
    expect(map.lookupSectors(2048 + 8 * 24, 16).map((p) => [p.inode, p.length])).toEqual(
      [
        [12, 16 * 512],
        [13, 4096],
        [14, 0],
      ].filter((x) => x[1]! > 0),
    );
    expect(map.lookupSectors(2048 + 8 * 420, 8).map((p) => p.inode)).toEqual([12, 14]);
    expect(map.lookupSectors(2048 + 8 * 505, 80).map((p) => p.inode)).toEqual([12]);
    expect(map.lookupSectors(2048 + 8 * 550, 8)).toEqual([]);
    expect(map.lookupSectors(0, 2048)).toEqual([]);
    expect(map.lookupSectors(2048 + 8 * 25, 1)[0]).toMatchObject({ path: '/a', fileOffset: 15 * 4096, sector: 2048 + 200, length: 512 });
    check(map, rng(7), 500);
  });
});
