/**
 * The rows block-requests.ts rebuilds, as paged columns (PagedF64, PagedI32; paged-columns.ts) of requests and of
 * bios, with the per-device matching state (DevState), and the steps that make and join rows
 * which the event handlers of RequestReconstructor share: a new request (at its G/I/D, or at a
 * merge for a request whose allocation was not traced), a bio attached to a request or adopted
 * as a split piece, and a row of kind bio for a bio that never reached a request.
 */
import type { IngestStats } from '../../util/ingest-stats.js';
import { NULL_ERROR, type EventBatch } from './block-event-batches.js';
import { BatchSpill } from '../../table/batch-spill.js';
import { PAGE_MASK, PAGE_SHIFT, PageStore, PagedF64, PagedI32 } from './paged-columns.js';
import { DevState, Kind, MAX_CONTAIN_SCAN, MAX_PENDING, Role, isFlush } from './block-request-state.js';
import type { SectorMap } from './sector-map.js';

/** The growing columns of requests and bios, the matching state per device, and the row-making steps. */
export class RequestRows {
  /**
   * Scratch file of the pages of rows that left memory (paged-columns.ts), or null: every row in
   * memory. Closed by close().
   */
  readonly spill: BatchSpill | null;
  /** The rows of requests and of bios: pages of their columns (paged-columns.ts). */
  readonly reqs = new PageStore();
  readonly bios = new PageStore();
  // requests
  readonly rKind = new PagedI32(this.reqs);
  readonly rDev = new PagedI32(this.reqs);
  readonly rOp = new PagedI32(this.reqs);
  readonly rRwbs = new PagedI32(this.reqs);
  readonly rSector = new PagedF64(this.reqs);
  readonly rNr = new PagedF64(this.reqs);
  readonly rBytes = new PagedF64(this.reqs);
  readonly rQ = new PagedF64(this.reqs);
  readonly rG = new PagedF64(this.reqs);
  readonly rI = new PagedF64(this.reqs);
  readonly rD = new PagedF64(this.reqs);
  readonly rC = new PagedF64(this.reqs);
  readonly rBios = new PagedI32(this.reqs);
  readonly rQBios = new PagedI32(this.reqs);
  readonly rIssues = new PagedI32(this.reqs);
  readonly rRequeues = new PagedI32(this.reqs);
  readonly rCompletions = new PagedI32(this.reqs);
  readonly rError = new PagedI32(this.reqs);
  readonly rSplitFrom = new PagedI32(this.reqs);
  readonly rSplitSector = new PagedF64(this.reqs);
  readonly rMergedInto = new PagedI32(this.reqs);
  readonly rPid = new PagedI32(this.reqs);
  readonly rComm = new PagedI32(this.reqs);
  /** Bytes still to complete, and the bio a split piece came from (-1). */
  readonly rRemaining = new PagedF64(this.reqs);
  readonly rOriginBio = new PagedI32(this.reqs);
  readonly rIssueOrder = new PagedI32(this.reqs);
  // bios
  readonly bDev = new PagedI32(this.bios);
  readonly bOp = new PagedI32(this.bios);
  readonly bSector = new PagedF64(this.bios);
  readonly bNr = new PagedF64(this.bios);
  readonly bEnd = new PagedF64(this.bios);
  readonly bQ = new PagedF64(this.bios);
  readonly bM = new PagedF64(this.bios);
  readonly bRole = new PagedI32(this.bios);
  readonly bReq = new PagedI32(this.bios);
  readonly bPid = new PagedI32(this.bios);
  readonly bComm = new PagedI32(this.bios);
  readonly devs: DevState[] = [];

  /**
   * `spillPath`: a scratch file for the pages of rows that left memory (BatchSpill: unlinked once
   * open), so memory does not grow with the trace; without it every row stays in memory.
   */
  constructor(
    protected readonly stats: IngestStats,
    spillPath?: string,
  ) {
    this.spill = spillPath === undefined ? null : new BatchSpill(spillPath);
    this.reqs.useSpill(this.spill);
    this.bios.useSpill(this.spill);
  }

  /** Release the scratch file (after the tables are written). */
  close(): void {
    this.spill?.close();
  }

  /** Rows of requests and of bios so far. */
  get nReq(): number {
    return this.reqs.rows;
  }
  get nBio(): number {
    return this.bios.rows;
  }

  private newRequestRow(): number {
    return this.reqs.addRow();
  }

  /** A bio row at its Q, alone and without a request yet. */
  protected pushBio(d: number, op: number, sector: number, nr: number, q: number, pid: number, comm: number): number {
    const bio = this.bios.addRow();
    // the new row is on the newest page, in memory (PageStore.addRow): written there directly
    const p = bio >> PAGE_SHIFT;
    const o = bio & PAGE_MASK;
    this.bDev.pages[p]![o] = d;
    this.bOp.pages[p]![o] = op;
    this.bSector.pages[p]![o] = sector;
    this.bNr.pages[p]![o] = nr;
    this.bEnd.pages[p]![o] = sector + nr;
    this.bQ.pages[p]![o] = q;
    this.bM.pages[p]![o] = NaN;
    this.bRole.pages[p]![o] = Role.alone;
    this.bReq.pages[p]![o] = -1;
    this.bPid.pages[p]![o] = pid;
    this.bComm.pages[p]![o] = comm;
    return bio;
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
    const m = s.pendBio;
    const e = m.entryOf(sector);
    if (e < 0) return -1;
    const bio = m.valueAt(e);
    if (this.bOp.get(bio) !== op) return -1;
    m.deleteAt(e);
    s.pendBioEnd.deleteIf(this.bEnd.get(bio), bio);
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
    if (head >= 0 && head !== merging && this.bOp.get(head) === op && s.pendBio.get(this.bSector.get(head)) === head) {
      start = this.bSector.get(head);
      end = this.bEnd.get(head);
      if (nr >= 0 && end - start !== nr) return -1;
      this.takeBio(s, start, op);
      r = this.pushRequest(d, op, b.rwbs[i]!, start, end - start, (end - start) * 512, this.bPid.get(head), this.bComm.get(head));
      this.attachBio(r, head, Role.head);
    } else {
      if (byEnd) {
        const st = s.splitRestByEnd.get(at);
        start = st < 0 ? NaN : st;
      } else start = at;
      const origin = s.splitOrigin.get(start);
      const restEnd = s.splitRestEnd.get(start);
      end = restEnd < 0 ? NaN : restEnd;
      if (end !== end || origin < 0 || this.bOp.get(origin) !== op || (nr >= 0 && end - start !== nr)) return -1;
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
    this.bReq.set(bio, r);
    if (this.bRole.get(bio) !== Role.split) this.bRole.set(bio, role);
    this.rBios.add(r, 1);
    this.rQBios.add(r, 1);
    const q = this.bQ.get(bio);
    if (!(this.rQ.get(r) <= q)) this.rQ.set(r, q);
  }

  /** A request row with no event times yet. */
  private pushRequest(d: number, op: number, rwbs: number, sector: number, nr: number, bytes: number, pid: number, comm: number): number {
    const r = this.newRequestRow();
    // the row is on the newest page, in memory and zeroed (PageStore.addRow): its values are
    // written there directly, the zeros (rBios, rQBios, rIssues, rRequeues, rCompletions,
    // rRemaining) left as they are
    const p = r >> PAGE_SHIFT;
    const o = r & PAGE_MASK;
    this.rKind.pages[p]![o] = Kind.request;
    this.rDev.pages[p]![o] = d;
    this.rOp.pages[p]![o] = op;
    this.rRwbs.pages[p]![o] = rwbs;
    this.rSector.pages[p]![o] = sector;
    this.rNr.pages[p]![o] = nr;
    this.rBytes.pages[p]![o] = bytes;
    this.rQ.pages[p]![o] = NaN;
    this.rG.pages[p]![o] = NaN;
    this.rI.pages[p]![o] = NaN;
    this.rD.pages[p]![o] = NaN;
    this.rC.pages[p]![o] = NaN;
    this.rError.pages[p]![o] = NULL_ERROR;
    this.rSplitFrom.pages[p]![o] = -1;
    this.rSplitSector.pages[p]![o] = -1;
    this.rMergedInto.pages[p]![o] = -1;
    this.rPid.pages[p]![o] = pid;
    this.rComm.pages[p]![o] = comm;
    this.rOriginBio.pages[p]![o] = -1;
    this.rIssueOrder.pages[p]![o] = -1;
    return r;
  }

  /** A new request at event i; adopts the bio it was made for (or marks it a split piece). */
  protected newRequest(b: EventBatch, i: number, d: number, s: DevState): number {
    const sector = b.sector[i]!;
    const nr = b.nr[i]!;
    const op = b.op[i]!;
    const r = this.pushRequest(d, op, b.rwbs[i]!, sector, nr, b.bytes[i]! > 0 ? b.bytes[i]! : nr * 512, b.pid[i]!, b.comm[i]!);
    if (isFlush(b, i)) {
      this.rSector.set(r, -1);
      const bio = s.pendFlushBio.length ? s.pendFlushBio.shift()! : -1;
      if (bio >= 0) {
        this.attachBio(r, bio, Role.head);
        this.rPid.set(r, this.bPid.get(bio));
        this.rComm.set(r, this.bComm.get(bio));
      }
      return r;
    }
    let bio = this.takeBio(s, sector, op);
    if (bio >= 0) {
      this.attachBio(r, bio, Role.head);
      this.rPid.set(r, this.bPid.get(bio));
      this.rComm.set(r, this.bComm.get(bio));
    } else {
      bio = s.splitOrigin.get(sector);
      if (bio < 0) bio = this.containingBio(s, sector, op);
      if (bio >= 0) this.adoptSplitPiece(s, r, sector, bio);
      else this.rBios.set(r, 1);
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
      if (end >= 0) s.splitRestByEnd.deleteIf(end, sector);
    }
    this.bRole.set(bio, Role.split);
    this.rBios.set(r, 1);
    this.rQ.set(r, this.bQ.get(bio));
    this.rSplitFrom.set(r, this.bReq.get(bio));
    this.rSplitSector.set(r, this.bSector.get(bio));
    this.rOriginBio.set(r, bio);
    this.rPid.set(r, this.bPid.get(bio));
    this.rComm.set(r, this.bComm.get(bio));
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
      if (start < sector && sector < start + this.bNr.get(bio) && this.bOp.get(bio) === op) return bio;
    }
    return -1;
  }

  /** A row of kind bio for a bio that never reached a request (bio-based device). */
  protected bioRow(bio: number, completeNs: number, error: number): void {
    const r = this.pushRequest(
      this.bDev.get(bio),
      this.bOp.get(bio),
      -1,
      this.bSector.get(bio),
      this.bNr.get(bio),
      this.bNr.get(bio) * 512,
      this.bPid.get(bio),
      this.bComm.get(bio),
    );
    this.rKind.set(r, Kind.bio);
    this.rQ.set(r, this.bQ.get(bio));
    this.rC.set(r, completeNs);
    this.rBios.set(r, 1);
    this.rQBios.set(r, 1);
    this.rCompletions.set(r, completeNs === completeNs ? 1 : 0);
    this.rError.set(r, completeNs === completeNs ? error : NULL_ERROR);
    this.bReq.set(bio, r);
    this.bRole.set(bio, Role.alone);
  }

  /** Bios still waiting for a request at the end of the trace become rows of kind bio. */
  finishPending(): void {
    for (const s of this.devs) {
      if (!s) continue;
      const m = s.pendBio;
      for (let e = m.first(), end = m.end(); e < end; e++) {
        if (!m.isLive(e)) continue;
        const bio = m.valueAt(e);
        if (this.bRole.get(bio) === Role.alone && this.bReq.get(bio) < 0) this.bioRow(bio, NaN, 0);
      }
      for (const bio of s.pendFlushBio) if (this.bReq.get(bio) < 0) this.bioRow(bio, NaN, 0);
    }
  }
}
