import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../src/table/table-builder.js';
import { appIoTable } from '../../src/table/schemas/app-io.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { parseStrace, parseStraceText } from '../../src/ingest/app/ingest-strace.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'strace');
export const fixture = (name: string): string => join(FIXTURES, name);

/** One app_io row as plain values (test side only). */
export interface Row {
  id: number;
  ts_ns: bigint | null;
  dur_ns: bigint | null;
  pid: number;
  tid: number;
  syscall: string;
  op: string;
  fd: number | null;
  path: string | null;
  offset: bigint | null;
  bytes_req: bigint | null;
  bytes_done: bigint | null;
  direct: boolean;
  append: boolean;
  error: string | null;
  flags: number;
  uncertain: boolean;
  file: string;
  line: number;
}

export function rowsOf(t: Table): Row[] {
  const names = t.schema.fields.map((f) => f.name);
  const cols = names.map((n) => t.getChild(n));
  const out: Row[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const r: Record<string, unknown> = {};
    names.forEach((n, k) => {
      r[n] = cols[k]!.at(i);
    });
    out.push(r as unknown as Row);
  }
  return out;
}

export async function parseFiles(paths: string[], date?: string): Promise<{ table: Table; rows: Row[]; stats: IngestStats }> {
  const b = new TableBuilder(appIoTable);
  const stats = new IngestStats();
  const r = await parseStrace(paths, b, stats, date !== undefined ? { date } : {});
  const table = b.finish(r.metadata);
  return { table, rows: rowsOf(table), stats };
}

export function parseText(text: string, opts: { date?: string; name?: string } = {}): { table: Table; rows: Row[]; stats: IngestStats } {
  const b = new TableBuilder(appIoTable);
  const stats = new IngestStats();
  const r = parseStraceText(text, b, stats, opts);
  const table = b.finish(r.metadata);
  return { table, rows: rowsOf(table), stats };
}

export function gunzipText(name: string): string {
  return gunzipSync(readFileSync(fixture(name))).toString('utf8');
}

/** The ground-truth JSON lines a traced program wrote about its own calls. */
export interface TruthRecord {
  pid: number;
  call: 'read' | 'write';
  path: string;
  offset: number | null;
  bytes: number;
}
export function truthOf(name: string): TruthRecord[] {
  return gunzipText(name)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TruthRecord);
}

/** fio --write_iolog version 3 lines "TIME FILE ACTION OFFSET LENGTH" for read/write, by file. */
export function fioIolog(name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of gunzipText(name).split('\n')) {
    const w = line.split(' ');
    if (w.length === 5 && (w[2] === 'read' || w[2] === 'write')) {
      if (!out.has(w[1]!)) out.set(w[1]!, []);
      out.get(w[1]!)!.push(`${w[2]} ${w[3]} ${w[4]}`);
    }
  }
  return out;
}

/** A multiset difference, as readable lines ("missing ..." / "extra ..."); empty when equal. */
export function multisetDiff(want: string[], got: string[]): string[] {
  const m = new Map<string, number>();
  for (const k of want) m.set(k, (m.get(k) ?? 0) + 1);
  for (const k of got) m.set(k, (m.get(k) ?? 0) - 1);
  const out: string[] = [];
  for (const [k, v] of m) if (v !== 0) out.push(`${v > 0 ? 'missing' : 'extra'} x${Math.abs(v)}: ${k}`);
  return out.sort();
}
