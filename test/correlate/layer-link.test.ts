import { describe, expect, it } from 'vitest';
import {
  linkLayer,
  LinkHow,
  Op,
  type LinkOptions,
  type LowerRequests,
  type Segments,
  type UpperTiming,
} from '../../src/correlate/layer-link.js';

/** xorshift32: seeded, reproducible. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function segments(list: [number, number, number][]): Segments {
  return {
    length: list.length,
    start: Float64Array.from(list, (s) => s[0]),
    end: Float64Array.from(list, (s) => s[1]),
    upper: Int32Array.from(list, (s) => s[2]),
    upperAddr: Float64Array.from(list, (s) => s[0] * 10),
  };
}
function lower(list: [number, number, number, number, number][]): LowerRequests {
  return {
    length: list.length,
    start: Float64Array.from(list, (r) => r[0]),
    end: Float64Array.from(list, (r) => r[1]),
    op: Uint8Array.from(list, (r) => r[2]),
    issue: Float64Array.from(list, (r) => r[3]),
    complete: Float64Array.from(list, (r) => r[4]),
  };
}
function upper(list: [number, number, number, number][]): UpperTiming {
  return {
    op: Uint8Array.from(list, (u) => u[0]),
    t0: Float64Array.from(list, (u) => u[1]),
    t1: Float64Array.from(list, (u) => u[2]),
    sync: Uint8Array.from(list, (u) => u[3]),
  };
}

/** Sums per "L:u:how" of the painted pieces. */
function sums(p: ReturnType<typeof linkLayer>): Map<string, number> {
  const m = new Map<string, number>();
  for (let k = 0; k < p.length; k++) {
    const key = `${p.lower[k]}:${p.upper[k]}:${p.how[k]}`;
    m.set(key, (m.get(key) ?? 0) + p.len[k]!);
  }
  return m;
}

/**
 * The rules of layer-link.ts evaluated independently, sector by sector: for each lower byte
 * range of 512 bytes, the candidate segments covering it, the rule each satisfies, the winner by
 * (tier, key, key2, segment).
 */
function bruteForce(seg: Segments, up: UpperTiming, low: LowerRequests, o: LinkOptions): Map<string, number> {
  const m = new Map<string, number>();
  const { earlyNs: early, lateNs: late } = o;
  for (let L = 0; L < low.length; L++) {
    const issue = low.issue[L]!,
      complete = low.complete[L]!;
    const raOk = !o.readaheadNeedsFlag || !low.readahead || low.readahead[L] === 1;
    const syncReq = !low.syncFlag || low.syncFlag[L] === 1;
    for (let a = low.start[L]!; a < low.end[L]!; a += 512) {
      let best: [number, number, number, number, number] | null = null; // tier, key, key2, seg, how
      for (let s = 0; s < seg.length; s++) {
        if (!(seg.start[s]! <= a && a < seg.end[s]!)) continue;
        const u = seg.upper[s]!,
          t0 = up.t0[u]!,
          t1 = up.t1[u]!;
        const inWin = t0 - early <= issue && complete <= t1 + late;
        const outside = Math.max(0, t0 - issue) + Math.max(0, complete - t1);
        let c: [number, number, number, number, number] | null = null;
        if (low.op[L] === Op.Read) {
          if (inWin && up.op[u] !== Op.Other) c = [0, outside, t0, s, up.sync[u] ? LinkHow.Direct : LinkHow.SyncRead];
          else if (o.readahead && raOk && up.op[u] === Op.Read && t0 >= issue - early) c = [1, t0, 0, s, LinkHow.Readahead];
        } else if (low.op[L] === Op.Write && up.op[u] === Op.Write) {
          if (inWin && syncReq && (up.sync[u] || o.syncWrites)) c = [0, outside, t0, s, up.sync[u] ? LinkHow.Direct : LinkHow.SyncWrite];
          else if (t0 <= issue + early && (o.writebackOfSyncWrites || !up.sync[u])) c = [1, -t1, 0, s, LinkHow.Writeback];
        }
        if (c && better(c, best)) best = c;
      }
      const key = best ? `${L}:${seg.upper[best[3]]}:${best[4]}` : `${L}:-1:${LinkHow.None}`;
      m.set(key, (m.get(key) ?? 0) + 512);
    }
  }
  return m;
}

/** Lexicographic order on (tier, key, key2, segment). */
function better(x: number[], y: number[] | null): boolean {
  if (!y) return true;
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

interface RandomShape {
  /** A start address. */
  sec: (r: () => number) => number;
  /** A segment's length. */
  segBytes: (r: () => number) => number;
  /** Some lower requests without issue or completion time. */
  cutRequests: boolean;
  slack: (r: () => number) => number;
}

/** Seeded link options: early and late tolerances apart, flags of the lower requests or not. */
function randomOptions(r: () => number, shape: RandomShape): LinkOptions {
  const early = shape.slack(r);
  return {
    earlyNs: early,
    lateNs: r() < 0.5 ? early : shape.slack(r) * 3,
    syncWrites: r() < 0.3,
    readahead: r() < 0.8,
    readaheadNeedsFlag: r() < 0.5,
    writebackOfSyncWrites: r() < 0.5,
  };
}

/** Seeded random layers of the given shape: linkLayer's sums equal the sector-by-sector rules. */
function agreesWithBruteForce(firstSeed: number, cases: number, shape: RandomShape): void {
  for (let seed = firstSeed; seed < firstSeed + cases; seed++) {
    const r = rng(seed);
    const nU = 1 + Math.floor(r() * 40),
      nL = 1 + Math.floor(r() * 40);
    const segList: [number, number, number][] = [];
    const upList: [number, number, number, number][] = [];
    for (let u = 0; u < nU; u++) {
      const t0 = Math.floor(r() * 1000);
      upList.push([r() < 0.5 ? Op.Read : r() < 0.9 ? Op.Write : Op.Other, t0, t0 + Math.floor(r() * 200), r() < 0.3 ? 1 : 0]);
      const pieces = 1 + Math.floor(r() * 3);
      for (let k = 0; k < pieces; k++) {
        const a = shape.sec(r);
        segList.push([a, a + shape.segBytes(r), u]);
      }
    }
    const lowList: [number, number, number, number, number][] = [];
    const raList: number[] = [],
      syncList: number[] = [];
    for (let L = 0; L < nL; L++) {
      const a = shape.sec(r),
        t = Math.floor(r() * 1200);
      const issue = shape.cutRequests && r() < 0.03 ? NaN : t;
      const complete = shape.cutRequests && r() < 0.05 ? NaN : t + Math.floor(r() * 50);
      lowList.push([a, a + 512 * (1 + Math.floor(r() * 16)), r() < 0.45 ? Op.Read : r() < 0.95 ? Op.Write : Op.Other, issue, complete]);
      raList.push(r() < 0.5 ? 1 : 0);
      syncList.push(r() < 0.6 ? 1 : 0);
    }
    const seg = segments(segList),
      up = upper(upList),
      low = lower(lowList);
    if (r() < 0.7) {
      low.readahead = Uint8Array.from(raList);
      low.syncFlag = Uint8Array.from(syncList);
    }
    const opt = randomOptions(r, shape);
    const got = sums(linkLayer(seg, up, low, opt));
    const want = bruteForce(seg, up, low, opt);
    expect(Object.fromEntries([...got].sort()), `seed ${seed}`).toEqual(Object.fromEntries([...want].sort()));
  }
}

describe('linkLayer', () => {
  it('links a synchronous read, leaves readahead to the later reader and the rest unowned', () => {
    // upper 0 reads [0, 4096) during [100, 200]; upper 1 reads [4096, 8192) at 1000
    const seg = segments([
      [0, 4096, 0],
      [4096, 8192, 1],
    ]);
    const up = upper([
      [Op.Read, 100, 200, 0],
      [Op.Read, 1000, 1100, 0],
    ]);
    // one 12 KiB lower read inside upper 0's call
    const low = lower([[0, 12288, Op.Read, 120, 180]]);
    const p = linkLayer(seg, up, low, { earlyNs: 0, lateNs: 0, syncWrites: false, readahead: true });
    const m = sums(p);
    expect(m.get(`0:0:${LinkHow.SyncRead}`)).toBe(4096);
    expect(m.get(`0:1:${LinkHow.Readahead}`)).toBe(4096);
    expect(m.get(`0:-1:${LinkHow.None}`)).toBe(4096);
    expect(p.count[0]).toBe(3);
  });

  it('links a buffered write-back to the latest earlier write of each byte', () => {
    // writes: u0 [0, 8192) at 10; u1 [4096, 8192) at 20; u2 [0, 4096) at 500 (after the write-back)
    const seg = segments([
      [0, 8192, 0],
      [4096, 8192, 1],
      [0, 4096, 2],
    ]);
    const up = upper([
      [Op.Write, 10, 11, 0],
      [Op.Write, 20, 21, 0],
      [Op.Write, 500, 501, 0],
    ]);
    const low = lower([[0, 8192, Op.Write, 100, 150]]);
    const m = sums(linkLayer(seg, up, low, { earlyNs: 0, lateNs: 0, syncWrites: false, readahead: true }));
    expect(m.get(`0:0:${LinkHow.Writeback}`)).toBe(4096);
    expect(m.get(`0:1:${LinkHow.Writeback}`)).toBe(4096);
    expect(m.has(`0:2:${LinkHow.Writeback}`)).toBe(false);
  });

  it('prefers an O_DIRECT write inside the call over an older buffered write', () => {
    const seg = segments([
      [0, 4096, 0],
      [0, 4096, 1],
    ]);
    const up = upper([
      [Op.Write, 10, 11, 0],
      [Op.Write, 100, 200, 1],
    ]);
    const low = lower([[0, 4096, Op.Write, 120, 190]]);
    const m = sums(linkLayer(seg, up, low, { earlyNs: 0, lateNs: 0, syncWrites: false, readahead: true }));
    expect(m.get(`0:1:${LinkHow.Direct}`)).toBe(4096);
  });

  it("links a request that completes after a call's recorded end to that call within the late tolerance, and prefers the call that holds it", () => {
    // u0 reads [0, 4096) during [100, 200]; its request completes at 260 (strace's end too early);
    // u1 reads the same bytes during [240, 300]: the request was issued before u1 started
    const seg = segments([
      [0, 4096, 0],
      [0, 4096, 1],
    ]);
    const up = upper([
      [Op.Read, 100, 200, 1],
      [Op.Read, 240, 300, 1],
    ]);
    const low = lower([[0, 4096, Op.Read, 150, 260]]);
    expect(
      sums(linkLayer(seg, up, low, { earlyNs: 0, lateNs: 100, syncWrites: false, readahead: true })).get(`0:0:${LinkHow.Direct}`),
    ).toBe(4096);
    // with no late tolerance it is no call's
    expect(sums(linkLayer(seg, up, low, { earlyNs: 0, lateNs: 0, syncWrites: false, readahead: false })).get(`0:-1:${LinkHow.None}`)).toBe(
      4096,
    );
    // a request inside u1 goes to u1 even though u0's widened window holds it too
    const inside = lower([[0, 4096, Op.Read, 250, 280]]);
    expect(
      sums(linkLayer(seg, up, inside, { earlyNs: 0, lateNs: 100, syncWrites: false, readahead: true })).get(`0:1:${LinkHow.Direct}`),
    ).toBe(4096);
  });

  it('calls a read readahead only when the request is flagged REQ_RAHEAD, and never writes back an O_DIRECT write', () => {
    const seg = segments([
      [0, 4096, 0],
      [8192, 12288, 1],
    ]);
    const up = upper([
      [Op.Read, 1000, 1100, 0],
      [Op.Write, 10, 20, 1],
    ]);
    const low = lower([
      [0, 4096, Op.Read, 100, 150],
      [0, 4096, Op.Read, 200, 250],
      [8192, 12288, Op.Write, 500, 510],
    ]);
    low.readahead = Uint8Array.from([1, 0, 0]);
    low.syncFlag = Uint8Array.from([0, 0, 0]);
    const m = sums(linkLayer(seg, up, low, { earlyNs: 0, lateNs: 0, syncWrites: false, readahead: true, readaheadNeedsFlag: true }));
    expect(m.get(`0:0:${LinkHow.Readahead}`)).toBe(4096);
    expect(m.get(`1:-1:${LinkHow.None}`)).toBe(4096);
    expect(m.get(`2:-1:${LinkHow.None}`)).toBe(4096);
  });

  it('agrees with a sector-by-sector evaluation of the rules on seeded random inputs', () => {
    agreesWithBruteForce(1, 400, {
      sec: (r) => Math.floor(r() * 64) * 512,
      segBytes: (r) => 512 * (1 + Math.floor(r() * 8)),
      // a few requests never issued or never completed (trace cut), as the readers report them
      cutRequests: true,
      slack: (r) => Math.floor(r() * 20),
    });
  });

  it('agrees with the sector-by-sector rules when addresses spread over many MiB, with wide segments and loose clocks', () => {
    const MiB = 1 << 20;
    agreesWithBruteForce(1001, 150, {
      // 64 slots 8 sectors short of 1 MiB apart: requests and segments cross bucket boundaries
      sec: (r) => Math.floor(r() * 64) * (MiB - 4096) + Math.floor(r() * 16) * 512,
      // some segments span more than 16 MiB (the wide list), most a few sectors
      segBytes: (r) => (r() < 0.1 ? 20 * MiB : 512 * (1 + Math.floor(r() * 16))),
      cutRequests: false,
      slack: (r) => (r() < 0.5 ? Math.floor(r() * 20) : 500), // 500: most requests in flight together
    });
  });

  it('paints every lower byte exactly once', () => {
    const r = rng(99);
    const segList: [number, number, number][] = [];
    for (let i = 0; i < 500; i++) {
      const a = Math.floor(r() * 1e4) * 512;
      segList.push([a, a + 4096, i]);
    }
    const up = upper(
      Array.from({ length: 500 }, () => {
        const t = r() * 1e6;
        return [r() < 0.5 ? Op.Read : Op.Write, t, t + 1e3, 0] as [number, number, number, number];
      }),
    );
    const lowList: [number, number, number, number, number][] = [];
    for (let i = 0; i < 800; i++) {
      const a = Math.floor(r() * 1e4) * 512,
        t = r() * 1e6;
      lowList.push([a, a + 512 * (1 + Math.floor(r() * 64)), r() < 0.5 ? Op.Read : Op.Write, t, t + 100]);
    }
    const low = lower(lowList);
    const p = linkLayer(segments(segList), up, low, { earlyNs: 10, lateNs: 10, syncWrites: false, readahead: true });
    for (let L = 0; L < low.length; L++) {
      let sum = 0;
      const parts: [number, number][] = [];
      for (let k = p.first[L]!; k < p.first[L]! + p.count[L]!; k++) {
        sum += p.len[k]!;
        parts.push([p.start[k]!, p.start[k]! + p.len[k]!]);
      }
      expect(sum).toBe(low.end[L]! - low.start[L]!);
      parts.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < parts.length; i++) expect(parts[i]![0]).toBeGreaterThanOrEqual(parts[i - 1]![1]);
    }
  });
});
