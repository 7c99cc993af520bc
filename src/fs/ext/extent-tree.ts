/**
 * ext4 extent trees (fs/ext4/ext4_extents.h). A 12-byte header {eh_magic 0xF30A, eh_entries,
 * eh_max, eh_depth, eh_generation} starts i_block and every tree block; depth > 0 nodes hold
 * 12-byte index entries {ei_block, ei_leaf_lo, ei_leaf_hi}, leaves hold 12-byte extents
 * {ee_block, ee_len, ee_start_hi, ee_start_lo}; ee_len > 32768 marks an unwritten extent of
 * ee_len - 32768 blocks. Each child must have depth = parent depth - 1, so a walk ends even when
 * a corrupt index points back up the tree; the budget bounds the work.
 */
import { InputError, expectedActual } from '../../util/errors.js';
import { I_BLOCK_OFFSET } from './inode.js';
import type { BlockSink, WalkContext } from './block-sink.js';
import { u16le, u32le } from '../../util/bytes.js';

export const EXTENT_MAGIC = 0xf30a;
/** EXT4_MAX_EXTENT_DEPTH. */
const MAX_DEPTH = 5;
const INIT_MAX_LEN = 32768;

/**
 * Walk the extent tree whose root is i_block of the inode at `o` in `inode`.
 */
export function walkExtentTree(inode: Uint8Array, o: number, ctx: WalkContext, sink: BlockSink): void {
  let used = 0;
  const fail = (msg: string, offset: number, what: string): never => {
    throw new InputError(ctx.file, `inode ${ctx.inode}: ${msg}`, { offset, what: `inode ${ctx.inode} ${what}` });
  };
  const node = (b: Uint8Array, at: number, place: number, capacity: number, expectDepth: number, first: number): void => {
    const magic = u16le(b, at);
    if (magic !== EXTENT_MAGIC) fail(expectedActual('eh_magic', '0xf30a', '0x' + magic.toString(16)), place, 'extent header');
    const entries = u16le(b, at + 2);
    const max = u16le(b, at + 4);
    const depth = u16le(b, at + 6);
    if (max > capacity || entries > max)
      fail(
        expectedActual('eh_entries <= eh_max <= capacity', `<= ${capacity}`, `eh_entries ${entries}, eh_max ${max}`),
        place + 2,
        'extent header',
      );
    if (expectDepth >= 0 ? depth !== expectDepth : depth > MAX_DEPTH)
      fail(expectedActual('eh_depth', expectDepth >= 0 ? expectDepth : `0..${MAX_DEPTH}`, depth), place + 6, 'extent header');
    let prevLogical = -1;
    for (let i = 0; i < entries; i++) {
      const e = at + 12 + i * 12;
      const eplace = place + 12 + i * 12;
      const logical = u32le(b, e);
      if (logical < prevLogical || logical < first)
        fail(
          `extent entries out of order: logical block ${logical} after ${Math.max(prevLogical, first)}`,
          eplace,
          depth ? 'extent index' : 'extent',
        );
      prevLogical = logical;
      if (depth === 0) {
        let len = u16le(b, e + 4);
        const unwritten = len > INIT_MAX_LEN;
        if (unwritten) len -= INIT_MAX_LEN;
        if (len === 0) continue;
        const phys = u32le(b, e + 8) + u16le(b, e + 6) * 2 ** 32;
        if (phys < ctx.firstDataBlock || phys + len > ctx.blocksCount)
          fail(
            `extent of ${len} blocks at block ${phys} is outside the file system (${ctx.firstDataBlock}..${ctx.blocksCount - 1})`,
            eplace,
            'extent',
          );
        used += len;
        if (used > ctx.budget)
          fail(`extent tree maps more than ${ctx.budget} blocks (i_blocks and the file-system size allow no more)`, eplace, 'extent');
        sink.data(logical, phys, len, unwritten);
      } else {
        const child = u32le(b, e + 4) + u16le(b, e + 8) * 2 ** 32;
        if (child < ctx.firstDataBlock || child >= ctx.blocksCount)
          fail(`extent index points at block ${child}, outside the file system`, eplace, 'extent index');
        used++;
        if (used > ctx.budget)
          fail(`extent tree has more than ${ctx.budget} blocks (i_blocks and the file-system size allow no more)`, eplace, 'extent index');
        sink.meta(child, 'extent_node', logical);
        // copied: the block cache may reuse the buffer while the subtree is read
        const cb = ctx.readBlock(child, `inode ${ctx.inode} extent tree block`).slice(0, ctx.blockSize);
        node(cb, 0, child * ctx.blockSize, Math.floor((ctx.blockSize - 12) / 12), depth - 1, logical);
      }
    }
  };
  node(inode, o + I_BLOCK_OFFSET, ctx.inodeOffset + I_BLOCK_OFFSET, 4, -1, 0);
}
