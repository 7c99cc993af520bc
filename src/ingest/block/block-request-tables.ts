/**
 * The output tables of the request reconstruction (block-requests.ts): block_requests, one row per
 * request, and block_bios, one row per queued bio with the request that finally carried it. Each
 * column is filled whole from the reconstruction's typed arrays (column-fill.ts: a chunk at a
 * time, no call per value). Times are kept relative to the trace's first event; `base` makes them
 * absolute, exact in Int64 (a BigInt sum where a number would not be exact).
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import { appendInt64, appendNumbers } from '../../table/column-fill.js';
import { blockRequestsTable } from '../../table/schemas/block-requests.js';
import { blockBiosTable } from '../../table/schemas/block-bios.js';
import { BLOCK_OPS } from '../../table/schemas/block-events.js';
import type { EventNames } from './block-event-batches.js';
import { NULL_ERROR } from './block-event-batches.js';
import type { RequestReconstructor } from './block-requests.js';

// Small loops used for several columns: each runs once per column, so it is optimised after the
// first columns instead of every loop of a long one-shot function starting cold (and the function
// falling back to the interpreter at each loop it had not reached yet).

/** dst[r] = keyOf[codes[r]], or `nullKey` where the code is negative. */
function keysOf(dst: Int32Array, codes: Int32Array, n: number, keyOf: readonly number[], nullKey: number): Int32Array {
  for (let r = 0; r < n; r++) { const c = codes[r]!; dst[r] = c >= 0 ? keyOf[c]! : nullKey; }
  return dst;
}

/** nulls[r] = 1 where a[r] < 0 (or, with `also`, where also[r] < 0). */
function negatives(nulls: Uint8Array, a: Int32Array | Float64Array, n: number, also: Int32Array | null = null): Uint8Array {
  if (also === null) for (let r = 0; r < n; r++) nulls[r] = a[r]! < 0 ? 1 : 0;
  else for (let r = 0; r < n; r++) nulls[r] = a[r]! < 0 || also[r]! < 0 ? 1 : 0;
  return nulls;
}

/** nulls[r] = 1 where no error was recorded or the request never completed. */
function errorNulls(nulls: Uint8Array, err: Int32Array, complete: Float64Array, n: number): Uint8Array {
  for (let r = 0; r < n; r++) nulls[r] = err[r] === NULL_ERROR || complete[r] !== complete[r] ? 1 : 0;
  return nulls;
}

/** dst[r] = min(a[r], 32767): counts in int16 columns. */
function capped16(dst: Int32Array, a: Int32Array, n: number): Int32Array {
  for (let r = 0; r < n; r++) { const v = a[r]!; dst[r] = v < 32767 ? v : 32767; }
  return dst;
}

/** block_requests from the reconstructed request columns. */
export function requestsTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const n = R.nReq;
  const t = new TableBuilder(blockRequestsTable);
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
  const keys = new Int32Array(n);
  const nulls = new Uint8Array(n);

  for (let r = 0; r < n; r++) keys[r] = r;
  appendNumbers(cId, keys, n);
  appendNumbers(cKind, R.rKind.a, n);
  appendNumbers(cDev, keysOf(keys, R.rDev.a, n, devKey, 0), n);
  appendNumbers(cOp, R.rOp.a, n);
  appendNumbers(cRwbs, keysOf(keys, R.rRwbs.a, n, rwbsKey, noRwbs), n);
  appendInt64(cSector, R.rSector.a, n, negatives(nulls, R.rSector.a, n));
  appendNumbers(cNr, R.rNr.a, n);
  appendInt64(cBytes, R.rBytes.a, n);
  appendInt64(cQ, R.rQ.a, n, null, base);
  appendInt64(cG, R.rG.a, n, null, base);
  appendInt64(cI, R.rI.a, n, null, base);
  appendInt64(cD, R.rD.a, n, null, base);
  appendInt64(cC, R.rC.a, n, null, base);
  appendNumbers(cBios, R.rBios.a, n);
  appendNumbers(cQBios, R.rQBios.a, n);
  appendNumbers(cIssueOrder, R.rIssueOrder.a, n, negatives(nulls, R.rIssueOrder.a, n));
  appendNumbers(cIssues, capped16(keys, R.rIssues.a, n), n);
  appendNumbers(cRequeues, capped16(keys, R.rRequeues.a, n), n);
  appendNumbers(cCompl, capped16(keys, R.rCompletions.a, n), n);
  // error: null where none was recorded or the request never completed
  appendNumbers(cErr, R.rError.a, n, errorNulls(nulls, R.rError.a, R.rC.a, n));
  // split_from / split_sector: only on the pieces of a split bio
  appendNumbers(cSplitFrom, R.rSplitFrom.a, n, negatives(nulls, R.rSplitFrom.a, n, R.rOriginBio.a));
  appendInt64(cSplitSector, R.rSplitSector.a, n, negatives(nulls, R.rSplitSector.a, n, R.rOriginBio.a));
  appendNumbers(cMerged, R.rMergedInto.a, n, negatives(nulls, R.rMergedInto.a, n));
  appendNumbers(cPid, R.rPid.a, n, negatives(nulls, R.rPid.a, n));
  appendNumbers(cComm, keysOf(keys, R.rComm.a, n, commKey, 0), n, negatives(nulls, R.rComm.a, n));
  return t.finish({ 'iolineage.source': String(events.schema.metadata?.get('iolineage.source') ?? 'block_events'), clock: String(events.schema.metadata?.get('clock') ?? '') });
}

/** block_bios: rq merges and split completions resolved. */
export function biosTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
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
  const bt = new TableBuilder(blockBiosTable);
  const bDevC = bt.string('dev'), bOpC = bt.string('op'), bSec = bt.int64('sector'), bNrC = bt.number('nr_sectors');
  const bQC = bt.int64('queue_ns'), bMC = bt.int64('merge_ns'), bRoleC = bt.string('role'), bReqC = bt.number('request'), bCC = bt.int64('complete_ns'), bPidC = bt.number('pid');
  const bDevKey = names.dev.map((s) => bDevC.intern(s));
  for (const o of BLOCK_OPS) bOpC.intern(o);
  for (const k of ['head', 'merged', 'split', 'alone']) bRoleC.intern(k);
  const keys = new Int32Array(nb);
  const nulls = new Uint8Array(nb);
  appendNumbers(bDevC, keysOf(keys, R.bDev.a, nb, bDevKey, 0), nb);
  appendNumbers(bOpC, R.bOp.a, nb);
  appendInt64(bSec, R.bSector.a, nb, negatives(nulls, R.bSector.a, nb));
  appendNumbers(bNrC, R.bNr.a, nb);
  appendInt64(bQC, R.bQ.a, nb, null, base);
  appendInt64(bMC, R.bM.a, nb, null, base);
  appendNumbers(bRoleC, R.bRole.a, nb);
  appendNumbers(bReqC, request, nb, negatives(nulls, request, nb));
  appendInt64(bCC, bioDone, nb, null, base);
  appendNumbers(bPidC, R.bPid.a, nb);
  return bt.finish({ clock: String(events.schema.metadata?.get('clock') ?? '') });
}
