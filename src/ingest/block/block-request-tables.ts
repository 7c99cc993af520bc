/**
 * The output tables of the request reconstruction (block-requests.ts): block_requests, one row per
 * request, and block_bios, one row per queued bio with the request that finally carried it.
 */
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../table/table-builder.js';
import type { Int64ColumnBuilder } from '../../table/column-builders.js';
import { blockRequestsTable } from '../../table/schemas/block-requests.js';
import { blockBiosTable } from '../../table/schemas/block-bios.js';
import { BLOCK_OPS } from '../../table/schemas/block-events.js';
import type { EventNames } from './block-event-batches.js';
import { NULL_ERROR } from './block-event-batches.js';
import type { RequestReconstructor } from './block-requests.js';

/** Times are kept relative to the trace's first event; `base` makes them absolute (exact in Int64). */
function timeWriter(base: bigint): (c: Int64ColumnBuilder, v: number) => void {
  const baseNum = Number(base);
  const baseSafe = Number.isSafeInteger(baseNum);
  return (c, v) => {
    if (v !== v) { c.pushNull(); return; }
    const abs = baseNum + v;
    if (baseSafe && Number.isSafeInteger(abs)) c.pushSafeInteger(abs); else c.push(base + BigInt(v));
  };
}

/** block_requests from the reconstructed request columns. */
export function requestsTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const n = R.rKind.n;
  const t = new TableBuilder(blockRequestsTable);
  const cId = t.number('id'), cKind = t.string('kind'), cDev = t.string('dev'), cOp = t.string('op'), cRwbs = t.string('rwbs');
  const cSector = t.int64('sector'), cNr = t.number('nr_sectors'), cBytes = t.int64('bytes');
  const cQ = t.int64('queue_ns'), cG = t.int64('getrq_ns'), cI = t.int64('insert_ns'), cD = t.int64('issue_ns'), cC = t.int64('complete_ns');
  const cIssueOrder = t.number('issue_order');
  const cBios = t.number('bios'), cQBios = t.number('queued_bios'), cIssues = t.number('issues'), cRequeues = t.number('requeues');
  const cCompl = t.number('completions'), cErr = t.number('error'), cSplitFrom = t.number('split_from'), cSplitSector = t.int64('split_sector');
  const cMerged = t.number('merged_into'), cPid = t.number('pid'), cComm = t.string('comm');
  for (const k of ['request', 'bio']) cKind.intern(k);
  for (const o of BLOCK_OPS) cOp.intern(o);
  const devKey = names.dev.map((s) => cDev.intern(s));
  const rwbsKey = names.rwbs.map((s) => cRwbs.intern(s));
  const noRwbs = cRwbs.intern('');
  const commKey = names.comm.map((s) => cComm.intern(s));
  const time = timeWriter(base);
  for (let r = 0; r < n; r++) {
    cId.push(r);
    cKind.pushKey(R.rKind.a[r]!);
    cDev.pushKey(devKey[R.rDev.a[r]!]!);
    cOp.pushKey(R.rOp.a[r]!);
    const rw = R.rRwbs.a[r]!;
    cRwbs.pushKey(rw >= 0 ? rwbsKey[rw]! : noRwbs);
    const sec = R.rSector.a[r]!;
    if (sec < 0) cSector.pushNull(); else cSector.pushSafeInteger(sec);
    cNr.push(R.rNr.a[r]!);
    cBytes.pushSafeInteger(R.rBytes.a[r]!);
    time(cQ, R.rQ.a[r]!); time(cG, R.rG.a[r]!); time(cI, R.rI.a[r]!); time(cD, R.rD.a[r]!); time(cC, R.rC.a[r]!);
    cBios.push(R.rBios.a[r]!); cQBios.push(R.rQBios.a[r]!);
    const io = R.rIssueOrder.a[r]!;
    if (io < 0) cIssueOrder.pushNull(); else cIssueOrder.push(io);
    cIssues.push(Math.min(R.rIssues.a[r]!, 32767)); cRequeues.push(Math.min(R.rRequeues.a[r]!, 32767)); cCompl.push(Math.min(R.rCompletions.a[r]!, 32767));
    const e = R.rError.a[r]!;
    if (e === NULL_ERROR || R.rC.a[r] !== R.rC.a[r]) cErr.pushNull(); else cErr.push(e);
    const sf = R.rSplitFrom.a[r]!;
    if (R.rOriginBio.a[r]! < 0 || sf < 0) cSplitFrom.pushNull(); else cSplitFrom.push(sf);
    const ss = R.rSplitSector.a[r]!;
    if (R.rOriginBio.a[r]! < 0 || ss < 0) cSplitSector.pushNull(); else cSplitSector.pushSafeInteger(ss);
    const mi = R.rMergedInto.a[r]!;
    if (mi < 0) cMerged.pushNull(); else cMerged.push(mi);
    const pid = R.rPid.a[r]!;
    if (pid < 0) cPid.pushNull(); else cPid.push(pid);
    const cm = R.rComm.a[r]!;
    if (cm >= 0) cComm.pushKey(commKey[cm]!); else cComm.pushNull();
  }
  return t.finish({ 'iolineage.source': String(events.schema.metadata?.get('iolineage.source') ?? 'block_events'), clock: String(events.schema.metadata?.get('clock') ?? '') });
}

/** block_bios: rq merges and split completions resolved. */
export function biosTableOf(R: RequestReconstructor, names: EventNames, base: bigint, events: Table): Table {
  const n = R.rKind.n;
  const time = timeWriter(base);
  const final = (r: number) => { let k = 0; while (r >= 0 && R.rMergedInto.a[r]! >= 0 && k++ < 1000) r = R.rMergedInto.a[r]!; return r; };
  const nb = R.bDev.n;
  const bioDone = new Float64Array(nb).fill(NaN);
  const bioOpen = new Uint8Array(nb);
  for (let bio = 0; bio < nb; bio++) {
    const r = final(R.bReq.a[bio]!);
    if (r >= 0) { const c = R.rC.a[r]!; bioDone[bio] = c; if (c !== c) bioOpen[bio] = 1; }
  }
  for (let r = 0; r < n; r++) {
    const o = R.rOriginBio.a[r]!;
    if (o < 0) continue;
    const c = R.rC.a[final(r)]!;
    if (c !== c) bioOpen[o] = 1;
    else if (!(bioDone[o]! >= c)) bioDone[o] = c;
  }
  const bt = new TableBuilder(blockBiosTable);
  const bDevC = bt.string('dev'), bOpC = bt.string('op'), bSec = bt.int64('sector'), bNrC = bt.number('nr_sectors');
  const bQC = bt.int64('queue_ns'), bMC = bt.int64('merge_ns'), bRoleC = bt.string('role'), bReqC = bt.number('request'), bCC = bt.int64('complete_ns'), bPidC = bt.number('pid');
  const bDevKey = names.dev.map((s) => bDevC.intern(s));
  for (const o of BLOCK_OPS) bOpC.intern(o);
  for (const k of ['head', 'merged', 'split', 'alone']) bRoleC.intern(k);
  for (let bio = 0; bio < nb; bio++) {
    bDevC.pushKey(bDevKey[R.bDev.a[bio]!]!);
    bOpC.pushKey(R.bOp.a[bio]!);
    const sec = R.bSector.a[bio]!;
    if (sec < 0) bSec.pushNull(); else bSec.pushSafeInteger(sec);
    bNrC.push(R.bNr.a[bio]!);
    time(bQC, R.bQ.a[bio]!);
    time(bMC, R.bM.a[bio]!);
    bRoleC.pushKey(R.bRole.a[bio]!);
    const r = final(R.bReq.a[bio]!);
    if (r < 0) bReqC.pushNull(); else bReqC.push(r);
    time(bCC, bioOpen[bio] ? NaN : bioDone[bio]!);
    bPidC.push(R.bPid.a[bio]!);
  }
  return bt.finish({ clock: String(events.schema.metadata?.get('clock') ?? '') });
}
