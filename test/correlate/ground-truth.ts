/** Ground truth helpers for the real-capture tests: debugfs block maps, byte-range overlaps, table rows. */
import { execFileSync } from 'node:child_process';
import type { Table } from '@uwdata/flechette';

export function haveTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
export const haveDebugfs = haveTool('debugfs');
if (!haveDebugfs) console.log('debugfs not installed (e2fsprogs): skipping the debugfs ground-truth checks');

export type Row = Record<string, unknown>;
export const rows = (t: Table): Row[] => t.toArray() as Row[];
export const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

/** [start, end) byte ranges on a disk, sorted. */
export type Ranges = [number, number][];
export function overlap(r: Ranges, a: number, b: number): number {
  let n = 0;
  for (const [s, e] of r) {
    const x = Math.max(s, a),
      y = Math.min(e, b);
    if (y > x) n += y - x;
  }
  return n;
}

/** debugfs `stat` BLOCKS list → logical block → physical block runs (indirect blocks skipped). */
export function debugfsFileMap(img: string, path: string): { logical: number; physical: number; count: number }[] {
  const out = execFileSync('debugfs', ['-R', `stat ${path}`, img], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const list = out.slice(out.indexOf('BLOCKS:') + 7, out.indexOf('TOTAL:'));
  const runs = [];
  for (const m of list.matchAll(/\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?/g)) {
    const l0 = Number(m[1]),
      l1 = Number(m[2] ?? m[1]),
      p0 = Number(m[3]);
    runs.push({ logical: l0, physical: p0, count: l1 - l0 + 1 });
  }
  return runs;
}

/** Disk byte ranges of a file byte range, through a block map. */
export function fileRangeOnDisk(map: { logical: number; physical: number; count: number }[], bs: number, off: number, len: number): Ranges {
  const out: Ranges = [];
  for (const r of map) {
    const fs = r.logical * bs,
      fe = fs + r.count * bs;
    const a = Math.max(fs, off),
      b = Math.min(fe, off + len);
    if (b > a) out.push([r.physical * bs + (a - fs), r.physical * bs + (b - fs)]);
  }
  return out;
}

/** The workload's own log (ffsb-lite-v1): data lines as [seq, phase, op, file, offset, size, ret, start_ns, end_ns]. */
export function workloadLog(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split('\t'));
}
