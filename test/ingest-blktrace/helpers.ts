/**
 * Shared by the blktrace, block_requests and btt tests: fixture paths, reading binary traces,
 * and blkparse's default line layout (blkparse_fmt.c, reference section 7.6) for comparisons.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { Table } from '@uwdata/flechette';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import { readBlktraceBinary, type BlktraceReadResult } from '../../src/ingest/block/blktrace-binary.js';
import { IngestStats } from '../../src/util/ingest-stats.js';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'blktrace');
export const fixture = (name: string) => join(FIXTURES, name);
export const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** The two per-CPU files of a fixture capture ("nosplit" or "deadline"), gzip-compressed. */
export const perCpu = (name: string) => [fixture(`${name}.blktrace.0.gz`), fixture(`${name}.blktrace.1.gz`)];

/** Decompress the per-CPU files of a fixture into a temp dir; returns the blkparse -i name. */
export function unpackPerCpu(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'iol-blktrace-'));
  for (const [i, p] of perCpu(name).entries()) writeFileSync(join(dir, `${name}.blktrace.${i}`), gunzipSync(readFileSync(p)));
  return join(dir, name);
}

export async function readBinary(paths: string[], dev?: string): Promise<{ table: Table; stats: IngestStats; result: BlktraceReadResult }> {
  const stats = new IngestStats();
  const b = new BlockEventsBuilder();
  const result = await readBlktraceBinary(paths, b, stats, dev === undefined ? {} : { dev });
  return { table: b.finish(), stats, result };
}

/** blkparse's event lines (up to the statistics), without the sequence column, sorted. */
export function blkparseLines(text: string): string[] {
  const out: string[] = [];
  const re = /^\s*(\d+),(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d{9})\s+(\d+)\s+(\S+)\s+(\S+)\s?(.*)$/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) {
      if (out.length && line.startsWith('CPU')) break;
      continue;
    }
    out.push([`${m[1]},${m[2]}`, m[3], m[5], m[6], m[7], m[8], m[9]].join(' '));
  }
  return out.sort();
}

/** Our events printed the way blkparse prints them (same fields as blkparseLines), sorted. */
export function eventsAsBlkparse(t: Table, devForPlug = ''): string[] {
  const rows = t.toArray() as Record<string, unknown>[];
  const t0 = rows.length ? (rows[0]!.ts_ns as bigint) : 0n;
  const out: string[] = [];
  for (const r of rows) {
    const a = r.action as string;
    if (a === 'm') continue;
    const d = (r.ts_ns as bigint) - t0;
    const time = `${d / 1_000_000_000n}.${String(d % 1_000_000_000n).padStart(9, '0')}`;
    const dev = ((r.dev as string | null) ?? devForPlug).replace(':', ',');
    const comm = (r.comm as string | null) ?? '';
    const sector = (r.sector as bigint | null) ?? 0n;
    const nr = r.nr_sectors as number;
    const bytes = Number(r.bytes);
    let trailer: string;
    switch (a) {
      case 'C':
      case 'R':
        trailer = bytes ? `${sector} + ${nr} [${r.error}]` : `${sector} [${r.error}]`;
        break;
      case 'P':
        trailer = `[${comm}]`;
        break;
      case 'U':
      case 'UT':
        trailer = `[${comm}] ${r.count}`;
        break;
      case 'X':
        trailer = `${sector} / ${r.new_sector} [${comm}]`;
        break;
      case 'A':
        trailer = `${sector} + ${nr} <- (${String(r.old_dev).replace(':', ',')}) ${r.new_sector}`;
        break;
      default:
        trailer = bytes ? `${sector} + ${nr} [${comm}]` : `[${comm}]`;
    }
    out.push([dev, String(r.cpu), time, String(r.pid), a === 'T' ? 'M' : a, r.rwbs as string, trailer].join(' '));
  }
  return out.sort();
}
