/**
 * Live end-to-end check of the host side (root only: loop device and mount): a qcow2 image file
 * inside a host ext4, written so that it fragments; guest bytes are followed guest offset ->
 * image_map -> qcow2 file offset -> filefrag -v extents -> host fs block, and the bytes at that
 * place of the host image must be the guest's bytes. debugfs checks the filefrag parse.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapImage } from '../../src/image/image-map.js';
import { ImageMap } from '../../src/image/image-map-lookup.js';
import { parseFilefrag } from '../../src/image/filefrag.js';
import { Qcow2BlockSource } from '../../src/image/qcow2-source.js';
import { FileBlockSource } from '../../src/io/block-source.js';
import { haveTool, prng, removeDir, run } from './fixtures.js';

const isRoot = process.getuid?.() === 0;
const tools =
  haveTool('qemu-img') &&
  haveTool('qemu-io') &&
  haveTool('filefrag', ['-V']) &&
  haveTool('losetup', ['--version']) &&
  haveTool('debugfs', ['-V']);
const reason = !isRoot ? 'not root (needs a loop device and mount)' : !tools ? 'qemu-img/qemu-io/filefrag/losetup/debugfs missing' : '';
if (reason) console.log(`host-chain-live: skipped: ${reason}`);

describe.skipIf(Boolean(reason))('guest byte -> image_map -> filefrag -> host disk byte (live)', () => {
  it('every sampled guest byte is found at the computed host disk offset', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-image-host-'));
    const img = join(work, 'host.img');
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    let loop = '';
    let mounted = false;
    try {
      run('truncate', ['-s', '48M', img]);
      run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-E', 'nodiscard', img]);
      try {
        loop = run('losetup', ['-f', '--show', img]).trim();
        run('mount', [loop, mnt]);
        mounted = true;
      } catch (e) {
        console.log(`host-chain-live: cannot mount a loop device here (${(e as Error).message.split('\n')[0]}); nothing checked`);
        expect(mounted).toBe(false);
        return;
      }
      const q = join(mnt, 'guest.qcow2');
      run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', q, '64M']);
      // seeded random content, so that a wrong host place cannot hold the same byte by chance
      const pat = join(work, 'pattern');
      const r0 = prng(5);
      writeFileSync(
        pat,
        Uint8Array.from({ length: 131072 }, () => Math.floor(r0() * 256)),
      );
      for (let i = 0; i < 12; i++) {
        run('qemu-io', [
          '-f',
          'qcow2',
          '-c',
          `write -s ${pat} ${i * 3 * 1048576 + 4096 * i} 131072`,
          '-c',
          `write -c -P ${0x60 + i} ${i * 3 * 1048576 + 2 * 1048576} 4096`,
          q,
        ]);
        run('dd', ['if=/dev/urandom', `of=${join(mnt, 'filler')}`, 'bs=64k', 'count=1', `seek=${i}`, 'conv=notrunc,fsync', 'status=none']);
        run('sync', []);
      }
      const ff = parseFilefrag(run('filefrag', ['-v', 'guest.qcow2'], mnt));
      run('umount', [mnt]);
      mounted = false;
      run('losetup', ['-d', loop]);
      loop = '';

      // filefrag against debugfs on the unmounted image
      const stat = run('debugfs', ['-R', 'stat /guest.qcow2', img]);
      const fb = ff.table.getChild('fs_block')!.toArray() as BigInt64Array;
      const lb = ff.table.getChild('file_block')!.toArray() as BigInt64Array;
      const nb = ff.table.getChild('blocks')!.toArray() as Uint32Array;
      for (let i = 0; i < ff.table.numRows; i++) {
        const l0 = Number(lb[i]),
          p0 = Number(fb[i]),
          n = nb[i]!;
        const txt = n === 1 ? `(${l0}):${p0}` : `(${l0}-${l0 + n - 1}):${p0}-${p0 + n - 1}`;
        expect(stat, txt).toContain(txt);
      }
      expect(ff.table.numRows).toBeGreaterThan(3);

      // the image file as the host sees it: read the qcow2 through the host image, via filefrag's map
      const hostImg = new FileBlockSource(img);
      const fileBlockToHost = (fileOffset: number): number => {
        const blk = Math.floor(fileOffset / 4096);
        for (let i = 0; i < ff.table.numRows; i++) {
          if (blk >= Number(lb[i]) && blk < Number(lb[i]) + nb[i]!)
            return (Number(fb[i]) + blk - Number(lb[i])) * 4096 + (fileOffset % 4096);
        }
        return -1;
      };
      // copy the qcow2 out of the host image to read its guest view
      run('debugfs', ['-R', `dump /guest.qcow2 ${join(work, 'guest.qcow2')}`, img]);
      const { table } = mapImage(join(work, 'guest.qcow2'));
      const map = new ImageMap(table);
      const guest = Qcow2BlockSource.open(join(work, 'guest.qcow2'));
      const rnd = prng(99);
      let checked = 0;
      try {
        const data = map.guestToHost(0, map.size).filter((p) => p.state === 'data');
        for (let k = 0; k < 200; k++) {
          const p = data[Math.floor(rnd() * data.length)]!;
          const g = p.guestOffset + Math.floor(rnd() * p.length);
          const [piece] = map.guestToHost(g, 1);
          const host = fileBlockToHost(piece!.hostOffset);
          expect(host, `guest ${g}`).toBeGreaterThanOrEqual(0);
          // up to 32 bytes inside the same 4 KiB block
          const n = Math.min(32, 4096 - (host % 4096), p.guestOffset + p.length - g);
          expect(Buffer.compare(hostImg.read(host, n), guest.read(g, n)), `guest ${g} -> qcow2 ${piece!.hostOffset} -> host ${host}`).toBe(
            0,
          );
          checked++;
        }
      } finally {
        guest.close();
        hostImg.close();
      }
      expect(checked).toBe(200);
    } finally {
      if (mounted) execFileSync('umount', [mnt]);
      if (loop) execFileSync('losetup', ['-d', loop]);
      removeDir(work);
    }
  });
});
