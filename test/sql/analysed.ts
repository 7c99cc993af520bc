/**
 * Test helper: bundled captures of data/ analysed into a temporary folder (by the analyze
 * command itself), and values of tables in one comparable form.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Column, Table } from '@uwdata/flechette';
import { run as analyze } from '../../src/cli/analyze.js';

export const BUNDLES = [
  'm128-buffered',
  'm128-buffered-hostnone',
  'm128-buffered-qcow2',
  'm128-direct',
  'm512-buffered',
  'm512-direct',
  'm96-2vms',
] as const;

/** A scratch folder removed by the returned cleanup. */
export function scratchDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Analyse data/<bundle> into dir/<bundle>, with analyze's report kept off the test output. */
export async function analyseBundle(bundle: string, dir: string, extra: string[] = []): Promise<string> {
  const out = join(dir, bundle);
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const code = await analyze([join('data', bundle), '-o', out, ...extra]);
    if (code !== 0) throw new Error(`analyze data/${bundle}: exit status ${code}, expected 0`);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return out;
}

/** A value as text, the same for Arrow, DuckDB, Parquet readers and CSV: null as "null". */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  return String(v);
}

/** One column of a flechette table as text values. */
export function arrowColumnText(table: Table, name: string): string[] {
  const col = table.getChild(name) as Column<unknown> | null;
  if (!col) throw new Error(`table has no column ${name}`);
  return Array.from(col as Iterable<unknown>, valueText);
}
