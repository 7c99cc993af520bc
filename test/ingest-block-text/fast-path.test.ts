/**
 * The fast paths of the tracefs / trace-cmd / blkparse text readers against their general paths:
 * the same input parsed with the fast path on and off must give the same rows, the same
 * dictionaries (key order included) and the same counters, on every real fixture, on seeded
 * mutations of them, and on hand-made lines at the edges of what the fast path accepts.
 */
import { describe, expect, it } from 'vitest';
import type { Table } from '@uwdata/flechette';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { parseBlkparseText } from '../../src/ingest/block/blkparse-text.js';
import { parseTraceCmdText } from '../../src/ingest/block/trace-cmd-text.js';
import { parseTracefsText, TracefsTextParser } from '../../src/ingest/block/tracefs-text.js';
import type { BlockTextFileSummary, BlockTextOptions } from '../../src/ingest/block/block-text-context.js';
import { ByteLineFramer } from '../../src/io/byte-line-framer.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';
import { fixtureText, rows } from './helpers.js';

type Parse = (
  text: string | Uint8Array,
  file: string,
  b: BlockEventsBuilder,
  s: IngestStats,
  options?: BlockTextOptions,
) => BlockTextFileSummary;

interface Outcome {
  rows: unknown[];
  dicts: Record<string, unknown[]>;
  stats: unknown;
  summary: unknown;
  error: string | null;
}

function run(parse: Parse, text: string | Uint8Array, fast: boolean): Outcome {
  const b = new BlockEventsBuilder();
  const stats = new IngestStats();
  let summary: BlockTextFileSummary | null = null;
  let error: string | null = null;
  try {
    summary = parse(text, 'input', b, stats, { fastPath: fast });
  } catch (e) {
    error = (e as Error).message;
  }
  const t: Table = b.finish({});
  const dicts: Record<string, unknown[]> = {};
  for (const c of ['comm', 'dev', 'rwbs', 'ioprio', 'old_dev']) {
    const col = t.getChild(c)!;
    // dictionary order is what keys mean: compare the values of the first batch's dictionary
    const batch = col.data[0] as unknown as { dictionary?: { toArray(): ArrayLike<unknown> } } | undefined;
    dicts[c] = Array.from(batch?.dictionary?.toArray() ?? []);
  }
  return { rows: rows(t), dicts, stats: stats.list(), summary, error };
}

function same(parse: Parse, text: string | Uint8Array): Outcome {
  const slow = run(parse, text, false);
  const fast = run(parse, text, true);
  expect(fast).toEqual(slow);
  return fast;
}

const FIXTURES: [string, Parse][] = [
  ['ext4.trace.gz', parseTracefsText],
  ['ext3.trace.gz', parseTracefsText],
  ['ext4.linux-4.19.trace.gz', parseTracefsText],
  ['ext4.linux-5.10.trace.gz', parseTracefsText],
  ['ext4.tgid-noirq.pipe.gz', parseTracefsText],
  ['ext3.tgid-noirq.linux-5.10.pipe.gz', parseTracefsText],
  ['ext4.trace-cmd.txt.gz', parseTraceCmdText],
  ['ext4.trace-cmd-t.txt.gz', parseTraceCmdText],
  ['ext4.trace-cmd-l.txt.gz', parseTraceCmdText],
  ['ext4.trace-cmd-R.txt.gz', parseTraceCmdText],
  ['ext3.trace-cmd.txt.gz', parseTraceCmdText],
  ['ext4.blkparse.txt.gz', parseBlkparseText],
  ['ext3.blkparse.txt.gz', parseBlkparseText],
];

describe('fast path = general path', () => {
  it.each(FIXTURES)('on the real capture %s', (name, parse) => {
    const out = same(parse, fixtureText(name));
    expect(out.rows.length).toBeGreaterThan(100);
    expect(out.dicts.dev!.length).toBeGreaterThan(0);
    expect(out.dicts.rwbs!.length).toBeGreaterThan(1);
  });

  it.each(FIXTURES)('on seeded mutations of %s', (name, parse) => {
    const lines = fixtureText(name).split('\n').slice(0, 3000);
    const r = rng(name.length * 7919);
    const specials = ['0', '9', ' ', '-', '[', ']', ':', '.', ',', '+', '/', '(', ')', '\r', 'é', '<'];
    for (let round = 0; round < 4; round++) {
      const out = lines.map((l) => {
        if (r() > 0.15 || l.length === 0) return l;
        const at = Math.floor(r() * l.length);
        switch (Math.floor(r() * 4)) {
          case 0:
            return l.slice(0, at) + specials[Math.floor(r() * specials.length)]! + l.slice(at + 1);
          case 1:
            return l.slice(0, at) + l.slice(at + 1);
          case 2:
            return l.slice(0, at) + '99999999999999999999'.slice(0, 1 + Math.floor(r() * 20)) + l.slice(at);
          default:
            return l.slice(0, at);
        }
      });
      same(parse, out.join(r() < 0.5 ? '\n' : '\r\n'));
    }
  });
});

describe('fast path edges (tracefs text)', () => {
  const pre = (ts = '1000.000014', comm = 'fio', pid = '4242') => `${comm.padStart(16)}-${pid.padEnd(7)} [001] ..... ${ts.padStart(12)}: `;
  const lines = [
    pre() + 'block_bio_queue: 7,1 WS 1048576 + 8 [fio]',
    pre() + 'block_bio_queue: 7,1 WS 9007199254740991 + 8 [fio]', // 16 digits: general path
    pre() + 'block_bio_queue: 7,1 WS 18446744073709551615 + 8 [fio]', // 2^64-1: bigint
    pre() + 'block_bio_queue: 7,1 WS 18446744073709551616 + 8 [fio]', // 2^64: not a sector
    pre('9007199.000001') + 'block_bio_queue: 7,1 R 8 + 8 [fio]', // ns beyond 2^53: bigint
    pre('9007198.999999999') + 'block_bio_queue: 7,1 R 8 + 8 [fio]',
    pre('5.1') + 'block_bio_queue: 7,1 R 8 + 8 [fio]',
    pre('5.1234567890') + 'block_bio_queue: 7,1 R 8 + 8 [fio]', // 10 decimals: not a timestamp
    pre('1000.000015', 'kworker/u8:2 x') + 'block_rq_insert: 7,1 WS 4096 () 1048576 + 8 be,0,4 [kworker/u8:2 x]',
    pre('1000.000016', 'café-ö') + 'block_rq_issue: 7,1 WS 4096 () 1048576 + 8 [café-ö]',
    pre('1000.000017', '<...>') + 'block_rq_complete: 7,1 WS () 1048576 + 8 be,0,4 [-5]',
    pre('1000.000018') + 'block_rq_complete: 7,1 WS () 1048576 + 8 [0]',
    pre('1000.000018') + 'block_rq_complete: 7,1 WS () 1048576 + 8 [40000]', // errno out of range
    pre('1000.000019') + 'block_rq_issue: 7,1 FWS 0 () 0 + 0 none,0,0 [jbd2/sda1-8]', // flush: no sector
    pre('1000.000019') + 'block_rq_insert: 7,1 R 0 () 8 + 8 [fio]', // 4.x: 0 bytes = none
    pre('1000.000020') + 'block_split: 7,1 WS 1048576 / 1048832 [fio]',
    pre('1000.000021') + 'block_bio_backmerge: 7,1 WS 1048584 + 8 [fio]',
    pre('1000.000022') + 'block_rq_requeue: 7,1 W () 8 + 8 [0]',
    pre('1000.000023') + 'block_getrq: 7,1 XX 8 + 8 [fio]', // not an RWBS string
    pre('1000.000024') + 'block_getrq: 259,65537 RA 8 + 8 [fio]',
    pre('1000.000025') + 'block_bio_queue: 7,1 WS 1048576 + 8 [fio]   ', // trailing spaces
    pre('1000.000026') + 'block_bio_queue: 7,1 WS 1048576 + 8 fio]',
    pre('1000.000027') + 'block_plug: [fio]',
    pre('1000.000028') + 'block_unplug: [fio] 1',
    pre('1000.000029') + 'block_bio_remap: 8,0 WS 2048 + 8 <- (8,1) 0',
    pre('1000.000030') + 'block_bio_complete: 7,1 WS 8 + 8 [0]',
    pre('1000.000031') + 'sched_switch: prev_comm=fio',
    '     fio-4242    (   4242) [001] ..... 1000.000032: block_bio_queue: 7,1 R 8 + 8 [fio]', // tgid
    '     fio-4242    [001] 1000.000033: block_bio_queue: 7,1 R 8 + 8 [fio]', // no flags column
    '# comment',
  ];

  it('gives the same rows as the general path, and the values the formats mean', () => {
    const out = same(parseTracefsText, lines.join('\n'));
    const r = out.rows as Record<string, unknown>[];
    expect(r[0]).toMatchObject({
      ts_ns: 1000000014000n,
      cpu: 1,
      pid: 4242,
      comm: 'fio',
      dev: '7:1',
      action: 'Q',
      rwbs: 'WS',
      sector: 1048576n,
      nr_sectors: 8,
      bytes: 4096,
    });
    expect(r.find((x) => x.sector === 18446744073709551615n)).toBeUndefined(); // beyond int64: null
    expect(r.some((x) => x.ts_ns === 9007199000001000n)).toBe(true);
    expect(r.some((x) => x.ts_ns === 9007198999999999n)).toBe(true);
    expect(r.some((x) => x.ts_ns === 5100000000n)).toBe(true);
    expect(r.some((x) => x.comm === 'café-ö' && x.action === 'D')).toBe(true);
    expect(r.some((x) => x.comm === 'kworker/u8:2 x' && x.ioprio === 'be,0,4')).toBe(true);
    expect(r.some((x) => x.comm === null && x.error === -5)).toBe(true);
    expect(r.some((x) => x.action === 'X' && x.new_sector === 1048832n)).toBe(true);
    expect(r.some((x) => x.dev === '259:65537')).toBe(true);
  });

  it('gives the same rows whatever the chunk cuts (Buffer chunks, CRLF, no final newline)', () => {
    const text = Buffer.from(lines.join('\r\n'));
    const whole = same(parseTracefsText, new Uint8Array(text));
    expect(whole.rows.length).toBeGreaterThan(15);
    for (const cut of [1, 7, 64, 101, 4096]) {
      const b = new BlockEventsBuilder();
      const parser = new TracefsTextParser(b, new IngestStats(), 'input');
      const framer = new ByteLineFramer('input', (t, s, e, n) => parser.line(t, s, e, n));
      for (let o = 0; o < text.length; o += cut) framer.push(text.subarray(o, o + cut));
      framer.finish();
      parser.finish();
      expect(rows(b.finish({}))).toEqual(whole.rows);
    }
  });
});

describe('fast path edges (blkparse text)', () => {
  const lines = [
    '  7,1    0        1     0.000000000  4242  Q  WS 1048576 + 8 [fio]',
    '  7,1    0        2     0.000001000  4242  G  WS 1048576 + 8 [fio]',
    '  7,1    1        3     0.000002000    22  C  WS 1048576 + 8 [0]',
    '  7,1    1        4     0.000002000    22  C  WS 1048576 + 8 [65531]', // -5
    '  7,1    1        5     0.000002000    22  C  WS 1048576 [0]',
    '  7,1    0        6     0.000003000  4242  X  WS 1048576 / 1048832 [fio]',
    '  7,1    0        7     0.000003000  4242  X  WS 1048576 + 8 [fio]',
    '  7,1    0        8     0.000004000  4242  I  WS 1048576 + 8 [café]',
    '  7,1    0        9     0.000004000  4242  D  FWS 0 + 0 [jbd2/sda1-8]',
    '  7,1    0       10     0.000004000  4242  Q  WS 18446744073709551615 + 8 [fio]',
    '  7,1    0       11     9007199.000000001  4242  Q  R 8 + 8 [fio]',
    '  7,1    0       12     0.00000400  4242  Q  R 8 + 8 [fio]', // 8 decimals
    '  7,1    0       13     0.000004000  4242  P   N [fio]',
    '  7,1    0       14     0.000004000  4242  U   N [fio] 1',
    '  7,1    0       15     0.000004000  4242  Q  WS 8 + 8 []',
    '  7,1    0       16     0.000004000  4242  D   R 32 (12 34) [fio]',
    '  7,1    0       17     0.000004000  4242  D  WS 8 + 8 (  123) [fio]',
    '  8,0    0       18     0.000004000  4242  A  WS 2048 + 8 <- (8,1) 0',
    '  7,1    0       19     0.000004000  4242  Q  ZZ 8 + 8 [fio]',
    '  7,1    0       20     0.000004000  4242  Q  R 8 + 9000000 [fio]', // nr beyond 2^23
    '  7,1    0       21     0.000004000     0  m   N cfq workload slice',
    'CPU0 (fio):',
    '  7,1    0       22     0.000004000  4242  Q  R 8 + 8 [fio]', // inside the summary
  ];

  it('gives the same rows as the general path, and the values the format means', () => {
    const out = same(parseBlkparseText, lines.join('\n'));
    const r = out.rows as Record<string, unknown>[];
    expect(r[0]).toMatchObject({ ts_ns: 0n, cpu: 0, pid: 4242, comm: 'fio', dev: '7:1', action: 'Q', sector: 1048576n, nr_sectors: 8 });
    expect(r.some((x) => x.action === 'C' && x.error === -5)).toBe(true);
    expect(r.some((x) => x.action === 'X' && x.new_sector === 1048832n)).toBe(true);
    expect(r.some((x) => x.ts_ns === 9007199000000001n)).toBe(true);
    expect(r.some((x) => x.comm === 'café')).toBe(true);
    expect(r.filter((x) => x.action === 'Q' && x.comm === null).length).toBe(1); // `[]`
    expect(r.length).toBe(out.summary && (out.summary as BlockTextFileSummary).events); // not the line inside the summary
    expect(r.some((x) => x.action === 'Q' && x.nr_sectors === 9000000)).toBe(false);
  });
});
