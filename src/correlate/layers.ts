/**
 * The columnar inputs of the correlation: the application layer (from app_io) and block layers
 * (from block request tables), with times as float64 nanoseconds relative to a per-layer base
 * (bigint), so that 64-bit clock readings are never rounded: a relative time is exact up to
 * 2^53 ns (104 days) after the base.
 */
import type { LowerRequests } from './layer-link.js';

export interface AppLayer {
  /** Guest (VM) id the application ran in. */
  vm: string;
  length: number;
  /** app_io.id per row. */
  id: Int32Array;
  /** Op.Read / Op.Write / Op.Other. */
  op: Uint8Array;
  /** app_io.op text per row, dictionary-encoded. */
  opKey: Uint8Array;
  opNames: string[];
  /** Index into `files` (the application's view of the path), -1 when unknown. */
  file: Int32Array;
  files: string[];
  /** File offset, bytes; NaN when unknown. */
  offset: Float64Array;
  /** Bytes transferred; NaN when unknown. */
  bytes: Float64Array;
  /** Start and end of the call, ns relative to baseNs, application clock. */
  t0: Float64Array;
  t1: Float64Array;
  /** O_DIRECT. */
  direct: Uint8Array;
  baseNs: bigint;
}

export interface BlockLayer extends LowerRequests {
  /** Request id (id column of the requests table). */
  id: Int32Array;
  /** Time base: issue/complete are ns relative to it, on this layer's trace clock. */
  baseNs: bigint;
  /** REQ_RAHEAD and REQ_META per request (0/1); REQ_SYNC (`syncFlag`, optional) as in LowerRequests. */
  readahead: Uint8Array;
  meta: Uint8Array;
}

/** Total bytes of a layer's requests by op. */
export function layerTotals(layer: LowerRequests): {
  readBytes: number;
  writeBytes: number;
  otherBytes: number;
  reads: number;
  writes: number;
  others: number;
} {
  let readBytes = 0,
    writeBytes = 0,
    otherBytes = 0,
    reads = 0,
    writes = 0,
    others = 0;
  for (let i = 0; i < layer.length; i++) {
    const b = layer.end[i]! - layer.start[i]!;
    const op = layer.op[i]!;
    if (op === 0) {
      readBytes += b;
      reads++;
    } else if (op === 1) {
      writeBytes += b;
      writes++;
    } else {
      otherBytes += b;
      others++;
    }
  }
  return { readBytes, writeBytes, otherBytes, reads, writes, others };
}
