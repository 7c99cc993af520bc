/**
 * BlockEventsBuilder across chunk boundaries: the mostly-null columns (error, new_sector, old_dev,
 * count, ioprio) and the flag columns get their arrays only in chunks that hold a value; chunks
 * without one must still read back as nulls / false, and chunks with one as exactly the values.
 * Rows go in through the row cursor (row + commit) and through the positional add. Streamed with
 * no scratch file, every chunk is handed over and none kept, and a sweep of the chunks gives the
 * requests (and a tally the remaps) of the finished table.
 */
import { describe, expect, it } from 'vitest';
import { tableToIPC } from '@uwdata/flechette';
import { BlockAction, BlockEventsBuilder, NONE } from '../../src/ingest/block/block-events-builder.js';
import { buildBlockRequests, StreamedRequestSweep } from '../../src/ingest/block/block-requests.js';
import { requestsTableOf } from '../../src/ingest/block/block-request-tables.js';
import { RemapTally } from '../../src/correlate/fs-offset.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { EVENT_CHUNK_BYTES } from '../../src/ingest/block/block-event-chunk.js';
import { BlockOp } from '../../src/ingest/block/rwbs.js';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';
import { PrefaultPool } from '../../src/ingest/block/prefault-pool.js';

describe('BlockEventsBuilder chunks', () => {
  it('reads back every value and null around chunk boundaries', () => {
    // new_sector 2^62 in some rows: beyond what request reconstruction takes, kept by unboundedValues
    const b = new BlockEventsBuilder({ unboundedValues: true });
    const dev = b.internDev(7, 1);
    const old = b.internDev(8, 0);
    const rw = b.internRwbs('R');
    const rws = b.internRwbs('WFSM');
    const prio = b.internIoprio('be,0,4');
    const n = 2 * CHUNK_ROWS + 1000;
    // rows with optional values: none in chunk 0, the first and last row of chunk 1, a few in the last chunk
    const special = (i: number) => i === CHUNK_ROWS || i === 2 * CHUNK_ROWS - 1 || (i > 2 * CHUNK_ROWS && i % 97 === 0);
    // through the row cursor: an ordinary row sets no optional field, so one right after a
    // special row also checks that commit() cleared them
    const row = b.row;
    for (let i = 0; i < n; i++) {
      row.ts = 1e12 + i;
      row.pid = 42;
      row.dev = dev;
      row.action = 0;
      row.sector = i;
      row.nrSectors = 8;
      if (special(i)) {
        row.cpu = 1;
        row.rwbs = rws;
        row.op = BlockOp.write;
        row.flags = 1 | 2 | 4 | 16;
        row.error = -5;
        row.newSector = 2n ** 62n + BigInt(i);
        row.oldDev = old;
        row.count = i;
        row.ioprio = prio;
      } else {
        row.cpu = 0;
        row.rwbs = rw;
        row.op = BlockOp.read;
      }
      b.commit();
    }
    const t = b.finish({});
    expect(t.numRows).toBe(n);
    const col = (name: string) => t.getChild(name)!;
    const [err, ns, od, cnt, io, sync, meta, fua, ra, sec] = [
      'error',
      'new_sector',
      'old_dev',
      'count',
      'ioprio',
      'sync',
      'meta',
      'fua',
      'readahead',
      'sector',
    ].map(col);
    let specials = 0;
    for (let i = 0; i < n; i++) {
      if (special(i)) {
        specials++;
        expect([err!.at(i), ns!.at(i), od!.at(i), cnt!.at(i), io!.at(i), sync!.at(i), meta!.at(i), fua!.at(i), ra!.at(i)]).toEqual([
          -5,
          2n ** 62n + BigInt(i),
          '8:0',
          i,
          'be,0,4',
          true,
          true,
          true,
          true,
        ]);
      } else if (
        err!.at(i) !== null ||
        ns!.at(i) !== null ||
        od!.at(i) !== null ||
        cnt!.at(i) !== null ||
        io!.at(i) !== null ||
        sync!.at(i) !== false ||
        meta!.at(i) !== false ||
        fua!.at(i) !== false ||
        ra!.at(i) !== false
      ) {
        throw new Error(`row ${i}: expected nulls and false flags`);
      }
      if (sec!.at(i) !== BigInt(i)) throw new Error(`row ${i}: sector ${sec!.at(i)}`);
    }
    expect(specials).toBeGreaterThan(10);
    expect(err!.nullCount).toBe(n - specials);
  });
});

describe('BlockEventsBuilder with chunk memory from a PrefaultPool', () => {
  it('gives the same table as with its own chunks', async () => {
    const fill = (b: BlockEventsBuilder) => {
      const dev = b.internDev(7, 1);
      const rw = b.internRwbs('WS');
      for (let i = 0; i < 3 * CHUNK_ROWS + 17; i++) {
        const r = b.row;
        r.ts = 2 ** 53 - 1 - i;
        r.cpu = i & 1;
        r.pid = 1000 + (i % 7);
        r.dev = dev;
        r.action = i % 5;
        r.rwbs = rw;
        r.op = BlockOp.write;
        r.flags = 1;
        r.sector = i % 11 === 0 ? NONE : i * 8;
        r.nrSectors = 8;
        r.error = i % 3 === 0 ? 0 : null;
        b.commit();
      }
      return b.finish({});
    };
    const plain = fill(new BlockEventsBuilder());
    const pool = new PrefaultPool([EVENT_CHUNK_BYTES]);
    const pooled = new BlockEventsBuilder();
    let given = 0;
    // a prepared buffer is zero-filled and of the size asked; then wait for the next one, so that
    // the builder below takes at least one buffer from the pool
    expect(await pool.whenReady(EVENT_CHUNK_BYTES)).toBe(true);
    const first = pool.take(EVENT_CHUNK_BYTES)!;
    expect(first.byteLength).toBe(EVENT_CHUNK_BYTES);
    expect(new Uint8Array(first).every((x) => x === 0)).toBe(true);
    expect(await pool.whenReady(EVENT_CHUNK_BYTES)).toBe(true);
    pooled.useChunkMemory((bytes) => {
      const b = pool.take(bytes);
      if (b) given++;
      return b;
    });
    const t = fill(pooled);
    await pool.close();
    expect(given).toBeGreaterThan(0);
    expect(t.numRows).toBe(plain.numRows);
    for (const name of ['ts_ns', 'cpu', 'pid', 'action', 'sector', 'error', 'bytes'] as const) {
      expect(t.getChild(name)!.toArray()).toEqual(plain.getChild(name)!.toArray());
    }
  });

  it('refuses a buffer of the wrong size', () => {
    const b = new BlockEventsBuilder();
    b.useChunkMemory(() => new ArrayBuffer(8));
    const dev = b.internDev(7, 1);
    const fillOne = (i: number) => {
      const r = b.row;
      r.ts = i;
      r.cpu = 0;
      r.pid = 1;
      r.dev = dev;
      r.action = 0;
      r.sector = i;
      r.nrSectors = 8;
      b.commit();
    };
    expect(() => {
      for (let i = 0; i <= CHUNK_ROWS; i++) fillOne(i);
    }).toThrow(/expected/);
  });
});

describe('BlockEventsBuilder streamed with no scratch file (streamTo(null, ...), as analyze loads a trace)', () => {
  /** Q G I D C per request (every 7th a remap A first, from partition 8:1 at sector 2048), across several chunks. */
  const fill = (b: BlockEventsBuilder) => {
    const dev = b.internDev(8, 0);
    const part = b.internDev(8, 1);
    const rw = b.internRwbs('W');
    let ts = 1e12;
    for (let k = 0; b.length < 3 * CHUNK_ROWS + 17; k++) {
      const sector = 4096 + k * 8;
      const acts = k % 7 === 0 ? ['A', 'Q', 'G', 'I', 'D', 'C'] : ['Q', 'G', 'I', 'D', 'C'];
      for (const a of acts) {
        const r = b.row;
        r.ts = ts++;
        r.cpu = k & 1;
        r.pid = 100 + (k % 3);
        r.dev = dev;
        r.action = BlockAction[a as 'Q'];
        r.rwbs = rw;
        r.op = BlockOp.write;
        r.sector = sector;
        r.nrSectors = 8;
        if (a === 'A') {
          r.oldDev = part;
          r.newSector = BigInt(sector - 2048);
        }
        if (a === 'C') r.error = 0;
        b.commit();
      }
    }
  };

  it('hands over every chunk and keeps none; its sweep gives the requests of the finished table', () => {
    const whole = new BlockEventsBuilder();
    fill(whole);
    const events = whole.finish({});
    const expected = buildBlockRequests(events, new IngestStats());

    const streamed = new BlockEventsBuilder();
    const sweep = new StreamedRequestSweep(new IngestStats());
    const remaps = new RemapTally();
    const firstRows: number[] = [];
    streamed.streamTo(null, (chunk, rows, firstRow) => {
      firstRows.push(firstRow);
      remaps.add(chunk, rows);
      sweep.chunk(chunk, rows, firstRow);
    });
    fill(streamed);
    streamed.finishStream();
    expect(firstRows).toEqual([0, CHUNK_ROWS, 2 * CHUNK_ROWS, 3 * CHUNK_ROWS]);
    expect(streamed.table.length).toBe(0);
    const rebuilt = sweep.finish(streamed.names(), {});
    const requests = requestsTableOf(rebuilt.rec, rebuilt.names, rebuilt.base, {});
    expect(requests.numRows).toBeGreaterThan((3 * CHUNK_ROWS) / 6);
    expect(Buffer.from(tableToIPC(requests, { format: 'file' })!).equals(Buffer.from(tableToIPC(expected, { format: 'file' })!))).toBe(
      true,
    );
    const remapRows = Array.from(events.getChild('action')!.toArray() as ArrayLike<string>).filter((a) => a === 'A').length;
    expect(remaps.offsets(streamed.names().dev)).toEqual([{ from_dev: '8:1', to_dev: '8:0', offset_bytes: 2048 * 512, events: remapRows }]);
  });
});
