import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { parseBlkparseText, readBlkparseText } from '../../src/ingest/block/blkparse-text.js';
import { writeBlktraceBinary } from '../../src/ingest/block/blktrace-writer.js';
import { readTracefsText } from '../../src/ingest/block/tracefs-text.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { InputError } from '../../src/util/errors.js';
import { awkCounts, fixture, fixtureText, haveTool, parseCounts, perAction, readTable, rows } from './helpers.js';

const haveBlkparse = haveTool('blkparse', '-h');
const work = mkdtempSync(join(tmpdir(), 'iol-blkparse-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** blkparse's own totals printed after the events ("Total (...)" block and "Events (...): N entries"). */
function blkparseTotals(text: string): { events: number; queued: [number, number]; completed: [number, number] } {
  const events = Number(/^Events \(.*\): (\d+) entries$/m.exec(text)![1]);
  const total = text.slice(text.indexOf('Total ('));
  const pair = (what: string): [number, number] => {
    const m = new RegExp(`Reads ${what}:\\s+(\\d+),\\s+(\\d+)KiB\\s+Writes ${what}:\\s+(\\d+),\\s+(\\d+)KiB`).exec(total)!;
    return [Number(m[1]) + Number(m[3]), (Number(m[2]) + Number(m[4])) * 1024];
  };
  return { events, queued: pair('Queued'), completed: pair('Completed') };
}

describe('blkparse default text (real blkparse 1.2.0 output of real captures)', () => {
  for (const name of ['ext4.blkparse.txt.gz', 'ext3.blkparse.txt.gz']) {
    it(`${name}: per action equal to awk; totals equal to blkparse's own statistics`, async () => {
      const { table, summary, stats } = await readTable(readBlkparseText, fixture(name));
      const byAction = perAction(table);
      expect(byAction).toEqual(parseCounts(readFileSync(fixture(name.replace(/\.gz$/, '.awk-counts')), 'utf8')));
      const totals = blkparseTotals(fixtureText(name));
      expect(table.numRows).toBe(totals.events);
      expect(summary.bad).toBe(0);
      expect(stats.total('data_loss')).toBe(0);
      // blkparse counts reads/writes queued (Q) and completed (C) with KiB = bytes >> 10 summed per CPU
      expect(byAction.Q![0]).toBe(totals.queued[0]);
      const discard = rows(table).filter((r) => r.action === 'C' && r.op === 'discard').length;
      expect(byAction.C![0] - discard).toBeLessThanOrEqual(totals.completed[0]);
      expect(Math.abs(byAction.Q![1] - totals.queued[1])).toBeLessThan(1024 * 4); // per-CPU KiB rounding
    });
  }

  it('the same events as the tracefs text they were written from (blkparse letters, relative times)', async () => {
    const fs = rows((await readTable(readTracefsText, fixture('ext4.trace.gz'))).table);
    const bp = rows((await readTable(readBlkparseText, fixture('ext4.blkparse.txt.gz'))).table);
    const t0 = fs[0]!.ts_ns as bigint;
    // blkparse prints rq merges as M, P/U with the device, no comm on completions and no ioprio
    const key = (r: Record<string, unknown>, fromFs: boolean) =>
      JSON.stringify([
        String((r.ts_ns as bigint) - (fromFs ? t0 : 0n)),
        r.pid,
        r.action === 'T' ? 'M' : r.action,
        r.action === 'X' ? '' : r.op,
        String(r.sector),
        r.nr_sectors,
        r.bytes,
        r.error,
        String(r.new_sector),
        r.count,
      ]);
    const a = fs.map((r) => key(r, true)).sort();
    const b = bp.map((r) => key(r, false)).sort();
    expect(b).toEqual(a);
  });

  it.skipIf(!haveBlkparse)('live: blkparse on binary blktrace written from the tracefs capture prints the golden text', async () => {
    const { table } = await readTable(readTracefsText, fixture('ext4.trace.gz'));
    const files = writeBlktraceBinary(table, join(work, 'ext4'));
    expect(files.length).toBeGreaterThan(0);
    const out = join(work, 'ext4.blkparse.txt');
    execFileSync('blkparse', ['-i', join(work, 'ext4'), '-o', out], { stdio: 'ignore' });
    const live = readFileSync(out, 'utf8');
    const golden = fixtureText('ext4.blkparse.txt.gz');
    const events = (t: string) => t.split('\n').filter((l) => /^\s*\d+,\d+\s/.test(l));
    expect(events(live)).toEqual(events(golden));
    expect(parseCounts(awkCounts('count-blkparse.awk', 'ext4.blkparse.txt.gz'))).toEqual(
      perAction((await readTable(readBlkparseText, out)).table),
    );
  });

  it('trailers blkparse prints for hand-made records (reference 7.6): pc, messages, remap, -t elapsed, errno', () => {
    const b = new BlockEventsBuilder();
    const stats = new IngestStats();
    parseBlkparseText(
      [
        '  8,16   0        1     0.000000000  4242  Q  WS 2048 + 8 [writer]',
        '  8,16   0        5     0.000002500  4242  P   N [writer]',
        '  8,16   0        7     0.000003500  4242  U   N [writer] 3',
        '  8,16   0        8     0.000003600  4242 UT   N [writer] 1',
        '  8,16   0       10     0.000005000  4242  R  WS 2040 + 24 [0]',
        '  8,16   0       12     0.000007000  4242  X RAM 100000 / 100256 [writer]',
        '  8,16   0       13     0.000008000  4242  A   R 206848 + 16 <- (8,17) 4800',
        '  8,16   0       16     0.000008700  4242  D  FN [writer]',
        '  8,16   0       17     0.000008800  4242  C   N 0 [65531]',
        '  8,16   0       18     0.000008900  4242  D   R 36 (12 00 00 00 24 00 ..) [writer]',
        '  8,16   0        0     0.000009000     0  m   N hello msg',
        '  8,16   1       19     0.000010000  4242  D  WS 2040 + 24 (    1234) [writer]',
        '  8,16   1       20     0.000011000  4242  C  WS 2040 + 24 (    2345) [0]',
      ].join('\n'),
      'inline.blkparse',
      b,
      stats,
    );
    const r = rows(b.finish());
    expect(stats.total()).toBe(0);
    expect(r.map((x) => x.action)).toEqual(['Q', 'P', 'U', 'UT', 'R', 'X', 'A', 'D', 'C', 'D', 'm', 'D', 'C']);
    expect(r[2]).toMatchObject({ count: 3, dev: '8:16', comm: 'writer' });
    expect(r[5]).toMatchObject({ sector: 100000n, new_sector: 100256n, rwbs: 'RAM', readahead: true, meta: true });
    expect(r[6]).toMatchObject({ sector: 206848n, nr_sectors: 16, old_dev: '8:17', new_sector: 4800n });
    expect(r[7]).toMatchObject({ op: 'flush', sector: null });
    expect(r[8]).toMatchObject({ error: -5, sector: 0n, nr_sectors: 0 });
    expect(r[9]).toMatchObject({ bytes: 36, sector: null });
    expect(r[10]).toMatchObject({ pid: 0, op: 'other' });
    expect(r[12]).toMatchObject({ ts_ns: 11000n, error: 0, cpu: 1 });
  });

  it('a file of something else is an InputError naming it; summary lines are skipped', () => {
    expect(() => parseBlkparseText('foo\nbar\n', 'x.txt', new BlockEventsBuilder(), new IngestStats())).toThrowError(
      /x\.txt:line 1.*not blkparse text/,
    );
    expect(() => parseBlkparseText('foo\nbar\n', 'x.txt', new BlockEventsBuilder(), new IngestStats())).toThrowError(InputError);
  });
});
