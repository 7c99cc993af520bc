/**
 * A read-only ext2/3/4 file system over a BlockSource: the superblock, the group descriptors and a
 * small block cache. It reads metadata only (never file data): inode tables, bitmaps, indirect,
 * extent-tree and directory blocks.
 */
import type { BlockSource } from '../../io/block-source.js';
import { InputError, expectedActual } from '../../util/errors.js';
import { readGroupTable, GroupFlags, type GroupTable } from './group-desc.js';
import { FeatureRoCompat, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, hasRoCompat, parseSuperblock, type Superblock } from './superblock.js';

const CACHE_BLOCKS = 256;

export class ExtFileSystem {
  readonly sb: Superblock;
  readonly groups: GroupTable;
  readonly blockSize: number;
  readonly name: string;
  private readonly cache = new Map<number, Uint8Array>();

  constructor(readonly source: BlockSource) {
    this.name = source.name;
    if (source.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
      throw new InputError(
        source.name,
        expectedActual('size of an ext file system', `at least ${SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE} bytes`, `${source.size} bytes`),
        { offset: 0, what: 'superblock' },
      );
    }
    this.sb = parseSuperblock(source.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, 'superblock'), source.name, source.size);
    this.blockSize = this.sb.blockSize;
    const needed = this.sb.blocksCount * this.blockSize;
    if (needed > source.size) {
      // a truncated image: blocks past the end read as an error naming the block when touched
      this.truncatedAt = source.size;
    }
    this.groups = readGroupTable(this.sb, source.name, (b, what) => this.readBlock(b, what));
  }

  /** Set when the source is shorter than blocks_count * block_size. */
  readonly truncatedAt: number | null = null;

  /** Read one block through the cache. The result is shared: do not modify or keep it. */
  readBlock(block: number, what: string): Uint8Array {
    const hit = this.cache.get(block);
    if (hit) return hit;
    const bytes = this.readBlocks(block, 1, what);
    if (this.cache.size >= CACHE_BLOCKS) {
      const oldest = this.cache.keys().next().value as number;
      this.cache.delete(oldest);
    }
    this.cache.set(block, bytes);
    return bytes;
  }

  /** Read `count` consecutive blocks, uncached. */
  readBlocks(block: number, count: number, what: string): Uint8Array {
    if (block < 0 || block + count > this.sb.blocksCount) {
      throw new InputError(
        this.name,
        `${what}: blocks ${block}..${block + count - 1} are outside the file system (0..${this.sb.blocksCount - 1})`,
        { offset: block * this.blockSize, what },
      );
    }
    return this.source.read(block * this.blockSize, count * this.blockSize, what);
  }

  /** Byte offset of inode `ino` on the source. */
  inodeOffset(ino: number): number {
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    const i = (ino - 1) % this.sb.inodesPerGroup;
    return this.groups.inodeTable[g]! * this.blockSize + i * this.sb.inodeSize;
  }

  /** The bytes of one inode (a fresh copy). */
  readInode(ino: number): Uint8Array {
    if (ino < 1 || ino > this.sb.inodesCount)
      throw new InputError(this.name, expectedActual('inode number', `1..${this.sb.inodesCount}`, ino));
    return this.source.read(this.inodeOffset(ino), this.sb.inodeSize, `inode ${ino}`);
  }

  /**
   * Inodes of group g that may be in use: the group's table up to its last used inode
   * (bg_itable_unused trims the tail when checksums are on), 0 for INODE_UNINIT groups.
   */
  usedInodeSlots(g: number): number {
    if (this.groups.flags[g]! & GroupFlags.INODE_UNINIT) return 0;
    const csum = hasRoCompat(this.sb, FeatureRoCompat.gdt_csum) || hasRoCompat(this.sb, FeatureRoCompat.metadata_csum);
    let n = this.sb.inodesPerGroup - (csum ? this.groups.itableUnused[g]! : 0);
    const lastIno = (g + 1) * this.sb.inodesPerGroup;
    if (lastIno > this.sb.inodesCount) n = Math.max(0, n - (lastIno - this.sb.inodesCount));
    return n;
  }

  /**
   * Call `fn` for every inode marked in use in the inode bitmaps, group by group; the used part of
   * each group's inode table is read in requests of at most 1 MiB. `bytes`/`o` are valid during
   * the call only.
   */
  forEachUsedInode(
    fn: (ino: number, bytes: Uint8Array, o: number, byteOffset: number) => void,
    onGroupError?: (g: number, e: InputError) => void,
    onGroupStart?: (g: number) => void,
  ): void {
    const { sb } = this;
    const isz = sb.inodeSize;
    const perChunk = Math.max(1, Math.floor((1 << 20) / this.blockSize)) * Math.floor(this.blockSize / isz);
    for (let g = 0; g < this.groups.count; g++) {
      onGroupStart?.(g);
      const slots = this.usedInodeSlots(g);
      if (slots === 0) continue;
      const tableStart = this.groups.inodeTable[g]!;
      const base = g * sb.inodesPerGroup;
      try {
        const bitmap = this.readBlocks(this.groups.inodeBitmap[g]!, 1, `inode bitmap of group ${g}`).slice();
        for (let first = 0; first < slots; first += perChunk) {
          const n = Math.min(perChunk, slots - first);
          const firstBlock = tableStart + (first * isz) / this.blockSize;
          const table = this.readBlocks(firstBlock, Math.ceil((n * isz) / this.blockSize), `inode table of group ${g}`);
          for (let k = 0; k < n; k++) {
            const i = first + k;
            if (!(bitmap[i >> 3]! & (1 << (i & 7)))) continue;
            fn(base + i + 1, table, k * isz, tableStart * this.blockSize + i * isz);
          }
        }
      } catch (e) {
        if (e instanceof InputError && onGroupError) {
          onGroupError(g, e);
          continue;
        }
        throw e;
      }
    }
  }

  close(): void {
    this.cache.clear();
    this.source.close();
  }
}
