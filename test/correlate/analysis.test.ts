/**
 * analyzeLayers on small hand-made stacks whose answers are worked out by hand: two VMs on one
 * host (each host byte attributed to its VM, another image's bytes to other_vm), and the reduced
 * cases (no host layer, no guest fs).
 */
import { describe, expect, it } from 'vitest';
import { analyzeLayers, type VmInput } from '../../src/correlate/analysis.js';
import { Names, aggregateAttribution } from '../../src/correlate/attribution.js';
import { Op } from '../../src/correlate/layer-link.js';
import type { AppLayer, BlockLayer } from '../../src/correlate/layers.js';
import { lineageOutcome } from '../../src/correlate/lineage.js';
import { RangeMap } from '../../src/correlate/range-map.js';
import { RegionIndex } from '../../src/correlate/region-index.js';

const K = 4096;

function app(vm: string, ios: [op: number, offset: number, bytes: number, t0: number, t1: number][]): AppLayer {
  const n = ios.length;
  return {
    vm,
    length: n,
    id: Int32Array.from(ios, (_, i) => i),
    op: Uint8Array.from(ios, (x) => x[0]),
    opKey: Uint8Array.from(ios, (x) => x[0]),
    opNames: ['read', 'write', 'other'],
    file: new Int32Array(n),
    files: ['/mnt/data/f'],
    offset: Float64Array.from(ios, (x) => x[1]),
    bytes: Float64Array.from(ios, (x) => x[2]),
    t0: Float64Array.from(ios, (x) => x[3]),
    t1: Float64Array.from(ios, (x) => x[4]),
    direct: new Uint8Array(n),
    baseNs: 0n,
  };
}
function block(reqs: [start: number, bytes: number, op: number, issue: number, complete: number][]): BlockLayer {
  const n = reqs.length;
  return {
    length: n,
    id: Int32Array.from(reqs, (_, i) => i),
    start: Float64Array.from(reqs, (r) => r[0]),
    end: Float64Array.from(reqs, (r) => r[0] + r[1]),
    op: Uint8Array.from(reqs, (r) => r[2]),
    issue: Float64Array.from(reqs, (r) => r[3]),
    complete: Float64Array.from(reqs, (r) => r[4]),
    readahead: new Uint8Array(n),
    meta: new Uint8Array(n),
    baseNs: 0n,
  };
}
const NS = 1_000_000; // 1 ms

function vmInput(name: string, imageHostStart: number): VmInput {
  // file f: [0, 16K) at guest disk 1 MiB; guest journal region [0, 64K)
  const a = app(name, [
    [Op.Read, 0, K, 1 * NS, 3 * NS], // miss: guest read inside, host read inside
    [Op.Write, K, K, 4 * NS, 4 * NS + 10_000], // buffered: written back at 20 ms
    [Op.Read, 2 * K, K, 5 * NS, 5 * NS + 5_000], // hit: nothing below
  ]);
  const guest = block([
    [1 << 20, K, Op.Read, 1.5 * NS, 2.5 * NS],
    [(1 << 20) + K, K, Op.Write, 20 * NS, 21 * NS],
    [0, 2 * K, Op.Write, 22 * NS, 23 * NS], // journal
  ]);
  return {
    vm: name,
    app: a,
    guest,
    fileMaps: [new RangeMap([0], [1 << 20], [4 * K])],
    guestRegions: {
      index: new RegionIndex([0, 1 << 20], [65536, (1 << 20) + 4 * K], [0, 1]),
      causes: [
        { read: 'journal', write: 'journal', vm: -1 },
        { read: 'readahead', write: 'writeback', vm: -1 },
      ],
    },
    appClock: { userNs: 0n },
    // the image: guest disk [0, 2 MiB) at host disk imageHostStart
    guestToHost: new RangeMap([0], [imageHostStart], [2 << 20]),
    hostClock: { userNs: 0n },
    hostDirect: true,
  };
}

describe('analyzeLayers', () => {
  it('attributes host bytes of two VMs to each VM and the rest to named causes, with exact sums', () => {
    const v0 = vmInput('vm0', 10 << 20),
      v1 = vmInput('vm1', 20 << 20);
    // host requests: each guest request of both VMs inside its guest request (cache=none), an
    // unrelated host journal write, and a write into a third image that no guest describes
    const host = block([
      [(10 << 20) + (1 << 20), K, Op.Read, 1.6 * NS, 2.4 * NS],
      [(10 << 20) + (1 << 20) + K, K, Op.Write, 20.1 * NS, 20.9 * NS],
      [10 << 20, 2 * K, Op.Write, 22.1 * NS, 22.9 * NS],
      [(20 << 20) + (1 << 20), K, Op.Read, 1.6 * NS, 2.4 * NS],
      [(20 << 20) + (1 << 20) + K, K, Op.Write, 20.1 * NS, 20.9 * NS],
      [20 << 20, 2 * K, Op.Write, 22.1 * NS, 22.9 * NS],
      [0, K, Op.Write, 30 * NS, 31 * NS],
      [30 << 20, K, Op.Write, 30 * NS, 31 * NS],
    ]);
    const hostRegions = {
      index: new RegionIndex([0, 10 << 20, 20 << 20, 30 << 20], [1 << 20, 12 << 20, 22 << 20, 32 << 20], [0, 1, 2, 3]),
      causes: [
        { read: 'host_journal', write: 'host_journal', vm: -1 },
        { read: 'unattributed', write: 'unattributed', vm: 0 },
        { read: 'unattributed', write: 'unattributed', vm: 1 },
        { read: 'other_vm', write: 'other_vm', vm: -1 },
      ],
    };
    const r = analyzeLayers([v0, v1], { host, regions: hostRegions });
    const names = r.names.list;
    // guest layer of vm0: app_read 4K, writeback (app 1) 4K, journal 8K
    const g0 = aggregateAttribution(r.vms[0]!.guestPieces);
    const byCause = (a: ReturnType<typeof aggregateAttribution>) => {
      const m: Record<string, number> = {};
      for (let k = 0; k < a.length; k++)
        m[`${names[a.cause[k]!]}:${a.app[k]}:${a.vm[k]}`] = (m[`${names[a.cause[k]!]}:${a.app[k]}:${a.vm[k]}`] ?? 0) + a.bytes[k]!;
      return m;
    };
    expect(byCause(g0)).toEqual({ 'app_read:0:0': K, 'writeback:1:0': K, 'journal:-1:-1': 2 * K });
    // host: vm1's app I/Os are global app indices 3 and 4
    const h = byCause(aggregateAttribution(r.hostPieces!));
    expect(h).toEqual({
      'app_read:0:0': K,
      'writeback:1:0': K,
      'journal:-1:-1': 4 * K,
      'app_read:3:1': K,
      'writeback:4:1': K,
      'host_journal:-1:-1': K,
      'other_vm:-1:-1': K,
    });
    let hostTotal = 0;
    for (let i = 0; i < host.length; i++) hostTotal += host.end[i]! - host.start[i]!;
    expect(Object.values(h).reduce((x, y) => x + y, 0)).toBe(hostTotal);
    // lineage: the miss went to the disk, the hit stayed in the guest cache, the write was written back
    const c = r.lineage;
    expect(lineageOutcome(c, 0, Op.Read, K, K, false, true)).toBe('read_disk');
    expect(lineageOutcome(c, 2, Op.Read, K, K, false, true)).toBe('read_guest_cache');
    expect(lineageOutcome(c, 1, Op.Write, K, K, false, true)).toBe('write_back');
    expect(c.hostRequests[3]).toBe(1);
    expect(c.guestFirst[0]).toBe(1.5 * NS);
    expect(c.hostLast[4]).toBe(20.9 * NS);
  });

  it('does two layers without a host, and sector-level attribution without a guest fs', () => {
    const v = vmInput('vm0', 0);
    const twoLayers = analyzeLayers([{ ...v, guestToHost: null }], null);
    expect(twoLayers.hostPieces).toBeNull();
    expect(lineageOutcome(twoLayers.lineage, 0, Op.Read, K, K, false, false)).toBe('read_guest_disk');
    const sectorOnly = analyzeLayers([{ ...v, fileMaps: null, guestRegions: null, guestToHost: null }], null);
    const a = aggregateAttribution(sectorOnly.vms[0]!.guestPieces);
    expect(a.length).toBe(3);
    expect(Array.from(a.cause, (k) => sectorOnly.names.list[k])).toEqual(['unattributed', 'unattributed', 'unattributed']);
    expect(Array.from(a.bytes).reduce((x, y) => x + y, 0)).toBe(4 * K);
  });

  it('keeps a shared dictionary of cause names', () => {
    const n = new Names();
    expect(n.id('a')).toBe(0);
    expect(n.id('b')).toBe(1);
    expect(n.id('a')).toBe(0);
    expect(n.list).toEqual(['a', 'b']);
  });
});
