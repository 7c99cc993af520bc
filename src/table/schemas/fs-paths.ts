/**
 * fs_paths: every name of every inode of an ext2/3/4 file system (hard links give several rows
 * for one inode). fs_map.path holds one of them per inode.
 */
import { defineTable } from '../table-spec.js';

export const fsPathsTable = defineTable({
  name: 'fs_paths',
  doc: 'One row per directory entry reachable from the root of an ext2/3/4 file system ("." and ".." excluded): the inode and its full path. Sorted by inode, then path.',
  columns: [
    { name: 'inode', type: 'int64', doc: 'Inode number the entry names.' },
    {
      name: 'path',
      type: 'string',
      doc: 'Full path from the root, "/" separated; name bytes decoded as UTF-8 (invalid bytes become U+FFFD).',
    },
    {
      name: 'file_type',
      type: 'uint8',
      doc: 'File type from the directory entry (0 unknown, 1 regular, 2 directory, 3 char, 4 block, 5 fifo, 6 socket, 7 symlink; 0 without the filetype feature).',
    },
  ],
});
