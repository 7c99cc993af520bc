/**
 * The on-disk inode (struct ext4_inode, fs/ext4/ext4.h). Decoded into one reusable object so that
 * walking millions of inodes allocates nothing per inode.
 */
import { u16le, u32le } from '../../util/bytes.js';

/** i_mode file types (top 4 bits, S_IFMT). */
export const FileType = {
  fifo: 0x1000,
  char: 0x2000,
  dir: 0x4000,
  block: 0x6000,
  regular: 0x8000,
  symlink: 0xa000,
  socket: 0xc000,
} as const;

/** i_flags bits used here. */
export const InodeFlags = {
  INDEX: 0x1000,
  HUGE_FILE: 0x40000,
  EXTENTS: 0x80000,
  EA_INODE: 0x200000,
  INLINE_DATA: 0x10000000,
} as const;

/** Reserved inode numbers (ext4.h EXT4_*_INO). */
export const ReservedInode = { BAD: 1, ROOT: 2, USR_QUOTA: 3, GRP_QUOTA: 4, BOOT_LOADER: 5, UNDEL_DIR: 6, RESIZE: 7, JOURNAL: 8 } as const;

/** Byte offset of i_block (15 u32 = 60 bytes) inside the inode. */
export const I_BLOCK_OFFSET = 0x28;
export const I_BLOCK_SIZE = 60;

export interface InodeFields {
  mode: number;
  /** i_mode & 0xF000. */
  type: number;
  size: number;
  linksCount: number;
  dtime: number;
  /** i_blocks in 512-byte units (converted when HUGE_FILE_FL). */
  blocks512: number;
  flags: number;
  /** i_file_acl: the xattr block (0 = none). */
  fileAcl: number;
  /** i_extra_isize (0 on 128-byte inodes). */
  extraIsize: number;
}

export function newInodeFields(): InodeFields {
  return { mode: 0, type: 0, size: 0, linksCount: 0, dtime: 0, blocks512: 0, flags: 0, fileAcl: 0, extraIsize: 0 };
}

/**
 * Decode the inode at `o` in `b` into `out`. `inodeSize` is s_inode_size; `blockSize` converts
 * i_blocks of HUGE_FILE_FL inodes. Sizes above 2^53 are clamped to 2^53 (never reached by ext4's
 * 16 TiB/1 EiB limits on real files; a corrupt value is caught by the map walkers' bounds).
 */
export function decodeInode(
  b: Uint8Array,
  o: number,
  inodeSize: number,
  blockSize: number,
  hugeFile: boolean,
  out: InodeFields,
): InodeFields {
  out.mode = u16le(b, o);
  out.type = out.mode & 0xf000;
  const hiSize = u32le(b, o + 0x6c);
  out.size = hiSize >= 0x200000 ? 2 ** 53 : u32le(b, o + 4) + hiSize * 2 ** 32;
  out.dtime = u32le(b, o + 0x14);
  out.linksCount = u16le(b, o + 0x1a);
  out.flags = u32le(b, o + 0x20);
  const blocksLo = u32le(b, o + 0x1c);
  const blocksHi = hugeFile ? u16le(b, o + 0x74) : 0;
  const blocks = blocksLo + blocksHi * 2 ** 32;
  out.blocks512 = hugeFile && out.flags & InodeFlags.HUGE_FILE ? blocks * (blockSize / 512) : blocks;
  out.fileAcl = u32le(b, o + 0x68) + u16le(b, o + 0x76) * 2 ** 32;
  out.extraIsize = inodeSize > 128 ? u16le(b, o + 0x80) : 0;
  return out;
}

/** Human name of an i_mode file type. */
export function fileTypeName(type: number): string {
  for (const [k, v] of Object.entries(FileType)) if (v === type) return k;
  return `unknown(0x${type.toString(16)})`;
}
