/**
 * Seeded fuzzing of the three text readers on real fixtures: truncation, byte flips, spliced and
 * duplicated lines, cut lines, huge lines, corrupt gzip. Every run must end with a summary or an
 * InputError that names the file (and the place); no other exception, no hang, and rows never
 * outnumber lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { readBlkparseText } from '../../src/ingest/block/blkparse-text.js';
import { readTraceCmdText } from '../../src/ingest/block/trace-cmd-text.js';
import { readTracefsText } from '../../src/ingest/block/tracefs-text.js';
import { MAX_LINE_BYTES } from '../../src/io/byte-line-framer.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { InputError } from '../../src/util/errors.js';
import { fixtureText, type Reader } from './helpers.js';
import { mulberry32 as rng } from '../../src/util/seeded-random.js';

const work = mkdtempSync(join(tmpdir(), 'iol-fuzz-block-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Mutation = (bytes: Uint8Array, lines: string[], r: () => number) => Uint8Array;
const enc = (s: string) => new TextEncoder().encode(s);
const int = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, _l, r) => b.subarray(0, int(r, b.length)),
  flipBytes: (b, _l, r) => {
    const c = b.slice();
    const n = 1 + int(r, 40);
    const specials = [0, 0xff, 10, 13, 32, 45, 91, 93, 58, 44, 43, 40, 41, 0xc3, 0x80];
    for (let k = 0; k < n; k++) c[int(r, c.length)] = r() < 0.5 ? specials[int(r, specials.length)]! : int(r, 256);
    return c;
  },
  spliceLines: (_b, l, r) => {
    const out = l.slice();
    for (let k = 0; k < 30; k++) {
      const i = int(r, out.length);
      const j = int(r, out.length);
      const src = out[j] ?? '';
      switch (int(r, 4)) {
        case 0:
          out.splice(i, 0, src);
          break; // duplicate
        case 1:
          out.splice(i, 1);
          break; // drop
        case 2:
          out[i] = src.slice(0, int(r, src.length + 1)) + (out[i] ?? '').slice(int(r, (out[i] ?? '').length + 1));
          break; // cut and join
        default:
          out[i] = (out[i] ?? '') + src;
          break; // two lines in one
      }
    }
    return enc(out.join('\n'));
  },
  junkLines: (_b, l, r) => {
    const out = l.slice();
    for (let k = 0; k < 200; k++) {
      let junk = '';
      const n = int(r, 300);
      for (let j = 0; j < n; j++) junk += String.fromCharCode(32 + int(r, 95));
      out.splice(int(r, out.length), 0, junk.replace(/[:()[\]]/g, r() < 0.5 ? '' : '('));
    }
    return enc(out.join('\n'));
  },
  digits: (_b, l, r) =>
    enc(l.map((line) => (r() < 0.1 ? line.replace(/\d+/g, (d) => (r() < 0.5 ? '9'.repeat(int(r, 30) + 1) : d)) : line)).join('\n')),
};

const READERS: [string, Reader, string][] = [
  ['tracefs', readTracefsText, 'ext4.trace.gz'],
  ['trace-cmd', readTraceCmdText, 'ext4.trace-cmd-R.txt.gz'],
  ['trace-cmd', readTraceCmdText, 'ext4.trace-cmd.txt.gz'],
  ['blkparse', readBlkparseText, 'ext4.blkparse.txt.gz'],
];

async function runOnce(read: Reader, path: string, lines: number): Promise<'ok' | 'input-error'> {
  const b = new BlockEventsBuilder();
  const stats = new IngestStats();
  try {
    const s = await read(path, b, stats);
    expect(s.events).toBeLessThanOrEqual(s.lines);
    expect(b.length).toBe(s.events);
    expect(s.lines).toBeLessThanOrEqual(lines * 3 + 10);
    b.finish({});
    for (const c of stats.list()) for (const ex of c.examples) expect(ex.file).toBe(path);
    return 'ok';
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/line \d+|byte offset \d+/);
    return 'input-error';
  }
}

describe('fuzzed real fixtures: counted problems or an InputError, never a crash', () => {
  for (const [fmt, read, name] of READERS) {
    it(`${fmt} reader on mutated ${name}`, async () => {
      const text = fixtureText(name).split('\n').slice(0, 1500).join('\n');
      const lines = text.split('\n');
      const bytes = enc(text);
      const outcomes = { ok: 0, 'input-error': 0 };
      let seed = 1;
      for (const [mname, mutate] of Object.entries(MUTATIONS)) {
        for (let k = 0; k < 12; k++) {
          const r = rng(seed++);
          const mutated = mutate(bytes, lines, r);
          const path = join(work, `${fmt}-${mname}-${k}${k % 3 === 0 ? '.gz' : ''}`);
          writeFileSync(path, k % 3 === 0 ? gzipSync(mutated) : mutated);
          outcomes[await runOnce(read, path, lines.length)]++;
        }
      }
      expect(outcomes.ok).toBeGreaterThan(0);
    });
  }

  it('a line longer than the limit (binary junk without line breaks) is an InputError with its offset, not unbounded memory', async () => {
    const big = new Uint8Array(MAX_LINE_BYTES + 4096).fill(0x41);
    for (const [fmt, read] of READERS) {
      const path = join(work, `long-${fmt}`);
      writeFileSync(path, Buffer.concat([Buffer.from(fixtureText('ext4.trace.gz').split('\n').slice(0, 50).join('\n') + '\n'), big]));
      await expect(read(path, new BlockEventsBuilder(), new IngestStats())).rejects.toThrowError(/long-.*byte offset \d+ .*longer than/);
    }
  });

  it('a corrupt gzip stream is an InputError naming the file', async () => {
    const gz = gzipSync(enc(fixtureText('ext4.trace.gz')));
    const cut = join(work, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, gz.length >> 1));
    const flipped = gz.slice();
    for (let i = 100; i < flipped.length; i += 997) flipped[i] = flipped[i]! ^ 0x5a;
    const bad = join(work, 'flipped.gz');
    writeFileSync(bad, flipped);
    for (const p of [cut, bad]) {
      let err: unknown;
      try {
        await readTracefsText(p, new BlockEventsBuilder(), new IngestStats());
      } catch (e) {
        err = e;
      }
      if (err !== undefined) {
        expect(err).toBeInstanceOf(InputError);
        expect((err as Error).message).toContain(p);
      } else {
        expect(p).toBe(cut); // a gzip cut at a member boundary may end cleanly
      }
    }
  });
});
