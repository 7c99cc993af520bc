/**
 * The ext2/3/4 superblock (struct ext4_super_block in the kernel's fs/ext4/ext4.h): 1024 bytes at
 * byte 1024 of the file system. All fields are little-endian.
 */
import { InputError, expectedActual } from '../../util/errors.js';
import { u16le, u32le } from '../../util/bytes.js';

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
export const EXT_MAGIC = 0xef53;

/** s_feature_compat bits (ext4.h EXT4_FEATURE_COMPAT_*). */
export const FeatureCompat = {
  dir_prealloc: 0x1,
  imagic_inodes: 0x2,
  has_journal: 0x4,
  ext_attr: 0x8,
  resize_inode: 0x10,
  dir_index: 0x20,
  lazy_bg: 0x40,
  exclude_bitmap: 0x100,
  sparse_super2: 0x200,
  fast_commit: 0x400,
  stable_inodes: 0x800,
  orphan_file: 0x1000,
} as const;
/** s_feature_incompat bits (EXT4_FEATURE_INCOMPAT_*). */
export const FeatureIncompat = {
  compression: 0x1,
  filetype: 0x2,
  recover: 0x4,
  journal_dev: 0x8,
  meta_bg: 0x10,
  extent: 0x40,
  '64bit': 0x80,
  mmp: 0x100,
  flex_bg: 0x200,
  ea_inode: 0x400,
  dirdata: 0x1000,
  csum_seed: 0x2000,
  largedir: 0x4000,
  inline_data: 0x8000,
  encrypt: 0x10000,
  casefold: 0x20000,
} as const;
/** s_feature_ro_compat bits (EXT4_FEATURE_RO_COMPAT_*). */
export const FeatureRoCompat = {
  sparse_super: 0x1,
  large_file: 0x2,
  btree_dir: 0x4,
  huge_file: 0x8,
  gdt_csum: 0x10,
  dir_nlink: 0x20,
  extra_isize: 0x40,
  quota: 0x100,
  bigalloc: 0x200,
  metadata_csum: 0x400,
  replica: 0x800,
  readonly: 0x1000,
  project: 0x2000,
  shared_blocks: 0x4000,
  verity: 0x8000,
  orphan_present: 0x10000,
} as const;

/** The incompat features this reader understands; any other set bit makes the mapping unreliable. */
const KNOWN_INCOMPAT =
  FeatureIncompat.filetype |
  FeatureIncompat.recover |
  FeatureIncompat.meta_bg |
  FeatureIncompat.extent |
  FeatureIncompat['64bit'] |
  FeatureIncompat.mmp |
  FeatureIncompat.flex_bg |
  FeatureIncompat.ea_inode |
  FeatureIncompat.csum_seed |
  FeatureIncompat.largedir |
  FeatureIncompat.inline_data |
  FeatureIncompat.encrypt |
  FeatureIncompat.casefold;

export interface Superblock {
  inodesCount: number;
  blocksCount: number;
  freeBlocksCount: number;
  freeInodesCount: number;
  firstDataBlock: number;
  blockSize: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  revLevel: number;
  firstIno: number;
  inodeSize: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  uuid: string;
  volumeName: string;
  reservedGdtBlocks: number;
  journalInum: number;
  journalDev: number;
  /** Group descriptor size in bytes: 64 (or s_desc_size) with 64bit, else 32. */
  descSize: number;
  firstMetaBg: number;
  logGroupsPerFlex: number;
  /** sparse_super2: the (up to two) groups holding backups; 0 = unused slot. */
  backupBgs: [number, number];
  /** Number of block groups. */
  groupCount: number;
  /** s_usr_quota_inum, s_grp_quota_inum, s_prj_quota_inum, s_orphan_file_inum (0 = none). */
  quotaInodes: number[];
  orphanFileInum: number;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
function uuidText(b: Uint8Array): string {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Names of the set bits of a feature word, for metadata and messages. */
export function featureNames(sb: Superblock): string[] {
  const out: string[] = [];
  const add = (table: Record<string, number>, word: number) => {
    let rest = word;
    for (const [k, v] of Object.entries(table))
      if (word & v) {
        out.push(k);
        rest &= ~v;
      }
    if (rest) out.push(`unknown_0x${(rest >>> 0).toString(16)}`);
  };
  add(FeatureCompat, sb.featureCompat);
  add(FeatureIncompat, sb.featureIncompat);
  add(FeatureRoCompat, sb.featureRoCompat);
  return out;
}

/** Where a superblock field sits, for errors: (byte offset within the superblock, field name). */
type FieldPlace = (field: number, what: string) => { offset: number; what: string };

/** The fields the checks read, decoded from the superblock bytes (before any check on them). */
interface CoreFields {
  blockSize: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  is64: boolean;
  blocksCount: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  revLevel: number;
  inodeSize: number;
  firstIno: number;
  inodesCount: number;
}

/** Length, s_magic and s_log_block_size: is this an ext superblock at all? Returns the block size. */
function checkSuperblockIdentity(bytes: Uint8Array, file: string, offset: number, place: FieldPlace): number {
  if (bytes.length < SUPERBLOCK_SIZE)
    throw new InputError(file, expectedActual('superblock length', SUPERBLOCK_SIZE, bytes.length), { offset, what: 'superblock' });
  const magic = u16le(bytes, 0x38);
  if (magic !== EXT_MAGIC) {
    throw new InputError(
      file,
      `not an ext2/3/4 file system: ${expectedActual('s_magic', '0xef53', '0x' + magic.toString(16))}`,
      place(0x38, 's_magic'),
    );
  }
  const logBlock = u32le(bytes, 0x18);
  if (logBlock > 6)
    throw new InputError(
      file,
      expectedActual('s_log_block_size (block size 1 KiB to 64 KiB)', '0..6', logBlock),
      place(0x18, 's_log_block_size'),
    );
  return 1024 << logBlock;
}

/** Decode the geometry and feature fields the checks need. */
function decodeCoreFields(bytes: Uint8Array, blockSize: number): CoreFields {
  const featureIncompat = u32le(bytes, 0x60);
  const is64 = (featureIncompat & FeatureIncompat['64bit']) !== 0;
  const revLevel = u32le(bytes, 0x4c);
  return {
    blockSize,
    featureCompat: u32le(bytes, 0x5c),
    featureIncompat,
    featureRoCompat: u32le(bytes, 0x64),
    is64,
    blocksCount: u32le(bytes, 0x04) + (is64 ? u32le(bytes, 0x150) * 2 ** 32 : 0),
    firstDataBlock: u32le(bytes, 0x14),
    blocksPerGroup: u32le(bytes, 0x20),
    inodesPerGroup: u32le(bytes, 0x28),
    revLevel,
    inodeSize: revLevel === 0 ? 128 : u16le(bytes, 0x58),
    firstIno: revLevel === 0 ? 11 : u32le(bytes, 0x54),
    inodesCount: u32le(bytes, 0x00),
  };
}

/** Check the group geometry, inode size, first data block and the incompatible features. */
function checkCoreFields(f: CoreFields, file: string, place: FieldPlace): void {
  const { blockSize, blocksPerGroup, inodesPerGroup, inodeSize, firstDataBlock, featureIncompat } = f;
  if (f.featureRoCompat & FeatureRoCompat.bigalloc) {
    throw new InputError(file, 'bigalloc (cluster allocation) is not supported', place(0x64, 's_feature_ro_compat'));
  }
  if (blocksPerGroup === 0 || blocksPerGroup > blockSize * 8) {
    throw new InputError(
      file,
      expectedActual('s_blocks_per_group', `1..${blockSize * 8}`, blocksPerGroup),
      place(0x20, 's_blocks_per_group'),
    );
  }
  if (inodesPerGroup === 0 || inodesPerGroup > blockSize * 8) {
    throw new InputError(
      file,
      expectedActual('s_inodes_per_group', `1..${blockSize * 8}`, inodesPerGroup),
      place(0x28, 's_inodes_per_group'),
    );
  }
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    throw new InputError(
      file,
      expectedActual('s_inode_size', `a power of two in 128..${blockSize}`, inodeSize),
      place(0x58, 's_inode_size'),
    );
  }
  if (firstDataBlock >= f.blocksCount || (blockSize === 1024 ? firstDataBlock > 1 : firstDataBlock !== 0)) {
    throw new InputError(
      file,
      expectedActual('s_first_data_block', blockSize === 1024 ? '0 or 1' : 0, firstDataBlock),
      place(0x14, 's_first_data_block'),
    );
  }
  if (featureIncompat & FeatureIncompat.journal_dev) {
    throw new InputError(file, 'this is an external journal device, not a file system', place(0x60, 's_feature_incompat'));
  }
  const unknown = featureIncompat & ~KNOWN_INCOMPAT;
  if (unknown) {
    throw new InputError(
      file,
      `unsupported incompatible features 0x${(unknown >>> 0).toString(16)} (s_feature_incompat 0x${(featureIncompat >>> 0).toString(16)})`,
      place(0x60, 's_feature_incompat'),
    );
  }
}

/** Group descriptor size: s_desc_size (default 64) with 64bit, else 32. */
function readDescSize(bytes: Uint8Array, is64: boolean, file: string, place: FieldPlace): number {
  let descSize = 32;
  if (is64) {
    descSize = u16le(bytes, 0xfe) || 64;
    if (descSize < 32 || descSize > 1024 || (descSize & (descSize - 1)) !== 0) {
      throw new InputError(file, expectedActual('s_desc_size', 'a power of two in 32..1024', descSize), place(0xfe, 's_desc_size'));
    }
  }
  return descSize;
}

/**
 * Check that the block and inode counts are representable and that the group descriptor table fits
 * in `sourceSize` bytes. Returns the number of block groups.
 */
function checkCounts(bytes: Uint8Array, f: CoreFields, descSize: number, sourceSize: number, file: string, place: FieldPlace): number {
  const { is64, blocksCount, blockSize, inodesCount, inodesPerGroup } = f;
  if (blocksCount * blockSize > Number.MAX_SAFE_INTEGER) {
    const exact = (BigInt(is64 ? u32le(bytes, 0x150) : 0) << 32n) | BigInt(u32le(bytes, 0x04));
    throw new InputError(
      file,
      expectedActual('s_blocks_count × block size', 'at most 2^53 - 1 bytes', `${exact} × ${blockSize}`),
      place(is64 ? 0x150 : 0x04, is64 ? 's_blocks_count_hi' : 's_blocks_count_lo'),
    );
  }
  const groupCount = Math.ceil((blocksCount - f.firstDataBlock) / f.blocksPerGroup);
  if (groupCount * descSize > sourceSize) {
    throw new InputError(
      file,
      `s_blocks_count ${blocksCount} makes ${groupCount} block groups, whose ${descSize}-byte descriptors (${groupCount * descSize} bytes) cannot fit in the source: expected at most ${Math.floor(sourceSize / descSize)} groups for its ${sourceSize} bytes`,
      place(is64 ? 0x150 : 0x04, is64 ? 's_blocks_count_hi' : 's_blocks_count_lo'),
    );
  }
  if (inodesCount > groupCount * inodesPerGroup || inodesCount === 0) {
    throw new InputError(
      file,
      expectedActual('s_inodes_count', `1..${groupCount * inodesPerGroup} (groups * s_inodes_per_group)`, inodesCount),
      place(0x00, 's_inodes_count'),
    );
  }
  return groupCount;
}

/** The Superblock from checked fields plus the ones no check looks at. */
function assembleSuperblock(bytes: Uint8Array, f: CoreFields, descSize: number, groupCount: number): Superblock {
  const { is64, featureCompat } = f;
  const nameBytes = bytes.subarray(0x78, 0x88);
  const nul = nameBytes.indexOf(0);
  return {
    inodesCount: f.inodesCount,
    blocksCount: f.blocksCount,
    freeBlocksCount: u32le(bytes, 0x0c) + (is64 ? u32le(bytes, 0x158) * 2 ** 32 : 0),
    freeInodesCount: u32le(bytes, 0x10),
    firstDataBlock: f.firstDataBlock,
    blockSize: f.blockSize,
    blocksPerGroup: f.blocksPerGroup,
    inodesPerGroup: f.inodesPerGroup,
    revLevel: f.revLevel,
    firstIno: f.firstIno,
    inodeSize: f.inodeSize,
    featureCompat,
    featureIncompat: f.featureIncompat,
    featureRoCompat: f.featureRoCompat,
    uuid: uuidText(bytes.subarray(0x68, 0x78)),
    volumeName: new TextDecoder('utf-8', { fatal: false }).decode(nul >= 0 ? nameBytes.subarray(0, nul) : nameBytes),
    reservedGdtBlocks: featureCompat & FeatureCompat.resize_inode ? u16le(bytes, 0xce) : 0,
    journalInum: featureCompat & FeatureCompat.has_journal ? u32le(bytes, 0xe0) : 0,
    journalDev: u32le(bytes, 0xe4),
    descSize,
    firstMetaBg: u32le(bytes, 0x104),
    logGroupsPerFlex: bytes[0x174]!,
    backupBgs: [u32le(bytes, 0x24c), u32le(bytes, 0x250)],
    groupCount,
    // s_usr_quota_inum 0x240, s_grp_quota_inum 0x244, s_prj_quota_inum 0x26c
    quotaInodes: [u32le(bytes, 0x240), u32le(bytes, 0x244), u32le(bytes, 0x26c)].filter((x) => x !== 0),
    // s_orphan_file_inum 0x280 (orphan_file feature)
    orphanFileInum: featureCompat & FeatureCompat.orphan_file ? u32le(bytes, 0x280) : 0,
  };
}

/**
 * Decode and validate a superblock. `bytes` are the 1024 bytes of the superblock; `file` and
 * `offset` name it in errors. `sourceSize` (bytes of the source holding the file system) bounds
 * what the counts may size: the group descriptor table (s_blocks_count / s_blocks_per_group
 * descriptors) has to fit in the source, so the per-group arrays stay within a few times the
 * input's size. A source shorter than s_blocks_count blocks is accepted (a truncated image).
 */
export function parseSuperblock(bytes: Uint8Array, file: string, sourceSize: number, offset = SUPERBLOCK_OFFSET): Superblock {
  const place: FieldPlace = (field, what) => ({ offset: offset + field, what: `superblock ${what}` });
  const blockSize = checkSuperblockIdentity(bytes, file, offset, place);
  const fields = decodeCoreFields(bytes, blockSize);
  checkCoreFields(fields, file, place);
  const descSize = readDescSize(bytes, fields.is64, file, place);
  const groupCount = checkCounts(bytes, fields, descSize, sourceSize, file, place);
  return assembleSuperblock(bytes, fields, descSize, groupCount);
}

export function hasIncompat(sb: Superblock, bit: number): boolean {
  return (sb.featureIncompat & bit) !== 0;
}
export function hasCompat(sb: Superblock, bit: number): boolean {
  return (sb.featureCompat & bit) !== 0;
}
export function hasRoCompat(sb: Superblock, bit: number): boolean {
  return (sb.featureRoCompat & bit) !== 0;
}
