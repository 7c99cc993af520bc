/**
 * Lineage: per application I/O, what it caused at each lower layer — bytes, distinct requests,
 * first issue / last completion — read off the attributed pieces of both layers, and its outcome
 * (served by the guest cache, the host cache or the disk; written back later; ...).
 */
import type { AttributedPieces, Names } from './attribution.js';
import { Op } from './layer-link.js';
import type { LINEAGE_OUTCOMES } from '../table/schemas/lineage.js';

export type LineageOutcome = (typeof LINEAGE_OUTCOMES)[number];

export interface LineageColumns {
  length: number;
  guestBytes: Float64Array;
  guestSyncBytes: Float64Array;
  guestRequests: Int32Array;
  guestFirst: Float64Array;
  guestLast: Float64Array;
  hostBytes: Float64Array;
  hostSyncBytes: Float64Array;
  hostRequests: Int32Array;
  hostFirst: Float64Array;
  hostLast: Float64Array;
}

function newColumns(n: number): LineageColumns {
  const nan = () => new Float64Array(n).fill(NaN);
  return {
    length: n,
    guestBytes: new Float64Array(n),
    guestSyncBytes: new Float64Array(n),
    guestRequests: new Int32Array(n),
    guestFirst: nan(),
    guestLast: nan(),
    hostBytes: new Float64Array(n),
    hostSyncBytes: new Float64Array(n),
    hostRequests: new Int32Array(n),
    hostFirst: nan(),
    hostLast: nan(),
  };
}

/** Lineage of no application I/O: what a caller that has written the lineage table keeps in its place. */
export function emptyLineage(): LineageColumns {
  return newColumns(0);
}

/**
 * @param nApp number of application I/Os (global index space of the pieces' `app`)
 * @param guest attributed guest pieces per VM with the issue/complete times of each VM's requests
 * @param host attributed host pieces and host request times, or null without a host layer
 */
export function computeLineage(
  nApp: number,
  names: Names,
  guest: readonly { pieces: AttributedPieces; issue: Float64Array; complete: Float64Array }[],
  host: { pieces: AttributedPieces; issue: Float64Array; complete: Float64Array } | null,
): LineageColumns {
  const c = newColumns(nApp);
  const syncCauses = new Set([names.id('app_read'), names.id('app_write')]);
  const lastReq = new Int32Array(nApp).fill(-1);
  for (const g of guest) {
    const p = g.pieces;
    for (let k = 0; k < p.length; k++) {
      const a = p.app[k]!;
      if (a < 0) continue;
      const L = p.lower[k]!,
        l = p.len[k]!;
      c.guestBytes[a]! += l;
      if (syncCauses.has(p.cause[k]!)) c.guestSyncBytes[a]! += l;
      if (lastReq[a] !== L) {
        lastReq[a] = L;
        c.guestRequests[a]!++;
        const t0 = g.issue[L]!,
          t1 = g.complete[L]!;
        if (!(c.guestFirst[a]! <= t0)) c.guestFirst[a] = t0;
        if (!(c.guestLast[a]! >= t1)) c.guestLast[a] = t1;
      }
    }
    lastReq.fill(-1);
  }
  if (host) {
    const p = host.pieces;
    for (let k = 0; k < p.length; k++) {
      const a = p.app[k]!;
      if (a < 0) continue;
      const L = p.lower[k]!,
        l = p.len[k]!;
      c.hostBytes[a]! += l;
      if (syncCauses.has(p.cause[k]!)) c.hostSyncBytes[a]! += l;
      if (lastReq[a] !== L) {
        lastReq[a] = L;
        c.hostRequests[a]!++;
        const t0 = host.issue[L]!,
          t1 = host.complete[L]!;
        if (!(c.hostFirst[a]! <= t0)) c.hostFirst[a] = t0;
        if (!(c.hostLast[a]! >= t1)) c.hostLast[a] = t1;
      }
    }
  }
  return c;
}

/** The outcome of application I/O `a` (see lineage.outcome's documentation). */
export function lineageOutcome(
  c: LineageColumns,
  a: number,
  op: number,
  bytes: number,
  mapped: number,
  direct: boolean,
  hasHost: boolean,
): LineageOutcome {
  if (op === Op.Other) return 'other';
  if (!(bytes > 0)) return 'no_data';
  if (!(mapped > 0)) return 'unmapped';
  if (op === Op.Read) {
    const g = c.guestSyncBytes[a]!;
    // O_DIRECT reads bypass the guest page cache (Documentation/filesystems/vfs.rst, direct_IO)
    if (g === 0) return direct ? 'read_unlinked' : 'read_guest_cache';
    if (!hasHost) return 'read_guest_disk';
    const h = c.hostSyncBytes[a]!;
    if (h === 0) return 'read_host_cache';
    return h >= g ? 'read_disk' : 'read_partial';
  }
  const g = c.guestBytes[a]!;
  if (direct) return g >= mapped ? 'write_direct' : g > 0 ? 'write_partial' : 'write_absorbed';
  if (g === 0) return 'write_absorbed';
  return g >= mapped ? 'write_back' : 'write_partial';
}
