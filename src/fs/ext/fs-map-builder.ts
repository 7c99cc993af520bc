/**
 * Builds the fs_map of an ext2/3/4 file system: static metadata from the group layout, then every
 * in-use inode's block map (indirect or extent tree), xattr block and, for directories, entries
 * (for paths). Reads metadata only. Rows are kept in typed arrays (no object per extent) and
 * sorted by fs_block at the end (ext-fs.md section 10, the reverse-mapping algorithm).
 */
import type { BlockSource } from '../../io/block-source.js';
import { IngestStats } from '../../util/ingest-stats.js';
import { InputError, UsageError } from '../../util/errors.js';
import { FS_MAP_KINDS, type FsMapKind } from '../../table/schemas/fs-map.js';
import { ExtFileSystem } from './ext-fs.js';
import { groupHeaderRuns } from './group-desc.js';
import { FeatureIncompat, FeatureRoCompat, hasIncompat, hasRoCompat } from './superblock.js';
import { decodeInode, newInodeFields, FileType, InodeFlags, ReservedInode, I_BLOCK_OFFSET, I_BLOCK_SIZE } from './inode.js';
import { walkBlockMap } from './block-map.js';
import { walkExtentTree } from './extent-tree.js';
import { walkDirEntries, decodeName, isDotOrDotDot, type DirEntryHandler } from './dir.js';
import { findInlineData } from './inline-data.js';
import { parseJournalSuperblock, type JournalInfo } from './journal.js';
import { geometryOf, type FsGeometry } from './fs-geometry.js';
import type { BlockSink, WalkContext } from './block-sink.js';
import { GrowableArray } from '../../util/growable.js';
import { FsMap, type FsMapColumns } from './fs-map.js';
import { DirEntryCollector } from './fs-paths.js';

/** Kind codes: index into FS_MAP_KINDS. */
export const KindCode = Object.fromEntries(FS_MAP_KINDS.map((k, i) => [k, i])) as { readonly [K in FsMapKind]: number };

export interface BuildFsMapOptions {
  /** Byte offset of the file system on the disk its sectors are counted on (default 0). */
  partitionOffset?: number;
  /** Called after each block group with (groups done, groups). */
  onProgress?: (done: number, total: number) => void;
  /** Rethrow per-inode and per-directory problems instead of counting them. */
  strict?: boolean;
}

export interface BuildFsMapResult {
  map: FsMap;
  stats: IngestStats;
  journal: JournalInfo | null;
}

/** Rows under construction; a row that continues the previous one is merged into it. */
class RowBuffer {
  readonly fsBlock = new GrowableArray(Float64Array, 4096);
  readonly blocks = new GrowableArray(Uint32Array, 4096);
  readonly inode = new GrowableArray(Uint32Array, 4096);
  readonly fileBlock = new GrowableArray(Float64Array, 4096);
  readonly kind = new GrowableArray(Uint8Array, 4096);
  readonly unwritten = new GrowableArray(Uint8Array, 4096);
  /** Longest run kept in one row, so nr_sectors fits in a uint32 for any block size. */
  private readonly maxRun: number;
  constructor(blockSize: number) {
    this.maxRun = Math.floor(0x7fffffff / (blockSize / 512));
  }

  push(fsBlock: number, count: number, inode: number, fileBlock: number, kind: number, unwritten: boolean): void {
    const n = this.fsBlock.length;
    const uw = unwritten ? 1 : 0;
    if (n > 0) {
      const j = n - 1;
      const len = this.blocks.data[j]!;
      if (
        this.inode.data[j] === inode &&
        this.kind.data[j] === kind &&
        this.unwritten.data[j] === uw &&
        this.fsBlock.data[j]! + len === fsBlock &&
        len + count <= this.maxRun &&
        (fileBlock < 0 ? this.fileBlock.data[j] === -1 : this.fileBlock.data[j]! + len === fileBlock)
      ) {
        this.blocks.data[j] = len + count;
        return;
      }
    }
    while (count > this.maxRun) {
      this.push(fsBlock, this.maxRun, inode, fileBlock, kind, unwritten);
      fsBlock += this.maxRun;
      count -= this.maxRun;
      if (fileBlock >= 0) fileBlock += this.maxRun;
    }
    this.fsBlock.push(fsBlock);
    this.blocks.push(count);
    this.inode.push(inode);
    this.fileBlock.push(fileBlock);
    this.kind.push(kind);
    this.unwritten.push(uw);
  }

  /** Columns sorted by fs_block (stable for equal starts). */
  sorted(): FsMapColumns {
    const n = this.fsBlock.length;
    const fb = this.fsBlock.data;
    let isSorted = true;
    for (let i = 1; i < n; i++)
      if (fb[i]! < fb[i - 1]!) {
        isSorted = false;
        break;
      }
    const take = <A extends Float64Array | Uint32Array | Uint8Array>(g: GrowableArray<A>, order: Uint32Array | null): A => {
      if (!order) return g.finish();
      const src = g.data;
      const out = new (src.constructor as { new (n: number): A })(n);
      for (let i = 0; i < n; i++) out[i] = src[order[i]!]!;
      return out;
    };
    let order: Uint32Array | null = null;
    if (!isSorted) {
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => fb[a]! - fb[b]! || a - b);
    }
    return {
      fsBlock: take(this.fsBlock, order),
      blocks: take(this.blocks, order),
      inode: take(this.inode, order),
      fileBlock: take(this.fileBlock, order),
      kind: take(this.kind, order),
      unwritten: take(this.unwritten, order),
    };
  }
}

/**
 * Map a file system read from `source`. Problems confined to one inode or directory block are
 * counted in `stats` (with the byte offset) and the build goes on; a broken superblock or group
 * descriptor table throws an InputError.
 */
export function buildFsMap(source: BlockSource, options: BuildFsMapOptions = {}): BuildFsMapResult {
  const partitionOffset = options.partitionOffset ?? 0;
  if (!Number.isSafeInteger(partitionOffset) || partitionOffset < 0 || partitionOffset % 512 !== 0) {
    throw new UsageError(`partition offset ${partitionOffset}: expected a non-negative multiple of 512 bytes`);
  }
  const fs = new ExtFileSystem(source);
  const { sb, groups } = fs;
  const bs = sb.blockSize;
  const file = source.name;
  const stats = new IngestStats();
  const rows = new RowBuffer(bs);
  const entries = new DirEntryCollector();
  const hasFileType = hasIncompat(sb, FeatureIncompat.filetype);
  const hugeFile = hasRoCompat(sb, FeatureRoCompat.huge_file);
  const problem = (name: string, description: string, e: unknown) => {
    if (options.strict || !(e instanceof InputError)) throw e;
    const off = e.place?.offset;
    stats.count(name, 'data_loss', description, { file, ...(typeof off === 'number' ? { offset: off } : {}), text: e.message });
  };

  if (fs.truncatedAt !== null) {
    stats.count(
      'source_truncated',
      'data_loss',
      'the source is shorter than the file system (blocks_count * block_size): metadata past its end is missing',
      {
        file,
        offset: fs.truncatedAt,
        text: `${file}: the source ends at byte ${fs.truncatedAt}, the file system (s_blocks_count × block size) needs ${sb.blocksCount * bs} bytes`,
      },
    );
  }

  // 1. static metadata from the group layout (superblock and GDT copies, bitmaps, inode tables)
  for (let g = 0; g < groups.count; g++) {
    // reserved GDT blocks belong to the resize inode (debugfs icheck names inode 7 for them)
    groupHeaderRuns(sb, g, (start, count, kind) =>
      rows.push(start, count, kind === 'reserved_gdt' ? ReservedInode.RESIZE : 0, -1, KindCode[kind], false),
    );
  }
  for (let g = 0; g < groups.count; g++) rows.push(groups.blockBitmap[g]!, 1, 0, -1, KindCode.block_bitmap, false);
  for (let g = 0; g < groups.count; g++) rows.push(groups.inodeBitmap[g]!, 1, 0, -1, KindCode.inode_bitmap, false);
  for (let g = 0; g < groups.count; g++) rows.push(groups.inodeTable[g]!, groups.inodeTableBlocks, 0, -1, KindCode.inode_table, false);

  // 2. every in-use inode
  const fields = newInodeFields();
  const xattrBlocks = new Set<number>();
  const dirRuns = new GrowableArray(Float64Array, 256); // triples: fileBlock, physical, count
  let curIno = 0;
  let curKind = 0;
  const sink: BlockSink = {
    data(fileBlock, physical, count, unwritten) {
      rows.push(physical, count, curIno, fileBlock, curKind, unwritten);
      if (curKind === KindCode.dir) {
        dirRuns.push(fileBlock);
        dirRuns.push(physical);
        dirRuns.push(count);
      }
    },
    meta(physical, kind) {
      rows.push(physical, 1, curIno, -1, kind === 'indirect' ? KindCode.indirect : KindCode.extent_node, false);
    },
  };
  const ctx: WalkContext = {
    file,
    inode: 0,
    inodeOffset: 0,
    blockSize: bs,
    firstDataBlock: sb.firstDataBlock,
    blocksCount: sb.blocksCount,
    budget: 0,
    readBlock: (b, what) => fs.readBlock(b, what),
  };
  const specialOther = new Set<number>([...sb.quotaInodes, sb.orphanFileInum].filter((x) => x > 0));
  let files = 0;
  let dirs = 0;
  let journal: JournalInfo | null = null;
  let journalFirst = -1;

  const onEntryOf =
    (dirIno: number): DirEntryHandler =>
    (ino, name, ft) => {
      if (isDotOrDotDot(name)) return;
      if (ino > sb.inodesCount) {
        stats.count('dir_entry_bad_inode', 'data_loss', 'directory entry names an inode number beyond s_inodes_count (ignored)', {
          file,
          text: `directory inode ${dirIno}: entry "${decodeName(name)}" -> inode ${ino}`,
        });
        return;
      }
      entries.add(dirIno, ino, name, ft);
    };

  const scanDirBlocks = (dirIno: number, size: number) => {
    const onEntry = onEntryOf(dirIno);
    const runs = dirRuns.data;
    for (let r = 0; r < dirRuns.length; r += 3) {
      const fileBlock = runs[r]!;
      const phys = runs[r + 1]!;
      const count = runs[r + 2]!;
      for (let k = 0; k < count; k += 64) {
        const n = Math.min(64, count - k);
        // blocks past i_size are preallocated, not directory content
        if ((fileBlock + k) * bs >= size) break;
        let bytes: Uint8Array;
        try {
          bytes = fs.readBlocks(phys + k, n, `directory inode ${dirIno} block`);
        } catch (e) {
          problem('dir_block_unreadable', 'a directory block could not be read (its entries are missing from the paths)', e);
          continue;
        }
        for (let i = 0; i < n; i++) {
          if ((fileBlock + k + i) * bs >= size) break;
          const bad = walkDirEntries(bytes, i * bs, (i + 1) * bs, hasFileType, bs, onEntry);
          if (bad) {
            const off = (phys + k + i) * bs + bad.at;
            problem(
              'dir_entry_malformed',
              'a directory block has a malformed entry (the rest of that block is skipped)',
              new InputError(file, `directory inode ${dirIno}: ${bad.message}`, { offset: off, what: `directory inode ${dirIno} entry` }),
            );
          }
        }
      }
    }
  };

  fs.forEachUsedInode(
    (ino, bytes, o, byteOffset) => {
      decodeInode(bytes, o, sb.inodeSize, bs, hugeFile, fields);
      const reserved = ino < sb.firstIno;
      if (fields.mode === 0 && !reserved) return;
      if (reserved && ino !== ReservedInode.ROOT && ino !== sb.journalInum) {
        let any = fields.fileAcl !== 0;
        for (let i = 0; i < 15 && !any; i++)
          if (
            bytes[o + I_BLOCK_OFFSET + i * 4] ||
            bytes[o + I_BLOCK_OFFSET + i * 4 + 1] ||
            bytes[o + I_BLOCK_OFFSET + i * 4 + 2] ||
            bytes[o + I_BLOCK_OFFSET + i * 4 + 3]
          )
            any = true;
        if (!any) return;
      }
      curIno = ino;
      ctx.inode = ino;
      ctx.inodeOffset = byteOffset;
      const dataBlocks = Math.ceil((fields.blocks512 * 512) / bs);
      ctx.budget = Math.min(sb.blocksCount, dataBlocks + 1);
      const t = fields.type;
      const isDir = t === FileType.dir;
      if (ino === sb.journalInum) curKind = KindCode.journal;
      else if (isDir) curKind = KindCode.dir;
      else if (t === FileType.symlink) curKind = KindCode.symlink;
      else if (fields.flags & InodeFlags.EA_INODE) curKind = KindCode.xattr;
      else if (reserved || specialOther.has(ino)) curKind = KindCode.other;
      else curKind = KindCode.data;
      if (isDir) dirs++;
      else if (t === FileType.regular && !reserved) files++;
      dirRuns.length = 0;
      try {
        if (fields.fileAcl !== 0 && !xattrBlocks.has(fields.fileAcl)) {
          if (fields.fileAcl < sb.firstDataBlock || fields.fileAcl >= sb.blocksCount) {
            throw new InputError(file, `inode ${ino}: i_file_acl points at block ${fields.fileAcl}, outside the file system`, {
              offset: byteOffset + 0x68,
              what: `inode ${ino} i_file_acl`,
            });
          }
          xattrBlocks.add(fields.fileAcl);
          rows.push(fields.fileAcl, 1, ino, -1, KindCode.xattr, false);
        }
        const devLike = t === FileType.char || t === FileType.block || t === FileType.fifo || t === FileType.socket;
        if (devLike) return;
        if (fields.flags & InodeFlags.INLINE_DATA) {
          if (isDir) {
            const place = findInlineData(bytes, o, sb.inodeSize, fields.extraIsize);
            const onEntry = onEntryOf(ino);
            // inline directory: i_block = parent inode (4 bytes) then entries; more entries in system.data
            const bad1 = walkDirEntries(bytes, place.iblock + 4, place.iblock + I_BLOCK_SIZE, hasFileType, bs, onEntry);
            const bad2 = place.extraSize
              ? walkDirEntries(bytes, place.extraOffset, place.extraOffset + place.extraSize, hasFileType, bs, onEntry)
              : null;
            const bad = bad1 ?? bad2;
            if (bad)
              problem(
                'dir_entry_malformed',
                'a directory block has a malformed entry (the rest of that block is skipped)',
                new InputError(file, `inline directory inode ${ino}: ${bad.message}`, {
                  offset: byteOffset,
                  what: `inode ${ino} inline directory`,
                }),
              );
          }
          return;
        }
        if (t === FileType.symlink && fields.size < I_BLOCK_SIZE && dataBlocks - (fields.fileAcl ? 1 : 0) <= 0) return; // fast symlink: target in i_block
        if (ino === ReservedInode.RESIZE) {
          // the resize inode maps the reserved GDT blocks (already classified by the group layout)
          // through its double-indirect block; only that block is its own
          const dind =
            bytes[o + I_BLOCK_OFFSET + 52]! |
            (bytes[o + I_BLOCK_OFFSET + 53]! << 8) |
            (bytes[o + I_BLOCK_OFFSET + 54]! << 16) |
            (bytes[o + I_BLOCK_OFFSET + 55]! * 0x1000000);
          if (dind >= sb.firstDataBlock && dind < sb.blocksCount) rows.push(dind, 1, ino, -1, KindCode.indirect, false);
          return;
        }
        if (fields.flags & InodeFlags.EXTENTS) walkExtentTree(bytes, o, ctx, sink);
        else walkBlockMap(bytes, o, ctx, sink);
        if (ino === sb.journalInum && journalFirst < 0) {
          // logical block 0 of the journal is its superblock
          const runs = rows.fileBlock;
          for (let j = rows.fsBlock.length - 1; j >= 0 && rows.inode.data[j] === ino; j--)
            if (runs.data[j] === 0) journalFirst = rows.fsBlock.data[j]!;
        }
        if (isDir) scanDirBlocks(ino, fields.size);
      } catch (e) {
        problem('inode_map_unreadable', "an inode's block map is corrupt or unreadable (its blocks are missing from the map)", e);
      }
    },
    (g, e) => problem('inode_table_unreadable', "a group's inode bitmap or table could not be read (its inodes are missing)", e),
    (g) => {
      if ((g & 63) === 0) options.onProgress?.(g, groups.count);
    },
  );
  options.onProgress?.(groups.count, groups.count);

  if (journalFirst >= 0) {
    try {
      journal = parseJournalSuperblock(fs.readBlock(journalFirst, 'journal superblock'), file, journalFirst * bs);
    } catch (e) {
      problem('journal_superblock_bad', 'the journal superblock could not be decoded', e);
    }
  }

  // 3. paths
  const { paths, unreachable } = entries.resolve();
  if (unreachable)
    stats.count('dir_entry_unreachable', 'info', 'directory entries in directories not reachable from the root (no path)', {
      file,
      text: `${unreachable} directory entries have no path`,
    });
  const geometry: FsGeometry = geometryOf(sb, partitionOffset, source.name);
  const cols = rows.sorted();
  const map = new FsMap(geometry, { ...cols }, paths);
  map.summary.files = files;
  map.summary.dirs = dirs;
  map.setInodeTables(groups.inodeTable.slice());
  if (journal) {
    // jbd2 superblock fields (include/linux/jbd2.h journal_superblock_t)
    map.extraMetadata['fs.journal_first_fs_block'] = String(journalFirst);
    map.extraMetadata['fs.journal_maxlen'] = String(journal.maxLen);
    map.extraMetadata['fs.journal_sequence'] = String(journal.sequence);
    map.extraMetadata['fs.journal_start'] = String(journal.start);
    map.extraMetadata['fs.journal_feature_incompat'] = '0x' + journal.featureIncompat.toString(16);
  }
  fs.close();
  return { map, stats, journal };
}
