/**
 * Address maps and region labels for the correlation, from the mapping readers: the guest fs map
 * (file → guest disk; labels of guest blocks), the image map (guest disk → image file), the host
 * fs map (image file → host disk; labels of host blocks).
 */
import type { FsMap } from '../fs/ext/fs-map.js';
import { FS_MAP_KINDS } from '../table/schemas/fs-map.js';
import { InputError } from '../util/errors.js';
import type { ImageMap } from '../image/image-map-lookup.js';
import { IMAGE_EXTENT_STATES } from '../table/schemas/image-map.js';
import type { LayerRegions, RegionCause } from './attribution.js';
import type { AppLayer } from './layers.js';
import { RangeMap } from './range-map.js';
import { RegionIndex } from './region-index.js';
import { stripMountPrefix } from './mount-prefix.js';

const KIND_DATA = FS_MAP_KINDS.indexOf('data');
const KIND_JOURNAL = FS_MAP_KINDS.indexOf('journal');

/** The file's content extents (kind data) as a map file offset → disk byte. */
export function fileRangeMap(fs: FsMap, inode: number): RangeMap {
  const bs = fs.geometry.blockSize;
  const s: number[] = [],
    d: number[] = [],
    l: number[] = [];
  for (const e of fs.fileExtents(inode)) {
    if (e.kind !== 'data' || e.unwritten) continue;
    s.push(e.fileBlock * bs);
    d.push(e.sector * 512);
    l.push(e.blocks * bs);
  }
  return new RangeMap(s, d, l, `extents of inode ${inode}`, true);
}

/** Per application file: its extent map in the guest fs (null when the path is not there), and the inodes touched. */
export function appFileMaps(
  app: AppLayer,
  fs: FsMap,
  prefix: string,
): { maps: (RangeMap | null)[]; inodes: Set<number>; resolved: number } {
  const inodes = new Set<number>();
  let resolved = 0;
  const maps = app.files.map((p) => {
    const fsPath = stripMountPrefix(p, prefix);
    const ino = fsPath === null ? null : fs.inodeOf(fsPath);
    if (ino === null) return null;
    inodes.add(ino);
    resolved++;
    return fileRangeMap(fs, ino);
  });
  return { maps, inodes, resolved };
}

/**
 * Labels of a guest file system's blocks: journal, fs_metadata:<kind>, and file data — of files the
 * application used (unlinked reads are readahead, unlinked writes writeback of writes outside the
 * trace) or of other files.
 */
export function guestRegions(fs: FsMap, appInodes: ReadonlySet<number>, vm: number): LayerRegions {
  const c = fs.columns,
    bs = fs.geometry.blockSize,
    off = fs.geometry.partitionOffset;
  const causes: RegionCause[] = [];
  const labelOf = new Map<string, number>();
  const label = (read: string, write: string) => {
    const key = read + '\0' + write;
    let k = labelOf.get(key);
    if (k === undefined) {
      k = causes.length;
      causes.push({ read, write, vm });
      labelOf.set(key, k);
    }
    return k;
  };
  const start = new Float64Array(fs.rows),
    end = new Float64Array(fs.rows),
    lab = new Int32Array(fs.rows);
  for (let i = 0; i < fs.rows; i++) {
    start[i] = off + c.fsBlock[i]! * bs;
    end[i] = start[i]! + c.blocks[i]! * bs;
    const k = c.kind[i]!;
    if (k === KIND_JOURNAL) lab[i] = label('journal', 'journal');
    else if (k === KIND_DATA) lab[i] = appInodes.has(c.inode[i]!) ? label('readahead', 'writeback') : label('other_file', 'other_file');
    else {
      const n = `fs_metadata:${FS_MAP_KINDS[k]}`;
      lab[i] = label(n, n);
    }
  }
  return { index: new RegionIndex(start, end, lab, 'guest fs map', true), causes };
}

/** Guest disk byte → image file byte for raw images (identity over the virtual size). */
export function rawImageMap(virtualBytes: number): RangeMap {
  return RangeMap.identity(virtualBytes);
}

/** Guest disk byte → image file byte from an image map (depth-0 data extents; compressed and backing-file extents are not linear and are left out). */
export function imageRangeMap(map: ImageMap): RangeMap {
  const s: number[] = [],
    d: number[] = [],
    l: number[] = [];
  const data = IMAGE_EXTENT_STATES.indexOf('data');
  map.forEachGuestPiece(0, map.size, (g, len, state, depth, h) => {
    if (state === data && depth === 0 && h >= 0) {
      s.push(g);
      d.push(h);
      l.push(len);
    }
  });
  return new RangeMap(s, d, l, 'image map');
}

/** Guest disk byte → image file byte from `qemu-img map --output=json` (depth 0, data with an offset). */
export function qemuImgMapRangeMap(json: string, file: string): RangeMap {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new InputError(file, `not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc)) throw new InputError(file, 'expected the JSON array of `qemu-img map --output=json`');
  const s: number[] = [],
    d: number[] = [],
    l: number[] = [];
  doc.forEach((r: Record<string, unknown>, i) => {
    if (typeof r !== 'object' || r === null || typeof r.start !== 'number' || typeof r.length !== 'number') {
      throw new InputError(file, `entry ${i}: expected {start, length, ...} numbers`, { what: `entry ${i}` });
    }
    if (r.depth === 0 && r.data === true && typeof r.offset === 'number') {
      for (const [k, v] of [
        ['start', r.start],
        ['offset', r.offset],
        ['length', r.length],
      ] as const) {
        // qemu-img prints byte offsets of an image: integers, exact in a double below 2^53 (8 PiB)
        if (!(Number.isSafeInteger(v) && v >= 0))
          throw new InputError(file, `entry ${i}: ${k} ${v}: expected a byte offset, a non-negative integer below 2^53`);
      }
      s.push(r.start);
      d.push(r.offset);
      l.push(r.length);
    }
  });
  try {
    return new RangeMap(s, d, l, file);
  } catch (e) {
    // overlapping data extents: not a map qemu-img writes
    if (e instanceof RangeError) throw new InputError(file, e.message.startsWith(file) ? e.message.slice(file.length + 2) : e.message);
    throw e;
  }
}

/**
 * The allocation unit of a qcow2 image (the cluster, or the sub-cluster of extended L2 entries)
 * seen only through its data extents (`qemu-img map`): every data extent starts on a unit boundary
 * both in the guest disk and in the image file (qcow2 spec: L2 entries hold aligned host offsets
 * of whole clusters; with extended L2, allocation bits per 1/32 of a cluster), so the unit divides
 * all those starts. The largest power of two from 512 B to 2 MiB (cluster_bits 9 to 21) dividing
 * them: the unit itself unless every extent happens to be aligned further, which a map with many
 * extents makes unlikely. 0 (unknown) with fewer than 3 data extents.
 */
export function allocationUnitOfMap(map: RangeMap): number {
  if (map.size < 3) return 0;
  let bits = 21;
  for (let i = 0; i < map.size && bits > 9; i++) {
    for (const v of [map.src[i]!, map.dst[i]!]) while (bits > 9 && v % 2 ** bits !== 0) bits--;
  }
  return 2 ** bits;
}

export interface HostImage {
  /** VM index in the analysis, or -1 for an image whose guest was not given (its bytes are other_vm). */
  vm: number;
  /** Inode of the image file in the host fs. */
  inode: number;
  /** guest disk byte → host disk byte, to mark which host bytes carry guest data. */
  guestToHost: RangeMap | null;
}

/**
 * Labels of the host file system's blocks: the image files' data blocks (ranges carrying guest
 * bytes that no guest request explains: unattributed, named further by host-causes.ts; the other
 * data blocks of an image file hold the image format's own structures, qcow2 header, L1/L2 and
 * refcount tables: image_metadata; images of VMs not analysed: other_vm), the host journal, host
 * metadata by kind (the image files' own mapping blocks, ext2/3 indirect or ext4 extent tree
 * blocks, included: host_fs_metadata:<kind>), other host files.
 */
export function hostRegions(fs: FsMap, images: readonly HostImage[]): LayerRegions {
  const c = fs.columns,
    bs = fs.geometry.blockSize,
    off = fs.geometry.partitionOffset;
  const causes: RegionCause[] = [];
  const labelOf = new Map<string, number>();
  const label = (read: string, write: string, vm: number) => {
    const key = `${read}\0${write}\0${vm}`;
    let k = labelOf.get(key);
    if (k === undefined) {
      k = causes.length;
      causes.push({ read, write, vm });
      labelOf.set(key, k);
    }
    return k;
  };
  const imageOf = new Map<number, HostImage>();
  for (const im of images) imageOf.set(im.inode, im);
  const start = new Float64Array(fs.rows),
    end = new Float64Array(fs.rows),
    lab = new Int32Array(fs.rows);
  for (let i = 0; i < fs.rows; i++) {
    start[i] = off + c.fsBlock[i]! * bs;
    end[i] = start[i]! + c.blocks[i]! * bs;
    const k = c.kind[i]!;
    const im = imageOf.get(c.inode[i]!);
    if (im && k === KIND_DATA) lab[i] = im.vm < 0 ? label('other_vm', 'other_vm', -1) : label('image_metadata', 'image_metadata', im.vm);
    else if (k === KIND_JOURNAL) lab[i] = label('host_journal', 'host_journal', -1);
    else if (k === KIND_DATA) lab[i] = label('host_other_file', 'host_other_file', -1);
    else {
      const n = `host_fs_metadata:${FS_MAP_KINDS[k]}`;
      lab[i] = label(n, n, -1);
    }
  }
  let index = new RegionIndex(start, end, lab, 'host fs map', true);
  // host ranges that hold guest data of an analysed VM
  for (const im of images) {
    if (im.vm < 0 || !im.guestToHost) continue;
    const m = im.guestToHost;
    const l = label('unattributed', 'unattributed', im.vm);
    index = RegionIndex.overlay(
      index,
      new RegionIndex(
        m.dst,
        Float64Array.from(m.dst, (d, i) => d + m.len[i]!),
        new Int32Array(m.size).fill(l),
        'image data',
        true,
      ),
    );
  }
  return { index, causes };
}

/** Inode of a path in a fs map, or an InputError naming the metadata file. */
export function inodeOfPath(fs: FsMap, path: string, file: string): number {
  const ino = fs.inodeOf(path);
  if (ino === null) throw new InputError(file, `no file ${path} in this file system (expected the image file)`);
  return ino;
}
