/**
 * Names for the host bytes of a guest's image data that no guest request explains (the host
 * fs map says they carry guest disk bytes, but no guest request linked to them). In order:
 *
 * - host_readahead: the host request is a read with REQ_RAHEAD (rwbs "A",
 *   include/trace/events/block.h): the host kernel read the image file ahead of QEMU's reads
 *   (mm/readahead.c), bytes the guest did not ask for in the trace.
 * - image_cluster_fill: a host write into a qcow2 data cluster (the sub-cluster, with extended L2
 *   entries) that a guest write of the trace touched before it. A guest write to part of an
 *   unallocated cluster makes QEMU allocate the whole cluster and write the rest of it too
 *   (copy-on-write from the backing file, zeros without one: qcow2 spec, "Cluster mapping";
 *   QEMU block/qcow2.c perform_cow, handle_alloc_space).
 * - guest_outside_trace: the host request ran before the first or after the last request of
 *   that guest's trace (guest boot, mount, unmount), when the guest trace could not see it.
 * What is left stays unattributed.
 */
import type { RangeMap } from './range-map.js';
import { Op } from './layer-link.js';
import type { Names } from './attribution.js';
import { upperBound } from '../util/sorted.js';

/** Host byte ranges of qcow2 clusters written by a guest, each with the earliest guest write (host clock). */
export interface ClusterFills {
  /** Sorted, disjoint host byte ranges. */
  start: Float64Array;
  end: Float64Array;
  /** Issue of the first guest write to the cluster, ns on the host layer's relative clock. */
  firstWrite: Float64Array;
}

/**
 * The host ranges of every cluster that a guest write touches.
 * @param issueOnHost guest request issue times already on the host layer's relative clock
 */
export function clusterFills(
  guestStart: Float64Array,
  guestEnd: Float64Array,
  op: Uint8Array,
  issueOnHost: Float64Array,
  n: number,
  clusterBytes: number,
  guestToHost: RangeMap,
): ClusterFills {
  const first = new Map<number, number>();
  for (let g = 0; g < n; g++) {
    if (op[g] !== Op.Write || !(guestEnd[g]! > guestStart[g]!)) continue;
    const t = issueOnHost[g]!;
    for (let c = Math.floor(guestStart[g]! / clusterBytes); c * clusterBytes < guestEnd[g]!; c++) {
      const was = first.get(c);
      if (was === undefined || t < was) first.set(c, t === t ? t : Infinity);
    }
  }
  const s: number[] = [],
    e: number[] = [],
    w: number[] = [];
  for (const [c, t] of first) {
    guestToHost.translate(c * clusterBytes, clusterBytes, (dst, len) => {
      s.push(dst);
      e.push(dst + len);
      w.push(t);
    });
  }
  const order = s.map((_, i) => i).sort((a, b) => s[a]! - s[b]!);
  return {
    start: Float64Array.from(order, (i) => s[i]!),
    end: Float64Array.from(order, (i) => e[i]!),
    firstWrite: Float64Array.from(order, (i) => w[i]!),
  };
}

/** Per VM: the span of its guest trace's requests on the host layer's relative clock. */
export interface GuestSpan {
  start: number;
  end: number;
}

export interface UnexplainedHostInputs {
  /** Host requests: op, REQ_RAHEAD, issue (ns, host relative clock). */
  op: Uint8Array;
  readahead: Uint8Array;
  issue: Float64Array;
  /** Per VM index: the guest trace's span (null: no guest requests) and the qcow2 cluster fills (null: raw image). */
  spans: readonly (GuestSpan | null)[];
  fills: readonly (ClusterFills | null)[];
  /** Clock tolerance, ns. */
  slackNs: number;
}

/** Splits unexplained image-data bytes of a host request by the causes above. */
export class UnexplainedHostBytes {
  private readonly cReadahead: number;
  private readonly cFill: number;
  private readonly cOutside: number;
  private readonly cUn: number;

  constructor(
    private readonly x: UnexplainedHostInputs,
    names: Names,
  ) {
    this.cReadahead = names.id('host_readahead');
    this.cFill = names.id('image_cluster_fill');
    this.cOutside = names.id('guest_outside_trace');
    this.cUn = names.id('unattributed');
  }

  /** Emits the pieces of [start, start + len) of host request L, image data of VM vm, with a cause id each. */
  name(L: number, vm: number, start: number, len: number, emit: (cause: number, start: number, len: number) => void): void {
    const x = this.x,
      op = x.op[L]!;
    if (op === Op.Read && x.readahead[L]) {
      emit(this.cReadahead, start, len);
      return;
    }
    const t = x.issue[L]!;
    const span = x.spans[vm] ?? null;
    const outside = span !== null && t === t && (t < span.start - x.slackNs || t > span.end + x.slackNs);
    const rest = outside ? this.cOutside : this.cUn;
    const fills = x.fills[vm] ?? null;
    if (op !== Op.Write || !fills || outside) {
      emit(rest, start, len);
      return;
    }
    const end = start + len;
    // first fill range that ends after start
    const lo = upperBound(fills.end, start, 0, fills.start.length);
    let pos = start;
    for (let i = lo; i < fills.start.length && fills.start[i]! < end; i++) {
      if (!(fills.firstWrite[i]! <= t + x.slackNs)) continue;
      const a = Math.max(pos, fills.start[i]!),
        b = Math.min(end, fills.end[i]!);
      if (a > pos) emit(rest, pos, a - pos);
      if (b > a) emit(this.cFill, a, b - a);
      pos = Math.max(pos, b);
    }
    if (pos < end) emit(rest, pos, end - pos);
  }
}
