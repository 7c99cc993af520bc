/**
 * FsMap: the fs_map of one file system held as sorted typed-array columns, with the two lookups
 * the correlation needs: disk sectors → owners (binary search over fs_block) and a file range →
 * disk sectors. Built by buildFsMap, or from the fs_map (+ fs_paths) Arrow tables.
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import { tableMetadata } from '../../table/arrow-file.js';
import { fsMapTable, FS_MAP_KINDS, type FsMapKind } from '../../table/schemas/fs-map.js';
import { fsPathsTable } from '../../table/schemas/fs-paths.js';
import { InputError, UsageError } from '../../util/errors.js';
import { toSafeNumber } from '../../util/numbers.js';
import { FsPaths } from './fs-paths.js';
import { geometryFromMetadata, geometryToMetadata, type FsGeometry } from './fs-geometry.js';
import { upperBound } from '../../util/sorted.js';

/** The columns of fs_map, sorted by fsBlock. inode 0 = none; fileBlock -1 = none. */
export interface FsMapColumns {
  fsBlock: Float64Array;
  blocks: Uint32Array;
  inode: Uint32Array;
  fileBlock: Float64Array;
  /** Index into FS_MAP_KINDS. */
  kind: Uint8Array;
  unwritten: Uint8Array;
}

/** One piece of an answer to lookupSectors. */
export interface SectorOwner {
  kind: FsMapKind;
  /** Owning inode, or null for static metadata. */
  inode: number | null;
  path: string | null;
  /** Byte offset in the file of the first byte of this piece (content kinds), else null. */
  fileOffset: number | null;
  /** First sector of this piece (absolute, partition offset applied). */
  sector: number;
  /** Bytes of the queried range that this piece covers. */
  length: number;
  fsBlock: number;
  unwritten: boolean;
  /** For inode_table pieces: the first and last inode number stored in the piece. */
  inodes?: [number, number];
}

/** One piece of an answer to fileToSectors. */
export interface FilePiece {
  /** Byte offset in the file. */
  fileOffset: number;
  length: number;
  /** Byte offset on the disk (partition offset applied), or null for a hole. */
  diskOffset: number | null;
  /** Sector holding the first byte, or null for a hole. */
  sector: number | null;
  unwritten: boolean;
}

export interface FsMapSummary {
  files: number;
  dirs: number;
}

const CONTENT_KINDS = new Set<number>(
  ['data', 'dir', 'symlink', 'journal', 'other', 'xattr'].map((k) => FS_MAP_KINDS.indexOf(k as FsMapKind)),
);

export class FsMap {
  readonly rows: number;
  /** maxEnd[i] = largest fsBlock+blocks over rows 0..i (rows could overlap on a corrupt fs). */
  private readonly maxEnd: Float64Array;
  /** Recently asked paths, direct-mapped by inode (traces touch the same files again and again). */
  private readonly pathCacheIno = new Int32Array(4096).fill(-1);
  private readonly pathCacheText: (string | null)[] = new Array<string | null>(4096).fill(null);
  /** Rows of content kinds ordered by (inode, fileBlock), built on first fileToSectors. */
  private byInode: Uint32Array | null = null;
  readonly summary: FsMapSummary = { files: 0, dirs: 0 };
  /** More schema metadata for fs_map.arrow (e.g. the journal's geometry). */
  readonly extraMetadata: Record<string, string> = {};
  private readonly sectorsPerBlock: number;
  private readonly baseSector: number;

  constructor(
    readonly geometry: FsGeometry,
    readonly columns: FsMapColumns,
    readonly paths: FsPaths,
  ) {
    const c = columns;
    this.rows = c.fsBlock.length;
    this.maxEnd = new Float64Array(this.rows);
    let m = 0;
    for (let i = 0; i < this.rows; i++) {
      const e = c.fsBlock[i]! + c.blocks[i]!;
      if (e > m) m = e;
      this.maxEnd[i] = m;
      if (i > 0 && c.fsBlock[i]! < c.fsBlock[i - 1]!) throw new Error('FsMap: rows must be sorted by fsBlock');
    }
    this.sectorsPerBlock = geometry.blockSize / 512;
    this.baseSector = geometry.partitionOffset / 512;
  }

  /** The path of an inode (lexicographically smallest of its names), or null. */
  pathOf(inode: number): string | null {
    const slot = inode & 4095;
    if (this.pathCacheIno[slot] === inode) return this.pathCacheText[slot]!;
    const p = this.paths.pathOf(inode);
    this.pathCacheIno[slot] = inode;
    this.pathCacheText[slot] = p;
    return p;
  }
  /** Every path of an inode (hard links). */
  pathsOf(inode: number): string[] {
    return this.paths.pathsOf(inode);
  }
  /** Inode of a path ("/a/b"), or null. */
  inodeOf(path: string): number | null {
    return this.paths.inodeOf(path);
  }

  /** First sector of fs block `b` on the disk. */
  sectorOfBlock(b: number): number {
    return this.baseSector + b * this.sectorsPerBlock;
  }

  /**
   * Index of the last row whose extent starts at or before block `b` and still covers it, or -1.
   * Allocation-free: the hot path of sector joins.
   */
  findRow(block: number): number {
    const fb = this.columns.fsBlock;
    const lo = upperBound(fb, block, 0, this.rows);
    for (let i = lo - 1; i >= 0 && this.maxEnd[i]! > block; i--) {
      if (fb[i]! + this.columns.blocks[i]! > block) return i;
    }
    return -1;
  }

  /** Row index of the fs block holding absolute sector `sector`, or -1 (free, or outside the fs). */
  findRowOfSector(sector: number): number {
    const rel = sector - this.baseSector;
    if (rel < 0) return -1;
    return this.findRow(Math.floor(rel / this.sectorsPerBlock));
  }

  kindOf(row: number): FsMapKind {
    return FS_MAP_KINDS[this.columns.kind[row]!]!;
  }

  /**
   * Owners of the sectors [sector, sector + count): one piece per overlapping extent, in disk
   * order. Sectors with no owner (free blocks, outside the file system) produce no piece.
   */
  lookupSectors(sector: number, count = 1): SectorOwner[] {
    if (!Number.isSafeInteger(sector) || !Number.isSafeInteger(count) || count < 1)
      throw new UsageError(`lookupSectors(${sector}, ${count}): expected integers, count >= 1`);
    const bs = this.geometry.blockSize;
    const qStart = (sector - this.baseSector) * 512;
    const qEnd = qStart + count * 512;
    if (qEnd <= 0) return [];
    const firstBlock = Math.floor(Math.max(0, qStart) / bs);
    const lastBlock = Math.floor((qEnd - 1) / bs);
    const c = this.columns;
    const fb = c.fsBlock;
    const lo = upperBound(fb, lastBlock, 0, this.rows);
    // rows lo-1, lo-2, ... may overlap the query while the running maximum of their ends says so
    let from = lo;
    while (from > 0 && this.maxEnd[from - 1]! > firstBlock) from--;
    const out: SectorOwner[] = [];
    for (let i = from; i < lo; i++) {
      if (fb[i]! + c.blocks[i]! <= firstBlock) continue;
      const rowStart = fb[i]! * bs;
      const rowEnd = rowStart + c.blocks[i]! * bs;
      const s = Math.max(qStart, rowStart);
      const e = Math.min(qEnd, rowEnd);
      const k = c.kind[i]!;
      const ino = c.inode[i]!;
      const piece: SectorOwner = {
        kind: FS_MAP_KINDS[k]!,
        inode: ino === 0 ? null : ino,
        path: ino === 0 ? null : this.pathOf(ino),
        fileOffset: c.fileBlock[i]! >= 0 ? c.fileBlock[i]! * bs + (s - rowStart) : null,
        sector: this.baseSector + Math.floor(s / 512),
        length: e - s,
        fsBlock: Math.floor(s / bs),
        unwritten: c.unwritten[i] === 1,
      };
      if (FS_MAP_KINDS[k] === 'inode_table') {
        const g = this.groupOfInodeTableBlock(Math.floor(s / bs));
        if (g) {
          const isz = this.geometry.inodeSize;
          const first = g.firstIno + Math.floor((s - g.tableByte) / isz);
          const last = g.firstIno + Math.floor((e - 1 - g.tableByte) / isz);
          piece.inodes = [first, last];
        }
      }
      out.push(piece);
    }
    return out;
  }

  /** Inode-table rows may merge several groups (flex_bg): find the group whose table holds block b. */
  private itables: { start: Float64Array; order: Uint32Array } | null = null;
  setInodeTables(start: Float64Array): void {
    const order = new Uint32Array(start.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => start[a]! - start[b]!);
    this.itables = { start, order };
  }
  private groupOfInodeTableBlock(b: number): { firstIno: number; tableByte: number } | null {
    const t = this.itables;
    if (!t) return null;
    const { start, order } = t;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (start[order[mid]!]! <= b) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return null;
    const g = order[lo - 1]!;
    const tableBlocks = Math.ceil((this.geometry.inodesPerGroup * this.geometry.inodeSize) / this.geometry.blockSize);
    if (b >= start[g]! + tableBlocks) return null;
    return { firstIno: g * this.geometry.inodesPerGroup + 1, tableByte: start[g]! * this.geometry.blockSize };
  }

  private inodeIndex(): Uint32Array {
    if (this.byInode) return this.byInode;
    const c = this.columns;
    const idx: number[] = [];
    for (let i = 0; i < this.rows; i++) if (c.inode[i]! !== 0 && c.fileBlock[i]! >= 0 && CONTENT_KINDS.has(c.kind[i]!)) idx.push(i);
    idx.sort((a, b) => c.inode[a]! - c.inode[b]! || c.fileBlock[a]! - c.fileBlock[b]!);
    this.byInode = Uint32Array.from(idx);
    return this.byInode;
  }

  /**
   * Where the bytes [offset, offset + length) of a file are on the disk: pieces in file order,
   * holes as pieces with a null sector. `file` is an inode number or a path.
   */
  fileToSectors(file: number | string, offset: number, length: number): FilePiece[] {
    const ino = typeof file === 'number' ? file : this.inodeOf(file);
    if (ino === null) throw new UsageError(`no such path in the file system: ${String(file)}`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
      throw new UsageError(`fileToSectors: offset ${offset} and length ${length} must be non-negative integers`);
    const idx = this.inodeIndex();
    const c = this.columns;
    const bs = this.geometry.blockSize;
    // first row of the inode whose file range ends after offset
    let lo = 0;
    let hi = idx.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = idx[mid]!;
      const before = c.inode[r]! < ino || (c.inode[r] === ino && (c.fileBlock[r]! + c.blocks[r]!) * bs <= offset);
      if (before) lo = mid + 1;
      else hi = mid;
    }
    const out: FilePiece[] = [];
    const end = offset + length;
    let pos = offset;
    for (let k = lo; k < idx.length && pos < end; k++) {
      const r = idx[k]!;
      if (c.inode[r] !== ino) break;
      const fStart = c.fileBlock[r]! * bs;
      const fEnd = fStart + c.blocks[r]! * bs;
      if (fStart >= end) break;
      if (fStart > pos) {
        out.push({ fileOffset: pos, length: fStart - pos, diskOffset: null, sector: null, unwritten: false });
        pos = fStart;
      }
      const e = Math.min(end, fEnd);
      const disk = this.geometry.partitionOffset + c.fsBlock[r]! * bs + (pos - fStart);
      out.push({ fileOffset: pos, length: e - pos, diskOffset: disk, sector: Math.floor(disk / 512), unwritten: c.unwritten[r] === 1 });
      pos = e;
    }
    if (pos < end) out.push({ fileOffset: pos, length: end - pos, diskOffset: null, sector: null, unwritten: false });
    return out;
  }

  /** Rows of one inode's content in file order: its extents (e.g. an image file on the host). */
  fileExtents(
    file: number | string,
  ): { fileBlock: number; fsBlock: number; blocks: number; sector: number; unwritten: boolean; kind: FsMapKind }[] {
    const ino = typeof file === 'number' ? file : this.inodeOf(file);
    if (ino === null) throw new UsageError(`no such path in the file system: ${String(file)}`);
    const idx = this.inodeIndex();
    const c = this.columns;
    let lo = 0;
    let hi = idx.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c.inode[idx[mid]!]! < ino) lo = mid + 1;
      else hi = mid;
    }
    const out = [];
    for (let k = lo; k < idx.length && c.inode[idx[k]!] === ino; k++) {
      const r = idx[k]!;
      out.push({
        fileBlock: c.fileBlock[r]!,
        fsBlock: c.fsBlock[r]!,
        blocks: c.blocks[r]!,
        sector: this.sectorOfBlock(c.fsBlock[r]!),
        unwritten: c.unwritten[r] === 1,
        kind: FS_MAP_KINDS[c.kind[r]!]!,
      });
    }
    return out;
  }

  /**
   * The map restricted to the rows of some files (e.g. the VM image files on a host file system:
   * their fs_map gives image offset → host disk sector). Files are inode numbers or paths.
   */
  restrictTo(files: (number | string)[]): FsMap {
    const keep = new Set<number>();
    for (const f of files) {
      const ino = typeof f === 'number' ? f : this.inodeOf(f);
      if (ino === null) throw new UsageError(`no such path in the file system: ${String(f)}`);
      keep.add(ino);
    }
    const c = this.columns;
    const rows: number[] = [];
    for (let i = 0; i < this.rows; i++) if (keep.has(c.inode[i]!)) rows.push(i);
    const pick = <A extends Float64Array | Uint32Array | Uint8Array>(a: A): A => {
      const out = new (a.constructor as { new (n: number): A })(rows.length);
      for (let k = 0; k < rows.length; k++) out[k] = a[rows[k]!]!;
      return out;
    };
    const m = new FsMap(
      this.geometry,
      {
        fsBlock: pick(c.fsBlock),
        blocks: pick(c.blocks),
        inode: pick(c.inode),
        fileBlock: pick(c.fileBlock),
        kind: pick(c.kind),
        unwritten: pick(c.unwritten),
      },
      this.paths,
    );
    m.summary.files = keep.size;
    m.summary.dirs = 0;
    return m;
  }

  /** Blocks per kind, extents, and fragmentation figures for the `map fs` summary. */
  stats(): {
    rows: number;
    blocksByKind: Record<string, number>;
    files: number;
    dirs: number;
    fragmentedFiles: number;
    fileExtents: number;
  } {
    const c = this.columns;
    const blocksByKind: Record<string, number> = {};
    for (const k of FS_MAP_KINDS) blocksByKind[k] = 0;
    let fragmented = 0;
    let fileExtents = 0;
    let prevIno = -1;
    let prevEnd = -1;
    let prevFile = -1;
    let breaks = 0;
    const idx = this.inodeIndex();
    for (let i = 0; i < this.rows; i++) blocksByKind[FS_MAP_KINDS[c.kind[i]!]!]! += c.blocks[i]!;
    for (let k = 0; k < idx.length; k++) {
      const r = idx[k]!;
      if (c.kind[r] !== 0) continue; // data only
      fileExtents++;
      if (c.inode[r] !== prevIno) {
        if (breaks > 0) fragmented++;
        breaks = 0;
        prevIno = c.inode[r]!;
      } else if (c.fsBlock[r] !== prevEnd || c.fileBlock[r] !== prevFile) breaks++;
      prevEnd = c.fsBlock[r]! + c.blocks[r]!;
      prevFile = c.fileBlock[r]! + c.blocks[r]!;
    }
    if (breaks > 0) fragmented++;
    return { rows: this.rows, blocksByKind, files: this.summary.files, dirs: this.summary.dirs, fragmentedFiles: fragmented, fileExtents };
  }

  /** The fs_map Arrow table (geometry in the schema metadata). */
  toTable(): Table {
    const b = new TableBuilder(fsMapTable);
    const c = this.columns;
    const fsBlock = b.int64('fs_block');
    const blocks = b.number('blocks');
    const sector = b.int64('sector');
    const nr = b.number('nr_sectors');
    const inode = b.int64('inode');
    const fileBlock = b.int64('file_block');
    const path = b.string('path');
    const kind = b.string('kind');
    const unwritten = b.bool('unwritten');
    const kindKeys = FS_MAP_KINDS.map((k) => kind.intern(k));
    const pathKey = new Map<number, number>();
    for (let i = 0; i < this.rows; i++) {
      fsBlock.push(c.fsBlock[i]!);
      blocks.push(c.blocks[i]!);
      sector.push(this.sectorOfBlock(c.fsBlock[i]!));
      nr.push(c.blocks[i]! * this.sectorsPerBlock);
      const ino = c.inode[i]!;
      if (ino === 0) {
        inode.pushNull();
        path.pushNull();
      } else {
        inode.push(ino);
        let key = pathKey.get(ino);
        if (key === undefined) {
          const p = this.pathOf(ino);
          key = p === null ? -1 : path.intern(p);
          pathKey.set(ino, key);
        }
        if (key < 0) path.pushNull();
        else path.pushKey(key);
      }
      if (c.fileBlock[i]! < 0) fileBlock.pushNull();
      else fileBlock.push(c.fileBlock[i]!);
      kind.pushKey(kindKeys[c.kind[i]!]!);
      unwritten.push(c.unwritten[i] === 1);
    }
    const meta = geometryToMetadata(this.geometry);
    meta['fs.files'] = String(this.summary.files);
    meta['fs.dirs'] = String(this.summary.dirs);
    return b.finish({ ...meta, ...this.extraMetadata });
  }

  /** The fs_paths Arrow table. */
  pathsTable(): Table {
    const b = new TableBuilder(fsPathsTable);
    const inode = b.int64('inode');
    const path = b.string('path');
    const ft = b.number('file_type');
    for (let k = 0; k < this.paths.length; k++) {
      inode.push(this.paths.inode[k]!);
      path.push(this.paths.pathAt(k));
      ft.push(this.paths.fileTypeAt(k));
    }
    return b.finish({ 'fs.uuid': this.geometry.uuid, 'fs.source': this.geometry.source });
  }

  /** Rebuild from fs_map (and optionally fs_paths) tables read with readArrowFile. */
  static fromTables(map: Table, paths: Table | null, file = 'fs_map.arrow'): FsMap {
    const meta = tableMetadata(map);
    if (meta['iolineage.table'] !== 'fs_map')
      throw new InputError(file, `expected an fs_map table, got ${meta['iolineage.table'] ?? 'a table without iolineage metadata'}`, {
        what: 'schema metadata',
      });
    const g = geometryFromMetadata(meta, file);
    const n = map.numRows;
    const col = (name: string) => {
      const v = map.getChild(name);
      if (!v) throw new InputError(file, `fs_map has no column ${name}`, { what: 'schema' });
      return v;
    };
    const fsBlockC = col('fs_block');
    const blocksC = col('blocks');
    const inodeC = col('inode');
    const fileBlockC = col('file_block');
    const kindC = col('kind');
    const uwC = col('unwritten');
    const cols: FsMapColumns = {
      fsBlock: new Float64Array(n),
      blocks: new Uint32Array(n),
      inode: new Uint32Array(n),
      fileBlock: new Float64Array(n),
      kind: new Uint8Array(n),
      unwritten: new Uint8Array(n),
    };
    const num = (v: unknown, what: string) => {
      if (typeof v !== 'bigint') return Number(v);
      if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER))
        throw new InputError(file, `column ${what}: expected a value in 0..2^53-1, got ${v}`, { what: 'fs_map rows' });
      return toSafeNumber(v, what);
    };
    const kindIndex = new Map<string, number>(FS_MAP_KINDS.map((k, i) => [k, i]));
    for (let i = 0; i < n; i++) {
      cols.fsBlock[i] = num(fsBlockC.at(i), 'fs_block');
      if (i > 0 && cols.fsBlock[i]! < cols.fsBlock[i - 1]!)
        throw new InputError(file, `rows must be sorted by fs_block: row ${i} has block ${cols.fsBlock[i]} after ${cols.fsBlock[i - 1]}`, {
          what: 'fs_map rows',
        });
      cols.blocks[i] = num(blocksC.at(i), 'blocks');
      const ino = inodeC.at(i);
      cols.inode[i] = ino === null ? 0 : num(ino, 'inode');
      const fblk = fileBlockC.at(i);
      cols.fileBlock[i] = fblk === null ? -1 : num(fblk, 'file_block');
      const k = kindIndex.get(String(kindC.at(i)));
      if (k === undefined) throw new InputError(file, `fs_map row ${i}: unknown kind ${String(kindC.at(i))}`, { what: 'kind column' });
      cols.kind[i] = k;
      cols.unwritten[i] = uwC.at(i) ? 1 : 0;
    }
    let list: FsPaths;
    if (paths) {
      const m = paths.numRows;
      const pi = paths.getChild('inode');
      const pp = paths.getChild('path');
      const pt = paths.getChild('file_type');
      if (!pi || !pp || !pt) throw new InputError(file, 'fs_paths lacks one of the columns inode, path, file_type', { what: 'schema' });
      const inos = new Uint32Array(m);
      const strs = new Array<string>(m);
      const types = new Uint8Array(m);
      for (let k = 0; k < m; k++) {
        inos[k] = num(pi.at(k), 'inode');
        strs[k] = String(pp.at(k));
        types[k] = Number(pt.at(k));
      }
      list = FsPaths.fromRows(inos, strs, types, file);
    } else {
      // without fs_paths, fs_map.path gives one path per inode
      const pc = col('path');
      const seen = new Map<number, string>();
      for (let i = 0; i < n; i++) {
        const p = pc.at(i);
        if (p !== null && cols.inode[i] && !seen.has(cols.inode[i]!)) seen.set(cols.inode[i]!, String(p));
      }
      const inos = [...seen.keys()].sort((a, b) => a - b);
      list = FsPaths.fromRows(
        Uint32Array.from(inos),
        inos.map((x) => seen.get(x)!),
        new Uint8Array(inos.length),
        file,
      );
    }
    const fm = new FsMap(g, cols, list);
    fm.summary.files = Number(meta['fs.files'] ?? 0);
    fm.summary.dirs = Number(meta['fs.dirs'] ?? 0);
    // inode-table rows of a group start at that group's table: recover them for inode ranges
    const tableBlocks = Math.ceil((g.inodesPerGroup * g.inodeSize) / g.blockSize);
    const starts: number[] = [];
    for (let i = 0; i < n; i++)
      if (FS_MAP_KINDS[cols.kind[i]!] === 'inode_table')
        for (let b = 0; b < cols.blocks[i]!; b += tableBlocks) starts.push(cols.fsBlock[i]! + b);
    if (starts.length === g.groups) fm.setInodeTables(Float64Array.from(starts));
    return fm;
  }
}
