/**
 * analyze's loads through scratch files (load-inputs.ts, as `iolineage analyze` runs them: rows
 * paged out, the table written a record batch at a time and read back) give the tables the
 * in-memory loads give, byte for byte, over several record batches, for a block trace and for an
 * strace log; the scratch files are gone once they return, and a scratch name already taken (a
 * planted symlink) is refused.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tableToIPC } from '@uwdata/flechette';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAppIo, loadBlockRequests, loadBlockRequestsScratch } from '../../src/analyze/load-inputs.js';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';
import { IngestStats } from '../../src/util/ingest-stats.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-load-scratch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tracefs text trace of `requests` writes (Q G I D C each), one in 50 completed out of order, with partition remaps. */
function writeTrace(path: string, requests: number): void {
  writeFileSync(path, '');
  let lines: string[] = [];
  let t = 1000;
  const at = () => (t += 0.000001).toFixed(6);
  const held: string[] = [];
  for (let k = 0; k < requests; k++) {
    const sector = 2048 + k * 16;
    const p = `        fio-4242    [000] .....   `;
    if (k % 9 === 0) lines.push(`${p}${at()}: block_bio_remap: 8,0 W ${sector} + 8 <- (8,1) ${sector - 2048}`);
    lines.push(`${p}${at()}: block_bio_queue: 8,0 W ${sector} + 8 [fio]`);
    lines.push(`${p}${at()}: block_getrq: 8,0 W ${sector} + 8 [fio]`);
    lines.push(`${p}${at()}: block_rq_insert: 8,0 W 4096 () ${sector} + 8 be,0,4 [fio]`);
    lines.push(`${p}${at()}: block_rq_issue: 8,0 W 4096 () ${sector} + 8 be,0,4 [fio]`);
    const c = `     <idle>-0       [001] ..s..   ${at()}: block_rq_complete: 8,0 W () ${sector} + 8 be,0,4 [0]`;
    if (k % 50 === 7) held.push(c);
    else lines.push(c);
    if (held.length > 2) lines.push(held.shift()!);
    if (lines.length > 50_000) {
      appendFileSync(path, lines.join('\n') + '\n');
      lines = [];
    }
  }
  lines.push(...held);
  appendFileSync(path, lines.join('\n') + '\n');
}

describe('block trace load through scratch files', () => {
  const trace = join(dir, 'guest.trace');
  // more requests than one record batch holds (CHUNK_ROWS rows)
  writeTrace(trace, CHUNK_ROWS + 5000);

  it('gives the in-memory load’s table byte for byte, and leaves no scratch file', async () => {
    const inMemory = await loadBlockRequests(trace, undefined, new IngestStats());
    const scratchDir = mkdtempSync(join(dir, 'scratch-'));
    const scratch = { pages: join(scratchDir, '.pages.scratch'), table: join(scratchDir, '.requests.scratch') };
    const stats = new IngestStats();
    const viaFiles = await loadBlockRequests(trace, undefined, stats, scratch);
    expect(viaFiles.numRows).toBe(inMemory.numRows);
    expect(viaFiles.numRows).toBeGreaterThan(CHUNK_ROWS);
    expect(viaFiles.getChild('id')!.data.length).toBe(2);
    expect(Buffer.from(tableToIPC(viaFiles, { format: 'file' })!).equals(Buffer.from(tableToIPC(inMemory, { format: 'file' })!))).toBe(
      true,
    );
    expect(viaFiles.schema.metadata?.get('iolineage.remaps')).toContain('"from_dev":"8:1"');
    expect(readdirSync(scratchDir)).toEqual([]);
    expect(stats.failed).toBe(false);
  });

  it('refuses a scratch name that is already there (never writes through a symlink); a failed load leaves no descriptor open', async () => {
    const scratchDir = mkdtempSync(join(dir, 'planted-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep');
    symlinkSync(victim, join(scratchDir, '.requests.scratch'));
    const scratch = { pages: join(scratchDir, '.pages.scratch'), table: join(scratchDir, '.requests.scratch') };
    const fds = readdirSync('/proc/self/fd').length;
    await expect(loadBlockRequestsScratch(trace, undefined, new IngestStats(), scratch)).rejects.toThrow(
      /cannot create a scratch file: EEXIST/,
    );
    expect(existsSync(join(scratchDir, '.pages.scratch'))).toBe(false);
    // a trace the reader refuses: the sweep's scratch file is closed too
    const junk = join(dir, 'junk.trace');
    writeFileSync(junk, 'not a block trace\n');
    const junkScratch = { pages: join(scratchDir, '.p2.scratch'), table: join(scratchDir, '.t2.scratch') };
    await expect(loadBlockRequestsScratch(junk, undefined, new IngestStats(), junkScratch)).rejects.toThrow(/unknown input format/);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
  });

  it('strace: the app_io of a log of more calls than one record batch holds, byte for byte', async () => {
    // the bundle's log 14 times over, each copy 1000 s later (a log of about 145,000 lines)
    const lines = gunzipSync(readFileSync(new URL('../../data/m128-buffered/vm0/app.strace.gz', import.meta.url)))
      .toString()
      .trimEnd()
      .split('\n');
    const log = join(dir, 'app.strace');
    writeFileSync(log, '');
    for (let k = 0; k < 14; k++) {
      appendFileSync(
        log,
        lines
          .map((l) =>
            l.replace(/^(\d+\s+)(\d+)(\.\d+)/, (_m, p: string, sec: string, frac: string) => `${p}${Number(sec) + 1000 * k}${frac}`),
          )
          .join('\n') + '\n',
      );
    }
    const inMemory = await loadAppIo([log], undefined, new IngestStats());
    const scratchDir = mkdtempSync(join(dir, 'strace-scratch-'));
    const viaFiles = await loadAppIo([log], undefined, new IngestStats(), {
      pages: join(scratchDir, '.pages.scratch'),
      table: join(scratchDir, '.app_io.scratch'),
    });
    expect(viaFiles.numRows).toBeGreaterThan(CHUNK_ROWS);
    expect(Buffer.from(tableToIPC(viaFiles, { format: 'file' })!).equals(Buffer.from(tableToIPC(inMemory, { format: 'file' })!))).toBe(
      true,
    );
    expect(readdirSync(scratchDir)).toEqual([]);
  });
});
