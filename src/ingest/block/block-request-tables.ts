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
  const flag = (f: (r: number) => boolean) => { for (let r = 0; r < n; r++) nulls[r] = f(r) ? 1 : 0; return nulls; };

  for (let r = 0; r < n; r++) keys[r] = r;
  appendNumbers(cId, keys, n);
  appendNumbers(cKind, R.rKind.a, n);
  const dev = R.rDev.a;
  for (let r = 0; r < n; r++) keys[r] = devKey[dev[r]!]!;
  appendNumbers(cDev, keys, n);
  appendNumbers(cOp, R.rOp.a, n);
  const rwbs = R.rRwbs.a;
  for (let r = 0; r < n; r++) { const rw = rwbs[r]!; keys[r] = rw >= 0 ? rwbsKey[rw]! : noRwbs; }
  appendNumbers(cRwbs, keys, n);
  const sector = R.rSector.a;
  appendInt64(cSector, sector, n, flag((r) => sector[r]! < 0));
  appendNumbers(cNr, R.rNr.a, n);
  appendInt64(cBytes, R.rBytes.a, n);
  appendInt64(cQ, R.rQ.a, n, null, base);
  appendInt64(cG, R.rG.a, n, null, base);
  appendInt64(cI, R.rI.a, n, null, base);
  appendInt64(cD, R.rD.a, n, null, base);
  appendInt64(cC, R.rC.a, n, null, base);
  appendNumbers(cBios, R.rBios.a, n);
  appendNumbers(cQBios, R.rQBios.a, n);
  const io = R.rIssueOrder.a;
  appendNumbers(cIssueOrder, io, n, flag((r) => io[r]! < 0));
  // counts are int16: capped at 32767
  for (const [c, a] of [[cIssues, R.rIssues.a], [cRequeues, R.rRequeues.a], [cCompl, R.rCompletions.a]] as const) {
    for (let r = 0; r < n; r++) keys[r] = Math.min(a[r]!, 32767);
    appendNumbers(c, keys, n);
  }
  const err = R.rError.a, complete = R.rC.a;
  appendNumbers(cErr, err, n, flag((r) => err[r] === NULL_ERROR || complete[r] !== complete[r]));
  const origin = R.rOriginBio.a, splitFrom = R.rSplitFrom.a, splitSector = R.rSplitSector.a;
  appendNumbers(cSplitFrom, splitFrom, n, flag((r) => origin[r]! < 0 || splitFrom[r]! < 0));
  appendInt64(cSplitSector, splitSector, n, flag((r) => origin[r]! < 0 || splitSector[r]! < 0));
  const merged = R.rMergedInto.a;
  appendNumbers(cMerged, merged, n, flag((r) => merged[r]! < 0));
  const pid = R.rPid.a;
  appendNumbers(cPid, pid, n, flag((r) => pid[r]! < 0));
  const comm = R.rComm.a;
  for (let r = 0; r < n; r++) { const cm = comm[r]!; keys[r] = cm >= 0 ? commKey[cm]! : 0; }
  appendNumbers(cComm, keys, n, flag((r) => comm[r]! < 0));
  return t.finish({ 'iolineage.source': String(events.schema.metadata?.get('iolineage.source') ?? 'block_events'), clock: String(events.schema.metadata?.get('clock') ?? '') });
}

/** block_bios: rq merges and split completions resolved. */
export function biosTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const n = R.nReq;
  const final = (r: number) => { let k = 0; while (r >= 0 && R.rMergedInto.a[r]! >= 0 && k++ < 1000) r = R.rMergedInto.a[r]!; return r; };
  const nb = R.nBio;
  const bioDone = new Float64Array(nb).fill(NaN);
  const bioOpen = new Uint8Array(nb);
  const request = new Int32Array(nb);
  for (let bio = 0; bio < nb; bio++) {
    const r = final(R.bReq.a[bio]!);
    request[bio] = r;
    if (r >= 0) { const c = R.rC.a[r]!; bioDone[bio] = c; if (c !== c) bioOpen[bio] = 1; }
  }
  for (let r = 0; r < n; r++) {
    const o = R.rOriginBio.a[r]!;
    if (o < 0) continue;
    const c = R.rC.a[final(r)]!;
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
  const dev = R.bDev.a;
  for (let bio = 0; bio < nb; bio++) keys[bio] = bDevKey[dev[bio]!]!;
  appendNumbers(bDevC, keys, nb);
  appendNumbers(bOpC, R.bOp.a, nb);
  const sector = R.bSector.a;
  for (let bio = 0; bio < nb; bio++) nulls[bio] = sector[bio]! < 0 ? 1 : 0;
  appendInt64(bSec, sector, nb, nulls);
  appendNumbers(bNrC, R.bNr.a, nb);
  appendInt64(bQC, R.bQ.a, nb, null, base);
  appendInt64(bMC, R.bM.a, nb, null, base);
  appendNumbers(bRoleC, R.bRole.a, nb);
  for (let bio = 0; bio < nb; bio++) nulls[bio] = request[bio]! < 0 ? 1 : 0;
  appendNumbers(bReqC, request, nb, nulls);
  appendInt64(bCC, bioDone, nb, null, base);
  appendNumbers(bPidC, R.bPid.a, nb);
  return bt.finish({ clock: String(events.schema.metadata?.get('clock') ?? '') });
}
