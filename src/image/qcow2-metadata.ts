/**
 * Where a qcow2 file keeps its own structures (QEMU docs/interop/qcow2.txt): the header cluster,
 * the active L1 table and its L2 tables, the refcount table and refcount blocks, the snapshot table
 * and each internal snapshot's L1 table, L2 tables and data clusters not shared with the active
 * image. Host I/O on an image file that hits these ranges is the image format's own I/O, not guest
 * data: this lets every byte of the file be accounted for.
 */
import type { BlockSource } from '../io/block-source.js';
import { InputError, formatOffset } from '../util/errors.js';
import type { Qcow2Header } from './qcow2-header.js';
import type { Qcow2Tables } from './qcow2-tables.js';

export const QCOW2_METADATA_KINDS = [
  'header',
  'l1_table',
  'l2_table',
  'refcount_table',
  'refcount_block',
  'snapshot_table',
  'snapshot_l1_table',
  'snapshot_l2_table',
  'snapshot_data',
] as const;
export type Qcow2MetadataKind = (typeof QCOW2_METADATA_KINDS)[number];

/** Byte ranges of the file, sorted by offset, each with a kind (index into QCOW2_METADATA_KINDS). */
export interface Qcow2MetadataExtents {
  offset: Float64Array;
  length: Float64Array;
  kind: Uint8Array;
}

const K = Object.fromEntries(QCOW2_METADATA_KINDS.map((k, i) => [k, i])) as Record<Qcow2MetadataKind, number>;

/** List the metadata ranges of one qcow2 file (whole clusters; ranges of one kind merged). */
export function qcow2MetadataExtents(file: BlockSource, h: Qcow2Header, tables: Qcow2Tables): Qcow2MetadataExtents {
  const cs = h.clusterSize;
  const clusters = new Map<number, number>(); // host cluster index -> kind
  const fileEnd = Math.ceil(file.size / cs) * cs;
  const add = (offset: number, bytes: number, kind: number, what: string, at: number) => {
    if (offset % cs !== 0 || offset + bytes > fileEnd) {
      throw new InputError(
        file.name,
        `${what} at ${formatOffset(offset)} (${bytes} bytes) is not cluster aligned or lies beyond the end of the file (size ${formatOffset(file.size)})`,
        { offset: at, what },
      );
    }
    for (let c = offset / cs; c < (offset + Math.max(bytes, 1)) / cs; c++) if (!clusters.has(c)) clusters.set(c, kind);
  };
  add(0, cs, K.header, 'qcow2 header', 0);
  if (h.l1Size) add(h.l1TableOffset, h.l1Size * 8, K.l1_table, 'L1 table', 40);
  for (let i = 0; i < tables.l1.length; i++) if (tables.l1[i]) add(tables.l1[i]!, cs, K.l2_table, 'L2 table', h.l1TableOffset + i * 8);

  // refcount table (qcow2.txt "Host cluster management"): u64 entries, bits 9-63 refcount block offset
  if (h.refcountTableClusters > 0) {
    const bytes = h.refcountTableClusters * cs;
    add(h.refcountTableOffset, bytes, K.refcount_table, 'refcount table', 48);
    const rt = file.read(h.refcountTableOffset, bytes, 'refcount table');
    const v = new DataView(rt.buffer, rt.byteOffset, rt.byteLength);
    for (let i = 0; i < bytes / 8; i++) {
      const off = v.getUint32(i * 8) * 0x100000000 + ((v.getUint32(i * 8 + 4) & 0xfffffe00) >>> 0);
      if (off) add(off, cs, K.refcount_block, 'refcount block', h.refcountTableOffset + i * 8);
    }
  }

  // snapshot table (qcow2.txt "Snapshots"): variable-length entries, each padded to 8 bytes
  if (h.nbSnapshots > 0) {
    let at = h.snapshotsOffset;
    const start = at;
    const l2Seen = new Set<number>(tables.l1);
    for (let s = 0; s < h.nbSnapshots; s++) {
      if (at + 40 > file.size)
        throw new InputError(file.name, `snapshot ${s} header beyond the end of the file`, { offset: at, what: 'snapshot table' });
      const e = file.read(at, 40, 'snapshot table entry');
      const ev = new DataView(e.buffer, e.byteOffset, 40);
      const l1Off = ev.getUint32(0) * 0x100000000 + ev.getUint32(4);
      const l1Size = ev.getUint32(8);
      const idLen = ev.getUint16(12),
        nameLen = ev.getUint16(14),
        extra = ev.getUint32(36);
      if (l1Size > (32 << 20) / 8)
        throw new InputError(file.name, `snapshot ${s}: L1 table of ${l1Size} entries exceeds qemu's limit`, {
          offset: at + 8,
          what: 'snapshot table entry',
        });
      if (l1Size) {
        add(l1Off, l1Size * 8, K.snapshot_l1_table, 'snapshot L1 table', at);
        const l1 = file.read(l1Off, l1Size * 8, 'snapshot L1 table');
        const lv = new DataView(l1.buffer, l1.byteOffset, l1.byteLength);
        for (let i = 0; i < l1Size; i++) {
          const l2 = (lv.getUint32(i * 8) & 0x00ffffff) * 0x100000000 + ((lv.getUint32(i * 8 + 4) & 0xfffffe00) >>> 0);
          if (!l2 || l2Seen.has(l2)) continue;
          l2Seen.add(l2);
          add(l2, cs, K.snapshot_l2_table, 'snapshot L2 table', l1Off + i * 8);
          snapshotData(file, h, l2, (off, bytes, where) => add(off, bytes, K.snapshot_data, 'snapshot data cluster', where));
        }
      }
      at += Math.ceil((40 + extra + idLen + nameLen) / 8) * 8;
    }
    add(start - (start % cs), Math.ceil((at - start + (start % cs)) / cs) * cs, K.snapshot_table, 'snapshot table', 64);
  }

  const keys = [...clusters.keys()].sort((a, b) => a - b);
  const offset: number[] = [],
    length: number[] = [],
    kind: number[] = [];
  for (const c of keys) {
    const k = clusters.get(c)!;
    const n = offset.length - 1;
    if (n >= 0 && kind[n] === k && offset[n]! + length[n]! === c * cs) length[n]! += cs;
    else {
      offset.push(c * cs);
      length.push(cs);
      kind.push(k);
    }
  }
  return { offset: Float64Array.from(offset), length: Float64Array.from(length), kind: Uint8Array.from(kind) };
}

/** Data clusters of a snapshot's L2 table (shared ones are reported again; the caller keeps the first kind). */
function snapshotData(file: BlockSource, h: Qcow2Header, l2Off: number, add: (off: number, bytes: number, where: number) => void): void {
  const t = file.read(l2Off, h.clusterSize, 'snapshot L2 table');
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const csizeShift = 62 - (h.clusterBits - 8);
  for (let j = 0; j < h.l2Entries; j++) {
    const hi = v.getUint32(j * h.l2EntryBytes),
      lo = v.getUint32(j * h.l2EntryBytes + 4);
    if (hi & 0x40000000) {
      const offHiBits = csizeShift - 32;
      const off = (hi & 0x3fffffff & ((1 << offHiBits) - 1)) * 0x100000000 + lo;
      const bytes = (((hi & 0x3fffffff) >>> offHiBits) + 1) * 512 - (off % 512);
      const first = off - (off % h.clusterSize);
      add(
        first,
        Math.min(Math.ceil((off + bytes - first) / h.clusterSize) * h.clusterSize, Math.max(0, file.size - first)),
        l2Off + j * h.l2EntryBytes,
      );
      continue;
    }
    const off = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
    if (off) add(off, h.clusterSize, l2Off + j * h.l2EntryBytes);
  }
}
