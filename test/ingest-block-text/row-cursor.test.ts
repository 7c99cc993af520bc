/**
 * The readers fill BlockEventsBuilder.row field by field: a line refused after some fields were
 * set must leave none of them in the row of the next line (each pair below: a line whose fields
 * go wrong only at the end, then a plain line that does not set those fields).
 */
import { describe, expect, it } from 'vitest';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { parseBlkparseText } from '../../src/ingest/block/blkparse-text.js';
import { parseTraceCmdText } from '../../src/ingest/block/trace-cmd-text.js';
import { parseTracefsText } from '../../src/ingest/block/tracefs-text.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { rows, type Row } from './helpers.js';

type Parse = typeof parseTracefsText;

function parse(p: Parse, lines: string[], fastPath: boolean): { rows: Row[]; bad: number } {
  const b = new BlockEventsBuilder();
  const s = p(lines.join('\n'), 'input', b, new IngestStats(), { fastPath });
  return { rows: rows(b.finish({})), bad: s.bad };
}

const pre = (comm = 'fio', pid = '4242') => `${comm.padStart(16)}-${pid.padEnd(7)} [001] ..... 1000.000014: `;

describe.each([true, false])('a refused line leaves nothing in the next row (fast path %s)', (fastPath) => {
  it('tracefs: rq_issue with an ioprio but no [comm], then bio_queue', () => {
    const out = parse(
      parseTracefsText,
      [pre() + 'block_rq_issue: 7,1 WS 4096 () 2048 + 8 be,0,4 fio', pre() + 'block_bio_queue: 7,1 WS 1048576 + 8 [fio]'],
      fastPath,
    );
    expect(out.bad).toBe(1);
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({ action: 'Q', ioprio: null, bytes: 4096, error: null, count: null });
  });

  it('tracefs: rq_complete with an ioprio and an errno past 16 bits, then bio_queue', () => {
    const out = parse(
      parseTracefsText,
      [pre() + 'block_rq_complete: 7,1 WS () 2048 + 8 be,0,4 [99999]', pre() + 'block_bio_queue: 7,1 WS 1048576 + 8 [fio]'],
      fastPath,
    );
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({ action: 'Q', ioprio: null, error: null });
  });

  it('trace-cmd -R: unplug with nr_rq past 31 bits, then bio_queue', () => {
    const out = parse(
      parseTraceCmdText,
      [pre() + 'block_unplug: nr_rq=99999999999 comm=fio', pre() + 'block_bio_queue: dev=7340033 sector=4096 nr_sector=8 rwbs=WS comm=fio'],
      fastPath,
    );
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({ action: 'Q', count: null, sector: 4096n });
  });

  it('blkparse: a pc request without its closing bracket, then Q', () => {
    const out = parse(
      parseBlkparseText,
      ['  7,1    0       16     0.000004000  4242  D   R 32 (12 34) [fio', '  7,1    0       17     0.000005000  4242  Q  WS 8 + 8 [fio]'],
      fastPath,
    );
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({ action: 'Q', bytes: 4096, sector: 8n });
  });
});
