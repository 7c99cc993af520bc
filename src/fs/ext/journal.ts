/**
 * The jbd2 journal superblock (include/linux/jbd2.h, journal_superblock_t; big-endian), found in
 * logical block 0 of the journal inode. Only its geometry is decoded: every block of the journal
 * inode is mapped with kind "journal" whatever it currently holds.
 */
import { InputError, expectedActual } from '../../util/errors.js';
import { u32be } from '../../util/bytes.js';

export const JBD2_MAGIC = 0xc03b3998;

export interface JournalInfo {
  blockType: number;
  blockSize: number;
  maxLen: number;
  first: number;
  sequence: number;
  /** s_start: first block of the live log, 0 when the journal is clean. */
  start: number;
  featureIncompat: number;
}

/** Decode the journal superblock in `b` (read from byte `offset` of `file`). */
export function parseJournalSuperblock(b: Uint8Array, file: string, offset: number): JournalInfo {
  const magic = u32be(b, 0);
  if (magic !== JBD2_MAGIC)
    throw new InputError(file, expectedActual('journal h_magic', '0xc03b3998', '0x' + magic.toString(16)), {
      offset,
      what: 'journal superblock',
    });
  const blockType = u32be(b, 4);
  if (blockType !== 3 && blockType !== 4)
    throw new InputError(file, expectedActual('journal superblock h_blocktype', '3 or 4', blockType), {
      offset: offset + 4,
      what: 'journal superblock',
    });
  return {
    blockType,
    blockSize: u32be(b, 0x0c),
    maxLen: u32be(b, 0x10),
    first: u32be(b, 0x14),
    sequence: u32be(b, 0x18),
    start: u32be(b, 0x1c),
    featureIncompat: blockType === 4 ? u32be(b, 0x28) : 0,
  };
}
