/**
 * Inline data (incompat inline_data, i_flags INLINE_DATA_FL 0x10000000): the first 60 bytes of
 * the content live in i_block, the rest in the value of the in-inode extended attribute
 * "system.data" (name index 7, name "data"). In-inode xattrs start at 128 + i_extra_isize with
 * the magic 0xEA020000, followed by ext4_xattr_entry records {e_name_len u8, e_name_index u8,
 * e_value_offs u16, e_value_inum u32, e_value_size u32, e_hash u32, e_name}, padded to 4 bytes and
 * ended by 4 zero bytes; e_value_offs counts from the first entry (fs/ext4/xattr.h).
 */
import { I_BLOCK_OFFSET } from './inode.js';
import { u16le, u32le } from '../../util/bytes.js';

export const XATTR_MAGIC = 0xea020000;
const XATTR_INDEX_SYSTEM = 7;

/** Where the inline content of an inode is: i_block plus, optionally, the system.data value. */
export interface InlineDataPlace {
  /** Byte offset of i_block inside the inode bytes. */
  iblock: number;
  /** Offset (inside the inode bytes) and size of the system.data value; size 0 when absent. */
  extraOffset: number;
  extraSize: number;
}

/**
 * Find the system.data value of the inode starting at `o` (inodeSize bytes). Malformed xattr
 * areas give extraSize 0 (the first 60 bytes are still valid); every step advances, so this ends.
 */
export function findInlineData(b: Uint8Array, o: number, inodeSize: number, extraIsize: number): InlineDataPlace {
  const place: InlineDataPlace = { iblock: o + I_BLOCK_OFFSET, extraOffset: 0, extraSize: 0 };
  const hdr = o + 128 + extraIsize;
  const end = o + inodeSize;
  if (extraIsize === 0 || hdr + 4 > end || u32le(b, hdr) !== XATTR_MAGIC) return place;
  const first = hdr + 4;
  let p = first;
  while (p + 16 <= end) {
    const nameLen = b[p]!;
    const index = b[p + 1]!;
    if (nameLen === 0 && index === 0 && u16le(b, p + 2) === 0) break;
    const valueOffs = u16le(b, p + 2);
    const valueInum = u32le(b, p + 4);
    const valueSize = u32le(b, p + 8);
    if (
      index === XATTR_INDEX_SYSTEM &&
      nameLen === 4 &&
      b[p + 16] === 0x64 &&
      b[p + 17] === 0x61 &&
      b[p + 18] === 0x74 &&
      b[p + 19] === 0x61
    ) {
      if (valueInum === 0 && first + valueOffs + valueSize <= end) {
        place.extraOffset = first + valueOffs;
        place.extraSize = valueSize;
      }
      break;
    }
    p += (16 + nameLen + 3) & ~3;
  }
  return place;
}
