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
  ChunkBatches,
  NULL_ERROR,
  UNSWEPT_COLUMNS,
  forEachEventBatch,
  type EventBatch,
  type EventNames,
} from './block-event-batches.js';
import type { SweptColumns } from './block-event-chunk.js';
import { biosMetadata, biosTableOf, requestsMetadata, requestsTableOf } from './block-request-tables.js';
import { MAX_PENDING, Role, isFlush, type DevState } from './block-request-state.js';
import { RequestRows } from './block-request-rows.js';

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
  const { names, base } = forEachEventBatch(events, (b) => r.batch(b), UNREAD_COLUMNS);
  r.finishPending();
  return r.requestsTable(names, base, events);
}

/** Both block_requests and block_bios (one row per Q, with the request that carried it). */
export function buildBlockRequestTables(events: Table, stats: IngestStats): BlockRequestTables {
  const r = new RequestReconstructor(stats);
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
  const metadata = { requestsMetadata: requestsMetadata(events), biosMetadata: biosMetadata(events) };
  const { names, base } = forEachEventBatch(events, (b) => rec.batch(b), UNREAD_COLUMNS, consume);
  rec.finishPending();
  return { rec, names, base, ...metadata };
}

/** Event columns the reconstruction does not read (not copied out of the table). */
const UNREAD_COLUMNS = UNSWEPT_COLUMNS;

/**
 * The sweep of rebuildBlockRequests run while block_events is read (BlockEventsBuilder.streamTo):
 * each chunk of rows is swept as it fills, so the events are never whole in memory. Gives what
 * rebuildBlockRequests gives for the finished table: the same batches in the same order
 * (ChunkBatches), the names the builder's dictionaries (BlockEventsBuilder.names), the metadata
 * the table is written with. Notes go to the `stats` given here (the caller merges them after
 * the readers' counts, where a sweep of the finished table would have added them).
 */
export class StreamedRequestSweep {
  private readonly rec: RequestReconstructor;
  private readonly batches = new ChunkBatches();
  /** `spillPath`: the scratch file of the request and bio rows that left memory (RequestRows). */
  constructor(stats: IngestStats, spillPath?: string) {
    this.rec = new RequestReconstructor(stats, spillPath);
  }

  /** Sweep rows [0, n) of a chunk; `firstRow` is the row number of its first row. */
  chunk(c: SweptColumns, n: number, firstRow: number): void {
    this.rec.batch(this.batches.of(c, n, firstRow));
  }

  /** Sweep a batch another thread made of a chunk (ChunkBatches.fresh; its `base` then goes to finish). */
  batch(b: EventBatch): void {
    this.rec.batch(b);
  }

  /** Release the scratch file (a sweep given up before finish; after it, RebuiltRequests.rec.close()). */
  close(): void {
    this.rec.close();
  }

  /**
   * After the last chunk: the requests still pending, and what stageBlockRequestTables writes.
   * `base`: the first event's ts_ns when the batches were made elsewhere (ChunkBatches.base).
   */
  finish(names: EventNames, eventsMetadata: Record<string, string>, base?: bigint): RebuiltRequests {
    this.rec.finishPending();
    return {
      rec: this.rec,
      names,
      base: base ?? this.batches.base ?? 0n,
      requestsMetadata: requestsMetadata(eventsMetadata),
      biosMetadata: biosMetadata(eventsMetadata),
    };
  }
}

/**
 * The forward sweep over block_events: each event's effect on the matching state and on the
 * rows of requests and bios (RequestRows; the columns are read by block-request-tables.ts).
 */
export class RequestReconstructor extends RequestRows {
  /** D events seen so far. */
  private issuesSeen = 0;
  private ts = 0;

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
    const nr = b.nr[i]!;
    const bio = this.pushBio(d, b.op[i]!, sector, nr, this.ts, b.pid[i]!, b.comm[i]!);
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
      end = this.bEnd.get(bio);
      s.pendBioEnd.deleteIf(end, bio);
      this.bEnd.set(bio, next);
      s.pendBioEnd.set(next, bio);
    } else {
      bio = s.splitOrigin.get(sector);
      const restEnd = s.splitRestEnd.get(sector);
      end = restEnd < 0 ? NaN : restEnd;
      s.splitRestByEnd.deleteIf(end, sector);
      s.splitRestEnd.set(sector, next);
      s.splitRestByEnd.set(next, sector);
    }
    if (bio < 0) {
      this.note('requests_split_without_queue', 'an X (split) of a bio whose Q was not seen', b.firstRow + i, `sector ${sector}`);
      return;
    }
    this.bRole.set(bio, Role.split);
    s.splitOrigin.set(next, bio);
    this.capped(s.splitOrigin, 'split remainders', b.firstRow + i);
    if (end > next) {
      s.splitRestEnd.set(next, end);
      s.splitRestByEnd.set(end, next);
      for (const m of [s.splitRestEnd, s.splitRestByEnd]) if (m.size > MAX_PENDING) m.delete(m.oldestKey());
    }
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
        this.rNr.get(r2) === nr &&
        this.rOp.get(r2) === op &&
        (s.reqEnd.has(sector) || s.reqStart.has(sector + nr) || s.pendBioEnd.has(sector) || s.pendBio.has(sector + nr))
      ) {
        this.onRqMerge(b, i, d);
        return;
      }
    }
    let r = front ? s.reqStart.get(sector + nr) : s.reqEnd.get(sector);
    if (r < 0 || this.rOp.get(r) !== op) {
      const made = this.untracedRequest(b, i, d, s, front ? sector + nr : sector, !front, bio);
      if (made >= 0) r = made;
    }
    if (r < 0 || this.rOp.get(r) !== op) {
      this.note(
        'requests_merge_target_not_found',
        'an M/F merge whose pending request was not seen (trace started mid-way)',
        b.firstRow + i,
        `sector ${sector} + ${nr}`,
      );
      if (bio >= 0) {
        this.bRole.set(bio, Role.merged);
        this.bM.set(bio, this.ts);
      }
      return;
    }
    if (bio >= 0) {
      this.attachBio(r, bio, Role.merged);
      this.bM.set(bio, this.ts);
    } else {
      this.rBios.add(r, 1);
    }
    if (front) {
      s.reqStart.delete(this.rSector.get(r));
      this.rSector.set(r, sector);
      s.reqStart.set(sector, r);
    } else {
      const end = this.rSector.get(r) + this.rNr.get(r);
      s.reqEnd.delete(end);
      s.reqEnd.set(end + nr, r);
    }
    this.rNr.add(r, nr);
    this.rBytes.add(r, nr * 512);
  }

  private onRqMerge(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const sector = b.sector[i]!;
    const nr = b.nr[i]!;
    let gone = s.reqStart.get(sector);
    if (gone < 0 || this.rOp.get(gone) !== b.op[i]) gone = this.untracedRequest(b, i, d, s, sector, false, -1, nr);
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
    s.reqEnd.delete(sector + this.rNr.get(gone));
    this.rMergedInto.set(gone, into);
    this.rBios.add(into, this.rBios.get(gone));
    this.rQBios.add(into, this.rQBios.get(gone));
    const q = this.rQ.get(gone);
    if (!(this.rQ.get(into) <= q)) this.rQ.set(into, q);
    const gnr = this.rNr.get(gone);
    if (back) {
      const end = this.rSector.get(into) + this.rNr.get(into);
      s.reqEnd.delete(end);
      s.reqEnd.set(end + gnr, into);
    } else {
      s.reqStart.delete(this.rSector.get(into));
      this.rSector.set(into, sector);
      s.reqStart.set(sector, into);
    }
    this.rNr.add(into, gnr);
    this.rBytes.add(into, this.rBytes.get(gone));
  }

  private onGetrq(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const made = isFlush(b, i) ? -1 : s.reqStart.get(b.sector[i]!);
    // a request made at a merge (requestOfQueuedBio) has no G, I or D yet: this G is its own,
    // printed after the merge (equal timestamps of two CPUs' events)
    const r =
      made >= 0 &&
      this.rOp.get(made) === b.op[i] &&
      this.rG.get(made) !== this.rG.get(made) &&
      this.rI.get(made) !== this.rI.get(made) &&
      this.rD.get(made) !== this.rD.get(made)
        ? made
        : this.newRequest(b, i, d, s);
    this.rG.set(r, this.ts);
    if (isFlush(b, i)) s.flushUnissued.push(r);
    else if (this.rQ.get(r) !== this.rQ.get(r))
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
    if (r >= 0 && this.rOp.get(r) === b.op[i]) return r;
    return this.newRequest(b, i, d, s);
  }

  private resize(s: DevState, r: number, b: EventBatch, i: number): void {
    const nr = b.nr[i]!;
    if (nr === this.rNr.get(r) || isFlush(b, i)) return;
    // the source shows the request after merges this trace did not show
    const end = this.rSector.get(r) + this.rNr.get(r);
    s.reqEnd.deleteIf(end, r);
    this.rNr.set(r, nr);
    this.rBytes.set(r, b.bytes[i]! > 0 ? b.bytes[i]! : nr * 512);
    s.reqEnd.set(this.rSector.get(r) + nr, r);
  }

  private onInsert(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const r = this.unissued(b, i, d, s);
    if (this.rI.get(r) !== this.rI.get(r)) this.rI.set(r, this.ts);
    this.resize(s, r, b, i);
    if (isFlush(b, i)) s.flushUnissued.unshift(r);
  }

  private onIssue(b: EventBatch, i: number, d: number): void {
    const s = this.dev(d);
    const r = this.unissued(b, i, d, s);
    const sector = b.sector[i]!;
    this.rD.set(r, this.ts);
    this.rIssues.add(r, 1);
    this.rIssueOrder.set(r, this.issuesSeen++);
    this.rRwbs.set(r, b.rwbs[i]!);
    if (isFlush(b, i)) {
      s.flushInflight.push(r);
      this.rRemaining.set(r, 0);
      return;
    }
    this.resize(s, r, b, i);
    s.reqStart.deleteIf(sector, r);
    const end = this.rSector.get(r) + this.rNr.get(r);
    s.reqEnd.deleteIf(end, r);
    if (s.inflight.put(sector, r))
      this.note(
        'requests_inflight_collision',
        'a D at a sector where another request was still in flight; the older one stays without completion',
        b.firstRow + i,
        `sector ${sector}`,
      );
    this.capped(s.inflight, 'in-flight requests', b.firstRow + i);
    this.rRemaining.set(r, this.rNr.get(r) * 512);
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
      this.rCompletions.add(r, 1);
      this.rC.set(r, this.ts);
      this.rError.set(r, err === NULL_ERROR ? 0 : err);
      return;
    }
    const r = s.inflight.take(sector);
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
        this.rCompletions.add(prev, 1);
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
    this.rCompletions.add(r, 1);
    this.rError.set(r, err === NULL_ERROR ? 0 : err);
    const left = this.rRemaining.get(r) - nr * 512;
    if (nr === 0 || left <= 0) {
      this.rC.set(r, this.ts);
      this.rRemaining.set(r, 0);
      s.done.set(this.rSector.get(r), r);
      if (s.done.size > 4096) {
        const old = s.donePrev;
        s.donePrev = s.done;
        old.clear();
        s.done = old;
      }
    } else {
      this.rRemaining.set(r, left);
      s.inflight.set(sector + nr, r);
    }
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
        s.reqStart.set(this.rSector.get(r), r);
        s.reqEnd.set(this.rSector.get(r) + this.rNr.get(r), r);
      }
    }
    if (r === undefined) {
      this.note('requests_requeue_without_issue', 'an R whose request was not seen issued', b.firstRow + i, `sector ${sector}`);
      return;
    }
    this.rRequeues.add(r, 1);
  }

  tables(names: EventNames, base: bigint, events: Table): BlockRequestTables {
    return { requests: requestsTableOf(this, names, base, events), bios: biosTableOf(this, names, base, events) };
  }

  requestsTable(names: EventNames, base: bigint, events: Table): Table {
    return requestsTableOf(this, names, base, events);
  }
}
