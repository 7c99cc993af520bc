/**
 * summary.json as rows for SQL: one row per leaf value, keyed by its dotted path
 * (`layers.guest.read_bytes`, `clocks.vm0.offset_ns`, array items as `name.0`), with the value as
 * a number (numbers and booleans as 0/1) or as text (strings). JSON numbers are doubles already,
 * so `number` holds exactly what JSON.parse read.
 */
import { readFileSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../util/errors.js';
import { quoteIdent } from './sql-quote.js';

export interface SummaryRow {
  key: string;
  number: number | null;
  text: string | null;
}

export function summaryRows(json: unknown): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const walk = (value: unknown, key: string) => {
    if (value === null || value === undefined) rows.push({ key, number: null, text: null });
    else if (typeof value === 'number') rows.push({ key, number: value, text: null });
    else if (typeof value === 'boolean') rows.push({ key, number: value ? 1 : 0, text: String(value) });
    else if (typeof value === 'string') rows.push({ key, number: null, text: value });
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, key ? `${key}.${i}` : String(i)));
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, key ? `${key}.${k}` : k);
  };
  walk(json, '');
  return rows;
}

/** Create the table `name` (key VARCHAR, number DOUBLE, text VARCHAR) holding summaryRows(json). */
export async function loadSummary(connection: DuckDBConnection, json: unknown, name = 'summary'): Promise<number> {
  const rows = summaryRows(json);
  await connection.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} (key VARCHAR, number DOUBLE, text VARCHAR)`);
  const appender = await connection.createAppender(name);
  try {
    for (const r of rows) {
      appender.appendVarchar(r.key);
      if (r.number === null) appender.appendNull();
      else appender.appendDouble(r.number);
      if (r.text === null) appender.appendNull();
      else appender.appendVarchar(r.text);
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
  return rows.length;
}

/** Read a summary.json; an InputError naming the file when it is not JSON. */
export function readSummaryJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, `not a readable summary.json: ${e instanceof Error ? e.message : String(e)}`);
  }
}
