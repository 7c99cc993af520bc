/**
 * Compares an image_map table with `qemu-img map --output=json` output, range by range, after
 * cutting both at the union of their boundaries (qemu splits and merges extents differently:
 * host-file holes inside allocated clusters, adjacent compressed clusters).
 */
import type { Table } from '@uwdata/flechette';

export interface QemuMapEntry {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

interface Canon {
  start: number;
  end: number;
  state: string;
  depth: number;
  offset: number | null;
}

/** qemu's json entry in image_map terms; rawDepths: depths whose image is raw. */
function fromQemu(e: QemuMapEntry, rawDepths: Set<number>): Canon {
  const c: Canon = { start: e.start, end: e.start + e.length, state: '', depth: e.depth, offset: e.offset ?? null };
  if (rawDepths.has(e.depth) && e.offset !== undefined) c.state = 'data';
  else if (e.data && e.offset === undefined) c.state = 'compressed';
  else if (e.data) c.state = 'data';
  else if (e.present && e.zero) c.state = 'zero';
  else c.state = 'unallocated';
  return c;
}

function fromTable(t: Table): Canon[] {
  const g = t.getChild('guest_offset')!.toArray() as BigInt64Array;
  const l = t.getChild('length')!.toArray() as BigInt64Array;
  const s = t.getChild('state')!.toArray() as string[];
  const d = t.getChild('depth')!.toArray() as Int16Array;
  const h = t.getChild('host_offset')!.toArray() as (bigint | null)[];
  const out: Canon[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const start = Number(g[i]);
    out.push({
      start,
      end: start + Number(l[i]),
      state: s[i]!,
      depth: d[i]!,
      offset: h[i] === null || h[i] === undefined ? null : Number(h[i]),
    });
  }
  return out;
}

/** Differences (empty when the two maps agree everywhere); also checks that both cover [0, size). */
export function compareWithQemuMap(table: Table, qemu: QemuMapEntry[], rawDepths: Set<number>, size: number): string[] {
  const a = fromTable(table);
  const b = qemu.map((e) => fromQemu(e, rawDepths));
  const problems: string[] = [];
  for (const [name, list] of [
    ['image_map', a],
    ['qemu-img map', b],
  ] as const) {
    let at = 0;
    for (const c of list) {
      if (c.start !== at) problems.push(`${name}: gap or overlap at ${at} (next extent starts at ${c.start})`);
      at = c.end;
    }
    if (at !== size) problems.push(`${name}: covers up to ${at}, disk size is ${size}`);
  }
  if (problems.length) return problems;
  const cuts = [...new Set([...a.map((c) => c.start), ...b.map((c) => c.start), size])].sort((x, y) => x - y);
  let i = 0,
    j = 0;
  for (let k = 0; k + 1 < cuts.length; k++) {
    const p = cuts[k]!;
    while (a[i]!.end <= p) i++;
    while (b[j]!.end <= p) j++;
    const x = a[i]!,
      y = b[j]!;
    const where = `guest [${p}, ${cuts[k + 1]})`;
    if (x.state !== y.state || x.depth !== y.depth) {
      problems.push(`${where}: image_map ${x.state}@depth ${x.depth}, qemu-img ${y.state}@depth ${y.depth}`);
      continue;
    }
    // qemu gives no offset for compressed clusters; image_map gives the compressed data's offset
    if (y.state === 'compressed') {
      if (x.offset === null) problems.push(`${where}: compressed without host offset`);
      continue;
    }
    const xo = x.offset === null ? null : x.offset + (p - x.start);
    const yo = y.offset === null ? null : y.offset + (p - y.start);
    if (xo !== yo) problems.push(`${where}: host offset image_map ${xo}, qemu-img ${yo}`);
  }
  return problems;
}
