import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBlockRequestTables } from '../../src/ingest/block/block-requests.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { bttMetrics, type BttDeviceMetrics } from '../../src/metrics/btt.js';
import { iostatSeries } from '../../src/metrics/iostat-series.js';
import { SeekAccumulator } from '../../src/metrics/seek-distance.js';
import { fixture, has, perCpu, readBinary, unpackPerCpu } from '../ingest-blktrace/helpers.js';

/** The figures btt prints in its .avg file (btt/output.c layouts). */
interface BttAvg {
  stages: Record<string, { min: string; avg: string; max: string; n: number }>;
  merge: { q: number; d: number; ratio: string; blkMin: number; blkAvg: number; blkMax: number; total: number };
  seeks: { n: number; mean: string; mode: string }[];
}

function parseBttAvg(text: string): BttAvg {
  const stages: BttAvg['stages'] = {};
  const lines = text.split('\n');
  let i = lines.findIndex((l) => l.startsWith('=') && l.includes('All Devices'));
  for (i++; i < lines.length && !lines[i]!.startsWith('='); i++) {
    const m = /^(Q2Q|Q2G|G2I|Q2M|I2D|M2D|D2C|Q2C)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)/.exec(lines[i]!);
    if (m) stages[m[1]!] = { min: m[2]!, avg: m[3]!, max: m[4]!, n: Number(m[5]) };
  }
  const mi = lines.findIndex((l) => l.includes('Device Merge Information'));
  const mm = /\|\s+(\d+)\s+(\d+)\s+(\S+)\s+\|\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(lines.slice(mi).find((l) => /^\s*\(\s*\d+,/.test(l))!)!;
  const seeks: BttAvg['seeks'] = [];
  for (const title of ['Device Q2Q Seek Information', 'Device D2D Seek Information']) {
    const si = lines.findIndex((l) => l.includes(title));
    const sm = /\|\s+(\d+)\s+(\S+)\s+(\S+)\s+\|\s+(\S+)/.exec(lines.slice(si).find((l) => /^\s*\(\s*\d+,/.test(l))!)!;
    seeks.push({ n: Number(sm[1]), mean: sm[2]!, mode: sm[4]! });
  }
  return {
    stages,
    merge: {
      q: Number(mm[1]),
      d: Number(mm[2]),
      ratio: mm[3]!,
      blkMin: Number(mm[4]),
      blkAvg: Number(mm[5]),
      blkMax: Number(mm[6]),
      total: Number(mm[7]),
    },
    seeks,
  };
}

const sec = (ns: number) => (ns / 1e9).toFixed(9);

async function metricsOf(name: string): Promise<BttDeviceMetrics> {
  const { table } = await readBinary(perCpu(name));
  const { requests, bios } = buildBlockRequestTables(table, new IngestStats());
  const all = bttMetrics(requests, bios);
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** Assert that our figures equal btt's for the given stages. */
function expectSameStages(ours: BttDeviceMetrics, btt: BttAvg, stages: string[]): void {
  for (const s of stages) {
    const o = ours.stages[s as keyof BttDeviceMetrics['stages']];
    expect({ stage: s, min: sec(o.min), avg: sec(o.avg), max: sec(o.max), n: o.n }).toEqual({ stage: s, ...btt.stages[s] });
  }
}

describe('btt metrics on a real capture without splits: equal to btt', () => {
  it('every stage, the merge ratio, BLK and the seek figures (golden btt output)', async () => {
    const btt = parseBttAvg(readFileSync(fixture('nosplit.btt.avg'), 'utf8'));
    const m = await metricsOf('nosplit');
    expectSameStages(m, btt, ['Q2Q', 'Q2G', 'G2I', 'Q2M', 'I2D', 'M2D', 'D2C', 'Q2C']);
    expect([m.queued, m.issued, m.mergeRatio.toFixed(1)]).toEqual([btt.merge.q, btt.merge.d, btt.merge.ratio]);
    expect([m.blks.min, Math.trunc(m.blks.avg), m.blks.max, m.blks.total]).toEqual([
      btt.merge.blkMin,
      btt.merge.blkAvg,
      btt.merge.blkMax,
      btt.merge.total,
    ]);
    expect([m.seeksQ2Q.n, m.seeksQ2Q.mean.toFixed(1), `${m.seeksQ2Q.modes.join(',')}(${m.seeksQ2Q.modeCount})`]).toEqual([
      btt.seeks[0]!.n,
      btt.seeks[0]!.mean,
      btt.seeks[0]!.mode,
    ]);
    expect([m.seeksD2D.n, m.seeksD2D.mean.toFixed(1), `${m.seeksD2D.modes.join(',')}(${m.seeksD2D.modeCount})`]).toEqual([
      btt.seeks[1]!.n,
      btt.seeks[1]!.mean,
      btt.seeks[1]!.mode,
    ]);
  });

  it.skipIf(!has('btt') || !has('blkparse'))('btt still prints the golden figures for the fixture (live)', () => {
    const prefix = unpackPerCpu('nosplit');
    execFileSync('blkparse', ['-i', prefix, '-d', `${prefix}.dump`, '-o', '/dev/null']);
    // btt writes its *_fp.dat series into the working directory: keep them in the temp dir
    execFileSync('btt', ['-i', `${prefix}.dump`, '-o', `${prefix}.btt`], { cwd: dirname(prefix) });
    const live = parseBttAvg(readFileSync(`${prefix}.btt.avg`, 'utf8'));
    rmSync(dirname(prefix), { recursive: true, force: true });
    expect(live).toEqual(parseBttAvg(readFileSync(fixture('nosplit.btt.avg'), 'utf8')));
  });
});

describe('btt metrics on a real capture with splits: where btt is wrong', () => {
  it('equal where splits do not matter; Q2G, I2D, D2C, Q2C differ because btt ignores X events', async () => {
    const btt = parseBttAvg(readFileSync(fixture('deadline.btt.avg'), 'utf8'));
    const m = await metricsOf('deadline');
    expectSameStages(m, btt, ['Q2Q', 'Q2M', 'M2D']);
    expect([m.seeksQ2Q.n, m.seeksQ2Q.mean.toFixed(1)]).toEqual([btt.seeks[0]!.n, btt.seeks[0]!.mean]);
    expect([m.seeksD2D.n, m.seeksD2D.mean.toFixed(1)]).toEqual([btt.seeks[1]!.n, btt.seeks[1]!.mean]);
    expect(m.issued).toBe(btt.merge.d);
    // btt: every piece's G is a "Q2G" of the one original Q (1302 G for 945 Q), and G events that
    // fall inside a split Q's range long after (the Q is never completed in btt's eyes, so it stays
    // in its tree) count again: an average of 0.1 s for a step that takes microseconds
    expect(btt.stages.Q2G!.n).toBe(m.issued);
    expect(m.stages.Q2G.n).toBeLessThan(btt.stages.Q2G!.n);
    expect(Number(btt.stages.Q2G!.avg)).toBeGreaterThan(1000 * Number(sec(m.stages.Q2G.avg)));
    expect(m.stages.Q2G.max).toBeLessThan(1e6);
    // btt finds no D or C whose range holds a whole split bio: I2D/D2C/Q2C are missing for them
    expect(m.stages.I2D.n).toBeGreaterThan(btt.stages.I2D!.n);
    expect(m.stages.Q2C.n).toBeGreaterThan(btt.stages.Q2C!.n);
    expect(m.stages.Q2C.n).toBe(m.queued);
  });
});

describe('seek distances and the iostat-like series', () => {
  it('seek distance follows btt/seek.c: overlap is no seek, forward from the end, backward from the start', () => {
    const s = new SeekAccumulator();
    // 104+2 lies before 108..116 without touching its ends: btt measures it from the start (-4)
    expect([s.add(100, 8), s.add(108, 8), s.add(104, 2), s.add(106, 8), s.add(200, 8), s.add(50, 8)]).toEqual([100, 0, -4, 0, 86, -150]);
    expect(s.result()).toMatchObject({ n: 6, mean: (100 + 4 + 86 + 150) / 6, median: 86, modes: [0], modeCount: 2 });
  });

  it('IOPS, MB/s, queue depth and utilisation add up to the requests they come from', async () => {
    const { table } = await readBinary(perCpu('nosplit'));
    const { requests } = buildBlockRequestTables(table, new IngestStats());
    const s = iostatSeries(requests, { intervalNs: 100e6 });
    const rq = requests.toArray() as Record<string, unknown>[];
    const done = rq.filter((r) => r.complete_ns !== null && (r.op === 'read' || r.op === 'write'));
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(Math.round((sum(s.readIops) + sum(s.writeIops)) * 0.1)).toBe(done.length);
    expect(Math.round((sum(s.readMBps) + sum(s.writeMBps)) * 0.1 * 1e6)).toBe(done.reduce((x, r) => x + Number(r.bytes), 0));
    const busy = rq
      .filter((r) => r.complete_ns !== null && r.issue_ns !== null)
      .reduce((x, r) => x + Number((r.complete_ns as bigint) - (r.issue_ns as bigint)), 0);
    expect(sum(s.queueDepth) * 100e6).toBeCloseTo(busy, -3);
    for (const u of s.utilization) {
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThanOrEqual(1 + 1e-9);
    }
    expect(() => iostatSeries(requests, { intervalNs: 0 })).toThrow(/positive/);
  });
});
