/**
 * Parsers for the outputs of the independent tools used as oracles (debugfs icheck/ncheck/stat,
 * dumpe2fs, sleuthkit ifind, filefrag -v); output shapes in the reference notes (oracles.md 1-4).
 */
import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ext');
export const FIXTURE_NAMES = ['ext2-1k', 'ext3-1k', 'ext3-4k', 'ext4-4k', 'ext4-1k-noflex', 'ext4-inline-metabg'] as const;

export function golden(name: string, what: string): string {
  const p = join(FIXTURES, `${name}.${what}.txt.gz`);
  return existsSync(p) ? gunzipSync(readFileSync(p)).toString('utf8') : '';
}

/** debugfs icheck: block → inode, or null for "<block not found>". */
export function parseIcheck(text: string): Map<number, number | null> {
  const m = new Map<number, number | null>();
  for (const line of text.split('\n').slice(1)) {
    const [b, ino] = line.split('\t');
    if (!b || ino === undefined) continue;
    m.set(Number(b), /^\d+$/.test(ino) ? Number(ino) : null);
  }
  return m;
}

/** debugfs ncheck: inode → set of paths (the double leading slash of root entries normalised). */
export function parseNcheck(text: string): Map<number, Set<string>> {
  const m = new Map<number, Set<string>>();
  for (const line of text.split('\n').slice(1)) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const ino = Number(line.slice(0, tab));
    const p = line.slice(tab + 1).replace(/^\/\//, '/');
    if (!m.has(ino)) m.set(ino, new Set());
    m.get(ino)!.add(p);
  }
  return m;
}

export interface DumpLayout {
  /** block → kind for every static metadata block dumpe2fs lists. */
  kinds: Map<number, string>;
  /** Free block ranges [first, last]. */
  free: [number, number][];
}

const range = (s: string): [number, number] => {
  const [a, b] = s.split('-');
  return [Number(a), Number(b ?? a)];
};

/** dumpe2fs group lines: superblock, GDT, reserved GDT, bitmaps, inode tables; free blocks. */
export function parseDumpe2fs(text: string): DumpLayout {
  const kinds = new Map<number, string>();
  const free: [number, number][] = [];
  const put = (r: [number, number], kind: string) => {
    for (let b = r[0]; b <= r[1]; b++) kinds.set(b, kind);
  };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /(?:Primary|Backup) superblock at (\d+)/.exec(line))) put([Number(m[1]), Number(m[1])], 'superblock');
    if ((m = /Group descriptors? at (\d+(?:-\d+)?)/.exec(line))) put(range(m[1]!), 'group_desc');
    if ((m = /Reserved GDT blocks at (\d+-\d+)/.exec(line))) put(range(m[1]!), 'reserved_gdt');
    if ((m = /Block bitmap at (\d+)/.exec(line))) put([Number(m[1]), Number(m[1])], 'block_bitmap');
    if ((m = /Inode bitmap at (\d+)/.exec(line))) put([Number(m[1]), Number(m[1])], 'inode_bitmap');
    if ((m = /Inode table at (\d+-\d+)/.exec(line))) put(range(m[1]!), 'inode_table');
    if ((m = /^\s+Free blocks: (.+)$/.exec(line))) for (const r of m[1]!.split(', ')) if (r.trim()) free.push(range(r.trim()));
  }
  return { kinds, free };
}

export interface FilefragExtent {
  logical: number;
  physical: number;
  length: number;
  flags: string;
}
/** filefrag -v: file → extents (logical and physical in fs blocks; inline extents in bytes). */
export function parseFilefrag(text: string): Map<string, FilefragExtent[]> {
  const m = new Map<string, FilefragExtent[]>();
  let cur: FilefragExtent[] | null = null;
  for (const line of text.split('\n')) {
    const f = /^File size of (.+) is \d+/.exec(line);
    if (f) {
      cur = [];
      m.set(f[1]!, cur);
      continue;
    }
    const e = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+(\d+)\.\.\s*(\d+):\s+(\d+):\s*(?:\d+:)?\s*(.*)$/.exec(line);
    if (e && cur) cur.push({ logical: Number(e[1]), physical: Number(e[3]), length: Number(e[5]), flags: e[6]!.trim() });
  }
  return m;
}

/** debugfs stat BLOCKS section: indirect blocks of each file ("(IND):5284"). */
export function parseStatIndirect(text: string): Map<string, { inode: number; indirect: number[] }> {
  const m = new Map<string, { inode: number; indirect: number[] }>();
  let cur: { inode: number; indirect: number[] } | null = null;
  for (const line of text.split('\n')) {
    const f = /^=== (.+)$/.exec(line);
    if (f) {
      cur = { inode: 0, indirect: [] };
      m.set(f[1]!, cur);
      continue;
    }
    const i = /^Inode: (\d+)/.exec(line);
    if (i && cur) cur.inode = Number(i[1]);
    if (cur) for (const x of line.matchAll(/\((?:IND|DIND|TIND)\):(\d+)/g)) cur.indirect.push(Number(x[1]));
  }
  return m;
}

/** sleuthkit ifind -d: block → inode | "meta" | "none". */
export function parseIfind(text: string): Map<number, number | 'meta' | 'none'> {
  const m = new Map<number, number | 'meta' | 'none'>();
  for (const line of text.split('\n')) {
    const x = /^(\d+) (.*)$/.exec(line);
    if (!x) continue;
    const v = x[2]!.trim();
    if (/^\d+$/.test(v)) m.set(Number(x[1]), Number(v));
    else if (v === 'Meta Data') m.set(Number(x[1]), 'meta');
    else if (v === 'Inode not found') m.set(Number(x[1]), 'none');
  }
  return m;
}
