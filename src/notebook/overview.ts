/**
 * What a capture holds: an inventory of its tables (rows, columns, what a row is, the metadata
 * worth showing), from the schemas' own documentation.
 */
import { readFileSync } from 'node:fs';
import type { Capture } from './open-capture.js';
import { parseArrowBytes } from './user-table.js';
import { tableSpecs } from './table-docs.js';

export interface TableInventoryRow {
  table: string;
  rows: number;
  columns: number;
  /** What one row is (the schema's doc), or "" for a table without a known schema. */
  doc: string;
  /** Schema metadata of the file worth showing (clock, device, source file names). */
  metadata: string;
}

const SHOWN_METADATA = ['clock', 'dev', 'source', 'sources', 'format', 'trace_clock'];

export async function tableInventory(capture: Capture): Promise<TableInventoryRow[]> {
  const docs = await tableSpecs();
  const rows: TableInventoryRow[] = [];
  for (const [name, file] of capture.files) {
    // the file as written (schema, metadata, rows): no conversion of its values
    const t = parseArrowBytes(readFileSync(file), file);
    const meta = t.schema.metadata ?? new Map<string, string>();
    const shown = [...meta]
      .filter(([k]) => SHOWN_METADATA.includes(k))
      .map(([k, v]) => `${k}: ${v.length > 60 ? v.slice(0, 57) + '…' : v}`);
    // the schema a file was written with is named in its metadata (guest_requests is a block_requests table)
    const schema = meta.get('iolineage.table') ?? name;
    const doc = docs.get(name)?.doc ?? docs.get(schema)?.doc ?? '';
    rows.push({
      table: name,
      rows: t.numRows,
      columns: t.numCols,
      doc: schema !== name && doc ? `(${schema}) ${doc}` : doc,
      metadata: shown.join('; '),
    });
  }
  return rows;
}
