/**
 * The qcow2 header (QEMU docs/interop/qcow2.txt, "Header" and "Header extensions"), versions 2
 * and 3. Every field a reader of the guest view needs is checked against the file so that hostile
 * headers fail here, with the field and its byte offset named, before any table is read.
 */
import type { BlockSource } from '../io/block-source.js';
import { InputError, formatOffset } from '../util/errors.js';

/** "QFI\xfb", bytes 0-3 of every qcow2 file. */
export const QCOW2_MAGIC = 0x514649fb;

/** Incompatible feature bits (header bytes 72-79, qcow2.txt "incompatible_features"). */
export const Qcow2Incompatible = {
  Dirty: 1 << 0,
  Corrupt: 1 << 1,
  ExternalDataFile: 1 << 2,
  CompressionType: 1 << 3,
  ExtendedL2: 1 << 4,
} as const;

/** Header extension types (qcow2.txt "Header extensions"). */
export const Qcow2Extension = {
  End: 0x00000000,
  BackingFormat: 0xe2792aca,
  FeatureNames: 0x6803f857,
  Bitmaps: 0x23852875,
  FullDiskEncryption: 0x0537be77,
  ExternalDataFile: 0x44415441,
} as const;

export const Qcow2Compression = { Zlib: 0, Zstd: 1 } as const;

/** qemu's limits (block/qcow2.h): L1 at most 32 MiB, backing name at most 1023 bytes. */
const MAX_L1_BYTES = 32 * 1024 * 1024;
const MAX_BACKING_NAME = 1023;

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  /** Virtual disk size in bytes. */
  size: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: number;
  compatibleFeatures: number;
  autoclearFeatures: number;
  refcountOrder: number;
  headerLength: number;
  /** 0 zlib (raw deflate), 1 zstd. */
  compressionType: number;
  extendedL2: boolean;
  dirty: boolean;
  corrupt: boolean;
  /** Backing file name as stored (relative names are relative to this image's directory), or null. */
  backingFile: string | null;
  /** Backing format from header extension 0xE2792ACA ("qcow2", "raw"), or null when absent. */
  backingFormat: string | null;
  /** L2 entries per L2 table (cluster_size / 8, or / 16 with extended L2). */
  l2Entries: number;
  /** Bytes per L2 entry: 8, or 16 with extended L2. */
  l2EntryBytes: number;
  /** Sub-clusters per cluster: 32 with extended L2, else 1. */
  subclustersPerCluster: number;
}

/** True when the first bytes are a qcow2 magic number. */
export function isQcow2Magic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb;
}

/** Read a big-endian u64 as a number; throws an InputError when it is not a safe integer. */
export function readU64(view: DataView, at: number, file: string, what: string, base = 0): number {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if (hi >= 0x200000) {
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    throw new InputError(file, `${what} is ${v} (0x${v.toString(16)}), beyond any file or disk size this reader supports (2^53 - 1)`, {
      offset: base + at,
      what,
    });
  }
  return hi * 0x100000000 + lo;
}

/** Throws an InputError naming a header field (`what`) at byte `at`. */
type HeaderFail = (at: number, what: string, msg: string) => never;

/** The version 2 header fields (bytes 0-71). */
interface BaseFields {
  version: number;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  clusterSize: number;
  size: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
}

/** The version 3 additions (bytes 72-104); version 2 defaults for a version 2 header. */
interface V3Fields {
  incompatible: number;
  compatible: number;
  autoclear: number;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
}

/** Decode bytes 0-71 (magic to snapshots_offset), checking each field as it is read. */
function readBaseFields(v: DataView, name: string, fail: HeaderFail): BaseFields {
  const magic = v.getUint32(0);
  if (magic !== QCOW2_MAGIC) fail(0, 'magic', `expected magic 0x514649fb ("QFI\\xfb"), got 0x${magic.toString(16).padStart(8, '0')}`);
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) fail(4, 'version', `expected version 2 or 3, got ${version}`);
  const backingFileOffset = readU64(v, 8, name, 'qcow2 header backing_file_offset');
  const backingFileSize = v.getUint32(16);
  const clusterBits = v.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21)
    fail(20, 'cluster_bits', `expected cluster_bits 9..21 (512 B .. 2 MiB clusters), got ${clusterBits}`);
  const clusterSize = 2 ** clusterBits;
  const size = readU64(v, 24, name, 'qcow2 header size');
  const cryptMethod = v.getUint32(32);
  if (cryptMethod !== 0)
    fail(
      32,
      'crypt_method',
      `encrypted images are not supported (crypt_method ${cryptMethod}: ${cryptMethod === 1 ? 'AES' : cryptMethod === 2 ? 'LUKS' : 'unknown'})`,
    );
  const l1Size = v.getUint32(36);
  const l1TableOffset = readU64(v, 40, name, 'qcow2 header l1_table_offset');
  const refcountTableOffset = readU64(v, 48, name, 'qcow2 header refcount_table_offset');
  const refcountTableClusters = v.getUint32(56);
  const nbSnapshots = v.getUint32(60);
  const snapshotsOffset = readU64(v, 64, name, 'qcow2 header snapshots_offset');
  return {
    version,
    backingFileOffset,
    backingFileSize,
    clusterBits,
    clusterSize,
    size,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots,
    snapshotsOffset,
  };
}

/** Decode and check the version 3 fields (feature bits, refcount order, header length, compression type). */
function readV3Fields(head: Uint8Array, v: DataView, clusterSize: number, fileSize: number, fail: HeaderFail): V3Fields {
  if (head.length < 104) fail(0, 'length', `a version 3 header needs 104 bytes, the file has ${head.length}`);
  const incHi = v.getUint32(72);
  const incompatible = v.getUint32(76);
  const compatible = v.getUint32(84);
  const autoclear = v.getUint32(92);
  const refcountOrder = v.getUint32(96);
  const headerLength = v.getUint32(100);
  let compressionType = 0;
  const known = 0x1f;
  if (incHi !== 0 || (incompatible & ~known) !== 0) {
    fail(
      72,
      'incompatible_features',
      `unknown incompatible feature bits set: 0x${((BigInt(incHi) << 32n) | BigInt(incompatible & ~known)).toString(16)} (known: 0x1f)`,
    );
  }
  if (refcountOrder > 6) fail(96, 'refcount_order', `expected refcount_order 0..6, got ${refcountOrder}`);
  if (headerLength < 104 || headerLength % 8 !== 0 || headerLength > Math.min(clusterSize, fileSize)) {
    fail(100, 'header_length', `expected a multiple of 8 from 104 to the cluster size ${clusterSize}, got ${headerLength}`);
  }
  if (headerLength > 104) compressionType = head[104]!;
  if (incompatible & Qcow2Incompatible.CompressionType) {
    if (headerLength <= 104)
      fail(
        100,
        'header_length',
        `incompatible bit 3 (compression type) is set but the header (${headerLength} bytes) has no compression_type field`,
      );
    if (compressionType > 1) fail(104, 'compression_type', `expected 0 (zlib) or 1 (zstd), got ${compressionType}`);
  } else if (compressionType !== 0) {
    fail(104, 'compression_type', `compression_type is ${compressionType} but incompatible bit 3 is clear (must be 0 then)`);
  }
  if (incompatible & Qcow2Incompatible.ExternalDataFile) {
    fail(72, 'incompatible_features', 'images with an external data file (incompatible bit 2) are not supported');
  }
  return { incompatible, compatible, autoclear, refcountOrder, headerLength, compressionType };
}

/** Check the virtual size against the L1 table: enough entries, within qemu's limit, aligned and inside the file. */
function checkL1Table(base: BaseFields, l2Entries: number, fileSize: number, fail: HeaderFail): void {
  const { size, clusterSize, l1Size, l1TableOffset } = base;
  if (size > Number.MAX_SAFE_INTEGER - clusterSize) fail(24, 'size', `virtual size ${size} is too large`);
  const needL1 = Math.ceil(size / (clusterSize * l2Entries));
  if (l1Size < needL1) fail(36, 'l1_size', `virtual size ${size} needs at least ${needL1} L1 entries, l1_size is ${l1Size}`);
  if (l1Size * 8 > MAX_L1_BYTES) fail(36, 'l1_size', `L1 table of ${l1Size} entries exceeds qemu's limit of ${MAX_L1_BYTES / 8}`);
  if (l1Size > 0) {
    if (l1TableOffset % clusterSize !== 0)
      fail(40, 'l1_table_offset', `expected a multiple of the cluster size ${clusterSize}, got ${formatOffset(l1TableOffset)}`);
    if (l1TableOffset === 0 || l1TableOffset + l1Size * 8 > fileSize) {
      fail(
        40,
        'l1_table_offset',
        `L1 table of ${l1Size} entries at ${formatOffset(l1TableOffset)} lies outside the file (size ${formatOffset(fileSize)})`,
      );
    }
  }
}

/** The backing file name (inside the first cluster), or null when backing_file_offset is 0. */
function readBackingFileName(file: BlockSource, base: BaseFields, fail: HeaderFail): string | null {
  const { backingFileOffset, backingFileSize, clusterSize } = base;
  if (backingFileOffset === 0) return null;
  if (backingFileSize === 0 || backingFileSize > MAX_BACKING_NAME)
    fail(16, 'backing_file_size', `expected 1..${MAX_BACKING_NAME}, got ${backingFileSize}`);
  if (backingFileOffset + backingFileSize > Math.min(clusterSize, file.size)) {
    fail(
      8,
      'backing_file_offset',
      `backing file name (${backingFileSize} bytes at ${formatOffset(backingFileOffset)}) must lie inside the first cluster and the file`,
    );
  }
  const bytes = file.read(backingFileOffset, backingFileSize, 'backing file name');
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** Parse and check the header of a qcow2 file. */
export function readQcow2Header(file: BlockSource): Qcow2Header {
  const name = file.name;
  if (file.size < 72)
    throw new InputError(name, `file is ${file.size} bytes, shorter than a qcow2 header (72 bytes)`, { offset: 0, what: 'qcow2 header' });
  const head = file.read(0, Math.min(file.size, 512), 'qcow2 header');
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const fail: HeaderFail = (at, what, msg) => {
    throw new InputError(name, msg, { offset: at, what: `qcow2 header ${what}` });
  };

  const base = readBaseFields(v, name, fail);
  const { clusterBits, clusterSize } = base;
  const v3: V3Fields =
    base.version === 3
      ? readV3Fields(head, v, clusterSize, file.size, fail)
      : { incompatible: 0, compatible: 0, autoclear: 0, refcountOrder: 4, headerLength: 72, compressionType: 0 };
  const { incompatible, headerLength } = v3;
  const extendedL2 = (incompatible & Qcow2Incompatible.ExtendedL2) !== 0;
  if (extendedL2 && clusterBits < 14)
    fail(20, 'cluster_bits', `extended L2 entries need clusters of at least 16 KiB (cluster_bits >= 14), got cluster_bits ${clusterBits}`);
  const l2EntryBytes = extendedL2 ? 16 : 8;
  const l2Entries = clusterSize / l2EntryBytes;
  checkL1Table(base, l2Entries, file.size, fail);
  const backingFile = readBackingFileName(file, base, fail);
  const backingFormat = readBackingFormat(file, headerLength, clusterSize);

  return {
    version: base.version as 2 | 3,
    clusterBits,
    clusterSize,
    size: base.size,
    l1Size: base.l1Size,
    l1TableOffset: base.l1TableOffset,
    refcountTableOffset: base.refcountTableOffset,
    refcountTableClusters: base.refcountTableClusters,
    nbSnapshots: base.nbSnapshots,
    snapshotsOffset: base.snapshotsOffset,
    incompatibleFeatures: incompatible,
    compatibleFeatures: v3.compatible,
    autoclearFeatures: v3.autoclear,
    refcountOrder: v3.refcountOrder,
    headerLength,
    compressionType: v3.compressionType,
    extendedL2,
    dirty: (incompatible & Qcow2Incompatible.Dirty) !== 0,
    corrupt: (incompatible & Qcow2Incompatible.Corrupt) !== 0,
    backingFile,
    backingFormat,
    l2Entries,
    l2EntryBytes,
    subclustersPerCluster: extendedL2 ? 32 : 1,
  };
}

/** Walk the header extensions (after header_length, inside cluster 0) for the backing format. */
function readBackingFormat(file: BlockSource, headerLength: number, clusterSize: number): string | null {
  const end = Math.min(clusterSize, file.size);
  let at = headerLength;
  let format: string | null = null;
  while (at + 8 <= end) {
    const h = file.read(at, 8, 'qcow2 header extension');
    const hv = new DataView(h.buffer, h.byteOffset, 8);
    const type = hv.getUint32(0);
    const len = hv.getUint32(4);
    if (type === Qcow2Extension.End) break;
    if (at + 8 + len > end) {
      throw new InputError(
        file.name,
        `header extension 0x${type.toString(16)} of ${len} bytes runs past the first cluster (ends at ${at + 8 + len}, cluster ends at ${end})`,
        { offset: at, what: 'qcow2 header extension' },
      );
    }
    if (type === Qcow2Extension.BackingFormat) {
      format = new TextDecoder().decode(file.read(at + 8, len, 'backing format extension')).replace(/\0+$/, '');
    }
    at += 8 + Math.ceil(len / 8) * 8;
  }
  return format;
}
