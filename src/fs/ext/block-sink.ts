/**
 * What the block-map walkers (indirect maps, extent trees) report for one inode: runs of file
 * data and the mapping-metadata blocks they pass through. Shared by block-map.ts and
 * extent-tree.ts so the fs_map builder handles both alike.
 */
export interface BlockSink {
  /** `count` blocks of the file starting at logical block `fileBlock`, stored from `physical` on. */
  data(fileBlock: number, physical: number, count: number, unwritten: boolean): void;
  /**
   * One mapping-metadata block: an indirect block (level 1 single, 2 double, 3 triple) or an
   * extent-tree node; `fileBlock` is the first logical block it maps.
   */
  meta(physical: number, kind: 'indirect' | 'extent_node', fileBlock: number): void;
}

/** Where an inode's map is read from, and the limits a walk must respect. */
export interface WalkContext {
  /** Source name for errors. */
  file: string;
  inode: number;
  /** Byte offset of the inode on the source (errors in i_block name it). */
  inodeOffset: number;
  blockSize: number;
  /** Valid block numbers are firstDataBlock .. blocksCount-1. */
  firstDataBlock: number;
  blocksCount: number;
  /** Most blocks (data + metadata) the walk may report before it is declared corrupt. */
  budget: number;
  readBlock(block: number, what: string): Uint8Array;
}
