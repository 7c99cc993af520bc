/**
 * Directory entries (struct ext4_dir_entry_2, fs/ext4/ext4.h): {inode u32, rec_len u16,
 * name_len u8, file_type u8, name} — without the filetype feature name_len is a u16. Both the
 * linear format and htree (dir_index) directories are read by walking every block linearly:
 * an htree's dx_root hides its index inside the rec_len of "..", interior index blocks start with
 * a fake entry {inode 0, rec_len = block size}, and the metadata_csum tail is an entry with
 * inode 0 (Documentation/filesystems/ext4/directory.rst).
 */
import { u16le, u32le } from '../../util/bytes.js';

/** Called once per entry with a non-zero inode; `name` is a view, valid only during the call. */
export type DirEntryHandler = (inode: number, name: Uint8Array, fileType: number) => void;

/** What stopped a directory block walk early (null = walked to the end). */
export interface DirBlockProblem {
  /** Byte offset inside the walked region where the bad entry starts. */
  at: number;
  message: string;
}

/**
 * Walk the entries of `b[start, end)` (one directory block, or the inline-data area of an inline
 * directory). Every step advances by rec_len >= 8, so the walk ends; a rec_len that is not a
 * multiple of 4, too small for its name, or past the end stops the walk and is returned.
 */
export function walkDirEntries(
  b: Uint8Array,
  start: number,
  end: number,
  hasFileType: boolean,
  blockSize: number,
  onEntry: DirEntryHandler,
): DirBlockProblem | null {
  let p = start;
  while (p + 8 <= end) {
    const ino = u32le(b, p);
    let recLen = u16le(b, p + 4);
    // ext4_rec_len_from_disk: 65535 or 0 encode 65536 on 64 KiB blocks
    if (blockSize >= 65536 && (recLen === 65535 || recLen === 0)) recLen = 65536;
    const nameLen = hasFileType ? b[p + 6]! : u16le(b, p + 6);
    if (recLen < 8 || (recLen & 3) !== 0 || p + recLen > end) {
      return { at: p - start, message: `directory entry rec_len ${recLen}: expected a multiple of 4 in 8..${end - p}` };
    }
    if (ino !== 0) {
      if (8 + nameLen > recLen || nameLen === 0) {
        return { at: p - start, message: `directory entry name_len ${nameLen} does not fit rec_len ${recLen}` };
      }
      onEntry(ino, b.subarray(p + 8, p + 8 + nameLen), hasFileType ? b[p + 7]! : 0);
    }
    p += recLen;
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A directory entry name as text: bytes are decoded as UTF-8 (invalid sequences become U+FFFD;
 * ext names are byte strings without a declared encoding).
 */
export function decodeName(name: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < name.length; i++)
    if (name[i]! >= 0x80) {
      ascii = false;
      break;
    }
  if (!ascii) return utf8.decode(name);
  return String.fromCharCode.apply(null, name as unknown as number[]);
}

/** True for the names "." and "..". */
export function isDotOrDotDot(name: Uint8Array): boolean {
  return name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e));
}
