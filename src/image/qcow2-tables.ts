/**
 * qcow2 two-level cluster mapping (QEMU docs/interop/qcow2.txt, "Cluster mapping"): the L1 table,
 * L2 tables with standard 64-bit or extended 128-bit entries, and compressed cluster descriptors.
 * Entries are decoded from two big-endian 32-bit halves, so no bigint is made per cluster.
 */
import type { BlockSource } from '../io/block-source.js';
import { InputError, formatOffset } from '../util/errors.js';
import type { Qcow2Header } from './qcow2-header.js';

/**
 * What one guest (sub-)cluster reads as, from this image's tables alone.
 * Unallocated*: falls through to the backing file (or zeros); *Alloc: a host cluster is reserved.
 */
export const SubclusterType = {
  UnallocatedPlain: 0,
  UnallocatedAlloc: 1,
  ZeroPlain: 2,
  ZeroAlloc: 3,
  Normal: 4,
  Compressed: 5,
} as const;
export type SubclusterType = (typeof SubclusterType)[keyof typeof SubclusterType];

/** The decoded L2 entry of one guest cluster. One instance is reused by a walker. */
export interface ClusterEntry {
  /** Standard entries: host cluster offset (0 = none). Compressed: host byte offset of the data. */
  hostOffset: number;
  /** Compressed: bytes to read from hostOffset ((additional sectors + 1) * 512 - hostOffset % 512). */
  compressedLength: number;
  /** True for a compressed cluster (L2 bit 62). */
  compressed: boolean;
  /** Non-extended v3 "reads as zeros" flag (L2 bit 0). */
  zeroFlag: boolean;
  /** Extended L2: bits 0-31 of the bitmap, "sub-cluster allocated". */
  allocMask: number;
  /** Extended L2: bits 32-63 of the bitmap, "sub-cluster reads as zeros". */
  zeroMask: number;
}

export function newClusterEntry(): ClusterEntry {
  return { hostOffset: 0, compressedLength: 0, compressed: false, zeroFlag: false, allocMask: 0, zeroMask: 0 };
}

/** Reads the L1 table once and L2 tables on demand (a small LRU cache), validating offsets. */
export class Qcow2Tables {
  /** L2 table offsets by L1 index (0 = the whole L2 range is unallocated). */
  readonly l1: Float64Array;
  private readonly cache = new Map<number, DataView>();
  private readonly cacheMax: number;
  // the most recently used table: consecutive clusters hit it without touching the LRU map
  private lastOffset = -1;
  private lastTable: DataView | null = null;
  /** Bit position of the compressed-size field: 62 - (cluster_bits - 8). */
  private readonly csizeShift: number;

  constructor(
    readonly file: BlockSource,
    readonly header: Qcow2Header,
  ) {
    const h = header;
    this.csizeShift = 62 - (h.clusterBits - 8);
    this.cacheMax = Math.max(4, Math.floor((16 << 20) / h.clusterSize));
    this.l1 = new Float64Array(h.l1Size);
    if (h.l1Size === 0) return;
    const bytes = file.read(h.l1TableOffset, h.l1Size * 8, 'L1 table');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < h.l1Size; i++) {
      // L1 entry: bits 9-55 L2 table offset, bit 63 COPIED, others reserved
      const offset = (v.getUint32(i * 8) & 0x00ffffff) * 0x100000000 + ((v.getUint32(i * 8 + 4) & 0xfffffe00) >>> 0);
      if (offset === 0) continue;
      const at = h.l1TableOffset + i * 8;
      if (offset % h.clusterSize !== 0) {
        throw new InputError(
          file.name,
          `L1 entry ${i} points to an L2 table at ${formatOffset(offset)}, not aligned to the cluster size ${h.clusterSize}`,
          { offset: at, what: 'L1 table entry' },
        );
      }
      if (offset + h.clusterSize > file.size) {
        throw new InputError(
          file.name,
          `L1 entry ${i} points to an L2 table at ${formatOffset(offset)} beyond the end of the file (size ${formatOffset(file.size)})`,
          { offset: at, what: 'L1 table entry' },
        );
      }
      this.l1[i] = offset;
    }
  }

  /** The L2 table of L1 index `i`, or null when unallocated. */
  l2(i: number): DataView | null {
    const off = this.l1[i] ?? 0;
    if (off === 0) return null;
    if (off === this.lastOffset) return this.lastTable!;
    let t = this.cache.get(off);
    if (t) {
      this.cache.delete(off);
      this.cache.set(off, t);
      this.lastOffset = off;
      this.lastTable = t;
      return t;
    }
    const b = this.file.read(off, this.header.clusterSize, 'L2 table');
    t = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (this.cache.size >= this.cacheMax) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(off, t);
    this.lastOffset = off;
    this.lastTable = t;
    return t;
  }

  /**
   * Decode L2 entry `j` of table `l2` (L1 index `i`) into `out`. Checks what qemu checks before
   * using an entry (alignment, sub-cluster bitmap consistency) plus that offsets lie in the file.
   */
  decode(l2: DataView, i: number, j: number, out: ClusterEntry): void {
    const h = this.header;
    const at = j * h.l2EntryBytes;
    const hi = l2.getUint32(at);
    const lo = l2.getUint32(at + 4);
    out.allocMask = 0;
    out.zeroMask = 0;
    out.zeroFlag = false;
    out.compressedLength = 0;
    if (hi & 0x40000000) {
      // compressed (bit 62): bits 0..x-1 host byte offset, bits x..61 additional 512-byte sectors, x = 62 - (cluster_bits - 8)
      const x = this.csizeShift;
      const hi30 = hi & 0x3fffffff;
      const offHiBits = x - 32;
      const offset = (hi30 & ((1 << offHiBits) - 1)) * 0x100000000 + lo;
      const sectors = (hi30 >>> offHiBits) + 1;
      out.compressed = true;
      out.hostOffset = offset;
      out.compressedLength = sectors * 512 - (offset % 512);
      if (offset >= this.file.size)
        this.fail(
          i,
          j,
          `compressed cluster data at ${formatOffset(offset)} lies beyond the end of the file (size ${formatOffset(this.file.size)})`,
        );
      return;
    }
    out.compressed = false;
    // standard: bits 9-55 host cluster offset, bit 0 zero flag (v3, not with extended L2)
    const offset = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
    out.hostOffset = offset;
    if (h.extendedL2) {
      out.allocMask = l2.getUint32(at + 12);
      out.zeroMask = l2.getUint32(at + 8);
      if (offset === 0 && out.allocMask !== 0)
        this.fail(
          i,
          j,
          `sub-cluster bitmap marks sub-clusters allocated (0x${out.allocMask.toString(16)}) but the cluster has no host offset`,
        );
      if ((out.allocMask & out.zeroMask) !== 0)
        this.fail(i, j, `sub-clusters marked both allocated and zero (mask 0x${(out.allocMask & out.zeroMask).toString(16)})`);
    } else if (lo & 1) {
      out.zeroFlag = h.version === 3;
    }
    if (offset !== 0) {
      if (offset % h.clusterSize !== 0)
        this.fail(i, j, `host cluster offset ${formatOffset(offset)} is not aligned to the cluster size ${h.clusterSize}`);
      if (offset >= this.file.size)
        this.fail(
          i,
          j,
          `host cluster offset ${formatOffset(offset)} lies beyond the end of the file (size ${formatOffset(this.file.size)})`,
        );
    }
  }

  /** Type of sub-cluster `sc` (0 when not extended) of a decoded entry. */
  static subclusterType(e: ClusterEntry, extended: boolean, sc: number): SubclusterType {
    if (e.compressed) return SubclusterType.Compressed;
    if (!extended) {
      if (e.zeroFlag) return e.hostOffset ? SubclusterType.ZeroAlloc : SubclusterType.ZeroPlain;
      return e.hostOffset ? SubclusterType.Normal : SubclusterType.UnallocatedPlain;
    }
    const bit = 1 << sc;
    if (e.zeroMask & bit) return e.hostOffset ? SubclusterType.ZeroAlloc : SubclusterType.ZeroPlain;
    if (e.allocMask & bit) return SubclusterType.Normal;
    return e.hostOffset ? SubclusterType.UnallocatedAlloc : SubclusterType.UnallocatedPlain;
  }

  private fail(i: number, j: number, msg: string): never {
    const h = this.header;
    const at = (this.l1[i] ?? 0) + j * h.l2EntryBytes;
    throw new InputError(
      this.file.name,
      `L2 entry ${j} of L1 entry ${i} (guest offset ${formatOffset((i * h.l2Entries + j) * h.clusterSize)}): ${msg}`,
      { offset: at, what: 'L2 table entry' },
    );
  }
}
