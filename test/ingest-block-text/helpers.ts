/** Shared helpers of the block text reader tests: fixture paths, rows as comparable keys, awk. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Table } from '@uwdata/flechette';
import { BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';
import type { BlockTextFileSummary } from '../../src/ingest/block/block-text-context.js';
import { IngestStats } from '../../src/util/ingest-stats.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'block');
export const fixture = (name: string): string => join(FIXTURES, name);

/** Decompressed text of a fixture. */
export function fixtureText(name: string): string {
  const raw = readFileSync(fixture(name));
  return (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

export function haveTool(cmd: string, arg = '--version'): boolean {
  try {
    execFileSync(cmd, [arg], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT';
  }
}

export type Reader = (path: string, b: BlockEventsBuilder, s: IngestStats) => Promise<BlockTextFileSummary>;

/** Read a file with a reader into a finished table. */
export async function readTable(
  read: Reader,
  path: string,
  opts: { dev?: string } = {},
): Promise<{ table: Table; stats: IngestStats; summary: BlockTextFileSummary; builder: BlockEventsBuilder }> {
  const builder = new BlockEventsBuilder(opts);
  const stats = new IngestStats();
  const summary = await read(path, builder, stats);
  return { table: builder.finish({ clock: 'test' }), stats, summary, builder };
}

export const COLUMNS = [
  'ts_ns',
  'cpu',
  'pid',
  'comm',
  'dev',
  'action',
  'rwbs',
  'op',
  'sync',
  'meta',
  'fua',
  'preflush',
  'readahead',
  'sector',
  'nr_sectors',
  'bytes',
  'error',
  'new_sector',
  'old_dev',
  'count',
  'ioprio',
] as const;
export type Row = Record<(typeof COLUMNS)[number], unknown>;

/** All rows as plain objects (bigints kept). */
export function rows(t: Table): Row[] {
  const cols = COLUMNS.map((c) => t.getChild(c)!);
  const out: Row[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const r = {} as Row;
    COLUMNS.forEach((c, k) => {
      r[c] = cols[k]!.at(i);
    });
    out.push(r);
  }
  return out;
}

/** Events and byte sums per action letter. */
export function perAction(t: Table): Record<string, [number, number]> {
  const act = t.getChild('action')!;
  const by = t.getChild('bytes')!;
  const out: Record<string, [number, number]> = {};
  for (let i = 0; i < t.numRows; i++) {
    const a = act.at(i) as string;
    const e = (out[a] ??= [0, 0]);
    e[0]++;
    e[1] += by.at(i) as number;
  }
  return out;
}

/** Parse "<name> <events> <bytes>" lines (the awk goldens). */
export function parseCounts(text: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const line of text.split('\n')) {
    const [k, n, b] = line.trim().split(/\s+/);
    if (k && n && b) out[k] = [Number(n), Number(b)];
  }
  return out;
}

/** tracepoint → blkparse action letter (the mapping the readers use). */
export const ACTION_OF_TRACEPOINT: Record<string, string> = {
  block_bio_queue: 'Q',
  block_getrq: 'G',
  block_rq_insert: 'I',
  block_rq_issue: 'D',
  block_rq_complete: 'C',
  block_bio_complete: 'C',
  block_rq_requeue: 'R',
  block_rq_merge: 'T',
  block_bio_backmerge: 'M',
  block_bio_frontmerge: 'F',
  block_split: 'X',
  block_bio_remap: 'A',
  block_rq_remap: 'A',
  block_plug: 'P',
  block_unplug: 'U',
  block_sleeprq: 'S',
  block_bio_bounce: 'B',
};

/** Awk per-tracepoint counts folded into per-action counts (skipped tracepoints left out). */
export function countsByAction(perTracepoint: Record<string, [number, number]>): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const [tp, [n, b]] of Object.entries(perTracepoint)) {
    const a = ACTION_OF_TRACEPOINT[tp];
    if (!a) continue;
    const e = (out[a] ??= [0, 0]);
    e[0] += n;
    e[1] += b;
  }
  return out;
}

/** Run an awk script over a gzip fixture (zcat | awk), returning its output. */
export function awkCounts(script: string, name: string): string {
  return execFileSync('sh', ['-c', `zcat "$1" | awk -f "$2" | LC_ALL=C sort`, 'sh', fixture(name), fixture(script)], { encoding: 'utf8' });
}
