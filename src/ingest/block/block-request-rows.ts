/**
 * The rows block-requests.ts rebuilds, as growing columns (GrowF64, GrowI32) of requests and of
 * bios, with the per-device matching state (DevState), and the steps that make and join rows
 * which the event handlers of RequestReconstructor share: a new request (at its G/I/D, or at a
 * merge for a request whose allocation was not traced), a bio attached to a request or adopted
 * as a split piece, and a row of kind bio for a bio that never reached a request.
 */
import type { Table } from '@uwdata/flechette';
import type { IngestStats } from '../../util/ingest-stats.js';
import { Act, NULL_ERROR, countActions, type EventBatch } from './block-event-batches.js';
import { DevState, GrowF64, GrowI32, Kind, MAX_CONTAIN_SCAN, MAX_PENDING, Role, isFlush } from './block-request-state.js';
import type { SectorMap } from './sector-map.js';

/** The growing columns of requests and bios, the matching state per device, and the row-making steps. */
export class RequestRows {
  // requests
  readonly rKind = new GrowI32();
  readonly rDev = new GrowI32();
  readonly rOp = new GrowI32();
  readonly rRwbs = new GrowI32();
  readonly rSector = new GrowF64();
  readonly rNr = new GrowF64();
  readonly rBytes = new GrowF64();
  readonly rQ = new GrowF64();
  readonly rG = new GrowF64();
  readonly rI = new GrowF64();
  readonly rD = new GrowF64();
  readonly rC = new GrowF64();
  readonly rBios = new GrowI32();
  readonly rQBios = new GrowI32();
  readonly rIssues = new GrowI32();
  readonly rRequeues = new GrowI32();
  readonly rCompletions = new GrowI32();
  readonly rError = new GrowI32();
  readonly rSplitFrom = new GrowI32();
  readonly rSplitSector = new GrowF64();
  readonly rMergedInto = new GrowI32();
  readonly rPid = new GrowI32();
  readonly rComm = new GrowI32();
  /** Bytes still to complete, and the bio a split piece came from (-1). */
  readonly rRemaining = new GrowF64();
  readonly rOriginBio = new GrowI32();
  readonly rIssueOrder = new GrowI32();
  // bios
  readonly bDev = new GrowI32();
  readonly bOp = new GrowI32();
  readonly bSector = new GrowF64();
  readonly bNr = new GrowF64();
  readonly bEnd = new GrowF64();
  readonly bQ = new GrowF64();
  readonly bM = new GrowF64();
  readonly bRole = new GrowI32();
  readonly bReq = new GrowI32();
  readonly bPid = new GrowI32();
  readonly bComm = new GrowI32();
  readonly devs: DevState[] = [];

  constructor(protected readonly stats: IngestStats) {}

  /** Rows of requests and of bios so far (the columns' arrays may be longer). */
  nReq = 0;
  nBio = 0;

  private newRequestRow(): number {
    const r = this.nReq;
    if (r === this.rKind.a.length) for (const c of this.requestColumns()) c.reserve(Math.max(2 * r, 1024));
    this.nReq = r + 1;
    return r;
  }

  protected newBioRow(): number {
    const bio = this.nBio;
    if (bio === this.bDev.a.length) for (const c of this.bioColumns()) c.reserve(Math.max(2 * bio, 1024));
    this.nBio = bio + 1;
    return bio;
  }

  private bioColumns(): (GrowF64 | GrowI32)[] {
    return [this.bDev, this.bOp, this.bSector, this.bNr, this.bEnd, this.bQ, this.bM, this.bRole, this.bReq, this.bPid, this.bComm];
  }

  /** Columns of requests and bios, filled row by row in lock-step (pushRequest, onQueue). */
  private requestColumns(): (GrowF64 | GrowI32)[] {
    return [
      this.rKind,
      this.rDev,
      this.rOp,
      this.rRwbs,
      this.rSector,
      this.rNr,
      this.rBytes,
      this.rQ,
      this.rG,
      this.rI,
      this.rD,
      this.rC,
      this.rBios,
      this.rQBios,
      this.rIssues,
      this.rRequeues,
      this.rCompletions,
      this.rError,
      this.rSplitFrom,
      this.rSplitSector,
      this.rMergedInto,
      this.rPid,
      this.rComm,
      this.rRemaining,
      this.rOriginBio,
      this.rIssueOrder,
    ];
  }

  /**
   * Size the columns for the table's events before the sweep (growing by doubling copies every
   * column several times): a bio per Q, and about a request per G, I or D (whichever the trace
   * has most of; more are still taken, by growing).
   */
  reserveFor(events: Table): void {
    const count = countActions(events);
    const bios = count[Act.Q]!;
    const requests = Math.max(count[Act.G]!, count[Act.I]!, count[Act.D]!, count[Act.C]!);
    for (const c of this.requestColumns()) c.reserve(requests + 16);
    for (const c of this.bioColumns()) c.reserve(bios + 16);
  }

  protected dev(d: number): DevState {
    let s = this.devs[d];
    if (!s) {
      s = new DevState();
      this.devs[d] = s;
    }
    return s;
  }

  protected note(name: string, description: string, row: number, text: string): void {
    this.stats.count(name, 'info', description, { file: 'block_events', line: row + 1, text });
  }

  protected capped(m: SectorMap, what: string, row: number): void {
    if (m.size <= MAX_PENDING) return;
    m.delete(m.oldestKey());
    this.stats.count(
      'requests_state_evicted',
      'data_loss',
      'in-flight matching state exceeded its cap; the oldest entry was dropped (its events stay unmatched)',
      { file: 'block_events', line: row + 1, text: what },
    );
  }

  /** A pending bio at `sector` with the same op, or -1. */
  protected takeBio(s: DevState, sector: number, op: number): number {
    const bio = s.pendBio.get(sector);
    if (bio < 0 || this.bOp.a[bio] !== op) return -1;
    s.pendBio.delete(sector);
    if (s.pendBioEnd.get(this.bEnd.a[bio]!) === bio) s.pendBioEnd.delete(this.bEnd.a[bio]!);
    return bio;
  }

  /**
   * Without block_getrq (and block_rq_insert) in the trace, a request appears only at its first
   * traced event, after the bios that merged into it. In blk-mq (block/blk-mq.c
   * blk_mq_submit_bio) a bio is first offered for merging (M/F) and only then gets a request (G),
   * and a plugged request can be merged into another at insert (T) without an I of its own: so a
   * merge that meets a queued bio still waiting for its G/I/D means that bio heads a request
   * whose allocation was not traced. That request is made here, from the bio (its front piece
   * when an X cut it) or from the remainder of a split bio, starting at `at` (or ending there,
   * `byEnd`); its later I/D finds it by its start sector. `nr` >= 0 asks for that exact length.
   * -1 when no queued bio (other than `merging`) or remainder of the event's op is there.
   */
  protected untracedRequest(
    b: EventBatch,
    i: number,
    d: number,
    s: DevState,
    at: number,
    byEnd: boolean,
    merging: number,
    nr = -1,
  ): number {
    const op = b.op[i]!;
    const head = byEnd ? s.pendBioEnd.get(at) : s.pendBio.get(at);
    let r: number, start: number, end: number;
    if (head >= 0 && head !== merging && this.bOp.a[head] === op && s.pendBio.get(this.bSector.a[head]!) === head) {
      start = this.bSector.a[head]!;
      end = this.bEnd.a[head]!;
      if (nr >= 0 && end - start !== nr) return -1;
      this.takeBio(s, start, op);
      r = this.pushRequest(d, op, b.rwbs[i]!, start, end - start, (end - start) * 512, this.bPid.a[head]!, this.bComm.a[head]!);
      this.attachBio(r, head, Role.head);
    } else {
      if (byEnd) {
        const st = s.splitRestByEnd.get(at);
        start = st < 0 ? NaN : st;
      } else start = at;
      const origin = s.splitOrigin.get(start);
      const restEnd = s.splitRestEnd.get(start);
      end = restEnd < 0 ? NaN : restEnd;
      if (end !== end || origin < 0 || this.bOp.a[origin] !== op || (nr >= 0 && end - start !== nr)) return -1;
      r = this.pushRequest(d, op, b.rwbs[i]!, start, end - start, (end - start) * 512, -1, -1);
      this.adoptSplitPiece(s, r, start, origin);
    }
    s.reqStart.set(start, r);
    s.reqEnd.set(end, r);
    this.capped(s.reqStart, 'pending requests', b.firstRow + i);
    if (s.reqEnd.size > MAX_PENDING) s.reqEnd.delete(s.reqEnd.oldestKey());
    return r;
  }

  protected attachBio(r: number, bio: number, role: number): void {
    this.bReq.a[bio] = r;
    if (this.bRole.a[bio] !== Role.split) this.bRole.a[bio] = role;
    this.rBios.a[r]!++;
    this.rQBios.a[r]!++;
    const q = this.bQ.a[bio]!;
    if (!(this.rQ.a[r]! <= q)) this.rQ.a[r] = q;
  }

  /** A request row with no event times yet. */
  private pushRequest(d: number, op: number, rwbs: number, sector: number, nr: number, bytes: number, pid: number, comm: number): number {
    const r = this.newRequestRow();
    this.rKind.a[r] = Kind.request;
    this.rDev.a[r] = d;
    this.rOp.a[r] = op;
    this.rRwbs.a[r] = rwbs;
    this.rSector.a[r] = sector;
    this.rNr.a[r] = nr;
    this.rBytes.a[r] = bytes;
    this.rQ.a[r] = NaN;
    this.rG.a[r] = NaN;
    this.rI.a[r] = NaN;
    this.rD.a[r] = NaN;
    this.rC.a[r] = NaN;
    this.rBios.a[r] = 0;
    this.rQBios.a[r] = 0;
    this.rIssues.a[r] = 0;
    this.rRequeues.a[r] = 0;
    this.rCompletions.a[r] = 0;
    this.rError.a[r] = NULL_ERROR;
    this.rSplitFrom.a[r] = -1;
    this.rSplitSector.a[r] = -1;
    this.rMergedInto.a[r] = -1;
    this.rPid.a[r] = pid;
    this.rComm.a[r] = comm;
    this.rRemaining.a[r] = 0;
    this.rOriginBio.a[r] = -1;
    this.rIssueOrder.a[r] = -1;
    return r;
  }

  /** A new request at event i; adopts the bio it was made for (or marks it a split piece). */
  protected newRequest(b: EventBatch, i: number, d: number, s: DevState): number {
    const sector = b.sector[i]!;
    const nr = b.nr[i]!;
    const op = b.op[i]!;
    const r = this.pushRequest(d, op, b.rwbs[i]!, sector, nr, b.bytes[i]! > 0 ? b.bytes[i]! : nr * 512, b.pid[i]!, b.comm[i]!);
    if (isFlush(b, i)) {
      this.rSector.a[r] = -1;
      const bio = s.pendFlushBio.length ? s.pendFlushBio.shift()! : -1;
      if (bio >= 0) {
        this.attachBio(r, bio, Role.head);
        this.rPid.a[r] = this.bPid.a[bio]!;
        this.rComm.a[r] = this.bComm.a[bio]!;
      }
      return r;
    }
    let bio = this.takeBio(s, sector, op);
    if (bio >= 0) {
      this.attachBio(r, bio, Role.head);
      this.rPid.a[r] = this.bPid.a[bio]!;
      this.rComm.a[r] = this.bComm.a[bio]!;
    } else {
      bio = s.splitOrigin.get(sector);
      if (bio < 0) bio = this.containingBio(s, sector, op);
      if (bio >= 0) this.adoptSplitPiece(s, r, sector, bio);
      else this.rBios.a[r] = 1;
    }
    s.reqStart.set(sector, r);
    s.reqEnd.set(sector + nr, r);
    this.capped(s.reqStart, 'pending requests', b.firstRow + i);
    if (s.reqEnd.size > MAX_PENDING) s.reqEnd.delete(s.reqEnd.oldestKey());
    return r;
  }

  /** Request r carries the piece of split bio `bio` that starts at `sector` (no Q of its own). */
  private adoptSplitPiece(s: DevState, r: number, sector: number, bio: number): void {
    if (s.splitOrigin.get(sector) === bio) {
      s.splitOrigin.delete(sector);
      const end = s.splitRestEnd.get(sector);
      s.splitRestEnd.delete(sector);
      if (end >= 0 && s.splitRestByEnd.get(end) === sector) s.splitRestByEnd.delete(end);
    }
    this.bRole.a[bio] = Role.split;
    this.rBios.a[r] = 1;
    this.rQ.a[r] = this.bQ.a[bio]!;
    this.rSplitFrom.a[r] = this.bReq.a[bio]!;
    this.rSplitSector.a[r] = this.bSector.a[bio]!;
    this.rOriginBio.a[r] = bio;
    this.rPid.a[r] = this.bPid.a[bio]!;
    this.rComm.a[r] = this.bComm.a[bio]!;
  }

  /** A pending (or split) bio whose range contains `sector`: pieces of a split that was not traced. */
  private containingBio(s: DevState, sector: number, op: number): number {
    let n = 0;
    const m = s.pendBio;
    for (let e = m.first(), end = m.end(); e < end; e++) {
      if (!m.isLive(e)) continue;
      const start = m.keyAt(e);
      const bio = m.valueAt(e);
      if (++n > MAX_CONTAIN_SCAN) break;
      if (start < sector && sector < start + this.bNr.a[bio]! && this.bOp.a[bio] === op) return bio;
    }
    return -1;
  }

  /** A row of kind bio for a bio that never reached a request (bio-based device). */
  protected bioRow(bio: number, completeNs: number, error: number): void {
    const r = this.pushRequest(
      this.bDev.a[bio]!,
      this.bOp.a[bio]!,
      -1,
      this.bSector.a[bio]!,
      this.bNr.a[bio]!,
      this.bNr.a[bio]! * 512,
      this.bPid.a[bio]!,
      this.bComm.a[bio]!,
    );
    this.rKind.a[r] = Kind.bio;
    this.rQ.a[r] = this.bQ.a[bio]!;
    this.rC.a[r] = completeNs;
    this.rBios.a[r] = 1;
    this.rQBios.a[r] = 1;
    this.rCompletions.a[r] = completeNs === completeNs ? 1 : 0;
    this.rError.a[r] = completeNs === completeNs ? error : NULL_ERROR;
    this.bReq.a[bio] = r;
    this.bRole.a[bio] = Role.alone;
  }

  /** Bios still waiting for a request at the end of the trace become rows of kind bio. */
  finishPending(): void {
    for (const s of this.devs) {
      if (!s) continue;
      const m = s.pendBio;
      for (let e = m.first(), end = m.end(); e < end; e++) {
        if (!m.isLive(e)) continue;
        const bio = m.valueAt(e);
        if (this.bRole.a[bio] === Role.alone && this.bReq.a[bio]! < 0) this.bioRow(bio, NaN, 0);
      }
      for (const bio of s.pendFlushBio) if (this.bReq.a[bio]! < 0) this.bioRow(bio, NaN, 0);
    }
  }
}
