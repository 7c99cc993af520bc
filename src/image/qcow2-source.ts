/**
 * The guest's view of a disk image chain as a BlockSource: reads go through the qcow2 tables
 * (data clusters, zero clusters and sub-clusters, compressed clusters, backing files), so a file
 * system inside a qcow2 image can be read like a raw one. Compressed clusters are raw deflate
 * (zlib without header, compression_type 0) or a zstd frame (compression_type 1), followed by
 * padding to the end of their last 512-byte sector (qcow2.txt "Compressed Clusters Descriptor").
 */
import { inflateRawSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import type { BlockSource } from '../io/block-source.js';
import { checkRange } from '../io/block-source.js';
import { InputError, formatOffset } from '../util/errors.js';
import { ChainWalker, RunState } from './chain-walk.js';
import { ImageChain, type OpenChainOptions } from './image-chain.js';
import { zstdFrameContentSize, zstdFrameLength } from './zstd-frame.js';

export interface Qcow2SourceOptions {
  /** close() also closes the chain (default true). */
  closeChain?: boolean;
  /** Name for error messages (default: the top image's name). */
  name?: string;
}

/** Guest-view reader over an opened chain (qcow2 with backing files, or raw). */
export class Qcow2BlockSource implements BlockSource {
  readonly name: string;
  readonly size: number;
  private readonly walker: ChainWalker;
  private readonly closeChain: boolean;
  // one decompressed cluster per depth, keyed by its host offset
  private readonly zCacheKey: number[];
  private readonly zCache: (Uint8Array | null)[];

  constructor(
    readonly chain: ImageChain,
    opts: Qcow2SourceOptions = {},
  ) {
    this.name = opts.name ?? chain.top.name;
    this.size = chain.size;
    this.walker = new ChainWalker(chain);
    this.closeChain = opts.closeChain ?? true;
    this.zCacheKey = chain.layers.map(() => -1);
    this.zCache = chain.layers.map(() => null);
  }

  /** Open an image file (qcow2 or raw, with its backing chain) as its guest view. */
  static open(path: string, opts: OpenChainOptions = {}): Qcow2BlockSource {
    return new Qcow2BlockSource(ImageChain.open(path, opts));
  }

  read(offset: number, length: number, what?: string): Uint8Array {
    checkRange(this, offset, length, what);
    const out = new Uint8Array(length);
    const layers = this.chain.layers;
    this.walker.walk(offset, offset + length, (start, len, state, depth, host, hostLen) => {
      const at = start - offset;
      if (state === RunState.Data) {
        const file = layers[depth]!.file;
        const n = Math.max(0, Math.min(len, file.size - host));
        // bytes of a cluster beyond the end of the image file read as zeros (as qemu's file driver does)
        if (n > 0) out.set(file.read(host, n, 'data cluster'), at);
      } else if (state === RunState.Compressed) {
        const cs = layers[depth]!.header!.clusterSize;
        const cluster = this.compressedCluster(depth, host, hostLen, cs, start - (start % cs));
        const inCluster = start % cs;
        out.set(cluster.subarray(inCluster, inCluster + len), at);
      }
      // Zero and Unallocated: already zeros
    });
    return out;
  }

  private compressedCluster(depth: number, host: number, hostLen: number, cs: number, guest: number): Uint8Array {
    if (this.zCacheKey[depth] === host) return this.zCache[depth]!;
    const layer = this.chain.layers[depth]!;
    const file = layer.file;
    const n = Math.min(hostLen, file.size - host);
    const raw = file.read(host, n, 'compressed cluster');
    const zstd = layer.header!.compressionType === 1;
    const fail = (why: string): never => {
      throw new InputError(
        file.name,
        `compressed cluster of guest offset ${formatOffset(guest)} (${hostLen} bytes at ${formatOffset(host)}) does not decompress to ${cs} bytes: ${why}`,
        { offset: host, what: `${zstd ? 'zstd' : 'deflate'} compressed cluster` },
      );
    };
    let out: Uint8Array;
    if (zstd) {
      const frame = zstdFrameLengthOrFail(raw, fail);
      const declared = zstdFrameContentSize(raw);
      if (declared >= 0 && declared !== cs) fail(`the zstd frame declares ${declared} bytes`);
      try {
        out = zstdDecompress(raw.subarray(0, frame), new Uint8Array(cs));
      } catch (e) {
        return fail(e instanceof Error ? e.message : String(e));
      }
    } else {
      try {
        out = inflateRawSync(raw, {
          maxOutputLength: cs,
          chunkSize: Math.max(cs, 64),
          finishFlush: 2 /* Z_SYNC_FLUSH: the data may end without padding */,
        });
      } catch (e) {
        return fail(e instanceof Error ? e.message : String(e));
      }
    }
    if (out.length !== cs) fail(`got ${out.length} bytes`);
    this.zCacheKey[depth] = host;
    this.zCache[depth] = out;
    return out;
  }

  close(): void {
    if (this.closeChain) this.chain.close();
  }
}

function zstdFrameLengthOrFail(raw: Uint8Array, fail: (why: string) => never): number {
  const n = zstdFrameLength(raw);
  if (n < 0) fail('not one complete zstd frame');
  return n;
}
