/**
 * The ring of shared batches the ingest's sweep thread reads (SweepSlots): a slot filled with
 * ChunkBatches.into holds what ChunkBatches.of gives for the same chunk, and the slots made over
 * the ring's memory in another thread see those values (the same memory, not a copy).
 */
import { describe, expect, it } from 'vitest';
import { ChunkBatches, SweepSlots, type EventBatch } from '../../src/ingest/block/block-event-batches.js';
import { BlockAction, BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import type { EventChunk } from '../../src/ingest/block/block-event-chunk.js';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';

const SWEPT = ['ts', 'pid', 'comm', 'dev', 'action', 'rwbs', 'op', 'sector', 'nr', 'bytes', 'error', 'newSector'] as const;

/** The one chunk of a streamed builder of `n` (< CHUNK_ROWS) rows of Q events (a split every 7th row, a null sector every 11th). */
function onlyChunk(n: number): { chunk: EventChunk; rows: number } {
  const b = new BlockEventsBuilder();
  const got: { chunk: EventChunk | null; rows: number } = { chunk: null, rows: 0 };
  // fewer rows than a chunk: the one chunk comes at finishStream, and nothing is written after it
  b.streamTo(null, (chunk, rows) => Object.assign(got, { chunk, rows }));
  const dev = b.internDev(8, 16);
  const rk = b.internRwbs('WS');
  const packed = b.rwbsOpFlags(rk);
  for (let i = 0; i < n; i++) {
    const r = b.row;
    r.ts = 5e15 + i * 1000;
    r.cpu = i & 1;
    r.pid = 100 + (i % 3);
    r.dev = dev;
    r.action = i % 7 === 6 ? BlockAction.X : BlockAction.Q;
    r.rwbs = rk;
    r.op = packed & 7;
    r.flags = packed >> 3;
    r.sector = i % 11 === 10 ? -1 : 2 ** 40 + i * 8;
    r.nrSectors = 8;
    if (r.action === BlockAction.X) r.newSector = 2 ** 40 + i * 8 + 4;
    b.commit();
  }
  b.finishStream();
  return { chunk: got.chunk!, rows: got.rows };
}

const columns = (b: EventBatch) => Object.fromEntries(SWEPT.map((k) => [k, Array.from(b[k].subarray(0, b.length))]));

describe('SweepSlots', () => {
  it("a slot filled with ChunkBatches.into holds ChunkBatches.of's batch, seen through slots made over the same memory", () => {
    const { chunk, rows } = onlyChunk(1000);
    const want = columns(new ChunkBatches().of(chunk, rows, 0));
    const ring = SweepSlots.make(3);
    const filled = new ChunkBatches().into(ring.slots[2]!, chunk, rows, 0);
    expect(filled).toBe(ring.slots[2]);
    expect(columns(filled)).toEqual(want);
    // the other thread's view: the same memory, so the same values without any copy
    const seen = SweepSlots.over(ring.memory).slots[2]!;
    seen.length = rows;
    expect(columns(seen)).toEqual(want);
    expect(ring.slots.every((s) => s.ts.length === CHUNK_ROWS)).toBe(true);
  });

  it('refuses memory that is not a whole number of slots, and a chunk larger than a slot', () => {
    expect(() => SweepSlots.over(new SharedArrayBuffer(1000))).toThrow(/not a whole number of slots/);
    const { chunk } = onlyChunk(10);
    const small = { ...SweepSlots.make(1).slots[0]!, ts: new Float64Array(4) };
    expect(() => new ChunkBatches().into(small, chunk, 10, 0)).toThrow(/10 rows do not fit a batch of 4/);
  });
});
