/**
 * image_map of a virtual disk: the guest-to-image-file mapping of a raw or qcow2 image chain as an
 * Arrow table, with the extents `qemu-img map --output=json` reports (merged where adjacent).
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../table/table-builder.js';
import { imageMapTable, IMAGE_EXTENT_STATES, type ImageExtentState } from '../table/schemas/image-map.js';
import { ChainWalker, RunState } from './chain-walk.js';
import { ImageChain, type OpenChainOptions } from './image-chain.js';
import { readPartitionTable, type PartitionTable } from './partitions.js';
import { Qcow2BlockSource } from './qcow2-source.js';
import { QCOW2_METADATA_KINDS, qcow2MetadataExtents, type Qcow2MetadataKind } from './qcow2-metadata.js';

export interface ImageChainInfo {
  depth: number;
  file: string;
  format: 'raw' | 'qcow2';
  /** Guest-visible size in bytes. */
  virtualSize: number;
  /** Size of the image file in bytes. */
  fileSize: number;
  /** qcow2 only. */
  version?: number;
  clusterSize?: number;
  extendedL2?: boolean;
  compression?: 'zlib' | 'zstd';
  dirty?: boolean;
  corrupt?: boolean;
  snapshots?: number;
  backingFile?: string | null;
}

export interface ImageMapSummary {
  file: string;
  virtualSize: number;
  chain: ImageChainInfo[];
  extents: number;
  /** Guest bytes by state. */
  bytes: Record<ImageExtentState, number>;
  /** Partition table found on the guest disk (scheme "none" when there is none). */
  partitions: PartitionTable;
  /** Per qcow2 image of the chain: bytes of the file holding the format's own structures, by kind. */
  metadata: { depth: number; file: string; bytes: Partial<Record<Qcow2MetadataKind, number>> }[];
}

export type MapImageOptions = OpenChainOptions;

/** Describe the images of a chain (what `qemu-img info --backing-chain` shows). */
export function describeChain(chain: ImageChain): ImageChainInfo[] {
  return chain.layers.map((l, depth) => {
    const info: ImageChainInfo = { depth, file: l.name, format: l.format, virtualSize: l.size, fileSize: l.file.size };
    const h = l.header;
    if (h) {
      Object.assign(info, {
        version: h.version,
        clusterSize: h.clusterSize,
        extendedL2: h.extendedL2,
        compression: h.compressionType === 1 ? 'zstd' : 'zlib',
        dirty: h.dirty,
        corrupt: h.corrupt,
        snapshots: h.nbSnapshots,
        backingFile: h.backingFile,
      });
    }
    return info;
  });
}

/**
 * Build the image_map table of an opened chain. Runs with the same state and image whose guest and
 * host ranges both continue are merged; compressed clusters stay one row each.
 */
export function buildImageMap(
  chain: ImageChain,
  metadata: Record<string, string> = {},
): { table: Table; bytes: Record<ImageExtentState, number>; extents: number } {
  const b = new TableBuilder(imageMapTable);
  const cGuest = b.int64('guest_offset');
  const cLen = b.int64('length');
  const cState = b.string('state');
  const cDepth = b.number('depth');
  const cFile = b.string('file');
  const cHost = b.int64('host_offset');
  const cHostLen = b.int64('host_length');
  const stateKeys = IMAGE_EXTENT_STATES.map((s) => cState.intern(s));
  const fileKeys = chain.layers.map((l) => cFile.intern(l.name));
  const bytes = { data: 0, zero: 0, unallocated: 0, compressed: 0 };
  const stateNames = IMAGE_EXTENT_STATES;

  // the pending (not yet written) extent
  let pStart = -1,
    pLen = 0,
    pState = -1,
    pDepth = -1,
    pHost = -1,
    pHostLen = -1;
  const flush = () => {
    if (pStart < 0) return;
    cGuest.push(pStart);
    cLen.push(pLen);
    cState.pushKey(stateKeys[pState]!);
    cDepth.push(pDepth);
    cFile.pushKey(fileKeys[pDepth]!);
    if (pHost >= 0) cHost.push(pHost);
    else cHost.pushNull();
    if (pHostLen >= 0) cHostLen.push(pHostLen);
    else cHostLen.pushNull();
    bytes[stateNames[pState]!] += pLen;
  };
  const walker = new ChainWalker(chain);
  walker.walk(0, chain.size, (start, len, state, depth, host, hostLen) => {
    if (
      state !== RunState.Compressed &&
      state === pState &&
      depth === pDepth &&
      start === pStart + pLen &&
      (host < 0 ? pHost < 0 : pHost >= 0 && host === pHost + pLen)
    ) {
      pLen += len;
      if (state === RunState.Data) pHostLen += len;
      return;
    }
    flush();
    pStart = start;
    pLen = len;
    pState = state;
    pDepth = depth;
    pHost = host;
    pHostLen = state === RunState.Data ? len : state === RunState.Compressed ? hostLen : -1;
  });
  flush();
  const rows = b.length;
  const table = b.finish({
    'iolineage.image.file': chain.top.name,
    'iolineage.image.virtual_size': String(chain.size),
    'iolineage.image.chain': JSON.stringify(describeChain(chain)),
    ...metadata,
  });
  return { table, bytes, extents: rows };
}

/** Open an image (and its backing chain), map it, and read its partition table. */
export function mapImage(path: string, opts: MapImageOptions = {}): { table: Table; summary: ImageMapSummary } {
  const chain = ImageChain.open(path, opts);
  try {
    const partitions = readPartitionTable(new Qcow2BlockSource(chain, { closeChain: false }));
    const { table, bytes, extents } = buildImageMap(chain, { 'iolineage.image.partitions': JSON.stringify(partitions) });
    const metadata = chain.layers.flatMap((l, depth) => {
      if (!l.header || !l.tables) return [];
      const m = qcow2MetadataExtents(l.file, l.header, l.tables);
      const by: Partial<Record<Qcow2MetadataKind, number>> = {};
      for (let i = 0; i < m.offset.length; i++) {
        const k = QCOW2_METADATA_KINDS[m.kind[i]!]!;
        by[k] = (by[k] ?? 0) + Math.min(m.length[i]!, Math.max(0, l.file.size - m.offset[i]!));
      }
      return [{ depth, file: l.name, bytes: by }];
    });
    return { table, summary: { file: path, virtualSize: chain.size, chain: describeChain(chain), extents, bytes, partitions, metadata } };
  } finally {
    chain.close();
  }
}
