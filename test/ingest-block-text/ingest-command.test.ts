import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/ingest.js';
import { readArrowFile, tableMetadata } from '../../src/table/arrow-file.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { countsByAction, fixture, parseCounts, perAction } from './helpers.js';
import { readFileSync } from 'node:fs';

const work = mkdtempSync(join(tmpdir(), 'iol-ingest-cmd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const haveDist = existsSync(join(root, 'dist', 'cli', 'ingest.js'));

async function ingest(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  try {
    return { code: await run(args), out };
  } finally {
    spy.mockRestore();
  }
}

describe('iolineage ingest', () => {
  it('writes block_events/block_requests and prints events by action, requests by op, time span, skipped lines', async () => {
    const dir = join(work, 'ext4');
    const { code, out } = await ingest([fixture('ext4.trace.gz'), '-o', dir]);
    expect(code).toBe(0);
    expect(out).toMatch(/block_events: 5906 events/);
    expect(out).toMatch(/time span: 997\.822092000 s \.\. /);
    expect(out).toMatch(/Q\s+queue\s+857\s+95\.1 MiB/);
    expect(out).toMatch(/block_requests: \d+ requests/);
    expect(out).toMatch(/by op:[^]*read\s+\d+/);
    expect(out).toMatch(/block_text\.skipped_block_io_start \[info\]/);
    const events = readArrowFile(join(dir, 'block_events.arrow'));
    expect(perAction(events)).toEqual(countsByAction(parseCounts(readFileSync(fixture('ext4.trace.awk-counts'), 'utf8'))));
    expect(tableMetadata(events).clock).toMatch(/^local/);
    expect(readArrowFile(join(dir, 'block_requests.arrow')).numRows).toBeGreaterThan(900);
  });

  it('appends several files in order, any format, and notes differing clocks', async () => {
    const dir = join(work, 'multi');
    const { code, out } = await ingest([fixture('ext4.trace.gz'), fixture('ext4.blkparse.txt.gz'), '-o', dir, '--clock', 'mono']);
    expect(code).toBe(0);
    expect(out).toMatch(/events appended in this order/);
    expect(out).toMatch(/different clocks/);
    expect(readArrowFile(join(dir, 'block_events.arrow')).numRows).toBe(5906 * 2);
  });

  it('binary blktrace and its blkparse text (the blktrace fixtures) give the same events and requests', async () => {
    const bt = join(root, 'test', 'fixtures', 'blktrace');
    const a = await ingest([join(bt, 'deadline.blktrace.0.gz'), join(bt, 'deadline.blktrace.1.gz'), '-o', join(work, 'bin')]);
    const b = await ingest([join(bt, 'deadline.blkparse.txt.gz'), '-o', join(work, 'bp')]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const ea = readArrowFile(join(work, 'bin', 'block_events.arrow'));
    const eb = readArrowFile(join(work, 'bp', 'block_events.arrow'));
    expect(perAction(eb)).toEqual(perAction(ea));
    expect(readArrowFile(join(work, 'bp', 'block_requests.arrow')).numRows).toBe(
      readArrowFile(join(work, 'bin', 'block_requests.arrow')).numRows,
    );
    const byOp = (out: string) => out.slice(out.indexOf('by op:'));
    expect(byOp(b.out).split('\n').slice(0, 4)).toEqual(byOp(a.out).split('\n').slice(0, 4));
  });

  it('--dev keeps one device', async () => {
    const dir = join(work, 'dev');
    const { out } = await ingest([fixture('ext4.trace.gz'), '--dev', '7:9', '-o', dir]);
    expect(out).toMatch(/device 7:9; 5906 events dropped/);
    expect(readArrowFile(join(dir, 'block_events.arrow')).numRows).toBe(0);
    // every I/O event is on 7:0; plugs/unplugs are kept for tasks whose plug saw I/O on it
    await ingest([fixture('ext4.trace.gz'), '--dev', '7:0', '-o', dir]);
    const kept = perAction(readArrowFile(join(dir, 'block_events.arrow')));
    const all = countsByAction(parseCounts(readFileSync(fixture('ext4.trace.awk-counts'), 'utf8')));
    for (const a of ['Q', 'G', 'I', 'D', 'C', 'M', 'X', 'T']) expect(kept[a], a).toEqual(all[a]);
    expect(kept.P![0]).toBeGreaterThan(0);
    expect(kept.P![0]).toBeLessThan(all.P![0]);
    expect(kept.U![0]).toBe(kept.P![0]);
  });

  it('usage errors and unusable inputs are UsageError / InputError', async () => {
    await expect(ingest([fixture('ext4.trace.gz')])).rejects.toThrowError(UsageError);
    await expect(ingest(['-o', work])).rejects.toThrowError(UsageError);
    await expect(ingest([fixture('ext4.trace.gz'), '-o', work, '--format', 'csv'])).rejects.toThrowError(/--format csv: expected auto/);
    const junk = join(work, 'junk.txt');
    writeFileSync(junk, 'not\na\ntrace\n');
    await expect(ingest([junk, '-o', work])).rejects.toThrowError(InputError);
    await expect(ingest([junk, '-o', work, '--format', 'tracefs'])).rejects.toThrowError(/junk\.txt:line 1.*not tracefs text/);
  });

  it.skipIf(!haveDist)('the built CLI: exit 0 / 1 / 2, messages without stack traces', () => {
    const ok = spawnSync(process.execPath, [cli, 'ingest', fixture('ext4.trace-cmd.txt.gz'), '-o', join(work, 'cli')], {
      encoding: 'utf8',
      env: { ...process.env, IOLINEAGE_NO_PROGRESS: '1' },
    });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/trace-cmd\s+\S+ext4\.trace-cmd\.txt\.gz: 14291 lines, 5906 events/);
    const junk = join(work, 'junk2.txt');
    writeFileSync(junk, '\u0000\u0001binary');
    const bad = spawnSync(process.execPath, [cli, 'ingest', junk, '-o', join(work, 'cli2')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^iolineage: .*junk2\.txt.*unknown input format/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = spawnSync(process.execPath, [cli, 'ingest', '--bogus'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    const help = spawnSync(process.execPath, [cli, 'ingest', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: iolineage ingest FILE\.\.\. -o DIR/);
  });
});
