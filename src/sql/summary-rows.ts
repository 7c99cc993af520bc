/**
 * summary.json as rows for SQL: one row per leaf value, keyed by its dotted path
 * (`layers.guest.read_bytes`, `clocks.vm0.offset_ns`, array items as `name.0`), with the value as
 * a number (numbers and booleans as 0/1) or as text (strings). JSON numbers are doubles already,
 * so `number` holds exactly what JSON.parse read.
 */

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
