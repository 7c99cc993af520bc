/**
 * Rebuilds block requests from block_events (any input format) in one forward sweep.
 *
 * The block layer's life of an I/O (include/trace/events/block.h; Documentation of blktrace):
 *   Q  block_bio_queue       a bio enters the block layer (sector, size of the bio)
 *   X  block_split           the bio is cut: "sector / new_sector"; the front piece goes on, the
 *                            remainder starts at new_sector. Pieces have no Q of their own.
 *   M/F back/front merge     the bio (its own sector and size) joins a pending request
 *   G  block_getrq           a request is allocated for the bio (or piece)
 *   I  block_rq_insert       into the I/O scheduler (absent with scheduler none: G then D)
 *   T  block_rq_merge        a request disappears into an adjacent one (binary blktrace records it
 *                            as a back merge M whose range is a whole pending request)
 *   D  block_rq_issue        dispatched to the driver (range after merges)
 *   R  block_rq_requeue      handed back by the driver; a D follows again
 *   C  block_rq_complete     done; may be partial (several C, each for the next part)
 * Events are matched by device + direction (op) + sector ranges, never by the full RWBS: flush
 * handling rewrites the flags (a FWFSM bio becomes a flush request "FF 0 + 0", the data request
 * "WSM", and a post-flush). Flush requests have no sector; they are matched first-in first-out.
 * Bio-based devices (dm, md, zram) show only Q and a bio completion: each such bio becomes a row
 * of kind "bio".
 * Traces without G (and/or I) are common tracepoint selections: a request then first shows at
 * its I or D, or at a merge that meets its head bio (see untracedRequest), so merged bios are
 * still counted and the requests are those of the full trace.
 *
 * Memory: the output is columnar (growable typed arrays); the in-flight state is a few small
 * insertion-ordered maps keyed by sector per device (SectorMap, typed arrays), each capped
 * (evictions are counted).
 */
import type { Table } from '@uwdata/flechette';
import type { IngestStats } from '../../util/ingest-stats.js';
import {
  Act,
  NULL_ERROR,
  countActions,
  forEachEventBatch,
  type EventBatch,
  type EventNames,
  type SkippableColumn,
} from './block-event-batches.js';
import { BLOCK_OPS } from '../../table/schemas/block-events.js';
import {
  biosFileWriter,
  biosMetadata,
  biosTableOf,
  requestsFileWriter,
  requestsMetadata,
  requestsTableOf,
} from './block-request-tables.js';
import { DevState, GrowF64, GrowI32, Kind, MAX_CONTAIN_SCAN, MAX_PENDING, Role, isFlush } from './block-request-state.js';
import type { SectorMap } from './sector-map.js';

export interface BlockRequestTables {
  requests: Table;
  bios: Table;
}

/**
 * Reconstruct requests (block_requests) from block_events. Events that cannot be matched are
 * counted in `stats` (severity info: traces that start or end mid-I/O always have some).
 */
export function buildBlockRequests(events: Table, stats: IngestStats): Table {
  const r = new RequestReconstructor(stats);
  r.reserveFor(events);
  const { names, base } = forEachEventBatch(events, (b) => r.batch(b), UNREAD_COLUMNS);
  r.finishPending();
  return r.requestsTable(names, base, events);
}

/** Both block_requests and block_bios (one row per Q, with the request that carried it). */
export function buildBlockRequestTables(events: Table, stats: IngestStats): BlockRequestTables {
  const r = new RequestReconstructor(stats);
  r.reserveFor(events);
  const { names, base } = forEachEventBatch(events, (b) => r.batch(b), UNREAD_COLUMNS);
  r.finishPending();
  return r.tables(names, base, events);
}

/** A block_events table swept into requests and bios, before their tables are made. */
export interface RebuiltRequests {
  rec: RequestReconstructor;
  names: EventNames;
  base: bigint;
  requestsMetadata: Record<string, string>;
  biosMetadata: Record<string, string>;
}

/**
 * The sweep of buildBlockRequestTables without making the tables, which stageBlockRequestTables
 * writes a batch at a time. With `consume` the events table gives up each record batch once swept
 * (forEachEventBatch): for a caller that holds the only reference to the table's rows (no builder
 * still holding its chunks) and has written what it needed of them, the events and the requests
 * are then not whole in memory together. The table has no rows afterwards.
 */
export function rebuildBlockRequests(events: Table, stats: IngestStats, consume = false): RebuiltRequests {
  const rec = new RequestReconstructor(stats);
  rec.reserveFor(events);
  const metadata = { requestsMetadata: requestsMetadata(events), biosMetadata: biosMetadata(events) };
  const { names, base } = forEachEventBatch(events, (b) => rec.batch(b), UNREAD_COLUMNS, consume);
  rec.finishPending();
  return { rec, names, base, ...metadata };
}

/** Where stageBlockRequestTables writes (an OutputFolder). */
export interface TableStage {
  stage(name: string, write: (fd: number) => void): string;
}

/**
 * Write block_requests.arrow and block_bios.arrow (the bytes buildBlockRequestTables' tables
 * would give) a record batch at a time: each batch is made from the reconstruction's columns into
 * arrays reused from batch to batch and encoded at once, so the tables are never whole in memory
 * and nothing is written twice. Returns the staged paths, the row counts, and requests and bytes
 * by op (BLOCK_OPS order).
 */
export function stageBlockRequestTables(
  r: RebuiltRequests,
  folder: TableStage,
): { requestsFile: string; biosFile: string; requests: number; bios: number; byOp: { count: Float64Array; bytes: Float64Array } } {
  const R = r.rec;
  const count = new Float64Array(BLOCK_OPS.length);
  const bytes = new Float64Array(BLOCK_OPS.length);
  for (let i = 0; i < R.nReq; i++) {
    const o = R.rOp.a[i]!;
    count[o]!++;
    bytes[o]! += R.rBytes.a[i]!;
  }
  const requestsFile = folder.stage('block_requests.arrow', requestsFileWriter(R, r.names, r.base, r.requestsMetadata));
  const biosFile = folder.stage('block_bios.arrow', biosFileWriter(R, r.names, r.base, r.biosMetadata));
  return { requestsFile, biosFile, requests: R.nReq, bios: R.nBio, byOp: { count, bytes } };
}

/** Event columns the reconstruction does not read (not copied out of the table). */
const UNREAD_COLUMNS: readonly SkippableColumn[] = ['cpu', 'flags', 'oldDev', 'count'];

/** The matching state and the growing columns of requests and bios (read by block-request-tables.ts). */
export class RequestReconstructor {
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
  /** D events seen so far. */
  private issuesSeen = 0;
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
  private ts = 0;

  constructor(private readonly stats: IngestStats) {}

  /** Rows of requests and of bios so far (the columns' arrays may be longer). */
  nReq = 0;
  nBio = 0;

  private newRequestRow(): number {
    const r = this.nReq;
    if (r === this.rKind.a.length) for (const c of this.requestColumns()) c.reserve(Math.max(2 * r, 1024));
    this.nReq = r + 1;
    return r;
  }

  private newBioRow(): number {
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

  private dev(d: number): DevState {
    let s = this.devs[d];
    if (!s) {
      s = new DevState();
      this.devs[d] = s;
    }
    return s;
  }

  private note(name: string, description: string, row: number, text: string): void {
    this.stats.count(name, 'info', description, { file: 'block_events', line: row + 1, text });
  }

  private capped(m: SectorMap, what: string, row: number): void {
    if (m.size <= MAX_PENDING) return;
    m.delete(m.oldestKey());
    this.stats.count(
      'requests_state_evicted',
      'data_loss',
      'in-flight matching state exceeded its cap; the oldest entry was dropped (its events stay unmatched)',
      { file: 'block_events', line: row + 1, text: what },
    );
  }

  batch(b: EventBatch): void {
    for (let i = 0; i < b.length; i++) {
      const d = b.dev[i]!;
      if (d < 0) continue;
      const act = b.action[i]!;
      this.ts = b.ts[i]!;
      switch (act) {
        case Act.Q:
          this.onQueue(b, i, d);
          break;
        case Act.X:
          this.onSplit(b, i, d);
          break;
        case Act.M:
        case Act.F:
          this.onBioMerge(b, i, d, act === Act.F);
          break;
        case Act.T:
          this.onRqMerge(b, i, d);
          break;
        case Act.G:
          this.onGetrq(b, i, d);
          break;
        case Act.I:
          this.onInsert(b, i, d);
          break;
        case Act.D:
          this.onIssue(b, i, d);
          break;
        case Act.C:
          this.onComplete(b, i, d);
          break;
        case Act.R:
          this.onRequeue(b, i, d);
          break;
        default:
          break;
      }
    }
  }

  private onQueue(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    const bio = this.newBioRow();
    const nr = b.nr[i]!;
    this.bDev.a[bio] = d;
    this.bOp.a[bio] = b.op[i]!;
    this.bSector.a[bio] = sector;
    this.bNr.a[bio] = nr;
    this.bEnd.a[bio] = sector + nr;
    this.bQ.a[bio] = this.ts;
    this.bM.a[bio] = NaN;
    this.bRole.a[bio] = Role.alone;
    this.bReq.a[bio] = -1;
    this.bPid.a[bio] = b.pid[i]!;
    this.bComm.a[bio] = b.comm[i]!;
    if (isFlush(b, i)) {
      s.pendFlushBio.push(bio);
      if (s.pendFlushBio.length > MAX_PENDING) s.pendFlushBio.shift();
      return;
    }
    if (s.pendBio.put(sector, bio))
      this.note(
        'requests_duplicate_queue',
        'a Q at a sector where an earlier queued bio was still waiting for a request; the earlier one is left alone',
        b.firstRow + i,
        `sector ${sector}`,
      );
    this.capped(s.pendBio, 'pending bios', b.firstRow + i);
    s.pendBioEnd.set(sector + b.nr[i]!, bio);
    if (s.pendBioEnd.size > MAX_PENDING) s.pendBioEnd.delete(s.pendBioEnd.oldestKey());
  }

  private onSplit(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    const next = b.newSector[i]!;
    if (sector < 0 || next < 0) return;
    let bio = s.pendBio.get(sector);
    // the piece being cut ends at `end`: [sector, next) goes on, [next, end) is the new remainder
    let end = NaN;
    if (bio >= 0) {
      // the front piece stays the pending bio; a merge without G extends the piece, not the bio
      end = this.bEnd.a[bio]!;
      if (s.pendBioEnd.get(end) === bio) s.pendBioEnd.delete(end);
      this.bEnd.a[bio] = next;
      s.pendBioEnd.set(next, bio);
    } else {
      bio = s.splitOrigin.get(sector);
      const restEnd = s.splitRestEnd.get(sector);
      end = restEnd < 0 ? NaN : restEnd;
      if (s.splitRestByEnd.get(end) === sector) s.splitRestByEnd.delete(end);
      s.splitRestEnd.set(sector, next);
      s.splitRestByEnd.set(next, sector);
    }
    if (bio < 0) {
      this.note('requests_split_without_queue', 'an X (split) of a bio whose Q was not seen', b.firstRow + i, `sector ${sector}`);
      return;
    }
    this.bRole.a[bio] = Role.split;
    s.splitOrigin.set(next, bio);
    this.capped(s.splitOrigin, 'split remainders', b.firstRow + i);
    if (end > next) {
      s.splitRestEnd.set(next, end);
      s.splitRestByEnd.set(end, next);
      for (const m of [s.splitRestEnd, s.splitRestByEnd]) if (m.size > MAX_PENDING) m.delete(m.oldestKey());
    }
  }

  /** A pending bio at `sector` with the same op, or -1. */
  private takeBio(s: DevState, sector: number, op: number): number {
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
  private untracedRequest(b: EventBatch, i: number, d: number, s: DevState, at: number, byEnd: boolean, merging: number, nr = -1): number {
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

  private attachBio(r: number, bio: number, role: number): void {
    this.bReq.a[bio] = r;
    if (this.bRole.a[bio] !== Role.split) this.bRole.a[bio] = role;
    this.rBios.a[r]!++;
    this.rQBios.a[r]!++;
    const q = this.bQ.a[bio]!;
    if (!(this.rQ.a[r]! <= q)) this.rQ.a[r] = q;
  }

  private onBioMerge(b: EventBatch, i: number, d: number, front: boolean): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    const nr = b.nr[i]!;
    const op = b.op[i]!;
    if (sector < 0) return;
    const bio = this.takeBio(s, sector, op);
    if (bio < 0 && !front) {
      // binary blktrace records block_rq_merge as a back merge: the range is a pending request
      const r2 = s.reqStart.get(sector);
      if (
        r2 >= 0 &&
        this.rNr.a[r2] === nr &&
        this.rOp.a[r2] === op &&
        (s.reqEnd.has(sector) || s.reqStart.has(sector + nr) || s.pendBioEnd.has(sector) || s.pendBio.has(sector + nr))
      ) {
        this.onRqMerge(b, i, d);
        return;
      }
    }
    let r = front ? s.reqStart.get(sector + nr) : s.reqEnd.get(sector);
    if (r < 0 || this.rOp.a[r] !== op) {
      const made = this.untracedRequest(b, i, d, s, front ? sector + nr : sector, !front, bio);
      if (made >= 0) r = made;
    }
    if (r < 0 || this.rOp.a[r] !== op) {
      this.note(
        'requests_merge_target_not_found',
        'an M/F merge whose pending request was not seen (trace started mid-way)',
        b.firstRow + i,
        `sector ${sector} + ${nr}`,
      );
      if (bio >= 0) {
        this.bRole.a[bio] = Role.merged;
        this.bM.a[bio] = this.ts;
      }
      return;
    }
    if (bio >= 0) {
      this.attachBio(r, bio, Role.merged);
      this.bM.a[bio] = this.ts;
    } else {
      this.rBios.a[r]!++;
    }
    if (front) {
      s.reqStart.delete(this.rSector.a[r]!);
      this.rSector.a[r] = sector;
      s.reqStart.set(sector, r);
    } else {
      const end = this.rSector.a[r]! + this.rNr.a[r]!;
      s.reqEnd.delete(end);
      s.reqEnd.set(end + nr, r);
    }
    this.rNr.a[r]! += nr;
    this.rBytes.a[r]! += nr * 512;
  }

  private onRqMerge(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    const nr = b.nr[i]!;
    let gone = s.reqStart.get(sector);
    if (gone < 0 || this.rOp.a[gone] !== b.op[i]) gone = this.untracedRequest(b, i, d, s, sector, false, -1, nr);
    if (gone < 0) {
      this.note(
        'requests_rq_merge_not_found',
        'a T (block_rq_merge) whose request was not seen',
        b.firstRow + i,
        `sector ${sector} + ${nr}`,
      );
      return;
    }
    // an insert merge (block/elevator.c elv_attempt_insert_merge) is always a back merge into
    // the request that ends where this one starts: look for it first, traced or not
    let into = s.reqEnd.get(sector);
    if (into < 0) {
      const made = this.untracedRequest(b, i, d, s, sector, true, -1);
      if (made >= 0) into = made;
    }
    const back = into >= 0 && into !== gone;
    if (!back) {
      into = s.reqStart.get(sector + nr);
      if (into < 0) {
        const made = this.untracedRequest(b, i, d, s, sector + nr, false, -1);
        if (made >= 0) into = made;
      }
    }
    if (into < 0 || into === gone) {
      this.note(
        'requests_rq_merge_not_found',
        'a T (block_rq_merge) whose request was not seen',
        b.firstRow + i,
        `sector ${sector} + ${nr}: no adjacent request`,
      );
      return;
    }
    s.reqStart.delete(sector);
    s.reqEnd.delete(sector + this.rNr.a[gone]!);
    this.rMergedInto.a[gone] = into;
    this.rBios.a[into]! += this.rBios.a[gone]!;
    this.rQBios.a[into]! += this.rQBios.a[gone]!;
    const q = this.rQ.a[gone]!;
    if (!(this.rQ.a[into]! <= q)) this.rQ.a[into] = q;
    const gnr = this.rNr.a[gone]!;
    if (back) {
      const end = this.rSector.a[into]! + this.rNr.a[into]!;
      s.reqEnd.delete(end);
      s.reqEnd.set(end + gnr, into);
    } else {
      s.reqStart.delete(this.rSector.a[into]!);
      this.rSector.a[into] = sector;
      s.reqStart.set(sector, into);
    }
    this.rNr.a[into]! += gnr;
    this.rBytes.a[into]! += this.rBytes.a[gone]!;
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
  private newRequest(b: EventBatch, i: number, d: number, s: DevState): number {
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

  private onGetrq(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const made = isFlush(b, i) ? -1 : s.reqStart.get(b.sector[i]!);
    // a request made at a merge (requestOfQueuedBio) has no G, I or D yet: this G is its own,
    // printed after the merge (equal timestamps of two CPUs' events)
    const r =
      made >= 0 &&
      this.rOp.a[made] === b.op[i] &&
      this.rG.a[made] !== this.rG.a[made] &&
      this.rI.a[made] !== this.rI.a[made] &&
      this.rD.a[made] !== this.rD.a[made]
        ? made
        : this.newRequest(b, i, d, s);
    this.rG.a[r] = this.ts;
    if (isFlush(b, i)) s.flushUnissued.push(r);
    else if (this.rQ.a[r] !== this.rQ.a[r])
      this.note(
        'requests_without_queue',
        'requests whose bio has no Q event (trace started mid-way, or Q not traced)',
        b.firstRow + i,
        `G at sector ${b.sector[i]}`,
      );
  }

  /** The unissued request at the event's sector with the same op, or a new one. */
  private unissued(b: EventBatch, i: number, d: number, s: DevState): number {
    const sector = b.sector[i]!;
    if (isFlush(b, i)) {
      if (s.flushUnissued.length) return s.flushUnissued.shift()!;
      return this.newRequest(b, i, d, s);
    }
    const r = s.reqStart.get(sector);
    if (r >= 0 && this.rOp.a[r] === b.op[i]) return r;
    return this.newRequest(b, i, d, s);
  }

  private resize(s: DevState, r: number, b: EventBatch, i: number): void {
    const nr = b.nr[i]!;
    if (nr === this.rNr.a[r] || isFlush(b, i)) return;
    // the source shows the request after merges this trace did not show
    const end = this.rSector.a[r]! + this.rNr.a[r]!;
    if (s.reqEnd.get(end) === r) s.reqEnd.delete(end);
    this.rNr.a[r] = nr;
    this.rBytes.a[r] = b.bytes[i]! > 0 ? b.bytes[i]! : nr * 512;
    s.reqEnd.set(this.rSector.a[r]! + nr, r);
  }

  private onInsert(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const r = this.unissued(b, i, d, s);
    if (this.rI.a[r] !== this.rI.a[r]) this.rI.a[r] = this.ts;
    this.resize(s, r, b, i);
    if (isFlush(b, i)) s.flushUnissued.unshift(r);
  }

  private onIssue(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const r = this.unissued(b, i, d, s);
    const sector = b.sector[i]!;
    this.rD.a[r] = this.ts;
    this.rIssues.a[r]!++;
    this.rIssueOrder.a[r] = this.issuesSeen++;
    this.rRwbs.a[r] = b.rwbs[i]!;
    if (isFlush(b, i)) {
      s.flushInflight.push(r);
      this.rRemaining.a[r] = 0;
      return;
    }
    this.resize(s, r, b, i);
    if (s.reqStart.get(sector) === r) s.reqStart.delete(sector);
    const end = this.rSector.a[r]! + this.rNr.a[r]!;
    if (s.reqEnd.get(end) === r) s.reqEnd.delete(end);
    if (s.inflight.has(sector))
      this.note(
        'requests_inflight_collision',
        'a D at a sector where another request was still in flight; the older one stays without completion',
        b.firstRow + i,
        `sector ${sector}`,
      );
    s.inflight.set(sector, r);
    this.capped(s.inflight, 'in-flight requests', b.firstRow + i);
    this.rRemaining.a[r] = this.rNr.a[r]! * 512;
  }

  private onComplete(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    const nr = b.nr[i]!;
    const err = b.error[i]!;
    if (isFlush(b, i)) {
      const r = s.flushInflight.shift();
      if (r === undefined) {
        this.note(
          'requests_completion_without_issue',
          'a C whose request was not seen issued (trace started mid-way)',
          b.firstRow + i,
          'flush',
        );
        return;
      }
      s.lastFlushDone = r;
      this.rCompletions.a[r]!++;
      this.rC.a[r] = this.ts;
      this.rError.a[r] = err === NULL_ERROR ? 0 : err;
      return;
    }
    const r = s.inflight.get(sector);
    if (r < 0) {
      let prev = -1;
      if (nr === 0) {
        prev = s.done.get(sector);
        if (prev < 0) prev = s.donePrev.get(sector);
      }
      // a data-less preflush request completes after the flush request made for it
      if (prev < 0 && nr === 0 && s.lastFlushDone >= 0) {
        prev = s.lastFlushDone;
        s.lastFlushDone = -1;
      }
      if (prev >= 0) {
        // REQ_FUA / REQ_PREFLUSH emulated with flushes (block/blk-flush.c): the data request
        // completes with its bytes, and once more with 0 bytes after the post-flush
        s.done.delete(sector);
        s.donePrev.delete(sector);
        this.rCompletions.a[prev]!++;
        this.stats.count(
          'requests_flush_sequence_end',
          'info',
          'zero-byte C that ends a flush sequence of an already completed data request (FUA/PREFLUSH without device support); counted in completions',
          { file: 'block_events', line: b.firstRow + i + 1, text: `sector ${sector}` },
        );
        return;
      }
      const bio = this.takeBio(s, sector, b.op[i]!);
      if (bio >= 0) {
        this.bioRow(bio, this.ts, err === NULL_ERROR ? 0 : err);
        return;
      }
      this.note(
        'requests_completion_without_issue',
        'a C whose request was not seen issued (trace started mid-way)',
        b.firstRow + i,
        `sector ${sector} + ${nr}`,
      );
      return;
    }
    s.inflight.delete(sector);
    this.rCompletions.a[r]!++;
    this.rError.a[r] = err === NULL_ERROR ? 0 : err;
    const left = this.rRemaining.a[r]! - nr * 512;
    if (nr === 0 || left <= 0) {
      this.rC.a[r] = this.ts;
      this.rRemaining.a[r] = 0;
      s.done.set(this.rSector.a[r]!, r);
      if (s.done.size > 4096) {
        const old = s.donePrev;
        s.donePrev = s.done;
        old.clear();
        s.done = old;
      }
    } else {
      this.rRemaining.a[r] = left;
      s.inflight.set(sector + nr, r);
    }
  }

  /** A row of kind bio for a bio that never reached a request (bio-based device). */
  private bioRow(bio: number, completeNs: number, error: number): void {
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

  private onRequeue(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    let r: number | undefined;
    if (isFlush(b, i)) {
      r = s.flushInflight.shift();
      if (r !== undefined) s.flushUnissued.unshift(r);
    } else {
      const f = s.inflight.get(sector);
      r = f < 0 ? undefined : f;
      if (r !== undefined) {
        s.inflight.delete(sector);
        s.reqStart.set(this.rSector.a[r]!, r);
        s.reqEnd.set(this.rSector.a[r]! + this.rNr.a[r]!, r);
      }
    }
    if (r === undefined) {
      this.note('requests_requeue_without_issue', 'an R whose request was not seen issued', b.firstRow + i, `sector ${sector}`);
      return;
    }
    this.rRequeues.a[r]!++;
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

  tables(names: EventNames, base: bigint, events: Table): BlockRequestTables {
    return { requests: requestsTableOf(this, names, base, events), bios: biosTableOf(this, names, base, events) };
  }

  requestsTable(names: EventNames, base: bigint, events: Table): Table {
    return requestsTableOf(this, names, base, events);
  }
}
