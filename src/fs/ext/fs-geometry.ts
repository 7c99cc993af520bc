/** The facts about a mapped file system that a consumer of fs_map needs (stored in its metadata). */
import type { Superblock } from './superblock.js';
import { InputError } from '../../util/errors.js';
import { featureNames, FeatureIncompat, FeatureCompat } from './superblock.js';

export interface FsGeometry {
  /** ext2 | ext3 | ext4, from the features (extents, flex_bg, 64bit, ... make it ext4; a journal without those ext3). */
  fsType: 'ext2' | 'ext3' | 'ext4';
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  groups: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  firstDataBlock: number;
  freeBlocksCount: number;
  features: string[];
  uuid: string;
  volumeName: string;
  /** Byte offset of the file system on the disk/image its sectors are counted on. */
  partitionOffset: number;
  /** Source name (file, device, "file#partition N"). */
  source: string;
  journalInode: number;
}

export function geometryOf(sb: Superblock, partitionOffset: number, source: string): FsGeometry {
  const ext4Bits =
    FeatureIncompat.extent | FeatureIncompat.flex_bg | FeatureIncompat['64bit'] | FeatureIncompat.inline_data | FeatureIncompat.meta_bg;
  const fsType = sb.featureIncompat & ext4Bits ? 'ext4' : sb.featureCompat & FeatureCompat.has_journal ? 'ext3' : 'ext2';
  return {
    fsType,
    blockSize: sb.blockSize,
    blocksCount: sb.blocksCount,
    inodesCount: sb.inodesCount,
    groups: sb.groupCount,
    blocksPerGroup: sb.blocksPerGroup,
    inodesPerGroup: sb.inodesPerGroup,
    inodeSize: sb.inodeSize,
    firstDataBlock: sb.firstDataBlock,
    freeBlocksCount: sb.freeBlocksCount,
    features: featureNames(sb),
    uuid: sb.uuid,
    volumeName: sb.volumeName,
    partitionOffset,
    source,
    journalInode: sb.journalInum,
  };
}

/** Geometry as Arrow schema metadata (string values). */
export function geometryToMetadata(g: FsGeometry): Record<string, string> {
  return {
    'fs.type': g.fsType,
    'fs.block_size': String(g.blockSize),
    'fs.blocks_count': String(g.blocksCount),
    'fs.inodes_count': String(g.inodesCount),
    'fs.groups': String(g.groups),
    'fs.blocks_per_group': String(g.blocksPerGroup),
    'fs.inodes_per_group': String(g.inodesPerGroup),
    'fs.inode_size': String(g.inodeSize),
    'fs.first_data_block': String(g.firstDataBlock),
    'fs.free_blocks_count': String(g.freeBlocksCount),
    'fs.features': g.features.join(','),
    'fs.uuid': g.uuid,
    'fs.volume_name': g.volumeName,
    'fs.partition_offset': String(g.partitionOffset),
    'fs.source': g.source,
    'fs.journal_inode': String(g.journalInode),
    sector_size: '512',
  };
}

/** Geometry back from Arrow schema metadata; throws naming the missing key. */
export function geometryFromMetadata(m: Record<string, string>, file: string): FsGeometry {
  const num = (k: string) => {
    const v = m[k];
    if (v === undefined || !/^\d+$/.test(v))
      throw new InputError(
        file,
        `fs_map schema metadata "${k}": expected a number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
        { what: 'fs_map metadata' },
      );
    return Number(v);
  };
  return {
    fsType: (m['fs.type'] ?? 'ext4') as FsGeometry['fsType'],
    blockSize: num('fs.block_size'),
    blocksCount: num('fs.blocks_count'),
    inodesCount: num('fs.inodes_count'),
    groups: num('fs.groups'),
    blocksPerGroup: num('fs.blocks_per_group'),
    inodesPerGroup: num('fs.inodes_per_group'),
    inodeSize: num('fs.inode_size'),
    firstDataBlock: num('fs.first_data_block'),
    freeBlocksCount: num('fs.free_blocks_count'),
    features: (m['fs.features'] ?? '').split(',').filter(Boolean),
    uuid: m['fs.uuid'] ?? '',
    volumeName: m['fs.volume_name'] ?? '',
    partitionOffset: num('fs.partition_offset'),
    source: m['fs.source'] ?? '',
    journalInode: num('fs.journal_inode'),
  };
}
