import { describe, expect, it } from 'vitest';
import { RangeMap } from '../../src/correlate/range-map.js';
import { RegionIndex } from '../../src/correlate/region-index.js';
import { inferMountPrefix, stripMountPrefix } from '../../src/correlate/mount-prefix.js';

describe('RangeMap', () => {
  it('translates across extents and holes, and composes', () => {
    // file: [0, 8K) → disk 100K, [12K, 16K) → disk 40K (hole at [8K, 12K))
    const file = new RangeMap([0, 12288], [102400, 40960], [8192, 4096]);
    const got: number[][] = [];
    const holes = file.translate(4096, 12288, (d, l, s) => got.push([d, l, s]));
    expect(got).toEqual([
      [106496, 4096, 4096],
      [40960, 4096, 12288],
    ]);
    expect(holes).toBe(4096);
    // disk → host: [0, 64K) → 1M, [64K, 128K) → 3M
    const disk = new RangeMap([0, 65536], [1 << 20, 3 << 20], [65536, 65536]);
    const both = file.then(disk);
    const out: number[][] = [];
    both.translate(0, 16384, (d, l, s) => out.push([d, l, s]));
    expect(out).toEqual([
      [3 * (1 << 20) + 102400 - 65536, 8192, 0],
      [(1 << 20) + 40960, 4096, 12288],
    ]);
  });

  it('merges contiguous ranges, rejects overlaps unless clipping, refuses unsafe numbers', () => {
    expect(new RangeMap([0, 10], [100, 110], [10, 10]).size).toBe(1);
    expect(() => new RangeMap([0, 5], [0, 100], [10, 10])).toThrow(/overlap/);
    expect(new RangeMap([0, 5], [0, 100], [10, 10], 'x', true).len[1]).toBe(5);
    expect(() => new RangeMap([2 ** 53], [0], [1])).toThrow(/safe integer/);
  });
});

describe('RegionIndex', () => {
  it('classifies ranges with gaps and lets an overlay win', () => {
    const base = new RegionIndex([0, 100], [50, 200], [1, 2]);
    const top = new RegionIndex([120], [150], [9]);
    const idx = RegionIndex.overlay(base, top);
    const got: number[][] = [];
    idx.classify(40, 200, (l, s, n) => got.push([l, s, n]));
    expect(got).toEqual([
      [1, 40, 10],
      [-1, 50, 50],
      [2, 100, 20],
      [9, 120, 30],
      [2, 150, 50],
      [-1, 200, 40],
    ]);
  });
});

describe('mount prefix', () => {
  const fs = new Set(['/f000', '/f001', '/dir/a']);
  it('infers the prefix from path suffixes', () => {
    const r = inferMountPrefix(
      new Map([
        ['/mnt/data/f000', 10],
        ['/mnt/data/f001', 3],
        ['/etc/passwd', 1],
        ['/mnt/data/dir/a', 1],
      ]),
      (p) => fs.has(p),
    );
    expect(r.prefix).toBe('/mnt/data');
    expect(r.matched).toBe(3);
    expect(r.source).toBe('inferred');
  });
  it('reports no match, and strips prefixes exactly', () => {
    expect(inferMountPrefix(new Map([['/x/y', 1]]), (p) => fs.has(p)).prefix).toBeNull();
    expect(stripMountPrefix('/mnt/data/f000', '/mnt/data')).toBe('/f000');
    expect(stripMountPrefix('/mnt/database/f000', '/mnt/data')).toBeNull();
    expect(stripMountPrefix('/f000', '')).toBe('/f000');
  });
});

describe('qemuImgMapRangeMap on a damaged map', () => {
  // the fuzz campaign's finding analyze #76 (seed 6): a start of 1e26 was a RangeError (exit 70)
  it('names the file and the entry of a value that is no byte offset, and of overlapping extents', async () => {
    const { qemuImgMapRangeMap } = await import('../../src/correlate/map-inputs.js');
    const entry = (start: number, offset: number, length = 65536) => ({
      start,
      length,
      depth: 0,
      present: true,
      zero: false,
      data: true,
      offset,
    });
    const map = (...e: object[]) => JSON.stringify(e);
    expect(() => qemuImgMapRangeMap(map(entry(0, 327680), entry(1e26, 0)), 'vm0/image.map.json')).toThrow(
      'vm0/image.map.json: entry 1: start 1e+26: expected a byte offset, a non-negative integer below 2^53',
    );
    expect(() => qemuImgMapRangeMap(map(entry(0, -512)), 'm.json')).toThrow('m.json: entry 0: offset -512: expected a byte offset');
    expect(() => qemuImgMapRangeMap(map(entry(0, 0, 0.5)), 'm.json')).toThrow('m.json: entry 0: length 0.5: expected a byte offset');
    expect(() => qemuImgMapRangeMap(map(entry(0, 327680), entry(32768, 1327680)), 'm.json')).toThrow(
      'm.json: source ranges overlap at 32768 (previous range ends at 65536)',
    );
    expect(qemuImgMapRangeMap(map(entry(0, 327680), entry(65536, 1327680)), 'm.json').src.length).toBe(2);
  });
});
