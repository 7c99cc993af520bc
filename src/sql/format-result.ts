/**
 * Query results as text: an aligned table (numbers right-aligned, NULL shown as NULL), CSV
 * (RFC 4180 quoting, empty field for NULL) or JSON (an array of row objects; integers of any
 * size written as exact JSON numbers).
 */
import { rowCount, type ResultColumn } from './result-columns.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function cellText(v: ResultColumn['values'][number]): string {
  if (v === null) return 'NULL';
  return String(v);
}

/** An aligned table with a header line and a rule; at most maxRows rows, with a note of the rest. */
export function formatAligned(columns: readonly ResultColumn[], maxRows = Infinity): string {
  const n = rowCount(columns);
  const shown = Math.min(n, maxRows);
  const cells = columns.map((c) => c.values.slice(0, shown).map(cellText));
  const widths = columns.map((c, k) => Math.max(c.name.length, ...cells[k]!.map((s) => s.length)));
  const right = columns.map((c) => c.kind !== 'string' && c.kind !== 'bool');
  const line = (parts: string[]) =>
    parts
      .map((s, k) => (right[k] ? s.padStart(widths[k]!) : s.padEnd(widths[k]!)))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.name)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (let i = 0; i < shown; i++) out.push(line(cells.map((col) => col[i]!)));
  out.push(n > shown ? `(${n} rows, ${shown} shown; --max-rows N or --format csv for all)` : `(${n} row${n === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

function csvField(v: ResultColumn['values'][number]): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function formatCsv(columns: readonly ResultColumn[]): string {
  const n = rowCount(columns);
  const out = [columns.map((c) => csvField(c.name)).join(',')];
  for (let i = 0; i < n; i++) out.push(columns.map((c) => csvField(c.values[i]!)).join(','));
  return out.join('\n') + '\n';
}

function jsonValue(v: ResultColumn['values'][number]): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return JSON.stringify(v);
}

/** One row object per line inside a JSON array. */
export function formatJson(columns: readonly ResultColumn[]): string {
  const n = rowCount(columns);
  const keys = columns.map((c) => JSON.stringify(c.name));
  const rows: string[] = [];
  for (let i = 0; i < n; i++) rows.push(`{${columns.map((c, k) => `${keys[k]}:${jsonValue(c.values[i]!)}`).join(',')}}`);
  return rows.length ? `[\n${rows.join(',\n')}\n]\n` : '[]\n';
}

export function formatResult(columns: readonly ResultColumn[], format: OutputFormat, maxRows?: number): string {
  return format === 'csv' ? formatCsv(columns) : format === 'json' ? formatJson(columns) : formatAligned(columns, maxRows);
}
