import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDisk, openDiskAsync } from '../../src/image/open-disk.js';
import type { BlockSource } from '../../src/io/block-source.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { FIXTURES, golden, removeDir, unpackFixtures } from './fixtures.js';

/** ext2/3/4 superblock fields (fs/ext4/ext4.h struct ext4_super_block, at byte 1024). */
function superblock(src: BlockSource) {
  const b = src.read(1024, 1024, 'ext superblock');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hex = (a: number, n: number) => Array.from(b.subarray(a, a + n), (x) => x.toString(16).padStart(2, '0')).join('');
  const u = hex(104, 16);
  return {
    magic: v.getUint16(56, true),
    blocks: v.getUint32(4, true),
    blockSize: 1024 << v.getUint32(24, true),
    label: new TextDecoder().decode(b.subarray(120, 136)).replace(/\0+$/, ''),
    uuid: `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`,
  };
}

function dumpe2fsGolden() {
  const g = Object.fromEntries(
    golden('gptfs.dumpe2fs.txt')
      .trim()
      .split('\n')
      .map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i), l.slice(i + 1).trim()];
      }),
  );
  return {
    magic: 0xef53,
    blocks: Number(g['Block count']),
    blockSize: Number(g['Block size']),
    label: g['Filesystem volume name'],
    uuid: g['Filesystem UUID'],
  };
}

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('openDisk', () => {
  it('reads an ext4 inside GPT partition 1 of a qcow2 image (dumpe2fs golden)', () => {
    const src = openDisk(join(dir, 'gptfs.qcow2'), { partition: 1 });
    try {
      expect(src.size).toBe(32768 * 512);
      expect(src.name).toMatch(/gptfs\.qcow2#partition 1$/);
      expect(superblock(src)).toEqual(dumpe2fsGolden());
    } finally {
      src.close();
    }
  });

  it('opens a raw disk and its logical MBR partition 5', () => {
    const whole = openDisk(join(dir, 'mbr.img'));
    expect(whole.size).toBe(32 << 20);
    whole.close();
    const p5 = openDisk(join(dir, 'mbr.img'), { partition: 5 });
    try {
      expect(p5.size).toBe(8192 * 512);
    } finally {
      p5.close();
    }
  });

  it('a missing partition is an error listing the partitions that exist', () => {
    expect(() => openDisk(join(dir, 'mbr.img'), { partition: 3 })).toThrow(InputError);
    expect(() => openDisk(join(dir, 'mbr.img'), { partition: 3 })).toThrow(/partition 3 not found \(mbr partitions: 1, 5, 6\)/);
    expect(() => openDisk(join(dir, 'mbr.img'), { partition: 0 })).toThrow(UsageError);
  });

  it('forcing qcow2 on a raw file names the magic', () => {
    expect(() => openDisk(join(dir, 'mbr.img'), { format: 'qcow2' })).toThrow(
      /mbr\.img:byte offset 0 \(0x0\) \(qcow2 header magic\): expected magic 0x514649fb/,
    );
  });

  it('a compressed file needs openDiskAsync', () => {
    expect(() => openDisk(join(FIXTURES, 'gpt.img.gz'))).toThrow(/gzip-compressed/);
  });
});

describe('openDiskAsync', () => {
  it('reads a gzip-compressed raw disk at random offsets (partition 1 of gpt.img.gz)', async () => {
    const src = await openDiskAsync(join(FIXTURES, 'gpt.img.gz'), { partition: 2 });
    try {
      expect(src.size).toBe(16384 * 512);
      expect(src.name).toMatch(/gpt\.img\.gz#partition 2$/);
      const whole = openDisk(join(dir, 'gpt.img'));
      try {
        expect(Buffer.compare(src.read(0, 65536), whole.read(34816 * 512, 65536))).toBe(0);
      } finally {
        whole.close();
      }
    } finally {
      src.close();
    }
  });

  it('reads a gzip-compressed qcow2 image through its tables', async () => {
    const src = await openDiskAsync(join(FIXTURES, 'gptfs.qcow2.gz'), { partition: 1 });
    try {
      expect(superblock(src)).toEqual(dumpe2fsGolden());
    } finally {
      src.close();
    }
  });

  it('a corrupt gzip stream is an InputError naming the file', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const bad = join(dir, 'bad.img.gz');
    const b = readFileSync(join(FIXTURES, 'mbr.img.gz'));
    writeFileSync(bad, b.subarray(0, Math.floor(b.length / 2)));
    await expect(openDiskAsync(bad)).rejects.toThrow(/bad\.img\.gz.*cannot read gzip stream/);
  });
});
