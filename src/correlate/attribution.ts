/**
 * Attribution: every byte of every lower-layer request goes to an application I/O or to a named
 * cause. The guest layer takes the painted pieces of the app → guest join (owned pieces: the app
 * I/O, named by the link rule; unowned pieces: the guest fs map's region labels). The host layer
 * takes the painted pieces of the guest → host join and inherits, byte for byte, the attribution
 * of the guest bytes each host byte carries; unowned host bytes get the host fs map's labels,
 * and those of a guest's image data are named further by host-causes.ts.
 * The per-request and per-layer sums are checked here: a mismatch is a bug and throws.
 */
import { growFloat64, growInt32 } from '../util/growable.js';
import { LinkHow, Op, type LinkPieces } from './layer-link.js';
import type { RegionIndex } from './region-index.js';
import type { UnexplainedHostBytes } from './host-causes.js';

/** Cause names for a region label, by the op of the request that touched it. */
export interface RegionCause {
  read: string;
  write: string;
  vm: number;
}

/** Regions of a layer's disk with the cause each label stands for. */
export interface LayerRegions {
  index: RegionIndex;
  causes: RegionCause[];
}

/** Attributed pieces of one layer: each lower byte exactly once. */
export interface AttributedPieces {
  length: number;
  lower: Int32Array;
  start: Float64Array;
  len: Float64Array;
  cause: Int32Array;
  app: Int32Array;
  vm: Int32Array;
  first: Int32Array;
  count: Int32Array;
}

/** Dictionary of cause and vm names shared by both layers. */
export class Names {
  readonly list: string[] = [];
  private readonly ids = new Map<string, number>();
  id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(name);
      this.ids.set(name, i);
    }
    return i;
  }
}

class PieceSink {
  lower = growInt32();
  start = growFloat64();
  len = growFloat64();
  cause = growInt32();
  app = growInt32();
  vm = growInt32();
  push(L: number, s: number, l: number, c: number, a: number, v: number) {
    this.lower.push(L);
    this.start.push(s);
    this.len.push(l);
    this.cause.push(c);
    this.app.push(a);
    this.vm.push(v);
  }
  finish(first: Int32Array, count: Int32Array): AttributedPieces {
    return {
      length: this.lower.length,
      lower: this.lower.toArray(),
      start: this.start.toArray(),
      len: this.len.toArray(),
      cause: this.cause.toArray(),
      app: this.app.toArray(),
      vm: this.vm.toArray(),
      first,
      count,
    };
  }
}

function check(layer: string, L: number, got: number, expected: number) {
  if (got !== expected)
    throw new Error(`attribution (${layer}): request ${L} has ${expected} bytes but ${got} were attributed (a bug: please report it)`);
}

/**
 * Guest layer. `appId[u]`/`appOp[u]` describe upper request u of the pieces; `vmOfUpper` the VM.
 * @param reqBytes byte size of each lower request (end - start)
 */
export function attributeOwnedOrRegions(
  layer: 'guest',
  pieces: LinkPieces,
  reqOp: Uint8Array,
  reqBytes: (L: number) => number,
  nLower: number,
  appId: Int32Array,
  appOp: Uint8Array,
  vm: number,
  regions: LayerRegions | null,
  names: Names,
): AttributedPieces {
  const sink = new PieceSink();
  const first = new Int32Array(nLower),
    count = new Int32Array(nLower);
  const cApp = [names.id('app_read'), names.id('app_write')];
  const cWriteback = names.id('writeback'),
    cReadahead = names.id('readahead'),
    cUn = names.id('unattributed');
  const regionCause = regions?.causes.map((c) => [names.id(c.read), names.id(c.write), c.vm]) ?? [];
  for (let L = 0; L < nLower; L++) {
    first[L] = sink.lower.length;
    const op = reqOp[L]!;
    let sum = 0;
    const f = pieces.first[L]!,
      n = pieces.count[L]!;
    for (let k = f; k < f + n; k++) {
      const u = pieces.upper[k]!,
        s = pieces.start[k]!,
        l = pieces.len[k]!;
      if (u >= 0) {
        const how = pieces.how[k]!;
        const c = how === LinkHow.Writeback ? cWriteback : how === LinkHow.Readahead ? cReadahead : cApp[appOp[u] === Op.Read ? 0 : 1]!;
        sink.push(L, s, l, c, appId[u]!, vm);
        sum += l;
      } else if (regions) {
        regions.index.classify(s, l, (label, ps, pl) => {
          const rc = label >= 0 ? regionCause[label]! : null;
          sink.push(L, ps, pl, rc ? rc[op === Op.Write ? 1 : 0]! : cUn, -1, rc ? rc[2]! : vm);
          sum += pl;
        });
      } else {
        sink.push(L, s, l, cUn, -1, vm);
        sum += l;
      }
    }
    count[L] = sink.lower.length - first[L]!;
    check(layer, L, sum, reqBytes(L));
  }
  return sink.finish(first, count);
}

/**
 * Host layer: owned pieces inherit the guest attribution of the guest bytes they carry.
 * @param guestOf maps a global upper index to [vm index, guest request index]
 */
export function attributeHost(
  pieces: LinkPieces,
  reqOp: Uint8Array,
  reqBytes: (L: number) => number,
  nLower: number,
  guestPieces: readonly AttributedPieces[],
  guestOf: (u: number) => [number, number],
  regions: LayerRegions | null,
  names: Names,
  unexplained: UnexplainedHostBytes | null = null,
): AttributedPieces {
  const sink = new PieceSink();
  const first = new Int32Array(nLower),
    count = new Int32Array(nLower);
  const cUn = names.id('unattributed');
  const regionCause = regions?.causes.map((c) => [names.id(c.read), names.id(c.write), c.vm]) ?? [];
  for (let L = 0; L < nLower; L++) {
    first[L] = sink.lower.length;
    const op = reqOp[L]!;
    let sum = 0;
    const f = pieces.first[L]!,
      n = pieces.count[L]!;
    for (let k = f; k < f + n; k++) {
      const u = pieces.upper[k]!,
        s = pieces.start[k]!,
        l = pieces.len[k]!;
      if (u >= 0) {
        const [v, g] = guestOf(u);
        const gp = guestPieces[v]!;
        const ga = pieces.upperAddr[k]!,
          gb = ga + l;
        let covered = 0;
        for (let j = gp.first[g]!; j < gp.first[g]! + gp.count[g]!; j++) {
          const x = Math.max(ga, gp.start[j]!),
            y = Math.min(gb, gp.start[j]! + gp.len[j]!);
          if (y <= x) continue;
          sink.push(L, s + (x - ga), y - x, gp.cause[j]!, gp.app[j]!, gp.vm[j]!);
          covered += y - x;
        }
        if (covered !== l)
          throw new Error(
            `attribution (host): request ${L} carries ${l} bytes of guest request ${g} but only ${covered} are attributed there (a bug: please report it)`,
          );
        sum += l;
      } else if (regions) {
        regions.index.classify(s, l, (label, ps, pl) => {
          const rc = label >= 0 ? regionCause[label]! : null;
          const c = rc ? rc[op === Op.Write ? 1 : 0]! : cUn;
          const v = rc ? rc[2]! : -1;
          // image data of an analysed guest that no guest request explains
          if (c === cUn && v >= 0 && unexplained)
            unexplained.name(L, v, ps, pl, (uc, us, ul) => {
              sink.push(L, us, ul, uc, -1, v);
              sum += ul;
            });
          else {
            sink.push(L, ps, pl, c, -1, v);
            sum += pl;
          }
        });
      } else {
        sink.push(L, s, l, cUn, -1, -1);
        sum += l;
      }
    }
    count[L] = sink.lower.length - first[L]!;
    check('host', L, sum, reqBytes(L));
  }
  return sink.finish(first, count);
}

/** Per (request, cause, app, vm) sums of attributed pieces; pieces of one request are adjacent. */
export function aggregateAttribution(p: AttributedPieces): {
  lower: Int32Array;
  cause: Int32Array;
  app: Int32Array;
  vm: Int32Array;
  bytes: Float64Array;
  length: number;
} {
  const lower = growInt32(),
    cause = growInt32(),
    app = growInt32(),
    vm = growInt32(),
    bytes = growFloat64();
  for (let L = 0; L < p.first.length; L++) {
    const rowStart = lower.length;
    for (let k = p.first[L]!; k < p.first[L]! + p.count[L]!; k++) {
      const c = p.cause[k]!,
        a = p.app[k]!,
        v = p.vm[k]!;
      let r = rowStart;
      for (; r < lower.length; r++) if (cause.get(r) === c && app.get(r) === a && vm.get(r) === v) break;
      if (r === lower.length) {
        lower.push(L);
        cause.push(c);
        app.push(a);
        vm.push(v);
        bytes.push(0);
      }
      bytes.set(r, bytes.get(r) + p.len[k]!);
    }
  }
  return {
    lower: lower.toArray(),
    cause: cause.toArray(),
    app: app.toArray(),
    vm: vm.toArray(),
    bytes: bytes.toArray(),
    length: lower.length,
  };
}
