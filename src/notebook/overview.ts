/**
 * What a capture holds: an inventory of its tables (rows, columns, what a row is) and totals per
 * layer (requests/calls and bytes by operation) from whichever layer tables are present:
 * app_io (application), guest_requests / host_requests (`iolineage analyze`), block_requests
 * (`iolineage ingest` of one block trace).
 */
import type { Table } from '@uwdata/flechette';
import type { Capture } from './open-capture.js';
import { hasColumn, int64Column, stringColumn } from './columns.js';
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
  for (const name of capture.files.keys()) {
    const t = capture.table(name);
    const meta = t.schema.metadata ?? new Map<string, string>();
    const shown = [...meta].filter(([k]) => SHOWN_METADATA.includes(k)).map(([k, v]) => `${k}: ${v.length > 60 ? v.slice(0, 57) + '…' : v}`);
    // the schema a file was written with is named in its metadata (guest_requests is a block_requests table)
    const schema = meta.get('iolineage.table') ?? name;
    const doc = docs.get(name)?.doc ?? docs.get(schema)?.doc ?? '';
    rows.push({ table: name, rows: t.numRows, columns: t.numCols, doc: schema !== name && doc ? `(${schema}) ${doc}` : doc, metadata: shown.join('; ') });
  }
  return rows;
}

export interface LayerTotalRow {
  /** app | guest | host | block (a block trace whose layer the capture does not say). */
  layer: string;
  /** The table the totals come from. */
  table: string;
  op: string;
  /** Requests (block layers) or calls (application). */
  requests: number;
  bytes: number;
}

/** Tables that hold one layer's requests, with the column giving each row's bytes. */
const LAYER_TABLES = [
  { layer: 'app', table: 'app_io', bytes: 'bytes_done' },
  { layer: 'guest', table: 'guest_requests', bytes: 'bytes' },
  { layer: 'host', table: 'host_requests', bytes: 'bytes' },
  { layer: 'block', table: 'block_requests', bytes: 'bytes' },
] as const;

/** Requests and bytes by operation for every layer table present (null bytes count as 0). */
export function layerTotals(capture: Capture): LayerTotalRow[] {
  const rows: LayerTotalRow[] = [];
  for (const spec of LAYER_TABLES) {
    if (!capture.has(spec.table)) continue;
    rows.push(...totalsByOp(capture.table(spec.table), spec.layer, spec.table, spec.bytes));
  }
  return rows;
}

function totalsByOp(t: Table, layer: string, table: string, bytesColumn: string): LayerTotalRow[] {
  if (!hasColumn(t, 'op') || !hasColumn(t, bytesColumn)) return [];
  const op = stringColumn(t, 'op');
  const bytes = int64Column(t, bytesColumn);
  const req = new Float64Array(op.labels.length + 1);
  const sum = new Array<bigint>(op.labels.length + 1).fill(0n);
  for (let i = 0; i < op.codes.length; i++) {
    const k = op.codes[i]! + 1; // slot 0: null op
    req[k]! += 1;
    if (bytes.valid === null || bytes.valid[i] === 1) sum[k] = sum[k]! + bytes.values[i]!;
  }
  const rows: LayerTotalRow[] = [];
  for (let k = 0; k < req.length; k++) {
    if (req[k] === 0) continue;
    rows.push({ layer, table, op: k === 0 ? 'unknown' : op.labels[k - 1]!, requests: req[k]!, bytes: Number(sum[k]!) });
  }
  return rows.sort((a, b) => b.bytes - a.bytes);
}

/** Events per action letter of a block_events table (Q, G, I, D, C, M, X, ...). */
export function eventsByAction(events: Table): { action: string; events: number }[] {
  const a = stringColumn(events, 'action');
  const n = new Float64Array(a.labels.length);
  for (let i = 0; i < a.codes.length; i++) if (a.codes[i]! >= 0) n[a.codes[i]!]! += 1;
  return a.labels.map((action, k) => ({ action, events: n[k]! })).filter((r) => r.events > 0);
}
