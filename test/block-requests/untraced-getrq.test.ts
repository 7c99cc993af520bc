/**
 * Requests rebuilt from traces that lack block_getrq and/or block_rq_insert (a common tracepoint
 * selection). The inputs are the real captures with those events removed, which is what a
 * capture without the tracepoints records: the lines of those tracepoints for ftrace text, the
 * G/I lines for blkparse text, the G/I events for binary blktrace. Oracles: the same capture's full
 * trace (every request it issues must come out the same), the count of merge events, and btt on
 * binary blktrace written from the reduced events.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Table } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { BlockEventsBuilder, NONE } from '../../src/ingest/block/block-events-builder.js';
import { parseBlkparseText } from '../../src/ingest/block/blkparse-text.js';
import { buildBlockRequestTables } from '../../src/ingest/block/block-requests.js';
import { writeBlktraceBinary } from '../../src/ingest/block/blktrace-writer.js';
import { parseTracefsText } from '../../src/ingest/block/tracefs-text.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { bttMetrics } from '../../src/metrics/btt.js';
import { has, perCpu, readBinary } from '../ingest-blktrace/helpers.js';
import { commitEventRow } from './event-rows.js';

type Row = Record<string, unknown>;

const REPO = join(__dirname, '..', '..');
const BLOCK_FIXTURES = join(__dirname, '..', 'fixtures', 'block');
const gunzipText = (path: string) => gunzipSync(readFileSync(path)).toString('utf8');

/** Which request events a capture left out. */
const OMISSIONS: readonly (readonly string[])[] = [['G'], ['I'], ['G', 'I']];
const TRACEPOINT: Record<string, string> = { G: 'block_getrq', I: 'block_rq_insert' };

/** ftrace text (tracefs or trace-cmd) without the lines of the omitted tracepoints. */
function withoutTracepoints(text: string, omit: readonly string[]): string {
  const names = omit.map((a) => ` ${TRACEPOINT[a]}: `);
  return text
    .split('\n')
    .filter((l) => !names.some((n) => l.includes(n)))
    .join('\n');
}

/** blkparse default text without the lines whose action (7th column, blkparse_fmt.c) is omitted. */
function withoutBlkparseActions(text: string, omit: readonly string[]): string {
  return text
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return !(f.length > 7 && /^\d+,\d+$/.test(f[0]!) && omit.includes(f[5]!));
    })
    .join('\n');
}

/** The same events without the omitted actions (for binary blktrace, whose records carry the action). */
function withoutActions(events: Table, omit: readonly string[]): Table {
  const b = new BlockEventsBuilder();
  const devs = new Map<string, number>();
  for (const e of events.toArray() as Row[]) {
    if (omit.includes(e.action as string)) continue;
    let dev = NONE;
    if (e.dev !== null) {
      if (!devs.has(e.dev as string)) {
        const [maj, min] = (e.dev as string).split(':').map(Number) as [number, number];
        devs.set(e.dev as string, b.internDev(maj, min));
      }
      dev = devs.get(e.dev as string)!;
    }
    commitEventRow(b, e, dev);
  }
  return b.finish();
}

interface Rebuilt {
  requests: Row[];
  bios: Table;
  requestsTable: Table;
  stats: IngestStats;
  mergeEvents: number;
}

function rebuild(events: Table): Rebuilt {
  const stats = new IngestStats();
  const { requests, bios } = buildBlockRequestTables(events, stats);
  // M/F join a bio to a request; T (block_rq_merge) joins a request to another one (binary
  // blktrace records T as an M over the absorbed request's range)
  const mergeEvents = (events.toArray() as Row[]).filter((e) => e.action === 'M' || e.action === 'F' || e.action === 'T').length;
  return { requests: requests.toArray() as Row[], bios, requestsTable: requests, stats, mergeEvents };
}

/** Bios that joined a request after its first: (bios - 1) over the requests that were issued or stayed pending (not absorbed by a T). */
function mergedBios(rq: Row[]): number {
  return rq
    .filter((r) => r.kind === 'request' && r.merged_into === null && (r.bios as number) > 0)
    .reduce((s, r) => s + (r.bios as number) - 1, 0);
}

/** Bio merges are one per M/F; a T adds the absorbed request's bios, which binary blktrace counts as M events. */
function expectMergesCounted(full: Rebuilt, reduced: Rebuilt): void {
  expect(reduced.stats.get('requests_merge_target_not_found')).toBe(0);
  expect(reduced.stats.get('requests_rq_merge_not_found')).toBe(0);
  expect(mergedBios(reduced.requests)).toBe(mergedBios(full.requests));
  expect(reduced.mergeEvents).toBe(full.mergeEvents);
}

/** Every request the reduced trace issues is the full trace's request issued at the same place in the dispatch order. */
function expectSameIssuedRequests(full: Rebuilt, reduced: Rebuilt): number {
  const byOrder = new Map(full.requests.filter((r) => r.issue_order !== null).map((r) => [r.issue_order, r]));
  const fields = [
    'op',
    'sector',
    'nr_sectors',
    'bytes',
    'bios',
    'queued_bios',
    'queue_ns',
    'issue_ns',
    'complete_ns',
    'completions',
    'split_sector',
    'pid',
  ];
  const pick = (r: Row) => Object.fromEntries(fields.map((f) => [f, r[f]]));
  const issued = reduced.requests.filter((r) => r.issue_order !== null);
  expect(issued.length).toBe(byOrder.size);
  const differ = issued.filter(
    (r) =>
      JSON.stringify(pick(r), (_k, v) => (typeof v === 'bigint' ? String(v) : v)) !==
      JSON.stringify(pick(byOrder.get(r.issue_order)!), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  );
  expect(
    differ.map((r) => ({ issue_order: r.issue_order, reduced: pick(r), full: pick(byOrder.get(r.issue_order)!) })).slice(0, 3),
  ).toEqual([]);
  return issued.length;
}

function parseTracefs(text: string, name: string): Table {
  const b = new BlockEventsBuilder();
  parseTracefsText(text, name, b, new IngestStats());
  return b.finish();
}

describe('requests without block_getrq / block_rq_insert: ftrace text of the bundled captures', () => {
  // vm0 of m128-buffered: 2498 back merges, some onto remainders of split bios; the host traces: splits and merges
  for (const trace of ['m128-buffered/vm0', 'm128-buffered/host', 'm128-buffered-qcow2/host', 'm96-2vms/vm1']) {
    it(`${trace}: merges counted, every issued request as in the full trace`, () => {
      const text = gunzipText(join(REPO, 'data', trace, 'block.trace.gz'));
      const full = rebuild(parseTracefs(text, trace));
      expect(full.mergeEvents).toBeGreaterThan(30);
      expect(mergedBios(full.requests)).toBe(full.mergeEvents);
      for (const omit of OMISSIONS) {
        const reducedText = withoutTracepoints(text, omit);
        expect(reducedText.length).toBeLessThan(text.length);
        const reduced = rebuild(parseTracefs(reducedText, trace));
        expectMergesCounted(full, reduced);
        expect(expectSameIssuedRequests(full, reduced)).toBeGreaterThan(4000);
        if (omit.includes('G')) expect(reduced.requests.every((r) => r.getrq_ns === null)).toBe(true);
        // bios that joined a request point at the request that carried them
        const bios = reduced.bios.toArray() as Row[];
        expect(bios.filter((b) => b.role === 'merged' && b.request === null)).toEqual([]);
      }
    });
  }
});

describe('requests without block_getrq / block_rq_insert: block fixtures with scheduler merges (T)', () => {
  it('ext4 tracefs capture (mq-deadline, insert merges of plugged requests)', () => {
    const text = gunzipText(join(BLOCK_FIXTURES, 'ext4.trace.gz'));
    const full = rebuild(parseTracefs(text, 'ext4.trace'));
    expect((parseTracefs(text, 'ext4.trace').toArray() as Row[]).filter((e) => e.action === 'T').length).toBeGreaterThan(40);
    for (const omit of OMISSIONS) {
      const reduced = rebuild(parseTracefs(withoutTracepoints(text, omit), 'ext4.trace'));
      expectMergesCounted(full, reduced);
      expectSameIssuedRequests(full, reduced);
    }
  });

  it('the same capture as blkparse text (T printed as M over the absorbed request)', () => {
    const text = gunzipText(join(BLOCK_FIXTURES, 'ext4.blkparse.txt.gz'));
    const parse = (t: string) => {
      const b = new BlockEventsBuilder();
      parseBlkparseText(t, 'ext4.blkparse.txt', b, new IngestStats());
      return b.finish();
    };
    const full = rebuild(parse(text));
    for (const omit of OMISSIONS) {
      const reduced = rebuild(parse(withoutBlkparseActions(text, omit)));
      expectMergesCounted(full, reduced);
      expectSameIssuedRequests(full, reduced);
    }
  });
});

describe('requests without block_getrq / block_rq_insert: binary blktrace, checked with btt', () => {
  for (const name of ['nosplit', 'deadline']) {
    it(`${name}: the full trace's requests; Q2M and M2D as btt computes them on the reduced trace`, async () => {
      const { table } = await readBinary(perCpu(name));
      const full = rebuild(table);
      for (const omit of OMISSIONS) {
        const events = withoutActions(table, omit);
        const reduced = rebuild(events);
        expectMergesCounted(full, reduced);
        expectSameIssuedRequests(full, reduced);
        const m = bttMetrics(reduced.requestsTable, reduced.bios)[0]!;
        // every merged bio reaches the D of its request
        expect(m.stages.M2D.n).toBe(m.stages.Q2M.n);
        expect(m.stages.M2D.n).toBe(reduced.mergeEvents);
        if (!has('btt') || !has('blkparse')) continue;
        const dir = mkdtempSync(join(tmpdir(), 'iol-nogetrq-'));
        try {
          writeBlktraceBinary(events, join(dir, name));
          execFileSync('blkparse', ['-i', join(dir, name), '-d', join(dir, `${name}.dump`), '-o', '/dev/null']);
          execFileSync('btt', ['-i', join(dir, `${name}.dump`), '-o', join(dir, `${name}.btt`)], { cwd: dir });
          const avg = readFileSync(join(dir, `${name}.btt.avg`), 'utf8');
          // btt/output.c: "STAGE  min avg max N" in seconds
          const stage = (s: string) => {
            const x = new RegExp(`^${s}\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\d+)`, 'm').exec(avg)!;
            return { avg: x[2], n: Number(x[4]) };
          };
          for (const s of ['Q2M', 'M2D'] as const)
            expect({ s, avg: (m.stages[s].avg / 1e9).toFixed(9), n: m.stages[s].n }).toEqual({ s, ...stage(s) });
          // without splits btt follows every bio to its completion, merged ones included
          if (name === 'nosplit') expect(m.stages.Q2C.n).toBe(stage('Q2C').n);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    });
  }
});
