/**
 * The paths of a trace: the app_io path dictionary, fed by -y decorations ("3</data/f>", strace(1)
 * "-y") and by quoted path arguments (resolved against the decorated directory fd of the *at
 * calls, openat(2)), and what is known about each file (its size). Paths that do not start with
 * "/" (pipe:[N], socket:[N], anon_inode:...) name objects without a file position.
 */
import type { StringColumnBuilder } from '../../table/column-builders.js';
import { decodeBytes, decorationRange } from './strace-bytes.js';
import { decodeCEscapes } from './strace-string.js';
import { FileState } from './fd-table.js';

/**
 * A copy of a substring that does not keep its parent alive: V8 slices of 13+ characters point
 * into the parent string. Strings kept past the current line (dictionary entries, map keys,
 * examples) go through this.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

export class PathTable {
  /** Path key by the raw text of a -y decoration (before unescaping). */
  private readonly rawPathKeys = new Map<string, number>();
  /** Per path key: 1 seekable (a path), 0 not (pipe:, socket:, anon_inode:). */
  private readonly seekableByKey: number[] = [];
  /** What is known about each seekable file, by path key (one trace). */
  private readonly files = new Map<number, FileState>();
  private readonly range = new Int32Array(2);
  /** Raw text of the last decoration `decorated` looked up. */
  lastRaw = '';

  /** `onNewPath` is called once per new path key (the summary's per-path counters). */
  constructor(
    private readonly column: StringColumnBuilder,
    private readonly onNewPath: (key: number) => void,
  ) {}

  /** Names of paths by key (the path dictionary). */
  get names(): readonly string[] {
    return this.column.dictionary;
  }

  seekable(key: number): boolean {
    return this.seekableByKey[key] === 1;
  }

  /** Path key of the -y decoration of the token b[s, e), or -1; its raw text is left in lastRaw. */
  decorated(b: Uint8Array, s: number, e: number): number {
    decorationRange(b, s, e, this.range);
    const ds = this.range[0]!;
    if (ds < 0) return -1;
    const raw = decodeBytes(b, ds, this.range[1]!);
    this.lastRaw = raw;
    let k = this.rawPathKeys.get(raw);
    if (k === undefined) {
      k = this.key(decodeCEscapes(raw, 0, raw.length));
      this.rawPathKeys.set(raw, k);
    }
    return k;
  }

  /** Path key of `path`. */
  key(path: string): number {
    const k = this.column.intern(detach(path));
    if (this.seekableByKey[k] === undefined) {
      this.seekableByKey[k] = path.charCodeAt(0) === 47 ? 1 : 0;
      this.onNewPath(k);
    }
    return k;
  }

  /** Path key of a quoted path argument b[s, e), resolved against the -y path of dirfd when relative; -1 if not quoted. */
  quoted(b: Uint8Array, s: number, e: number, dirKey: number): number {
    if (b[s] !== 34) return -1;
    let q = e - 1;
    while (q > s && b[q] !== 34) q--;
    if (q <= s) return -1;
    const text = decodeBytes(b, s + 1, q);
    let p = decodeCEscapes(text, 0, text.length);
    if (p.charCodeAt(0) !== 47 && dirKey >= 0) {
      const dir = this.column.dictionary[dirKey]!;
      p = p === '' ? dir : dir.endsWith('/') ? dir + p : `${dir}/${p}`;
    }
    return this.key(p);
  }

  /** What is known about the file of `key`: shared by every description of a seekable path, fresh otherwise. */
  fileState(key: number): FileState {
    if (key < 0 || !this.seekableByKey[key]) return new FileState();
    let f = this.files.get(key);
    if (!f) {
      f = new FileState();
      this.files.set(key, f);
    }
    return f;
  }

  /** A new trace: its files are other files. */
  endTrace(): void {
    this.files.clear();
  }
}
