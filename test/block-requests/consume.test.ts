import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableToIPC } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { buildBlockRequestTables, rebuildBlockRequests } from '../../src/ingest/block/block-requests.js';
import { stageBlockRequestTables } from '../../src/ingest/block/request-sweep.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { BlockAction, BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import type { Table } from '@uwdata/flechette';
import { withOutputFolder } from '../../src/io/output-folder.js';
import { perCpu, readBinary } from '../ingest-blktrace/helpers.js';

/** Several record batches of Q G I D C life cycles (sectors past 2^32, interleaved in pairs). */
function manyEvents(requests: number): Table {
  const b = new BlockEventsBuilder();
  const dev = b.internDev(8, 0);
  const rk = b.internRwbs('W');
  const packed = b.rwbsOpFlags(rk);
  const add = (t: number, act: keyof typeof BlockAction, sector: number) => {
    const r = b.row;
    r.ts = t;
    r.cpu = 0;
    r.pid = 100;
    r.dev = dev;
    r.action = BlockAction[act];
    r.rwbs = rk;
    r.op = packed & 7;
    r.flags = packed >> 3;
    r.sector = sector;
    r.nrSectors = 8;
    r.error = act === 'C' ? 0 : null;
    b.commit();
  };
  for (let i = 0; i < requests; i += 2) {
    const t = 1e12 + i * 1000;
    const s0 = 2 ** 33 + i * 16,
      s1 = s0 + 64;
    for (const [k, act] of (['Q', 'G', 'I', 'D'] as const).entries()) {
      add(t + k, act, s0);
      add(t + k, act, s1);
    }
    add(t + 10, 'C', s1);
    add(t + 11, 'C', s0);
  }
  return b.finish();
}

describe('block requests written a batch at a time from a consumed events table', () => {
  it('sweeps a table of several record batches whose buffers are handed back as it goes', async () => {
    const expected = buildBlockRequestTables(manyEvents(60_000), new IngestStats());
    const table = manyEvents(60_000);
    expect(table.children[0]!.data.length).toBeGreaterThan(2);
    const first = (table.getChild('ts_ns')!.data[0] as unknown as { values: BigInt64Array }).values.buffer;
    const rebuilt = rebuildBlockRequests(table, new IngestStats(), true);
    expect(first.byteLength).toBe(0); // handed back (detached)
    const dir = mkdtempSync(join(tmpdir(), 'iol-consume-'));
    try {
      await withOutputFolder(dir, 'ingest', async (folder) => {
        stageBlockRequestTables(rebuilt, folder);
      });
      expect(
        Buffer.compare(readFileSync(join(dir, 'block_requests.arrow')), Buffer.from(tableToIPC(expected.requests, { format: 'file' })!)),
      ).toBe(0);
      expect(Buffer.compare(readFileSync(join(dir, 'block_bios.arrow')), Buffer.from(tableToIPC(expected.bios, { format: 'file' })!))).toBe(
        0,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(expected.requests.numRows).toBe(60_000);
  });

  it('writes the bytes of the in-memory tables, and leaves the events table without its batches', async () => {
    const paths = perCpu('deadline');
    const expected = buildBlockRequestTables((await readBinary(paths)).table, new IngestStats());
    const { table } = await readBinary(paths);
    const rows = table.numRows;
    expect(rows).toBeGreaterThan(0);
    const rebuilt = rebuildBlockRequests(table, new IngestStats(), true);
    for (const c of table.children) expect(c.data.every((b) => b === null)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'iol-consume-'));
    try {
      let written: ReturnType<typeof stageBlockRequestTables> | undefined;
      await withOutputFolder(dir, 'ingest', async (folder) => {
        written = stageBlockRequestTables(rebuilt, folder);
      });
      expect(written!.requests).toBe(expected.requests.numRows);
      expect(written!.bios).toBe(expected.bios.numRows);
      expect(
        Buffer.compare(readFileSync(join(dir, 'block_requests.arrow')), Buffer.from(tableToIPC(expected.requests, { format: 'file' })!)),
      ).toBe(0);
      expect(Buffer.compare(readFileSync(join(dir, 'block_bios.arrow')), Buffer.from(tableToIPC(expected.bios, { format: 'file' })!))).toBe(
        0,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
