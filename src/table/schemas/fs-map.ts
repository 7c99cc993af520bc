/**
 * fs_map: where every allocated block of an ext2/3/4 file system belongs. One row per extent
 * (a run of blocks with one owner and, for file content, consecutive file blocks), sorted by
 * fs_block. Free blocks have no row.
 */
import { defineTable } from '../table-spec.js';

export const FS_MAP_KINDS = [
  'data',
  'dir',
  'indirect',
  'extent_node',
  'xattr',
  'symlink',
  'journal',
  'inode_table',
  'block_bitmap',
  'inode_bitmap',
  'superblock',
  'group_desc',
  'reserved_gdt',
  'other',
] as const;
export type FsMapKind = (typeof FS_MAP_KINDS)[number];

export const fsMapTable = defineTable({
  name: 'fs_map',
  doc: 'One row per extent of allocated blocks of an ext2/3/4 file system, sorted by fs_block: file content (data, dir, symlink, journal, other), block-map metadata (indirect, extent_node), xattr blocks, and static metadata found from the group layout (superblock and its backups, group descriptors, reserved GDT, bitmaps, inode tables). Free blocks have no row. Schema metadata holds the geometry (block_size, blocks_count, partition_offset, ...).',
  columns: [
    {
      name: 'fs_block',
      type: 'int64',
      unit: 'file-system blocks',
      doc: 'First file-system block of the extent (with 1 KiB blocks, block 0, the boot-sector area before the primary superblock, is part of the superblock row).',
    },
    { name: 'blocks', type: 'uint32', unit: 'file-system blocks', doc: 'Length of the extent in file-system blocks.' },
    {
      name: 'sector',
      type: 'int64',
      unit: 'sectors of 512 bytes',
      doc: 'First 512-byte sector of the extent on the disk or image the file system was read from (partition offset applied).',
    },
    { name: 'nr_sectors', type: 'uint32', unit: 'sectors of 512 bytes', doc: 'Length of the extent in 512-byte sectors.' },
    {
      name: 'inode',
      type: 'int64',
      nullable: true,
      doc: 'Inode that owns the blocks (null for static metadata: superblock, group descriptors, bitmaps, inode tables; 7, the resize inode, for reserved GDT blocks; an xattr block shared by several inodes appears once, with the first of them).',
    },
    {
      name: 'file_block',
      type: 'int64',
      nullable: true,
      unit: 'file-system blocks',
      doc: 'Logical block in the file of the first block (content kinds only: data, dir, symlink, journal, other, xattr on an EA inode); null for metadata blocks.',
    },
    {
      name: 'path',
      type: 'string',
      nullable: true,
      doc: 'Path of the owning inode from the root ("/a/b"); with hard links the lexicographically smallest path (all of them are in fs_paths); null when the inode has no name (reserved inodes, orphans) or the row is static metadata.',
    },
    {
      name: 'kind',
      type: 'string',
      index: 'int8',
      values: FS_MAP_KINDS,
      doc: 'What the blocks hold: data | dir | indirect | extent_node | xattr | symlink | journal | inode_table | block_bitmap | inode_bitmap | superblock | group_desc | reserved_gdt | other (content of reserved inodes such as quota files and the bad-blocks inode).',
    },
    { name: 'unwritten', type: 'bool', doc: 'True for an unwritten (preallocated, reads as zeros) ext4 extent.' },
  ],
});
