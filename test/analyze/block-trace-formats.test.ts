import { describe, expect, it } from 'vitest';
import { loadBlockRequests } from '../../src/analyze/load-inputs.js';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { BLOCK_TRACE_READERS } from '../../src/ingest/block-trace-readers.js';
import { buildBlockRequests } from '../../src/ingest/block/block-requests.js';
import { IngestStats } from '../../src/util/ingest-stats.js';

// analyze reads a layer's block trace with the reader its content names (the registry ingest uses),
// not with the tracefs reader for everything that is not binary blktrace.
const CASES = [
  ['blkparse', 'test/fixtures/block/ext4.blkparse.txt.gz'],
  ['trace-cmd', 'test/fixtures/block/ext4.trace-cmd.txt.gz'],
  ['tracefs', 'test/fixtures/block/ext4.trace.gz'],
  ['blktrace', 'test/fixtures/blktrace/deadline.blktrace.0.gz'],
] as const;

describe('analyze reads every block-trace format ingest reads', () => {
  for (const [format, path] of CASES) {
    it(`${format}: the same requests as the ${format} reader, no unusable lines`, async () => {
      const stats = new IngestStats();
      const requests = await loadBlockRequests(path, undefined, stats);
      expect(stats.total('error')).toBe(0);
      expect(stats.total('data_loss')).toBe(0);
      const direct = new IngestStats();
      const builder = new BlockEventsBuilder();
      await BLOCK_TRACE_READERS[format].read([path], builder, direct);
      const want = buildBlockRequests(builder.finish(), direct);
      expect(requests.numRows).toBe(want.numRows);
      expect(requests.numRows).toBeGreaterThan(100);
      expect(Array.from(requests.getChild('sector')!.toArray() as ArrayLike<unknown>)).toEqual(
        Array.from(want.getChild('sector')!.toArray() as ArrayLike<unknown>),
      );
    });
  }

  it('a strace log given as a block trace is named for what it is', async () => {
    await expect(loadBlockRequests('test/fixtures/strace/dd.strace.gz', undefined, new IngestStats())).rejects.toThrow(
      /dd\.strace\.gz.*strace log, expected a block trace/,
    );
  });
});
