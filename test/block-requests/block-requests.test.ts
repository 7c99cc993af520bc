import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Table } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { BlockAction, BlockEventsBuilder, NONE } from '../../src/ingest/block/block-events-builder.js';
import { buildBlockRequestTables, buildBlockRequests } from '../../src/ingest/block/block-requests.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { blockRequestsTable } from '../../src/table/schemas/block-requests.js';
import { fixture, perCpu, readBinary } from '../ingest-blktrace/helpers.js';
import { commitEventRow } from './event-rows.js';

type Row = Record<string, unknown>;

/**
 * Events in a compact form, one per line: `time_us action rwbs sector nr [x]` on device 7:0, where
 * sector "-" is none and x is new_sector for X and the error for C/R. Times in microseconds.
 */
function events(text: string): Table {
  const b = new BlockEventsBuilder();
  const dev = b.internDev(7, 0);
  for (const line of text.trim().split('\n')) {
    const [t, act, rwbs, sector, nr, x] = line.trim().split(/\s+/) as [string, string, string, string, string, string?];
    const rk = b.internRwbs(rwbs);
    const packed = b.rwbsOpFlags(rk);
    const a = BlockAction[act as keyof typeof BlockAction];
    const isC = act === 'C' || act === 'R';
    const r = b.row;
    r.ts = Number(t) * 1000;
    r.cpu = 0;
    r.pid = 100;
    r.dev = dev;
    r.action = a;
    r.rwbs = rk;
    r.op = packed & 7;
    r.flags = packed >> 3;
    r.sector = sector === '-' ? NONE : Number(sector);
    r.nrSectors = Number(nr);
    r.error = isC ? Number(x ?? 0) : null;
    r.newSector = act === 'X' ? Number(x) : NONE;
    b.commit();
  }
  return b.finish();
}

function build(text: string): { rows: Row[]; bios: Row[]; stats: IngestStats } {
  const stats = new IngestStats();
  const { requests, bios } = buildBlockRequestTables(events(text), stats);
  return { rows: requests.toArray() as Row[], bios: bios.toArray() as Row[], stats };
}

describe('buildBlockRequests: the life cycles of the block layer', () => {
  it('Q G I D C, with a back merge and a front merge into the pending request', () => {
    const { rows, bios } = build(`
      1 Q W 1000 8
      2 G W 1000 8
      3 Q W 1008 8
      4 M W 1008 8
      5 Q W 992 8
      6 F W 992 8
      7 I W 992 24
      9 D W 992 24
      20 C W 992 24 0`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: 0,
      kind: 'request',
      op: 'write',
      sector: 992n,
      nr_sectors: 24,
      bytes: 12288n,
      queue_ns: 1000n,
      getrq_ns: 2000n,
      insert_ns: 7000n,
      issue_ns: 9000n,
      complete_ns: 20000n,
      bios: 3,
      queued_bios: 3,
      issues: 1,
      completions: 1,
      error: 0,
      split_from: null,
      merged_into: null,
    });
    expect(bios.map((b) => [b.role, b.request, b.merge_ns, b.complete_ns])).toEqual([
      ['head', 0, null, 20000n],
      ['merged', 0, 4000n, 20000n],
      ['merged', 0, 6000n, 20000n],
    ]);
  });

  it('a split bio: the pieces have no Q; each becomes a request that points at the first piece', () => {
    const { rows, bios } = build(`
      1 Q WS 16384 384
      2 X WS 16384 0 16512
      3 G WS 16384 128
      4 X WS 16512 0 16640
      5 G WS 16512 128
      6 G WS 16640 128
      7 D WS 16384 128
      8 D WS 16512 128
      9 D WS 16640 128
      10 C WS 16384 128 0
      12 C WS 16640 128 0
      11 C WS 16512 128 0`);
    expect(rows.map((r) => [r.sector, r.nr_sectors, r.queue_ns, r.split_from, r.split_sector, r.queued_bios])).toEqual([
      [16384n, 128, 1000n, null, null, 1],
      [16512n, 128, 1000n, 0, 16384n, 0],
      [16640n, 128, 1000n, 0, 16384n, 0],
    ]);
    // the bio completes with its last piece
    expect(bios[0]).toMatchObject({ role: 'split', request: 0, complete_ns: 12000n });
  });

  it('requeue then re-issue; partial completions; a request in flight at the end', () => {
    const { rows } = build(`
      1 Q R 100 16
      2 G R 100 16
      3 D R 100 16
      4 R R 100 16 0
      5 D R 100 16
      6 C R 100 8 0
      7 C R 108 8 0
      8 Q R 500 8
      9 G R 500 8
      10 D R 500 8`);
    expect(rows[0]).toMatchObject({ issue_ns: 5000n, complete_ns: 7000n, issues: 2, requeues: 1, completions: 2 });
    expect(rows[1]).toMatchObject({ issue_ns: 10000n, complete_ns: null, error: null, completions: 0 });
  });

  it('a request absorbed by another in the scheduler (T, block_rq_merge), and the same as binary blktrace records it (M)', () => {
    for (const act of ['T', 'M']) {
      const { rows, bios } = build(`
        1 Q WS 8192 8
        2 G WS 8192 8
        3 I WS 8192 8
        4 Q WS 8200 16
        5 G WS 8200 16
        6 I WS 8200 16
        7 ${act} WS 8200 16
        8 D WS 8192 24
        9 C WS 8192 24 0`);
      expect(rows[0]).toMatchObject({ sector: 8192n, nr_sectors: 24, bios: 2, issue_ns: 8000n, complete_ns: 9000n, merged_into: null });
      expect(rows[1]).toMatchObject({ merged_into: 0, issue_ns: null, complete_ns: null });
      expect(bios.map((b) => b.request)).toEqual([0, 0]);
      expect(bios[1]!.complete_ns).toBe(9000n);
    }
  });

  it('flush machinery: a preflush bio, the flush request (no sector), the data request with rewritten flags', () => {
    const { rows, stats } = build(`
      1 Q FWFSM 32794 2
      2 D FF - 0
      3 C FF - 0 0
      4 I WSM 32794 2
      5 D WSM 32794 2
      6 C WSM 32794 2 0
      7 D FF - 0
      8 C FF - 0 0
      9 C WSM 32794 0 0`);
    const data = rows.find((r) => r.op === 'write')!;
    expect(data).toMatchObject({
      sector: 32794n,
      queue_ns: 1000n,
      insert_ns: 4000n,
      issue_ns: 5000n,
      complete_ns: 6000n,
      queued_bios: 1,
      completions: 2,
      rwbs: 'WSM',
    });
    const flushes = rows.filter((r) => r.op === 'flush');
    expect(flushes.map((r) => [r.sector, r.issue_ns, r.complete_ns])).toEqual([
      [null, 2000n, 3000n],
      [null, 7000n, 8000n],
    ]);
    expect(stats.get('requests_flush_sequence_end')).toBe(1);
  });

  it('a bio-based device (Q and C only) gets one row per bio; a G without a Q is counted', () => {
    const { rows, stats } = build(`
      1 Q WS 0 128
      2 Q WS 128 128
      3 C WS 0 128 0
      4 C WS 128 128 -5
      5 G R 4000 8
      6 D R 4000 8
      7 C R 4000 8 0`);
    expect(rows.map((r) => [r.kind, r.sector, r.queue_ns, r.issue_ns, r.complete_ns, r.error])).toEqual([
      ['bio', 0n, 1000n, null, 3000n, 0],
      ['bio', 128n, 2000n, null, 4000n, -5],
      ['request', 4000n, null, 6000n, 7000n, 0],
    ]);
    expect(stats.get('requests_without_queue')).toBe(1);
  });

  it('scheduler none: G then D without I', () => {
    const { rows } = build(`
      1 Q R 10 8
      2 G R 10 8
      3 D R 10 8
      4 C R 10 8 0`);
    expect(rows[0]).toMatchObject({ insert_ns: null, getrq_ns: 2000n, issue_ns: 3000n });
  });
});

describe('buildBlockRequests: real captures', () => {
  for (const name of ['nosplit', 'deadline']) {
    it(`${name}: every D, C and Q of the trace is accounted for`, async () => {
      const { table } = await readBinary(perCpu(name));
      const stats = new IngestStats();
      const { requests, bios } = buildBlockRequestTables(table, stats);
      const ev = table.toArray() as Row[];
      const rq = requests.toArray() as Row[];
      const count = (a: string, f: (r: Row) => boolean = () => true) => ev.filter((e) => e.action === a && f(e)).length;
      expect(rq.reduce((s, r) => s + (r.issues as number), 0)).toBe(count('D'));
      expect(bios.numRows).toBe(count('Q'));
      // every C is a completion of some request (zero-byte ends of flush sequences included)
      expect(rq.reduce((s, r) => s + (r.completions as number), 0)).toBe(count('C'));
      for (const r of rq) {
        if (r.complete_ns !== null && r.issue_ns !== null) expect((r.complete_ns as bigint) >= (r.issue_ns as bigint)).toBe(true);
        if (r.queue_ns !== null && r.issue_ns !== null) expect((r.queue_ns as bigint) <= (r.issue_ns as bigint)).toBe(true);
      }
      // sum of request sizes at issue = sum of D sizes
      const dBytes = ev.filter((e) => e.action === 'D').reduce((s, e) => s + (e.nr_sectors as number), 0);
      expect(rq.reduce((s, r) => s + (r.nr_sectors as number) * (r.issues as number), 0)).toBe(dBytes);
      expect(stats.get('requests_completion_without_issue')).toBe(0);
      expect(stats.get('requests_merge_target_not_found')).toBe(0);
      expect(requests.schema.fields.map((f) => f.name)).toEqual(blockRequestsTable.columns.map((c) => c.name));
    });
  }

  it('gives the same requests from a block_events.arrow file as from the table in memory', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeArrowFile, readArrowFile } = await import('../../src/table/arrow-file.js');
    const { table } = await readBinary(perCpu('deadline'));
    const dir = mkdtempSync(join(tmpdir(), 'iol-rq-'));
    writeArrowFile(join(dir, 'block_events.arrow'), table);
    const again = readArrowFile(join(dir, 'block_events.arrow'));
    rmSync(dir, { recursive: true, force: true });
    const a = buildBlockRequests(table, new IngestStats()).toArray();
    const b = buildBlockRequests(again, new IngestStats()).toArray();
    expect(b).toEqual(a);
  });

  it('deadline: the pieces of each split bio tile the bio exactly', async () => {
    const { table } = await readBinary(perCpu('deadline'));
    const { requests, bios } = buildBlockRequestTables(table, new IngestStats());
    const rq = requests.toArray() as Row[];
    const bs = bios.toArray() as Row[];
    const split = bs.filter((b) => b.role === 'split');
    expect(split.length).toBeGreaterThan(20);
    for (const b of split) {
      const first = rq[b.request as number]!;
      const pieces = [first, ...rq.filter((r) => r.split_from === b.request)].sort((x, y) =>
        Number((x.sector as bigint) - (y.sector as bigint)),
      );
      expect(pieces[0]!.sector).toBe(b.sector);
      let at = b.sector as bigint;
      for (const p of pieces) {
        expect(p.sector).toBe(at);
        at += BigInt(p.nr_sectors as number);
      }
      expect(at).toBe((b.sector as bigint) + BigInt(b.nr_sectors as number));
      expect(b.complete_ns).toBe(pieces.reduce((m, p) => ((p.complete_ns as bigint) > m ? (p.complete_ns as bigint) : m), 0n));
    }
  });

  it('scheduler none (tracefs text capture): requests rebuilt without I', async () => {
    const text = gunzipSync(readFileSync(fixture('none.trace.gz'))).toString('utf8');
    expect(text).toContain('block_rq_issue');
    const { parseTracefsText } = await import('../../src/ingest/block/tracefs-text.js');
    const b = new BlockEventsBuilder();
    const stats = new IngestStats();
    parseTracefsText(text, 'none.trace', b, stats);
    const rq = buildBlockRequests(b.finish(), stats).toArray() as Row[];
    const issued = rq.filter((r) => r.issue_ns !== null && r.op !== 'flush');
    expect(issued.length).toBeGreaterThan(500);
    expect(issued.filter((r) => r.insert_ns === null).length / issued.length).toBeGreaterThan(0.5);
    expect(issued.filter((r) => r.complete_ns === null).length).toBe(0);
  });
});

describe('buildBlockRequests: a real bio-based device (zram: Q and bio completion only)', () => {
  it('one row per bio, each completed, from tracefs text and from the same events as binary blktrace', async () => {
    const { parseTracefsText } = await import('../../src/ingest/block/tracefs-text.js');
    const { writeBlktraceBinary } = await import('../../src/ingest/block/blktrace-writer.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const b = new BlockEventsBuilder();
    const stats = new IngestStats();
    parseTracefsText(gunzipSync(readFileSync(fixture('zram.trace.gz'))).toString('utf8'), 'zram.trace', b, stats);
    const ev = b.finish();
    const rq = buildBlockRequests(ev, stats).toArray() as Row[];
    expect(rq).toHaveLength(336);
    for (const r of rq) {
      expect(r).toMatchObject({ kind: 'bio', dev: '253:1', issue_ns: null, bios: 1, completions: 1, error: 0 });
      expect((r.complete_ns as bigint) >= (r.queue_ns as bigint)).toBe(true);
    }
    const dir = mkdtempSync(join(tmpdir(), 'iol-zram-'));
    const { table } = await readBinary(writeBlktraceBinary(ev, join(dir, 'zram')));
    rmSync(dir, { recursive: true, force: true });
    expect(
      buildBlockRequests(table, new IngestStats())
        .toArray()
        .map((r) => [r.sector, r.queue_ns, r.complete_ns]),
    ).toEqual(rq.map((r) => [r.sector, r.queue_ns, r.complete_ns]));
  });
});

describe('buildBlockRequests: seeded fuzz', () => {
  it('dropped, duplicated and reordered events never throw and never make more rows than events', async () => {
    const { table } = await readBinary(perCpu('deadline'));
    const ev = table.toArray() as Row[];
    let seed = 42;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let k = 0; k < 8; k++) {
      const b = new BlockEventsBuilder();
      const dev = b.internDev(7, 0);
      const picked: Row[] = [];
      for (const e of ev) {
        const r = rnd(20);
        if (r === 0) continue; // drop
        picked.push(e);
        if (r === 1) picked.push(e); // duplicate
        if (r === 2 && picked.length > 2) {
          const x = picked[picked.length - 1]!;
          picked[picked.length - 1] = picked[picked.length - 2]!;
          picked[picked.length - 2] = x;
        }
      }
      for (const e of picked) {
        commitEventRow(b, e, dev);
      }
      const stats = new IngestStats();
      const { requests } = buildBlockRequestTables(b.finish(), stats);
      expect(requests.numRows).toBeLessThanOrEqual(picked.length);
    }
  });
});
