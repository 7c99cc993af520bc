/**
 * Resolves guest byte ranges of an image chain into runs: which image of the chain answers each
 * byte, and how (stored data, zero flag, compressed cluster, or nothing). Follows qemu's
 * resolution order (qcow2.txt "Cluster mapping"; backing files): a range that is neither
 * allocated nor zero in an image is looked up in its backing file at the same guest offset;
 * beyond the backing file's size, or below the last image, it reads as zeros.
 */
import { Qcow2Tables, SubclusterType, newClusterEntry, type ClusterEntry } from './qcow2-tables.js';
import type { ImageChain } from './image-chain.js';

/** How a run reads. */
export const RunState = { Data: 0, Zero: 1, Unallocated: 2, Compressed: 3 } as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

/**
 * Receives runs in guest order. hostOffset is -1 when the run has no host cluster; hostLength is
 * the compressed size for Compressed runs (the run then lies inside one cluster), else -1.
 */
export type RunSink = (guestOffset: number, length: number, state: RunState, depth: number, hostOffset: number, hostLength: number) => void;

/** Walks an image chain; one instance per chain (it reuses per-depth entry buffers). */
export class ChainWalker {
  private readonly entries: ClusterEntry[];
  constructor(readonly chain: ImageChain) {
    this.entries = chain.layers.map(() => newClusterEntry());
  }

  /** Emit the runs covering guest bytes [start, end) of the disk (end <= disk size). */
  walk(start: number, end: number, sink: RunSink): void {
    this.walkLayer(0, start, Math.min(end, this.chain.size), sink);
  }

  private walkLayer(d: number, start: number, end: number, sink: RunSink): void {
    const layer = this.chain.layers[d]!;
    const tables = layer.tables;
    if (!tables) {
      // raw: guest offset = file offset
      if (start < end) sink(start, end - start, RunState.Data, d, start, -1);
      return;
    }
    const h = tables.header;
    const cs = h.clusterSize;
    const extended = h.extendedL2;
    const scs = cs / h.subclustersPerCluster;
    const span = cs * h.l2Entries;
    const e = this.entries[d]!;
    let pos = start;
    while (pos < end) {
      const ci = Math.floor(pos / cs);
      const l1i = Math.floor(ci / h.l2Entries);
      const l2 = tables.l2(l1i);
      if (!l2) {
        const to = Math.min(end, (l1i + 1) * span);
        this.fallThrough(d, pos, to, -1, sink);
        pos = to;
        continue;
      }
      if (!extended) {
        // standard entries: runs of clusters with one type and contiguous host offsets become one run
        const tableEnd = Math.min(end, (l1i + 1) * span);
        let j = ci - l1i * h.l2Entries;
        let runStart = pos,
          runType = -1,
          runHost = -1;
        while (pos < tableEnd) {
          const clusterStart = (l1i * h.l2Entries + j) * cs;
          const clusterEnd = Math.min(clusterStart + cs, tableEnd);
          tables.decode(l2, l1i, j, e);
          if (e.compressed) {
            if (runType >= 0) this.emitTyped(d, runStart, pos, runType as SubclusterType, runHost, sink);
            runType = -1;
            sink(pos, clusterEnd - pos, RunState.Compressed, d, e.hostOffset, e.compressedLength);
          } else {
            const type = Qcow2Tables.subclusterType(e, false, 0);
            const host = e.hostOffset ? e.hostOffset + (pos - clusterStart) : -1;
            if (type !== runType || (host < 0 ? runHost >= 0 : runHost < 0 || host !== runHost + (pos - runStart))) {
              if (runType >= 0) this.emitTyped(d, runStart, pos, runType as SubclusterType, runHost, sink);
              runStart = pos;
              runType = type;
              runHost = host;
            }
          }
          pos = clusterEnd;
          j++;
        }
        if (runType >= 0) this.emitTyped(d, runStart, pos, runType as SubclusterType, runHost, sink);
        continue;
      }
      const clusterStart = ci * cs;
      const clusterEnd = Math.min(clusterStart + cs, end);
      tables.decode(l2, l1i, ci - l1i * h.l2Entries, e);
      if (e.compressed) {
        sink(pos, clusterEnd - pos, RunState.Compressed, d, e.hostOffset, e.compressedLength);
      } else {
        let sc = Math.floor((pos - clusterStart) / scs);
        let runStart = pos;
        let type = Qcow2Tables.subclusterType(e, true, sc);
        for (;;) {
          const scEnd = Math.min(clusterStart + (sc + 1) * scs, clusterEnd);
          const nextType = scEnd < clusterEnd ? Qcow2Tables.subclusterType(e, true, sc + 1) : -1;
          if (nextType !== type) {
            this.emitTyped(d, runStart, scEnd, type, e.hostOffset ? e.hostOffset + (runStart - clusterStart) : -1, sink);
            if (nextType === -1) break;
            runStart = scEnd;
            type = nextType as SubclusterType;
          }
          sc++;
        }
      }
      pos = clusterEnd;
    }
  }

  private emitTyped(d: number, from: number, to: number, type: SubclusterType, host: number, sink: RunSink): void {
    switch (type) {
      case SubclusterType.Normal:
        sink(from, to - from, RunState.Data, d, host, -1);
        return;
      case SubclusterType.ZeroPlain:
        sink(from, to - from, RunState.Zero, d, -1, -1);
        return;
      case SubclusterType.ZeroAlloc:
        sink(from, to - from, RunState.Zero, d, host, -1);
        return;
      default:
        this.fallThrough(d, from, to, host, sink);
    }
  }

  /** [from, to) is not allocated in image d: read it from the backing file, or zeros. */
  private fallThrough(d: number, from: number, to: number, host: number, sink: RunSink): void {
    const below = this.chain.layers[d + 1];
    if (below) {
      const mid = Math.min(to, Math.max(from, below.size));
      if (from < mid) this.walkLayer(d + 1, from, mid, sink);
      if (mid < to) sink(mid, to - mid, RunState.Unallocated, d, host < 0 ? -1 : host + (mid - from), -1);
    } else {
      sink(from, to - from, RunState.Unallocated, d, host, -1);
    }
  }
}
