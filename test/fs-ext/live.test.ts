/**
 * Live comparisons with the oracle tools on this machine (skipped with a reason when a tool is
 * missing): debugfs icheck/ncheck/bmap on seeded random samples of the decompressed fixtures, a
 * file system inside a GPT partition of a raw disk, of a qcow2 disk and of a .gz copy, and the CLI
 * round trip through fs_map.arrow.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { FileBlockSource } from '../../src/io/block-source.js';
import { openFsSource } from '../../src/fs/open-fs-source.js';
import { buildFsMap } from '../../src/fs/ext/fs-map-builder.js';
import { FsMap } from '../../src/fs/ext/fs-map.js';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { FIXTURES, FIXTURE_NAMES, parseDumpe2fs, parseIcheck, parseNcheck } from './oracle-output.js';
import { run as runMap } from '../../src/cli/map.js';
import { run as runLookup } from '../../src/cli/lookup.js';

const tool = (cmd: string, arg: string) => {
  const r = spawnSync(cmd, [arg], { stdio: 'ignore' });
  return r.error === undefined;
};
const haveDebugfs = tool('debugfs', '-V');
const haveSfdisk = tool('sfdisk', '--version');
const haveQemuImg = tool('qemu-img', '--version');
if (!haveDebugfs) console.log('fs-ext live tests skipped: debugfs (e2fsprogs) is not installed');
if (!haveSfdisk) console.log('fs-ext partition test skipped: sfdisk (util-linux) is not installed');
if (!haveQemuImg) console.log('fs-ext qcow2 test skipped: qemu-img is not installed');

const STATIC = new Set(['superblock', 'group_desc', 'block_bitmap', 'inode_bitmap', 'inode_table']);
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iol-fs-test-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

function debugfs(req: string, img: string): string {
  return execFileSync('debugfs', ['-R', req, img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 });
}

function unpack(name: string): string {
  const img = join(dir, `${name}.img`);
  writeFileSync(img, gunzipSync(readFileSync(join(FIXTURES, `${name}.e2image-r.img.gz`))));
  return img;
}

/** Compare owners of `blocks` with debugfs icheck, and paths of the owners with ncheck. */
function compareWithDebugfs(map: FsMap, blocks: number[], img: string): void {
  const ic = parseIcheck(debugfs(`icheck ${blocks.join(' ')}`, img));
  expect(ic.size).toBe(new Set(blocks).size);
  const bad: string[] = [];
  const inodes = new Set<number>();
  for (const [b, ino] of ic) {
    const o = map.lookupSectors(map.sectorOfBlock(b), 1);
    if (ino === null) {
      if (o.some((x) => !STATIC.has(x.kind))) bad.push(`${b}: debugfs none, ours ${JSON.stringify(o)}`);
    } else {
      inodes.add(ino);
      if (!o.some((x) => x.inode === ino)) bad.push(`${b}: debugfs ${ino}, ours ${JSON.stringify(o)}`);
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
  const nc = parseNcheck(debugfs(`ncheck ${[...inodes].join(' ')}`, img));
  for (const [ino, paths] of nc) expect(new Set(map.pathsOf(ino)), `inode ${ino}`).toEqual(paths);
}

describe.skipIf(!haveDebugfs)('debugfs, live', () => {
  it.each(FIXTURE_NAMES)('%s: 400 random blocks agree with icheck/ncheck, 40 file blocks with bmap', (name) => {
    const img = unpack(name);
    const src = new FileBlockSource(img);
    const { map } = buildFsMap(src, { strict: true });
    src.close();
    const random = rng(name.length * 7919);
    const c = map.columns;
    const blocks = new Set<number>();
    while (blocks.size < 300) {
      const r = Math.floor(random() * map.rows);
      blocks.add(c.fsBlock[r]! + Math.floor(random() * c.blocks[r]!));
    }
    while (blocks.size < 400) blocks.add(1 + Math.floor(random() * (map.geometry.blocksCount - 1)));
    compareWithDebugfs(map, [...blocks], img);
    const head = execFileSync('dumpe2fs', ['-h', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const seq = /Journal sequence:\s+(0x[0-9a-f]+)/.exec(head);
    if (seq) expect(Number(map.extraMetadata['fs.journal_sequence'])).toBe(Number(seq[1]));
    else expect(map.extraMetadata['fs.journal_sequence']).toBeUndefined();
    // bmap: logical block of a file -> physical block, through the reverse lookup
    const bs = map.geometry.blockSize;
    let checked = 0;
    for (let tries = 0; tries < 400 && checked < 40; tries++) {
      const r = Math.floor(random() * map.rows);
      if (map.kindOf(r) !== 'data' || c.fileBlock[r]! < 0) continue;
      const ino = c.inode[r]!;
      const logical = c.fileBlock[r]! + Math.floor(random() * c.blocks[r]!);
      const out = debugfs(`bmap <${ino}> ${logical}`, img).trim();
      const [piece] = map.fileToSectors(ino, logical * bs, bs);
      expect(`${piece!.diskOffset! / bs}${piece!.unwritten ? ' (uninit)' : ''}`, `bmap <${ino}> ${logical}`).toBe(out);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});

/** Every block dumpe2fs lists as metadata has that kind; free blocks have no row; used ones have one. */
function compareWithDumpe2fs(map: FsMap, img: string): void {
  const d = parseDumpe2fs(execFileSync('dumpe2fs', [img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 }));
  for (const [b, kind] of d.kinds)
    expect(
      map.lookupSectors(map.sectorOfBlock(b), 1).map((x) => x.kind),
      `block ${b}`,
    ).toContain(kind);
  const free = new Uint8Array(map.geometry.blocksCount);
  for (const [a, z] of d.free) free.fill(1, a, z + 1);
  const covered = new Uint8Array(map.geometry.blocksCount);
  const c = map.columns;
  for (let i = 0; i < map.rows; i++) covered.fill(1, c.fsBlock[i]!, c.fsBlock[i]! + c.blocks[i]!);
  let wrong = 0;
  for (let b = map.geometry.firstDataBlock; b < map.geometry.blocksCount; b++) if (free[b] === covered[b]) wrong++;
  expect(wrong).toBe(0);
}

describe.skipIf(!haveDebugfs || !tool('mke2fs', '-V'))('layouts made on the fly with mke2fs -d, live', () => {
  const configs: [string, string[], string][] = [
    ['ext4 sparse_super2 (one backup)', ['-t', 'ext4', '-b', '1024', '-O', 'sparse_super2', '-E', 'num_backup_sb=1'], '40M'],
    ['ext2 without sparse_super (backups in every group)', ['-t', 'ext2', '-b', '1024', '-O', '^sparse_super,^resize_inode'], '24M'],
    ['ext4 with 128-byte inodes and 2 KiB blocks', ['-t', 'ext4', '-b', '2048', '-I', '128'], '40M'],
    ['ext2 revision 0', ['-t', 'ext2', '-r', '0', '-b', '1024'], '16M'],
    ['ext4 64bit with 64 KiB blocks', ['-t', 'ext4', '-b', '65536', '-O', '64bit'], '256M'],
  ];
  it.each(configs)('%s: agrees with dumpe2fs and debugfs icheck/ncheck', (label, opts, size) => {
    const src = join(dir, 'tree');
    rmSync(src, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', join(src, 'd1/d2/d3')]);
    for (let i = 0; i < 200; i++) writeFileSync(join(src, i % 2 ? 'd1' : 'd1/d2/d3', `f${i}`), Buffer.alloc((i * 937) % 40000, i & 0xff));
    writeFileSync(join(src, 'big.bin'), Buffer.alloc(3 << 20, 7));
    execFileSync('ln', [join(src, 'd1/f1'), join(src, 'hard')]);
    execFileSync('ln', ['-s', 'd1/f1', join(src, 'sym')]);
    const img = join(dir, `fly-${label.replace(/\W+/g, '_')}.img`);
    rmSync(img, { force: true });
    execFileSync('mke2fs', ['-q', '-F', ...opts, '-d', src, img, size], { stdio: 'ignore' });
    const s = new FileBlockSource(img);
    const { map } = buildFsMap(s, { strict: true });
    s.close();
    compareWithDumpe2fs(map, img);
    const random = rng(size.length + opts.length);
    const blocks = new Set<number>();
    const c = map.columns;
    while (blocks.size < 200) {
      const r = Math.floor(random() * map.rows);
      blocks.add(c.fsBlock[r]! + Math.floor(random() * c.blocks[r]!));
    }
    compareWithDebugfs(
      map,
      [...blocks].filter((b) => b > 0),
      img,
    );
    expect(map.pathsOf(map.inodeOf('/hard')!)).toEqual(['/d1/f1', '/hard']);
  });

  it('bigalloc is refused with a clear error', () => {
    const img = join(dir, 'bigalloc.img');
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', 'bigalloc', '-C', '16384', img, '64M'], { stdio: 'ignore' });
    expect(() => buildFsMap(new FileBlockSource(img))).toThrow(
      /byte offset 1124 \(0x464\) \(superblock s_feature_ro_compat\): bigalloc \(cluster allocation\) is not supported/,
    );
  });
});

describe.skipIf(!haveDebugfs)('htree directories and e2image -Q dumps, live', () => {
  it('the htree directory of ext3-1k lists the same 2000 names as debugfs ls, and its dx_root is an index', () => {
    const img = unpack('ext3-1k');
    const htree = debugfs('htree /bigdir', img);
    expect(htree).toMatch(/Indirect levels: \d+/);
    const names = debugfs('ls /bigdir', img).match(/entry_with_a_long_name_\d+/g) ?? [];
    expect(names.length).toBe(2000);
    const src = new FileBlockSource(img);
    const { map } = buildFsMap(src, { strict: true });
    src.close();
    for (const n of names) expect(map.inodeOf(`/bigdir/${n}`), n).not.toBeNull();
  });

  it.skipIf(!tool('e2image', '-V'))('an e2image -Q (qcow2) dump maps like the raw image', async () => {
    const img = unpack('ext4-1k-noflex');
    const q = join(dir, 'noflex.qcow2');
    execFileSync('e2image', ['-Q', img, q], { stdio: 'ignore' });
    const a = buildFsMap(new FileBlockSource(img), { strict: true }).map;
    const src = await openFsSource(q);
    const b = buildFsMap(src.source, { strict: true }).map;
    src.source.close();
    expect(b.rows).toBe(a.rows);
    expect(Array.from(b.columns.fsBlock)).toEqual(Array.from(a.columns.fsBlock));
    expect(Array.from(b.columns.inode)).toEqual(Array.from(a.columns.inode));
    expect(b.pathsOf(b.inodeOf('/hardlink.txt')!)).toEqual(a.pathsOf(a.inodeOf('/hardlink.txt')!));
    // the "normal" e2image format has no directory or tree blocks: refused with advice
    const n = join(dir, 'noflex.e2i');
    execFileSync('e2image', [img, n], { stdio: 'ignore' });
    await expect(openFsSource(n)).rejects.toThrow(/normal" e2image file .*e2image -r/);
  });
});

describe.skipIf(!haveDebugfs || !haveSfdisk)('a file system inside a partitioned disk', () => {
  it('GPT partition of a raw disk, of a .gz copy and of a qcow2 disk, MBR partition 2: sectors are disk-absolute', async () => {
    const fsImg = gunzipSync(readFileSync(join(FIXTURES, 'ext2-1k.e2image-r.img.gz')));
    const disk = join(dir, 'disk.raw');
    const start = 4096; // sectors
    execFileSync('truncate', ['-s', String(start * 512 + fsImg.length + 2 ** 20), disk]);
    execFileSync('sfdisk', ['-q', disk], { input: `label: gpt\nstart=${start}, size=${fsImg.length / 512}, type=linux\n` });
    // the same file system as partition 2 of an MBR disk, behind a small first partition
    const mbr = join(dir, 'disk-mbr.raw');
    const mbrStart = 8192;
    execFileSync('truncate', ['-s', String(mbrStart * 512 + fsImg.length + 2 ** 20), mbr]);
    execFileSync('sfdisk', ['-q', mbr], {
      input: `label: dos\nstart=2048, size=4096, type=83\nstart=${mbrStart}, size=${fsImg.length / 512}, type=83\n`,
    });
    const fdm = (await import('node:fs')).openSync(mbr, 'r+');
    (await import('node:fs')).writeSync(fdm, fsImg, 0, fsImg.length, mbrStart * 512);
    (await import('node:fs')).closeSync(fdm);
    const m = await openFsSource(mbr, { partition: 2 });
    expect(m.partitionOffset).toBe(mbrStart * 512);
    const mbrMap = buildFsMap(m.source, { partitionOffset: m.partitionOffset, strict: true }).map;
    m.source.close();
    expect(mbrMap.sectorOfBlock(300)).toBe(mbrStart + 600);
    const fd = (await import('node:fs')).openSync(disk, 'r+');
    (await import('node:fs')).writeSync(fd, fsImg, 0, fsImg.length, start * 512);
    (await import('node:fs')).closeSync(fd);
    writeFileSync(join(dir, 'ext2-plain.img'), fsImg);
    const plainSrc = new FileBlockSource(join(dir, 'ext2-plain.img'));
    const plain = buildFsMap(plainSrc, { strict: true }).map;
    plainSrc.close();
    expect(mbrMap.rows).toBe(plain.rows);
    expect(mbrMap.lookupSectors(mbrStart + 2 * 1000, 64).map((x) => ({ ...x, sector: x.sector - mbrStart }))).toEqual(
      plain.lookupSectors(2 * 1000, 64),
    );
    const variants: [string, string][] = [['raw', disk]];
    writeFileSync(disk + '.gz', gzipSync(readFileSync(disk), { level: 1 }));
    variants.push(['gz', disk + '.gz']);
    if (haveQemuImg) {
      execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', disk, disk + '.qcow2']);
      variants.push(['qcow2', disk + '.qcow2']);
    }
    const icheck = parseIcheck(debugfs('icheck 300 600 900 1200 1500 2000 3000', `${disk}?offset=${start * 512}`));
    for (const [what, path] of variants) {
      const src = await openFsSource(path, { partition: 1 });
      expect(src.partitionOffset, what).toBe(start * 512);
      const { map } = buildFsMap(src.source, { partitionOffset: src.partitionOffset, strict: true });
      src.source.close();
      expect(map.rows, what).toBe(plain.rows);
      expect(map.sectorOfBlock(0), what).toBe(start);
      for (const [b, ino] of icheck) {
        const o = map.lookupSectors(start + b * 2, 2);
        if (ino !== null)
          expect(
            o.map((x) => x.inode),
            `${what} block ${b}`,
          ).toContain(ino);
        expect(plain.lookupSectors(b * 2, 2), `${what} block ${b}`).toEqual(o.map((x) => ({ ...x, sector: x.sector - start })));
      }
    }
  });
});

describe('compressed sources', () => {
  const haveXz = tool('xz', '--version');
  const haveZstd = tool('zstd', '--version');
  it.skipIf(!haveXz || !haveZstd)('.xz and .zst copies map like the .gz fixture; a cut .gz names the file', async () => {
    const gz = join(FIXTURES, 'ext2-1k.e2image-r.img.gz');
    const raw = unpack('ext2-1k');
    execFileSync('xz', ['-0', '-k', '-f', raw]);
    execFileSync('zstd', ['-1', '-q', '-f', raw, '-o', raw + '.zst']);
    const maps = [];
    for (const p of [gz, raw + '.xz', raw + '.zst']) {
      const src = await openFsSource(p);
      expect(src.source.name).toBe(p);
      maps.push(buildFsMap(src.source, { strict: true }).map);
      src.source.close();
    }
    for (const m of maps.slice(1)) {
      expect(Array.from(m.columns.fsBlock)).toEqual(Array.from(maps[0]!.columns.fsBlock));
      expect(Array.from(m.columns.kind)).toEqual(Array.from(maps[0]!.columns.kind));
    }
    const cut = join(dir, 'cut.img.gz');
    const bytes = readFileSync(gz);
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    await expect(openFsSource(cut)).rejects.toThrow(/cut\.img\.gz/);
  });
});

describe('the map and lookup commands', () => {
  it('map fs writes fs_map.arrow and fs_paths.arrow; lookup answers from them as from the image', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    const outDir = join(dir, 'map-out');
    const fixture = join(FIXTURES, 'ext3-1k.e2image-r.img.gz');
    try {
      expect(await runMap(['fs', fixture, '-o', outDir])).toBe(0);
      const summary = out.join('');
      expect(summary).toMatch(/ext3, 32768 blocks of 1024 bytes/);
      expect(summary).toMatch(/indirect\s+\d/);
      out.length = 0;
      const fromArrow = FsMap.fromTables(readArrowFile(join(outDir, 'fs_map.arrow')), readArrowFile(join(outDir, 'fs_paths.arrow')));
      const src = await openFsSource(fixture);
      const direct = buildFsMap(src.source, { strict: true }).map;
      src.source.close();
      expect(fromArrow.rows).toBe(direct.rows);
      expect(fromArrow.geometry).toEqual(direct.geometry);
      const ino = direct.inodeOf('/sparse.bin')!;
      const ex = direct.fileExtents(ino);
      for (const s of [0, 1, 2, 4000, 9000, direct.sectorOfBlock(ex[2]!.fsBlock) + 3, 50000])
        expect(fromArrow.lookupSectors(s, 16)).toEqual(direct.lookupSectors(s, 16));
      expect(fromArrow.pathsOf(direct.inodeOf('/hardlink.txt')!)).toEqual(['/a/b/linked.txt', '/a/zz-link.txt', '/hardlink.txt']);
      // lookup from the output directory
      const sector = direct.sectorOfBlock(ex[2]!.fsBlock) + 3;
      expect(await runLookup([outDir, '--sector', String(sector), '--count', '4'])).toBe(0);
      const text = out.join('');
      expect(text).toContain(`${sector}\t4\tdata\t${ino}\t/sparse.bin\t${102400 * 1024 + 3 * 512}`);
      out.length = 0;
      expect(await runLookup([outDir, '--file', '/sparse.bin', '--offset', '0', '--length', String(10241 * 1024)])).toBe(0);
      expect(
        out
          .join('')
          .split('\n')
          .filter((l) => l.includes('hole')).length,
      ).toBe(1);
      out.length = 0;
      expect(await runLookup([fixture, '--block', String(ex[0]!.fsBlock)])).toBe(0);
      expect(out.join('')).toContain(`\tdata\t${ino}\t/sparse.bin\t0\t${ex[0]!.fsBlock}`);
    } finally {
      spy.mockRestore();
    }
    await expect(runMap(['fs', fixture])).rejects.toThrow(/-o DIR is required/);
    await expect(runLookup([fixture])).rejects.toThrow(/exactly one of --sector, --block, --file/);
  });
});
