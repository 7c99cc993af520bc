import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { parseTracefsText, readTracefsText } from '../../src/ingest/block/tracefs-text.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { InputError } from '../../src/util/errors.js';
import { awkCounts, countsByAction, fixture, fixtureText, haveTool, parseCounts, perAction, readTable, rows, type Row } from './helpers.js';

const TRACEFS_FIXTURES = [
  'ext4.trace.gz',
  'ext3.trace.gz',
  'ext4.tgid-noirq.pipe.gz',
  'ext3.tgid-noirq.pipe.gz',
  'ext4.linux-5.10.trace.gz',
  'ext4.linux-4.19.trace.gz',
  'ext3.tgid-noirq.linux-5.10.pipe.gz',
];
const haveAwk = haveTool('awk', '--version') || haveTool('awk', '-W');

/** Parse a few lines of tracefs text in memory (unbounded: keep values request reconstruction cannot hold). */
function parse(text: string, dev?: string, unbounded = false): { rows: Row[]; stats: IngestStats } {
  const b = new BlockEventsBuilder({ ...(dev ? { dev } : {}), unboundedValues: unbounded });
  const stats = new IngestStats();
  parseTracefsText(text, 'inline.trace', b, stats);
  return { rows: rows(b.finish()), stats };
}

describe('tracefs text: real captures (Linux 6.18 loop devices, ext4 and ext3) against awk counts', () => {
  for (const name of TRACEFS_FIXTURES) {
    it(`${name}: events and bytes per action equal the awk golden`, async () => {
      const { table, stats, summary } = await readTable(readTracefsText, fixture(name));
      const golden = parseCounts(readFileSync(fixture(name.replace(/\.gz$/, '.awk-counts')), 'utf8'));
      expect(perAction(table)).toEqual(countsByAction(golden));
      // the other block tracepoints are counted as skipped, one counter each
      for (const tp of ['block_io_start', 'block_io_done', 'block_touch_buffer', 'block_dirty_buffer']) {
        expect(stats.get(`block_text.skipped_${tp}`), tp).toBe(golden[tp]?.[0] ?? 0);
      }
      expect(summary.bad).toBe(0);
      expect(stats.total('data_loss')).toBe(0);
    });
  }

  it.skipIf(!haveAwk)('the awk goldens are what awk computes today (live)', () => {
    for (const name of TRACEFS_FIXTURES) {
      expect(parseCounts(awkCounts('count-events.awk', name)), name).toEqual(
        parseCounts(readFileSync(fixture(name.replace(/\.gz$/, '.awk-counts')), 'utf8')),
      );
    }
  });

  it('reads the lab bundles in data/ (guest kernel 6.1 and host 6.18 captures) with no unusable line', async () => {
    const { readdirSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..', 'data');
    const files = existsSync(root)
      ? readdirSync(root)
          .flatMap((d) => ['vm0', 'host'].map((s) => join(root, d, s, 'block.trace.gz')))
          .filter((f) => existsSync(f))
      : [];
    // the bundles are part of the repository: none found is a failure, not a skip
    expect(files.length).toBeGreaterThan(0);
    for (const f of files.slice(0, 4)) {
      const { table, summary } = await readTable(readTracefsText, f);
      expect(summary.bad, f).toBe(0);
      expect(table.numRows, f).toBeGreaterThan(1000);
    }
  });

  it('keeps the fields of a worked line: comm with dashes from the event text, ioprio, exact ns time', async () => {
    const { table } = await readTable(readTracefsText, fixture('ext4.trace.gz'));
    const r = rows(table);
    const jbd2 = r.find((x) => x.comm === 'jbd2/loop0-8' && x.action === 'M')!;
    expect(jbd2).toMatchObject({ dev: '7:0', rwbs: 'WSM', op: 'write', sync: true, meta: true });
    const first = r[0]!;
    expect(first).toMatchObject({
      ts_ns: 997822092000n,
      cpu: 0,
      pid: 21232,
      comm: 'mount',
      action: 'Q',
      rwbs: 'RA',
      op: 'read',
      readahead: true,
      sector: 196480n,
      nr_sectors: 8,
      bytes: 4096,
      error: null,
      ioprio: null,
    });
    const insert = r.find((x) => x.action === 'I')!;
    expect(insert.ioprio).toBe('be,0,4');
    // flush requests have no sector: issue prints 0, complete prints 2^64-1
    const flushes = r.filter((x) => x.op === 'flush' && (x.action === 'D' || x.action === 'C'));
    expect(flushes.length).toBeGreaterThan(0);
    for (const f of flushes) expect(f.sector).toBeNull();
    // splits: new_sector, no length
    const split = r.find((x) => x.action === 'X')!;
    expect(typeof split.new_sector).toBe('bigint');
    expect(split.nr_sectors).toBe(0);
    // unplug depth
    expect(r.find((x) => x.action === 'U')!.count).toBeGreaterThan(0);
    // rq merge: the absorbed request with its byte count
    expect(r.filter((x) => x.action === 'T').every((x) => x.bytes === (x.nr_sectors as number) * 512)).toBe(true);
  });

  it('historic layouts (5.10: 4-char flags, width-5 pid, no ioprio; 4.19: bytes 0) give the same rows', async () => {
    const base = rows((await readTable(readTracefsText, fixture('ext4.trace.gz'))).table).map((r) => ({ ...r, ioprio: null }));
    for (const v of ['ext4.linux-5.10.trace.gz', 'ext4.linux-4.19.trace.gz']) {
      expect(rows((await readTable(readTracefsText, fixture(v))).table), v).toEqual(base);
    }
    const pipe = rows((await readTable(readTracefsText, fixture('ext3.tgid-noirq.pipe.gz'))).table).map((r) => ({ ...r, ioprio: null }));
    expect(rows((await readTable(readTracefsText, fixture('ext3.tgid-noirq.linux-5.10.pipe.gz'))).table)).toEqual(pipe);
  });

  it('reads record-tgid / irq-info=0 lines (trace_pipe) like the default layout', async () => {
    const text = fixtureText('ext4.tgid-noirq.pipe.gz');
    expect(text).toMatch(/\(\s*\d+\) \[\d{3}\]\s+\d+\.\d{6}: block_/);
    const { table, summary } = await readTable(readTracefsText, fixture('ext4.tgid-noirq.pipe.gz'));
    expect(summary.bad).toBe(0);
    expect(rows(table).every((r) => r.pid !== 0 || r.action === 'C')).toBe(true);
  });
});

describe('tracefs text: formats of events this machine cannot produce (lines written per block.h TP_printk)', () => {
  it('remaps, requeue, bio complete, sleeprq, bounce, an errno, `<...>` comms and the 5-digit pid layout', () => {
    const text = [
      '          <...>-4242  [001] d..1 123.000001: block_bio_remap: 8,0 R 206848 + 16 <- (8,1) 4800',
      '   kworker/1:1H-58    [001] ..... 123.000002: block_rq_remap: 253,0 W 1000 + 8 <- (8,16) 2048 3',
      '   kworker/1:1H-58    [001] ..... 123.000003: block_rq_requeue: 8,0 W () 1000 + 8 be,0,4 [0]',
      '    ksoftirqd/0-14    [000] ..s.. 123.000004: block_rq_complete: 8,0 W () 1000 + 8 be,0,4 [-5]',
      '      dd-300   [000] ....   123.000005: block_bio_complete: 253,0 WS 0 + 128 [0]',
      '      dd-300   [000] ....   123.000006: block_sleeprq: 8,0 R 10 + 8 [dd]',
      '      dd-300   [000] ....   123.000007: block_bio_bounce: 8,0 R 10 + 8 [dd]',
      '  Web Content-9999   [001] .....   123.000008: block_bio_queue: 8,0 RA 16 + 8 [Web Content]',
    ].join('\n');
    const { rows: r, stats } = parse(text);
    expect(stats.total()).toBe(0);
    expect(r.map((x) => x.action)).toEqual(['A', 'A', 'R', 'C', 'C', 'S', 'B', 'Q']);
    expect(r[0]).toMatchObject({
      comm: null,
      pid: 4242,
      dev: '8:0',
      sector: 206848n,
      nr_sectors: 16,
      new_sector: 4800n,
      old_dev: '8:1',
      count: null,
      cpu: 1,
    });
    expect(r[1]).toMatchObject({ comm: 'kworker/1:1H', dev: '253:0', old_dev: '8:16', new_sector: 2048n, count: 3 });
    expect(r[2]).toMatchObject({ error: 0, ioprio: 'be,0,4', comm: 'kworker/1:1H' });
    expect(r[3]).toMatchObject({ error: -5, comm: 'ksoftirqd/0' });
    expect(r[4]).toMatchObject({ error: 0, bytes: 65536, comm: 'dd' });
    expect(r[7]).toMatchObject({ comm: 'Web Content', pid: 9999 });
  });

  it('keeps 64-bit values exact: timestamps past 2^53 ns, sectors past 2^53, 9-decimal times (unboundedValues)', () => {
    const { rows: r } = parse(
      [
        '  dd-1   [000] ..... 9999999.123456: block_bio_queue: 8,0 R 18014398509481984 + 8 [dd]',
        '  dd-1   [000] ..... 12.123456789: block_bio_queue: 8,0 R 9007199254740993 + 8 [dd]',
      ].join('\n'),
      undefined,
      true,
    );
    expect(r[0]!.ts_ns).toBe(9999999123456000n);
    expect(r[0]!.sector).toBe(18014398509481984n);
    expect(r[1]!.ts_ns).toBe(12123456789n);
    expect(r[1]!.sector).toBe(9007199254740993n);
  });

  it('counter trace clocks (no decimal point) are stored as printed and counted', () => {
    const { rows: r, stats } = parse(
      '  dd-1   [000] ..... 123456789012345678: block_bio_queue: 8,0 R 8 + 8 [dd]\n  dd-1   [000] ..... 42: block_bio_queue: 8,0 R 8 + 8 [dd]',
      undefined,
      true,
    );
    expect(r.map((x) => x.ts_ns)).toEqual([123456789012345678n, 42n]);
    expect(stats.get('block_text.counter_clock_timestamps')).toBe(2);
  });

  it('counts lost and overwritten events, other tracepoints and garbage lines with file:line', () => {
    const { rows: r, stats } = parse(
      [
        '# entries-in-buffer/entries-written: 10/25   #P:2',
        'CPU:1 [LOST 120 EVENTS]',
        '  dd-1   [000] ..... 1.000001: block_bio_queue: 8,0 R 8 + 8 [dd]',
        '  sh-2   [000] ..... 1.000002: tracing_mark_write: hello',
        'this is not a trace line',
        '  dd-1   [000] ..... 1.000003: block_bio_queue: 8,0 R 8 + [dd]',
        '  dd-1   [000] ..... 1.000004: block_bio_queue: 8,0 QQ 8 + 8 [dd]',
      ].join('\n'),
    );
    expect(r).toHaveLength(1);
    expect(stats.get('block_text.overwritten_events')).toBe(15);
    expect(stats.get('block_text.lost_events')).toBe(120);
    expect(stats.get('block_text.other_tracepoint')).toBe(1);
    expect(stats.get('block_text.unparsable_line')).toBe(1);
    expect(stats.get('block_text.bad_event_fields')).toBe(2);
    const ex = stats.list().find((c) => c.name === 'block_text.unparsable_line')!.examples[0]!;
    expect(ex).toMatchObject({ file: 'inline.trace', line: 5 });
  });

  it('throws an InputError naming the file and the first line when nothing is a trace line', () => {
    expect(() => parse('hello\nworld\n')).toThrowError(InputError);
    expect(() => parse('hello\nworld\n')).toThrowError(/inline\.trace:line 1.*not tracefs text/);
  });

  it('--dev keeps the device and the plug/unplug of tasks that touched it', () => {
    const text = [
      '  a-1   [000] ..... 1.000001: block_plug: [a]',
      '  a-1   [000] ..... 1.000002: block_bio_queue: 8,0 R 8 + 8 [a]',
      '  a-1   [000] ..... 1.000003: block_unplug: [a] 1',
      '  b-2   [000] ..... 1.000004: block_plug: [b]',
      '  b-2   [000] ..... 1.000005: block_bio_queue: 8,16 R 8 + 8 [b]',
      '  b-2   [000] ..... 1.000006: block_unplug: [b] 1',
    ].join('\n');
    const { rows: r } = parse(text, '8:0');
    expect(r.map((x) => `${x.action}${x.pid}`)).toEqual(['P1', 'Q1', 'U1']);
    expect(parse(text, '8:16').rows.map((x) => `${x.action}${x.pid}`)).toEqual(['P2', 'Q2', 'U2']);
  });
});
