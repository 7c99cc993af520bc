/**
 * ext2/ext3 block maps (the "indirect" scheme, fs/ext4/indirect.c): i_block[0..11] point at the
 * first 12 data blocks, i_block[12] at a single-indirect block of P = blockSize/4 u32 pointers,
 * [13] at a double-indirect and [14] at a triple-indirect block. A zero pointer is a hole at any
 * level. The depth is fixed, so a walk always ends; a corrupt map that points at garbage is
 * bounded by the context's budget.
 */
import { InputError } from '../../util/errors.js';
import { I_BLOCK_OFFSET } from './inode.js';
import type { BlockSink, WalkContext } from './block-sink.js';
import { u32le } from '../../util/bytes.js';

class Walk {
  used = 0;
  constructor(
    readonly ctx: WalkContext,
    readonly sink: BlockSink,
    readonly p: number,
  ) {}

  charge(n: number, place: number): void {
    this.used += n;
    if (this.used > this.ctx.budget) {
      throw new InputError(
        this.ctx.file,
        `inode ${this.ctx.inode}: block map reaches more than ${this.ctx.budget} blocks (i_blocks and the file-system size allow no more)`,
        { offset: place, what: `inode ${this.ctx.inode} block map` },
      );
    }
  }

  checkBlock(blk: number, place: number, what: string): void {
    const c = this.ctx;
    if (blk < c.firstDataBlock || blk >= c.blocksCount) {
      throw new InputError(
        c.file,
        `inode ${c.inode}: ${what} points at block ${blk}, outside the file system (${c.firstDataBlock}..${c.blocksCount - 1})`,
        { offset: place, what: `inode ${c.inode} ${what}` },
      );
    }
  }

  /** Walk an indirect block of `level` (1..3) mapping logical blocks from `first`. */
  indirect(blk: number, level: number, first: number, place: number): void {
    const c = this.ctx;
    const names = ['', 'single-indirect block', 'double-indirect block', 'triple-indirect block'];
    this.checkBlock(blk, place, names[level]!);
    this.charge(1, place);
    this.sink.meta(blk, 'indirect', first);
    // the pointers are copied out: the block cache may reuse the buffer during deeper reads
    const bytes = c.readBlock(blk, `inode ${c.inode} ${names[level]}`).slice();
    const span = this.p ** (level - 1);
    const base = blk * c.blockSize;
    let runStart = -1;
    let runPhys = 0;
    let runLen = 0;
    const flush = () => {
      if (runLen) {
        this.sink.data(runStart, runPhys, runLen, false);
        runLen = 0;
      }
    };
    for (let i = 0; i < this.p; i++) {
      const ptr = u32le(bytes, i * 4);
      if (ptr === 0) continue;
      const logical = first + i * span;
      if (level === 1) {
        this.checkBlock(ptr, base + i * 4, 'data pointer');
        this.charge(1, base + i * 4);
        if (runLen && runStart + runLen === logical && runPhys + runLen === ptr) {
          runLen++;
          continue;
        }
        flush();
        runStart = logical;
        runPhys = ptr;
        runLen = 1;
      } else {
        this.indirect(ptr, level - 1, logical, base + i * 4);
      }
    }
    flush();
  }
}

/** Walk the block map in the inode bytes `inode` (the inode starts at `o`). */
export function walkBlockMap(inode: Uint8Array, o: number, ctx: WalkContext, sink: BlockSink): void {
  const p = ctx.blockSize / 4;
  const w = new Walk(ctx, sink, p);
  const iblock = o + I_BLOCK_OFFSET;
  let runStart = -1;
  let runPhys = 0;
  let runLen = 0;
  for (let i = 0; i < 12; i++) {
    const ptr = u32le(inode, iblock + i * 4);
    if (ptr === 0) continue;
    const place = ctx.inodeOffset + I_BLOCK_OFFSET + i * 4;
    w.checkBlock(ptr, place, `i_block[${i}]`);
    w.charge(1, place);
    if (runLen && runStart + runLen === i && runPhys + runLen === ptr) {
      runLen++;
      continue;
    }
    if (runLen) sink.data(runStart, runPhys, runLen, false);
    runStart = i;
    runPhys = ptr;
    runLen = 1;
  }
  if (runLen) sink.data(runStart, runPhys, runLen, false);
  const starts = [12, 12 + p, 12 + p + p * p];
  for (let level = 1; level <= 3; level++) {
    const ptr = u32le(inode, iblock + (11 + level) * 4);
    if (ptr !== 0) w.indirect(ptr, level, starts[level - 1]!, ctx.inodeOffset + I_BLOCK_OFFSET + (11 + level) * 4);
  }
}
