/**
 * Every name of every inode (hard links included), held compactly: directory entries as name
 * bytes in one buffer plus a parent link per entry, so 100k paths cost tens of bytes each and a
 * full path string is made only when asked for. Paths are "/"-joined from the root (inode 2); an
 * inode's primary path is the smallest of its paths in UTF-16 code-unit order.
 */
import { InputError } from '../../util/errors.js';
import { GrowableArray } from '../../util/growable.js';
import { ReservedInode } from './inode.js';
import { lowerBound } from '../../util/sorted.js';

/** Collects directory entries during an inode scan (no string per entry). */
export class DirEntryCollector {
  readonly parent = new GrowableArray(Uint32Array, 4096);
  readonly child = new GrowableArray(Uint32Array, 4096);
  readonly fileType = new GrowableArray(Uint8Array, 4096);
  readonly nameStart = new GrowableArray(Float64Array, 4096);
  readonly nameBytes = new GrowableArray(Uint8Array, 65536);

  add(parent: number, child: number, name: Uint8Array, fileType: number): void {
    this.parent.push(parent);
    this.child.push(child);
    this.fileType.push(fileType);
    this.nameStart.push(this.nameBytes.length);
    for (let i = 0; i < name.length; i++) this.nameBytes.push(name[i]!);
  }
  get length(): number {
    return this.child.length;
  }

  /**
   * Resolve entries to paths: breadth-first from the root; a directory reached twice or in a loop
   * keeps its first parent; entries under directories not reachable from the root are dropped
   * (their count is returned).
   */
  resolve(): { paths: FsPaths; unreachable: number } {
    const n = this.length;
    const parent = this.parent.data;
    const child = this.child.data;
    // entries grouped by parent directory (counting sort)
    const dirSlot = new Map<number, number>();
    for (let i = 0; i < n; i++) if (!dirSlot.has(parent[i]!)) dirSlot.set(parent[i]!, dirSlot.size);
    const start = new Uint32Array(dirSlot.size + 1);
    for (let i = 0; i < n; i++) start[dirSlot.get(parent[i]!)! + 1]!++;
    for (let s = 0; s < dirSlot.size; s++) start[s + 1]! += start[s]!;
    const fill = start.slice(0, dirSlot.size);
    const byParent = new Uint32Array(n);
    for (let i = 0; i < n; i++) byParent[fill[dirSlot.get(parent[i]!)!]!++] = i;
    // parentEntry[i]: the entry naming entry i's directory (-1: the root; -2: unreachable)
    const parentEntry = new Int32Array(n).fill(-2);
    const dirEntry = new Map<number, number>([[ReservedInode.ROOT, -1]]);
    const queue: number[] = [ReservedInode.ROOT];
    for (let q = 0; q < queue.length; q++) {
      const d = queue[q]!;
      const slot = dirSlot.get(d);
      if (slot === undefined) continue;
      const pe = dirEntry.get(d)!;
      for (let k = start[slot]!; k < start[slot + 1]!; k++) {
        const i = byParent[k]!;
        parentEntry[i] = pe;
        const c = child[i]!;
        if (dirSlot.has(c) && !dirEntry.has(c)) {
          dirEntry.set(c, i);
          queue.push(c);
        }
      }
    }
    const idx: number[] = [];
    let unreachable = 0;
    for (let i = 0; i < n; i++)
      if (parentEntry[i] !== -2) idx.push(i);
      else unreachable++;
    const names = { bytes: this.nameBytes.data, start: this.nameStart.data, count: n, end: this.nameBytes.length };
    const tmp = new FsPaths(new Uint32Array(0), new Uint32Array(0), parentEntry, names, this.fileType.data);
    idx.sort((a, b) => child[a]! - child[b]! || (a === b ? 0 : cmp(tmp.entryPath(a), tmp.entryPath(b))));
    const inode = new Uint32Array(idx.length);
    const entry = Uint32Array.from(idx);
    for (let k = 0; k < idx.length; k++) inode[k] = child[idx[k]!]!;
    return {
      paths: new FsPaths(
        inode,
        entry,
        parentEntry,
        { bytes: this.nameBytes.finish(), start: this.nameStart.finish(), count: n, end: this.nameBytes.length },
        this.fileType.finish(),
      ),
      unreachable,
    };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface NameStore {
  bytes: Uint8Array;
  start: Float64Array;
  count: number;
  end: number;
}

/** The paths of a file system, sorted by (inode, path). */
export class FsPaths {
  private byPath: Map<string, number> | null = null;
  constructor(
    /** inode of row k (rows sorted by inode, then path). */
    readonly inode: Uint32Array,
    /** Entry index of row k. */
    private readonly entry: Uint32Array,
    private readonly parentEntry: Int32Array,
    private readonly names: NameStore,
    private readonly types: Uint8Array,
  ) {}

  /** Rows (names). */
  get length(): number {
    return this.inode.length;
  }

  /** Paths of entries that are parents of other entries (directories), made on first use. */
  private readonly dirPaths = new Map<number, string>();

  private nameBuf: Buffer | null = null;
  /** Name bytes as text: UTF-8, invalid sequences become U+FFFD (ext names are byte strings without a declared encoding). */
  private entryName(e: number): string {
    const s = this.names.start[e]!;
    const end = e + 1 < this.names.count ? this.names.start[e + 1]! : this.names.end;
    const b = this.names.bytes;
    this.nameBuf ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return this.nameBuf.toString('utf8', s, end);
  }

  private dirPath(e: number, depth: number): string {
    let p = this.dirPaths.get(e);
    if (p !== undefined) return p;
    if (depth > 4096) throw new Error('path deeper than 4096 levels (a directory loop)');
    const parent = this.parentEntry[e]!;
    p = (parent < 0 ? '' : this.dirPath(parent, depth + 1)) + '/' + this.entryName(e);
    this.dirPaths.set(e, p);
    return p;
  }

  /** Full path of entry i. */
  entryPath(i: number): string {
    const parent = this.parentEntry[i]!;
    return (parent < 0 ? '' : this.dirPath(parent, 0)) + '/' + this.entryName(i);
  }

  pathAt(k: number): string {
    return this.entryPath(this.entry[k]!);
  }
  fileTypeAt(k: number): number {
    return this.types[this.entry[k]!]!;
  }

  /** First row of an inode, or -1. */
  firstRow(ino: number): number {
    const a = this.inode;
    const lo = lowerBound(a, ino);
    return lo < a.length && a[lo] === ino ? lo : -1;
  }

  /** The primary path of an inode, or null when it has no name. */
  pathOf(ino: number): string | null {
    const k = this.firstRow(ino);
    return k < 0 ? null : this.pathAt(k);
  }

  /** Every path of an inode, sorted. */
  pathsOf(ino: number): string[] {
    const out: string[] = [];
    const k0 = this.firstRow(ino);
    if (k0 < 0) return out;
    for (let k = k0; k < this.inode.length && this.inode[k] === ino; k++) out.push(this.pathAt(k));
    return out;
  }

  /** Inode named by a path ("/a/b"; "/" is the root), or null. The index is built on first use. */
  inodeOf(path: string): number | null {
    const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    if (p === '/' || p === '') return ReservedInode.ROOT;
    if (!this.byPath) {
      this.byPath = new Map();
      for (let k = 0; k < this.inode.length; k++) this.byPath.set(this.pathAt(k), this.inode[k]!);
    }
    return this.byPath.get(p.startsWith('/') ? p : '/' + p) ?? null;
  }

  /** From (inode, path, file_type) rows, e.g. an fs_paths table; rows must be sorted by inode. */
  static fromRows(inode: Uint32Array, path: string[], fileType: Uint8Array, file: string): FsPaths {
    const enc = new TextEncoder();
    const n = path.length;
    const bytes = new GrowableArray(Uint8Array, 65536);
    const start = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      if (k > 0 && inode[k]! < inode[k - 1]!)
        throw new InputError(file, `fs_paths row ${k}: rows must be sorted by inode (${inode[k]} after ${inode[k - 1]})`, {
          what: 'fs_paths',
        });
      start[k] = bytes.length;
      // each row is its own root-level "entry" holding the whole path minus the leading slash
      const b = enc.encode(path[k]!.startsWith('/') ? path[k]!.slice(1) : path[k]!);
      for (let i = 0; i < b.length; i++) bytes.push(b[i]!);
    }
    const entry = new Uint32Array(n);
    for (let k = 0; k < n; k++) entry[k] = k;
    return new FsPaths(inode, entry, new Int32Array(n).fill(-1), { bytes: bytes.finish(), start, count: n, end: bytes.length }, fileType);
  }
}
