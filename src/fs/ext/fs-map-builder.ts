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
import { FeatureIncompat, FeatureRoCompat, hasIncompat, hasRoCompat, type Superblock } from './superblock.js';
import {
  decodeInode,
  newInodeFields,
  type InodeFields,
  FileType,
  InodeFlags,
  ReservedInode,
  I_BLOCK_OFFSET,
  I_BLOCK_SIZE,
} from './inode.js';
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

/** Counts a per-inode or per-directory problem in the stats, or rethrows it (strict mode, or not an InputError). */
type ProblemFn = (name: string, description: string, e: unknown) => void;

/** What every step of one build reads or appends to. */
interface BuildState {
  fs: ExtFileSystem;
  sb: Superblock;
  bs: number;
  file: string;
  stats: IngestStats;
  rows: RowBuffer;
  entries: DirEntryCollector;
  hasFileType: boolean;
  problem: ProblemFn;
}

/** The inode walk's working state: the inode being mapped, its directory runs and the running totals. */
interface InodeWalk {
  fields: InodeFields;
  hugeFile: boolean;
  xattrBlocks: Set<number>;
  /** Triples of the current directory's data runs: fileBlock, physical, count. */
  dirRuns: GrowableArray<Float64Array>;
  curIno: number;
  curKind: number;
  sink: BlockSink;
  ctx: WalkContext;
  /** Quota and orphan-file inodes: mapped as kind "other". */
  specialOther: Set<number>;
  files: number;
  dirs: number;
  /** fs block of the journal's logical block 0 (its superblock), or -1. */
  journalFirst: number;
}

function checkPartitionOffset(options: BuildFsMapOptions): number {
  const partitionOffset = options.partitionOffset ?? 0;
  if (!Number.isSafeInteger(partitionOffset) || partitionOffset < 0 || partitionOffset % 512 !== 0) {
    throw new UsageError(`partition offset ${partitionOffset}: expected a non-negative multiple of 512 bytes`);
  }
  return partitionOffset;
}

/** Count a source shorter than the file system (metadata past its end is missing). */
function noteTruncation(st: BuildState): void {
  const { fs, file } = st;
  if (fs.truncatedAt === null) return;
  st.stats.count(
    'source_truncated',
    'data_loss',
    'the source is shorter than the file system (blocks_count * block_size): metadata past its end is missing',
    {
      file,
      offset: fs.truncatedAt,
      text: `${file}: the source ends at byte ${fs.truncatedAt}, the file system (s_blocks_count × block size) needs ${st.sb.blocksCount * st.bs} bytes`,
    },
  );
}

/** Step 1: static metadata from the group layout (superblock and GDT copies, bitmaps, inode tables). */
function pushGroupMetadata(st: BuildState): void {
  const { sb, rows } = st;
  const { groups } = st.fs;
  for (let g = 0; g < groups.count; g++) {
    // reserved GDT blocks belong to the resize inode (debugfs icheck names inode 7 for them)
    groupHeaderRuns(sb, g, (start, count, kind) =>
      rows.push(start, count, kind === 'reserved_gdt' ? ReservedInode.RESIZE : 0, -1, KindCode[kind], false),
    );
  }
  for (let g = 0; g < groups.count; g++) rows.push(groups.blockBitmap[g]!, 1, 0, -1, KindCode.block_bitmap, false);
  for (let g = 0; g < groups.count; g++) rows.push(groups.inodeBitmap[g]!, 1, 0, -1, KindCode.inode_bitmap, false);
  for (let g = 0; g < groups.count; g++) rows.push(groups.inodeTable[g]!, groups.inodeTableBlocks, 0, -1, KindCode.inode_table, false);
}

function newInodeWalk(st: BuildState): InodeWalk {
  const { sb, fs, rows } = st;
  const walk: InodeWalk = {
    fields: newInodeFields(),
    hugeFile: hasRoCompat(sb, FeatureRoCompat.huge_file),
    xattrBlocks: new Set<number>(),
    dirRuns: new GrowableArray(Float64Array, 256),
    curIno: 0,
    curKind: 0,
    sink: {
      data(fileBlock, physical, count, unwritten) {
        rows.push(physical, count, walk.curIno, fileBlock, walk.curKind, unwritten);
        if (walk.curKind === KindCode.dir) {
          walk.dirRuns.push(fileBlock);
          walk.dirRuns.push(physical);
          walk.dirRuns.push(count);
        }
      },
      meta(physical, kind) {
        rows.push(physical, 1, walk.curIno, -1, kind === 'indirect' ? KindCode.indirect : KindCode.extent_node, false);
      },
    },
    ctx: {
      file: st.file,
      inode: 0,
      inodeOffset: 0,
      blockSize: st.bs,
      firstDataBlock: sb.firstDataBlock,
      blocksCount: sb.blocksCount,
      budget: 0,
      readBlock: (b, what) => fs.readBlock(b, what),
    },
    specialOther: new Set<number>([...sb.quotaInodes, sb.orphanFileInum].filter((x) => x > 0)),
    files: 0,
    dirs: 0,
    journalFirst: -1,
  };
  return walk;
}

/** The handler that records the entries of directory `dirIno` (skipping . and .., counting entries past s_inodes_count). */
function onEntryOf(st: BuildState, dirIno: number): DirEntryHandler {
  return (ino, name, ft) => {
    if (isDotOrDotDot(name)) return;
    if (ino > st.sb.inodesCount) {
      st.stats.count('dir_entry_bad_inode', 'data_loss', 'directory entry names an inode number beyond s_inodes_count (ignored)', {
        file: st.file,
        text: `directory inode ${dirIno}: entry "${decodeName(name)}" -> inode ${ino}`,
      });
      return;
    }
    st.entries.add(dirIno, ino, name, ft);
  };
}

/** Read the blocks of directory `dirIno` (its runs in `dirRuns`, up to i_size) and record their entries. */
function scanDirBlocks(st: BuildState, dirRuns: GrowableArray<Float64Array>, dirIno: number, size: number): void {
  const { bs, file } = st;
  const onEntry = onEntryOf(st, dirIno);
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
        bytes = st.fs.readBlocks(phys + k, n, `directory inode ${dirIno} block`);
      } catch (e) {
        st.problem('dir_block_unreadable', 'a directory block could not be read (its entries are missing from the paths)', e);
        continue;
      }
      for (let i = 0; i < n; i++) {
        if ((fileBlock + k + i) * bs >= size) break;
        const bad = walkDirEntries(bytes, i * bs, (i + 1) * bs, st.hasFileType, bs, onEntry);
        if (bad) {
          const off = (phys + k + i) * bs + bad.at;
          st.problem(
            'dir_entry_malformed',
            'a directory block has a malformed entry (the rest of that block is skipped)',
            new InputError(file, `directory inode ${dirIno}: ${bad.message}`, { offset: off, what: `directory inode ${dirIno} entry` }),
          );
        }
      }
    }
  }
}

/** Record the entries of an inline directory: i_block = parent inode (4 bytes) then entries; more entries in system.data. */
function scanInlineDir(st: BuildState, fields: InodeFields, bytes: Uint8Array, o: number, ino: number, byteOffset: number): void {
  const { bs, hasFileType } = st;
  const place = findInlineData(bytes, o, st.sb.inodeSize, fields.extraIsize);
  const onEntry = onEntryOf(st, ino);
  const bad1 = walkDirEntries(bytes, place.iblock + 4, place.iblock + I_BLOCK_SIZE, hasFileType, bs, onEntry);
  const bad2 = place.extraSize
    ? walkDirEntries(bytes, place.extraOffset, place.extraOffset + place.extraSize, hasFileType, bs, onEntry)
    : null;
  const bad = bad1 ?? bad2;
  if (bad)
    st.problem(
      'dir_entry_malformed',
      'a directory block has a malformed entry (the rest of that block is skipped)',
      new InputError(st.file, `inline directory inode ${ino}: ${bad.message}`, {
        offset: byteOffset,
        what: `inode ${ino} inline directory`,
      }),
    );
}

/** True when the 15 words of i_block are all zero. */
function iBlockEmpty(bytes: Uint8Array, o: number): boolean {
  for (let i = 0; i < 15; i++)
    if (
      bytes[o + I_BLOCK_OFFSET + i * 4] ||
      bytes[o + I_BLOCK_OFFSET + i * 4 + 1] ||
      bytes[o + I_BLOCK_OFFSET + i * 4 + 2] ||
      bytes[o + I_BLOCK_OFFSET + i * 4 + 3]
    )
      return false;
  return true;
}

/** The fs_map kind of the blocks of inode `ino`. */
function inodeKind(sb: Superblock, walk: InodeWalk, ino: number, reserved: boolean): number {
  const { fields } = walk;
  const t = fields.type;
  if (ino === sb.journalInum) return KindCode.journal;
  if (t === FileType.dir) return KindCode.dir;
  if (t === FileType.symlink) return KindCode.symlink;
  if (fields.flags & InodeFlags.EA_INODE) return KindCode.xattr;
  if (reserved || walk.specialOther.has(ino)) return KindCode.other;
  return KindCode.data;
}

/** Map the xattr block of an inode (once per block); throws when i_file_acl is outside the file system. */
function pushXattrBlock(st: BuildState, walk: InodeWalk, ino: number, byteOffset: number): void {
  const { fileAcl } = walk.fields;
  if (fileAcl === 0 || walk.xattrBlocks.has(fileAcl)) return;
  if (fileAcl < st.sb.firstDataBlock || fileAcl >= st.sb.blocksCount) {
    throw new InputError(st.file, `inode ${ino}: i_file_acl points at block ${fileAcl}, outside the file system`, {
      offset: byteOffset + 0x68,
      what: `inode ${ino} i_file_acl`,
    });
  }
  walk.xattrBlocks.add(fileAcl);
  st.rows.push(fileAcl, 1, ino, -1, KindCode.xattr, false);
}

/** The resize inode maps the reserved GDT blocks (already classified by the group layout) through its double-indirect block; only that block is its own. */
function pushResizeInodeBlock(st: BuildState, bytes: Uint8Array, o: number, ino: number): void {
  const dind =
    bytes[o + I_BLOCK_OFFSET + 52]! |
    (bytes[o + I_BLOCK_OFFSET + 53]! << 8) |
    (bytes[o + I_BLOCK_OFFSET + 54]! << 16) |
    (bytes[o + I_BLOCK_OFFSET + 55]! * 0x1000000);
  if (dind >= st.sb.firstDataBlock && dind < st.sb.blocksCount) st.rows.push(dind, 1, ino, -1, KindCode.indirect, false);
}

/** The fs block holding logical block 0 of the journal inode `ino` (its superblock), from the rows just pushed; -1 if none. */
function findJournalFirst(rows: RowBuffer, ino: number): number {
  let journalFirst = -1;
  const runs = rows.fileBlock;
  for (let j = rows.fsBlock.length - 1; j >= 0 && rows.inode.data[j] === ino; j--)
    if (runs.data[j] === 0) journalFirst = rows.fsBlock.data[j]!;
  return journalFirst;
}

/** Map the blocks of one in-use inode (xattr block, block map or extent tree, directory entries); throws on a corrupt map. */
function mapInodeBlocks(
  st: BuildState,
  walk: InodeWalk,
  bytes: Uint8Array,
  o: number,
  ino: number,
  byteOffset: number,
  dataBlocks: number,
): void {
  const { sb } = st;
  const { fields } = walk;
  const t = fields.type;
  const isDir = t === FileType.dir;
  pushXattrBlock(st, walk, ino, byteOffset);
  const devLike = t === FileType.char || t === FileType.block || t === FileType.fifo || t === FileType.socket;
  if (devLike) return;
  if (fields.flags & InodeFlags.INLINE_DATA) {
    if (isDir) scanInlineDir(st, fields, bytes, o, ino, byteOffset);
    return;
  }
  if (t === FileType.symlink && fields.size < I_BLOCK_SIZE && dataBlocks - (fields.fileAcl ? 1 : 0) <= 0) return; // fast symlink: target in i_block
  if (ino === ReservedInode.RESIZE) {
    pushResizeInodeBlock(st, bytes, o, ino);
    return;
  }
  if (fields.flags & InodeFlags.EXTENTS) walkExtentTree(bytes, o, walk.ctx, walk.sink);
  else walkBlockMap(bytes, o, walk.ctx, walk.sink);
  if (ino === sb.journalInum && walk.journalFirst < 0) walk.journalFirst = findJournalFirst(st.rows, ino);
  if (isDir) scanDirBlocks(st, walk.dirRuns, ino, fields.size);
}

/** Step 2 for one inode: decode it, skip it if unused, classify it, count it and map its blocks. */
function mapInode(st: BuildState, walk: InodeWalk, ino: number, bytes: Uint8Array, o: number, byteOffset: number): void {
  const { sb, bs } = st;
  const { fields, ctx } = walk;
  decodeInode(bytes, o, sb.inodeSize, bs, walk.hugeFile, fields);
  const reserved = ino < sb.firstIno;
  if (fields.mode === 0 && !reserved) return;
  // a reserved inode other than the root and the journal counts only when it maps something
  if (reserved && ino !== ReservedInode.ROOT && ino !== sb.journalInum && fields.fileAcl === 0 && iBlockEmpty(bytes, o)) return;
  walk.curIno = ino;
  ctx.inode = ino;
  ctx.inodeOffset = byteOffset;
  const dataBlocks = Math.ceil((fields.blocks512 * 512) / bs);
  ctx.budget = Math.min(sb.blocksCount, dataBlocks + 1);
  const t = fields.type;
  walk.curKind = inodeKind(sb, walk, ino, reserved);
  if (t === FileType.dir) walk.dirs++;
  else if (t === FileType.regular && !reserved) walk.files++;
  walk.dirRuns.length = 0;
  try {
    mapInodeBlocks(st, walk, bytes, o, ino, byteOffset, dataBlocks);
  } catch (e) {
    st.problem('inode_map_unreadable', "an inode's block map is corrupt or unreadable (its blocks are missing from the map)", e);
  }
}

/** Step 2: every in-use inode's blocks, group by group. */
function mapInodes(st: BuildState, options: BuildFsMapOptions): InodeWalk {
  const { groups } = st.fs;
  const walk = newInodeWalk(st);
  st.fs.forEachUsedInode(
    (ino, bytes, o, byteOffset) => mapInode(st, walk, ino, bytes, o, byteOffset),
    (g, e) => st.problem('inode_table_unreadable', "a group's inode bitmap or table could not be read (its inodes are missing)", e),
    (g) => {
      if ((g & 63) === 0) options.onProgress?.(g, groups.count);
    },
  );
  options.onProgress?.(groups.count, groups.count);
  return walk;
}

/** Decode the journal superblock at fs block `journalFirst` (null when there is none or it is unreadable). */
function readJournal(st: BuildState, journalFirst: number): JournalInfo | null {
  if (journalFirst < 0) return null;
  try {
    return parseJournalSuperblock(st.fs.readBlock(journalFirst, 'journal superblock'), st.file, journalFirst * st.bs);
  } catch (e) {
    st.problem('journal_superblock_bad', 'the journal superblock could not be decoded', e);
    return null;
  }
}

/** Step 3: resolve the paths and assemble the FsMap (rows sorted, summary, inode tables, journal metadata). */
function assembleFsMap(st: BuildState, walk: InodeWalk, journal: JournalInfo | null, partitionOffset: number, sourceName: string): FsMap {
  const { paths, unreachable } = st.entries.resolve();
  if (unreachable)
    st.stats.count('dir_entry_unreachable', 'info', 'directory entries in directories not reachable from the root (no path)', {
      file: st.file,
      text: `${unreachable} directory entries have no path`,
    });
  const geometry: FsGeometry = geometryOf(st.sb, partitionOffset, sourceName);
  const cols = st.rows.sorted();
  const map = new FsMap(geometry, { ...cols }, paths);
  map.summary.files = walk.files;
  map.summary.dirs = walk.dirs;
  map.setInodeTables(st.fs.groups.inodeTable.slice());
  if (journal) {
    // jbd2 superblock fields (include/linux/jbd2.h journal_superblock_t)
    map.extraMetadata['fs.journal_first_fs_block'] = String(walk.journalFirst);
    map.extraMetadata['fs.journal_maxlen'] = String(journal.maxLen);
    map.extraMetadata['fs.journal_sequence'] = String(journal.sequence);
    map.extraMetadata['fs.journal_start'] = String(journal.start);
    map.extraMetadata['fs.journal_feature_incompat'] = '0x' + journal.featureIncompat.toString(16);
  }
  return map;
}

/**
 * Map a file system read from `source`. Problems confined to one inode or directory block are
 * counted in `stats` (with the byte offset) and the build goes on; a broken superblock or group
 * descriptor table throws an InputError.
 */
export function buildFsMap(source: BlockSource, options: BuildFsMapOptions = {}): BuildFsMapResult {
  const partitionOffset = checkPartitionOffset(options);
  const fs = new ExtFileSystem(source);
  const { sb } = fs;
  const file = source.name;
  const stats = new IngestStats();
  const st: BuildState = {
    fs,
    sb,
    bs: sb.blockSize,
    file,
    stats,
    rows: new RowBuffer(sb.blockSize),
    entries: new DirEntryCollector(),
    hasFileType: hasIncompat(sb, FeatureIncompat.filetype),
    problem: (name, description, e) => {
      if (options.strict || !(e instanceof InputError)) throw e;
      const off = e.place?.offset;
      stats.count(name, 'data_loss', description, { file, ...(typeof off === 'number' ? { offset: off } : {}), text: e.message });
    },
  };
  noteTruncation(st);
  pushGroupMetadata(st);
  const walk = mapInodes(st, options);
  const journal = readJournal(st, walk.journalFirst);
  const map = assembleFsMap(st, walk, journal, partitionOffset, source.name);
  fs.close();
  return { map, stats, journal };
}
