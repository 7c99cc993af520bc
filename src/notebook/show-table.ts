/**
 * Show an Arquero table in the running notebook cell as an HTML table (Arquero's own toHTML), with
 * a line saying how many rows were left out.
 */
import type { ColumnTable } from 'arquero';
import { showHtml } from '../charts/show.js';

export interface ShowTableOptions {
  /** Rows shown (default 20). */
  limit?: number;
  /** Digits after the point for numbers that are not integers (default 3). */
  digits?: number;
}

export function showTable(table: ColumnTable, options: ShowTableOptions = {}): void {
  const limit = options.limit ?? 20;
  const digits = options.digits ?? 3;
  const format: Record<string, (v: unknown) => string> = {};
  for (const name of table.columnNames()) {
    format[name] = (v) =>
      typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(digits) : v === null || v === undefined ? '' : String(v);
  }
  const more = table.numRows() > limit ? `<p><em>${limit} of ${table.numRows()} rows</em></p>` : '';
  showHtml(table.toHTML({ limit, format }) + more);
}
