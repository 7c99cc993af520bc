/**
 * Figures of the links that the summary reports (links and cache sections), taken while the pieces
 * are at hand: `analyze` lets go of the pieces of each join once its links table is written, before
 * the summary is made.
 */
import { LinkHow, Op, type LinkPieces } from './layer-link.js';
import type { BlockLayer } from './layers.js';

/** Owned bytes per link rule (index: LinkHow code), and which rules own any piece at all. */
export interface BytesByHow {
  bytes: Float64Array;
  seen: Uint8Array;
}

/** Bytes of the owned pieces (upper >= 0) per link rule, over the pieces of every join given. */
export function bytesByHow(pieces: readonly (LinkPieces | null)[]): BytesByHow {
  const bytes = new Float64Array(256),
    seen = new Uint8Array(256);
  for (const p of pieces)
    if (p)
      for (let k = 0; k < p.length; k++) {
        if (p.upper[k]! < 0) continue;
        bytes[p.how[k]!] += p.len[k]!;
        seen[p.how[k]!] = 1;
      }
  return { bytes, seen };
}

/** The host cache as the guest → host links show it. */
export interface HostCacheFigures {
  /** Host bytes read for guest reads (sync_read or direct links). */
  hostReadFromGuestReads: number;
  /** Guest reads (of at least a byte) of the VMs whose image the host layer shows. */
  guestReadsOnHost: number;
  /** Of those, the ones no host read was linked to: served by the host cache. */
  guestReadHostHits: number;
}

/**
 * Host cache figures of the guest → host join. `guestOf` maps a global guest index (the join's
 * upper index) to [vm, row]; `guestBases` gives each VM's first global index; `onHost` whether a
 * VM's image is on the host layer.
 */
export function hostCacheFigures(
  guestHost: LinkPieces,
  guests: readonly BlockLayer[],
  guestBases: readonly number[],
  onHost: readonly boolean[],
  guestOf: (u: number) => [number, number],
): HostCacheFigures {
  let hostReadFromGuestReads = 0,
    guestReadsOnHost = 0,
    guestReadHostHits = 0;
  const missed = new Uint8Array(guests.reduce((n, g) => n + g.length, 0));
  for (let k = 0; k < guestHost.length; k++) {
    const u = guestHost.upper[k]!;
    if (u < 0) continue;
    const [vi, g] = guestOf(u);
    const how = guestHost.how[k]!;
    if (guests[vi]!.op[g] === Op.Read && (how === LinkHow.SyncRead || how === LinkHow.Direct)) {
      hostReadFromGuestReads += guestHost.len[k]!;
      missed[u] = 1;
    }
  }
  guests.forEach((guest, vi) => {
    if (!onHost[vi]) return;
    for (let g = 0; g < guest.length; g++) {
      if (guest.op[g] !== Op.Read || !(guest.end[g]! > guest.start[g]!)) continue;
      guestReadsOnHost++;
      if (!missed[guestBases[vi]! + g]) guestReadHostHits++;
    }
  });
  return { hostReadFromGuestReads, guestReadsOnHost, guestReadHostHits };
}
