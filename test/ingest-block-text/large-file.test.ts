/**
 * A text trace above the size from which the readers read through reused buffers and take their
 * table chunks from a PrefaultPool: reading the file gives the same table and summary as parsing
 * the same bytes in memory (one chunk, no pool).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { parseBlkparseText, readBlkparseText } from '../../src/ingest/block/blkparse-text.js';
import { parseTracefsText, readTracefsText } from '../../src/ingest/block/tracefs-text.js';
import { openFileChunks } from '../../src/io/file-chunks.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';
import { COLUMNS, fixtureText } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-large-text-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fixture's lines repeated to at least `bytes` bytes (no final newline: a truncated last line). */
function big(name: string, bytes: number): Buffer {
  // blkparse's statistics close its output: keep its event lines only, so that every copy counts
  const text = fixtureText(name)
    .split('\n')
    .filter((l) => !name.includes('blkparse') || /^\s*\d+,\d+\s/.test(l))
    .join('\n');
  const copies = Math.ceil(bytes / text.length);
  return Buffer.from(Array.from({ length: copies }, () => text).join('\n'));
}

describe('large text files', () => {
  it.each([
    ['ext4.trace.gz', readTracefsText, parseTracefsText],
    ['ext4.blkparse.txt.gz', readBlkparseText, parseBlkparseText],
  ] as const)(
    '%s repeated past 34 MB reads like the same bytes in memory',
    async (name, read, parse) => {
      const bytes = big(name, 34 << 20);
      const file = join(work, name.replace('.gz', ''));
      writeFileSync(file, bytes);
      const b1 = new BlockEventsBuilder();
      const s1 = new IngestStats();
      const sum1 = await read(file, b1, s1);
      const b2 = new BlockEventsBuilder();
      const s2 = new IngestStats();
      const sum2 = parse(new Uint8Array(bytes), file, b2, s2);
      expect(sum1).toEqual(sum2);
      expect(s1.list()).toEqual(s2.list());
      const [t1, t2] = [b1.finish({}), b2.finish({})];
      expect(t1.numRows).toBeGreaterThan(CHUNK_ROWS);
      let differ = 0;
      for (const c of COLUMNS) {
        const [a, b] = [t1.getChild(c)!.toArray(), t2.getChild(c)!.toArray()];
        expect(a.length).toBe(b.length);
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
      }
      expect(differ).toBe(0);
    },
    120_000,
  );

  it('openFileChunks returns the file in order, reusing its buffers, and stops early cleanly', async () => {
    const file = join(work, 'chunks.txt');
    const bytes = Buffer.alloc(1000, 0);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
    writeFileSync(file, bytes);
    const parts: Buffer[] = [];
    const input = openFileChunks(file, 64);
    const seen = new Set<ArrayBufferLike>();
    for await (const c of input) {
      parts.push(Buffer.from(c));
      seen.add(c.buffer);
    }
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    expect(input.fileBytesRead).toBe(1000);
    expect(seen.size).toBeLessThanOrEqual(2);
    for await (const c of openFileChunks(file, 64)) {
      expect(c.length).toBe(64);
      break;
    }
  });
});
