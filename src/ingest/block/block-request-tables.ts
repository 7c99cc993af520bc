/**
 * The output tables of the request reconstruction (block-requests.ts): block_requests, one row per
 * request, and block_bios, one row per queued bio with the request that finally carried it. The
 * columns are filled from the reconstruction's typed arrays a record batch at a time (column-fill.ts:
 * a typed-array copy per column and batch, no call per value); a builder that spills (spillTo)
 * moves each full batch to its scratch file, so writing the tables holds one batch of them in
 * memory. Times are kept relative to the trace's first event; `base` makes them absolute, exact in
 * Int64 (a BigInt sum where a number would not be exact).
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import { appendInt64, appendNumbers } from '../../table/column-fill.js';
import { CHUNK_ROWS } from '../../table/column-builders.js';
import { blockRequestsTable } from '../../table/schemas/block-requests.js';
import { blockBiosTable } from '../../table/schemas/block-bios.js';
import { BLOCK_OPS } from '../../table/schemas/block-events.js';
import type { EventNames } from './block-event-batches.js';
import { NULL_ERROR } from './block-event-batches.js';
import type { RequestReconstructor } from './block-requests.js';

// Small loops used for several columns: each runs once per column and batch, so it is optimised
// after the first columns instead of every loop of a long one-shot function starting cold.

/** dst[i] = keyOf[codes[from + i]], or `nullKey` where the code is negative. */
function keysOf(dst: Int32Array, codes: Int32Array, from: number, len: number, keyOf: readonly number[], nullKey: number): Int32Array {
  for (let i = 0; i < len; i++) { const c = codes[from + i]!; dst[i] = c >= 0 ? keyOf[c]! : nullKey; }
  return dst;
}

/** nulls[i] = 1 where a[from + i] < 0 (or, with `also`, where also[from + i] < 0). */
function negatives(nulls: Uint8Array, a: Int32Array | Float64Array, from: number, len: number, also: Int32Array | null = null): Uint8Array {
  if (also === null) for (let i = 0; i < len; i++) nulls[i] = a[from + i]! < 0 ? 1 : 0;
  else for (let i = 0; i < len; i++) nulls[i] = a[from + i]! < 0 || also[from + i]! < 0 ? 1 : 0;
  return nulls;
}

/** nulls[i] = 1 where no error was recorded or the request never completed. */
function errorNulls(nulls: Uint8Array, err: Int32Array, complete: Float64Array, from: number, len: number): Uint8Array {
  for (let i = 0; i < len; i++) nulls[i] = err[from + i] === NULL_ERROR || complete[from + i] !== complete[from + i] ? 1 : 0;
  return nulls;
}

/** dst[i] = min(a[from + i], 32767): counts in int16 columns. */
function capped16(dst: Int32Array, a: Int32Array, from: number, len: number): Int32Array {
  for (let i = 0; i < len; i++) { const v = a[from + i]!; dst[i] = v < 32767 ? v : 32767; }
  return dst;
}

/** Schema metadata of block_requests. */
export function requestsMetadata(events: Table): Record<string, string> {
  return { 'iolineage.source': String(events.schema.metadata?.get('iolineage.source') ?? 'block_events'), clock: String(events.schema.metadata?.get('clock') ?? '') };
}

/** Schema metadata of block_bios. */
export function biosMetadata(events: Table): Record<string, string> {
  return { clock: String(events.schema.metadata?.get('clock') ?? '') };
}

/** block_requests from the reconstructed request columns. */
export function requestsTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const t = new TableBuilder(blockRequestsTable);
  fillRequests(R, names, base, t);
  return t.finish(requestsMetadata(events));
}

/** Fill an empty block_requests builder, a record batch at a time (full batches spilled when it spills). */
export function fillRequests(R: RequestReconstructor, names: EventNames, base: bigint, t: TableBuilder<typeof blockRequestsTable>): void {
  const n = R.nReq;
  const cId = t.number('id'), cKind = t.string('kind'), cDev = t.string('dev'), cOp = t.string('op'), cRwbs = t.string('rwbs');
  const cSector = t.int64('sector'), cNr = t.number('nr_sectors'), cBytes = t.int64('bytes');
  const cQ = t.int64('queue_ns'), cG = t.int64('getrq_ns'), cI = t.int64('insert_ns'), cD = t.int64('issue_ns'), cC = t.int64('complete_ns');
  const cIssueOrder = t.number('issue_order');
  const cBios = t.number('bios'), cQBios = t.number('queued_bios'), cIssues = t.number('issues'), cRequeues = t.number('requeues');
  const cCompl = t.number('completions'), cErr = t.number('error'), cSplitFrom = t.number('split_from'), cSplitSector = t.int64('split_sector');
  const cMerged = t.number('merged_into'), cPid = t.number('pid'), cComm = t.string('comm');
  // dictionary keys: request kinds and ops by their codes, names by the events' name lists
  for (const k of ['request', 'bio']) cKind.intern(k);
  for (const o of BLOCK_OPS) cOp.intern(o);
  const devKey = names.dev.map((s) => cDev.intern(s));
  const rwbsKey = names.rwbs.map((s) => cRwbs.intern(s));
  const noRwbs = cRwbs.intern('');
  const commKey = names.comm.map((s) => cComm.intern(s));
  const keys = new Int32Array(CHUNK_ROWS);
  const nulls = new Uint8Array(CHUNK_ROWS);
  for (let from = 0; from < n; from += CHUNK_ROWS) {
    const len = Math.min(CHUNK_ROWS, n - from);
    for (let i = 0; i < len; i++) keys[i] = from + i;
    appendNumbers(cId, keys, 0, len);
    appendNumbers(cKind, R.rKind.a, from, len);
    appendNumbers(cDev, keysOf(keys, R.rDev.a, from, len, devKey, 0), 0, len);
    appendNumbers(cOp, R.rOp.a, from, len);
    appendNumbers(cRwbs, keysOf(keys, R.rRwbs.a, from, len, rwbsKey, noRwbs), 0, len);
    appendInt64(cSector, R.rSector.a, from, len, negatives(nulls, R.rSector.a, from, len));
    appendNumbers(cNr, R.rNr.a, from, len);
    appendInt64(cBytes, R.rBytes.a, from, len);
    appendInt64(cQ, R.rQ.a, from, len, null, base);
    appendInt64(cG, R.rG.a, from, len, null, base);
    appendInt64(cI, R.rI.a, from, len, null, base);
    appendInt64(cD, R.rD.a, from, len, null, base);
    appendInt64(cC, R.rC.a, from, len, null, base);
    appendNumbers(cBios, R.rBios.a, from, len);
    appendNumbers(cQBios, R.rQBios.a, from, len);
    appendNumbers(cIssueOrder, R.rIssueOrder.a, from, len, negatives(nulls, R.rIssueOrder.a, from, len));
    appendNumbers(cIssues, capped16(keys, R.rIssues.a, from, len), 0, len);
    appendNumbers(cRequeues, capped16(keys, R.rRequeues.a, from, len), 0, len);
    appendNumbers(cCompl, capped16(keys, R.rCompletions.a, from, len), 0, len);
    // error: null where none was recorded or the request never completed
    appendNumbers(cErr, R.rError.a, from, len, errorNulls(nulls, R.rError.a, R.rC.a, from, len));
    // split_from / split_sector: only on the pieces of a split bio
    appendNumbers(cSplitFrom, R.rSplitFrom.a, from, len, negatives(nulls, R.rSplitFrom.a, from, len, R.rOriginBio.a));
    appendInt64(cSplitSector, R.rSplitSector.a, from, len, negatives(nulls, R.rSplitSector.a, from, len, R.rOriginBio.a));
    appendNumbers(cMerged, R.rMergedInto.a, from, len, negatives(nulls, R.rMergedInto.a, from, len));
    appendNumbers(cPid, R.rPid.a, from, len, negatives(nulls, R.rPid.a, from, len));
    appendNumbers(cComm, keysOf(keys, R.rComm.a, from, len, commKey, 0), 0, len, negatives(nulls, R.rComm.a, from, len));
    t.spillFullBatches();
  }
}

/** block_bios: rq merges and split completions resolved. */
export function biosTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const t = new TableBuilder(blockBiosTable);
  fillBios(R, names, base, t);
  return t.finish(biosMetadata(events));
}

/** Fill an empty block_bios builder, a record batch at a time (full batches spilled when it spills). */
export function fillBios(R: RequestReconstructor, names: EventNames, base: bigint, bt: TableBuilder<typeof blockBiosTable>): void {
  const n = R.nReq;
  const merged = R.rMergedInto.a;
  const final = (r: number) => { let k = 0; while (r >= 0 && merged[r]! >= 0 && k++ < 1000) r = merged[r]!; return r; };
  const nb = R.nBio;
  const bioDone = new Float64Array(nb).fill(NaN);
  const bioOpen = new Uint8Array(nb);
  const request = new Int32Array(nb);
  const bReq = R.bReq.a, rC = R.rC.a, origin = R.rOriginBio.a;
  for (let bio = 0; bio < nb; bio++) {
    const r = final(bReq[bio]!);
    request[bio] = r;
    if (r >= 0) { const c = rC[r]!; bioDone[bio] = c; if (c !== c) bioOpen[bio] = 1; }
  }
  for (let r = 0; r < n; r++) {
    const o = origin[r]!;
    if (o < 0) continue;
    const c = rC[final(r)]!;
    if (c !== c) bioOpen[o] = 1;
    else if (!(bioDone[o]! >= c)) bioDone[o] = c;
  }
  for (let bio = 0; bio < nb; bio++) if (bioOpen[bio]) bioDone[bio] = NaN;
  const bDevC = bt.string('dev'), bOpC = bt.string('op'), bSec = bt.int64('sector'), bNrC = bt.number('nr_sectors');
  const bQC = bt.int64('queue_ns'), bMC = bt.int64('merge_ns'), bRoleC = bt.string('role'), bReqC = bt.number('request'), bCC = bt.int64('complete_ns'), bPidC = bt.number('pid');
  const bDevKey = names.dev.map((s) => bDevC.intern(s));
  for (const o of BLOCK_OPS) bOpC.intern(o);
  for (const k of ['head', 'merged', 'split', 'alone']) bRoleC.intern(k);
  const keys = new Int32Array(CHUNK_ROWS);
  const nulls = new Uint8Array(CHUNK_ROWS);
  for (let from = 0; from < nb; from += CHUNK_ROWS) {
    const len = Math.min(CHUNK_ROWS, nb - from);
    appendNumbers(bDevC, keysOf(keys, R.bDev.a, from, len, bDevKey, 0), 0, len);
    appendNumbers(bOpC, R.bOp.a, from, len);
    appendInt64(bSec, R.bSector.a, from, len, negatives(nulls, R.bSector.a, from, len));
    appendNumbers(bNrC, R.bNr.a, from, len);
    appendInt64(bQC, R.bQ.a, from, len, null, base);
    appendInt64(bMC, R.bM.a, from, len, null, base);
    appendNumbers(bRoleC, R.bRole.a, from, len);
    appendNumbers(bReqC, request, from, len, negatives(nulls, request, from, len));
    appendInt64(bCC, bioDone, from, len, null, base);
    appendNumbers(bPidC, R.bPid.a, from, len);
    bt.spillFullBatches();
  }
}
