/**
 * Block group descriptors (struct ext4_group_desc, fs/ext4/ext4.h): 32 bytes, or s_desc_size
 * (64) bytes with the 64bit feature, and the placement rules of superblock/GDT backups
 * (sparse_super, sparse_super2, meta_bg). Decoded into columns, one entry per group.
 */
import { InputError, expectedActual } from '../../util/errors.js';
import { FeatureCompat, FeatureIncompat, FeatureRoCompat, hasCompat, hasIncompat, hasRoCompat, type Superblock } from './superblock.js';
import { u16le, u32le } from '../../util/bytes.js';

/** bg_flags bits. */
export const GroupFlags = { INODE_UNINIT: 0x1, BLOCK_UNINIT: 0x2, ITABLE_ZEROED: 0x4 } as const;

export interface GroupTable {
  count: number;
  blockBitmap: Float64Array;
  inodeBitmap: Float64Array;
  inodeTable: Float64Array;
  flags: Uint16Array;
  /** bg_itable_unused: unused inodes at the end of the group's inode table (only with gdt_csum/metadata_csum). */
  itableUnused: Uint32Array;
  freeBlocks: Uint32Array;
  freeInodes: Uint32Array;
  /** Blocks of the inode table of one group. */
  inodeTableBlocks: number;
}

function isPowerOf(n: number, base: number): boolean {
  while (n > 1 && n % base === 0) n /= base;
  return n === 1;
}

/** Whether group g holds a superblock backup (and, without meta_bg, a GDT copy). */
export function groupHasSuperblock(sb: Superblock, g: number): boolean {
  if (g === 0) return true;
  if (hasCompat(sb, FeatureCompat.sparse_super2)) return g === sb.backupBgs[0] || g === sb.backupBgs[1];
  if (g <= 1 || !hasRoCompat(sb, FeatureRoCompat.sparse_super)) return true;
  if (!(g & 1)) return false;
  return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
}

/** First block of group g. */
export function groupFirstBlock(sb: Superblock, g: number): number {
  return sb.firstDataBlock + g * sb.blocksPerGroup;
}

/** Descriptors per descriptor block. */
export function descPerBlock(sb: Superblock): number {
  return sb.blockSize / sb.descSize;
}

/** Blocks of the classic GDT (all descriptors, stored contiguously). */
export function gdtBlocks(sb: Superblock): number {
  return Math.ceil(sb.groupCount / descPerBlock(sb));
}

/**
 * The block holding the descriptor block number `db` (0-based index into the GDT) of the
 * primary copy: contiguous after the superblock, or with meta_bg the first block of the meta group
 * (after its superblock backup) for meta groups at and past s_first_meta_bg.
 */
export function descriptorBlockLocation(sb: Superblock, db: number): number {
  const metaBg = hasIncompat(sb, FeatureIncompat.meta_bg);
  if (!metaBg || db < sb.firstMetaBg) return sb.firstDataBlock + 1 + db;
  const g = db * descPerBlock(sb);
  return groupFirstBlock(sb, g) + (groupHasSuperblock(sb, g) ? 1 : 0);
}

/** Static metadata of group g: [start, count, kind] runs (superblock, GDT, reserved GDT). */
export function groupHeaderRuns(
  sb: Superblock,
  g: number,
  emit: (start: number, count: number, kind: 'superblock' | 'group_desc' | 'reserved_gdt') => void,
): void {
  const first = groupFirstBlock(sb, g);
  const hasSb = groupHasSuperblock(sb, g);
  // with 1 KiB blocks the primary superblock is block 1 (firstDataBlock); with bigger blocks
  // it is inside block 0 together with the boot sector area
  if (hasSb) emit(g === 0 ? 0 : first, g === 0 ? sb.firstDataBlock + 1 : 1, 'superblock');
  const metaBg = hasIncompat(sb, FeatureIncompat.meta_bg);
  const classicBlocks = metaBg ? Math.min(sb.firstMetaBg, gdtBlocks(sb)) : gdtBlocks(sb);
  if (hasSb) {
    if (classicBlocks > 0) emit(first + 1, classicBlocks, 'group_desc');
    if (sb.reservedGdtBlocks > 0) emit(first + 1 + classicBlocks, sb.reservedGdtBlocks, 'reserved_gdt');
  }
  if (metaBg) {
    // meta_bg: one descriptor block per meta group of D groups, in groups m*D, m*D+1, m*D+D-1
    const d = descPerBlock(sb);
    const m = Math.floor(g / d);
    if (m >= sb.firstMetaBg) {
      const r = g % d;
      if (r === 0 || r === 1 || r === d - 1) emit(first + (hasSb ? 1 : 0), 1, 'group_desc');
    }
  }
}

/** Read all group descriptors of the primary GDT. */
export function readGroupTable(sb: Superblock, file: string, readBlock: (block: number, what: string) => Uint8Array): GroupTable {
  const n = sb.groupCount;
  const t: GroupTable = {
    count: n,
    blockBitmap: new Float64Array(n),
    inodeBitmap: new Float64Array(n),
    inodeTable: new Float64Array(n),
    flags: new Uint16Array(n),
    itableUnused: new Uint32Array(n),
    freeBlocks: new Uint32Array(n),
    freeInodes: new Uint32Array(n),
    inodeTableBlocks: Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize),
  };
  const per = descPerBlock(sb);
  const wide = sb.descSize >= 64;
  const csum = hasRoCompat(sb, FeatureRoCompat.gdt_csum) || hasRoCompat(sb, FeatureRoCompat.metadata_csum);
  for (let db = 0; db * per < n; db++) {
    const blk = descriptorBlockLocation(sb, db);
    const bytes = readBlock(blk, `group descriptor block ${db}`);
    for (let i = 0; i < per && db * per + i < n; i++) {
      const g = db * per + i;
      const o = i * sb.descSize;
      const hi = (lo: number, at: number) => lo + (wide ? u32le(bytes, at) * 2 ** 32 : 0);
      t.blockBitmap[g] = hi(u32le(bytes, o), o + 0x20);
      t.inodeBitmap[g] = hi(u32le(bytes, o + 4), o + 0x24);
      t.inodeTable[g] = hi(u32le(bytes, o + 8), o + 0x28);
      t.freeBlocks[g] = u16le(bytes, o + 0x0c) + (wide ? u16le(bytes, o + 0x2c) * 65536 : 0);
      t.freeInodes[g] = u16le(bytes, o + 0x0e) + (wide ? u16le(bytes, o + 0x2e) * 65536 : 0);
      t.flags[g] = csum ? u16le(bytes, o + 0x12) : 0;
      t.itableUnused[g] = csum ? u16le(bytes, o + 0x1c) + (wide ? u16le(bytes, o + 0x32) * 65536 : 0) : 0;
      const where = (field: string, at: number) => ({ offset: blk * sb.blockSize + o + at, what: `group descriptor ${g} ${field}` });
      const check = (v: number, field: string, at: number, len: number) => {
        if (v < sb.firstDataBlock || v + len > sb.blocksCount) {
          throw new InputError(
            file,
            expectedActual(field, `a block in ${sb.firstDataBlock}..${sb.blocksCount - len}`, v),
            where(field, at),
          );
        }
      };
      check(t.blockBitmap[g]!, 'bg_block_bitmap', 0, 1);
      check(t.inodeBitmap[g]!, 'bg_inode_bitmap', 4, 1);
      check(t.inodeTable[g]!, 'bg_inode_table', 8, t.inodeTableBlocks);
      if (t.itableUnused[g]! > sb.inodesPerGroup) {
        throw new InputError(
          file,
          expectedActual('bg_itable_unused', `0..${sb.inodesPerGroup}`, t.itableUnused[g]),
          where('bg_itable_unused', 0x1c),
        );
      }
    }
  }
  return t;
}
