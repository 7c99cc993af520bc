/**
 * The request sweep of `iolineage ingest`, in this thread or in a worker thread beside the parser.
 *
 * The sweep (StreamedRequestSweep) takes each full chunk of events as the parser fills it. For a
 * worker, this thread makes the chunk's swept columns a batch in the next slot of a ring of
 * batches in shared memory (SweepSlots; the parser reuses the chunk's buffers at once) and posts
 * the slot's number, so parsing and the sweep each take a core; at the end the worker writes
 * block_requests.arrow and block_bios.arrow into files this thread staged (descriptors are
 * per process). Both sweep the same batches in the same order, so they write the same bytes.
 *
 * The worker answers through a shared Int32Array (counters, Atomics.notify) and a MessagePort
 * read with receiveMessageOnPort, so this thread never needs the worker's messages dispatched.
 * While the parser runs it blocks (Atomics.wait) only when MAX_IN_FLIGHT chunks are unswept, so
 * memory stays bounded; the answers at the end are awaited by polling the counters, so its event
 * loop keeps running (a signal is handled at once). A worker that stops answering for STALL_MS is
 * an error, not a hang.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { IngestStats, type Counter } from '../../util/ingest-stats.js';
import { fromThreadError, type ThreadError } from '../../util/thread-errors.js';
import type { SweptColumns } from './block-event-chunk.js';
import { ChunkBatches, SweepSlots, type EventNames } from './block-event-batches.js';
import { StreamedRequestSweep, type RebuiltRequests } from './block-requests.js';
import { biosFileWriter, requestsFileWriter } from './block-request-tables.js';
import { PAGE_ROWS } from './paged-columns.js';
import { BLOCK_OPS } from '../../table/schemas/block-events.js';

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
  const counts = requestTableCounts(r);
  const requestsFile = folder.stage('block_requests.arrow', (fd) => writeRequestTable(r, 'block_requests.arrow', fd));
  const biosFile = folder.stage('block_bios.arrow', (fd) => writeRequestTable(r, 'block_bios.arrow', fd));
  return { requestsFile, biosFile, ...counts };
}

/** Rows of block_requests and block_bios, and requests and bytes by op (BLOCK_OPS order). */
export function requestTableCounts(r: RebuiltRequests): {
  requests: number;
  bios: number;
  byOp: { count: Float64Array; bytes: Float64Array };
} {
  const R = r.rec;
  const count = new Float64Array(BLOCK_OPS.length);
  const bytes = new Float64Array(BLOCK_OPS.length);
  const ops = new Int32Array(PAGE_ROWS);
  const sizes = new Float64Array(PAGE_ROWS);
  for (let from = 0; from < R.nReq; from += PAGE_ROWS) {
    const len = Math.min(PAGE_ROWS, R.nReq - from);
    R.rOp.copyTo(ops, from, len);
    R.rBytes.copyTo(sizes, from, len);
    for (let i = 0; i < len; i++) {
      const o = ops[i]!;
      count[o]!++;
      bytes[o]! += sizes[i]!;
    }
  }
  return { requests: R.nReq, bios: R.nBio, byOp: { count, bytes } };
}

/** Write one of the two tables of the reconstruction to `fd`, a record batch at a time. */
export function writeRequestTable(r: RebuiltRequests, name: 'block_requests.arrow' | 'block_bios.arrow', fd: number): void {
  if (name === 'block_requests.arrow') requestsFileWriter(r.rec, r.names, r.base, r.requestsMetadata)(fd);
  else biosFileWriter(r.rec, r.names, r.base, r.biosMetadata)(fd);
}

/** What the sweep wrote: the staged files, their rows, and requests and bytes by op (BLOCK_OPS order). */
export interface StagedRequestTables {
  requestsFile: string;
  biosFile: string;
  requests: number;
  bios: number;
  byOp: { count: Float64Array; bytes: Float64Array };
}

/** Where the request tables go: staged at once, or opened for a writer in another thread (OutputFolder). */
export interface RequestTableFolder extends TableStage {
  stageOpen(name: string): { fd: number; finish(): string; discard(): void };
}

export interface RequestSweep {
  /** Sweep rows [0, n) of a chunk whose first row is row `firstRow` of block_events. */
  chunk(c: SweptColumns, n: number, firstRow: number): void;
  /**
   * After the last chunk: the sweep's counters go into `stats`, `meanwhile` runs (the caller's
   * own writing: in a worker's case while the worker writes), and block_requests.arrow and
   * block_bios.arrow are staged in `folder`, in that order.
   */
  finishAndStage(
    names: EventNames,
    metadata: Record<string, string>,
    folder: RequestTableFolder,
    stats: IngestStats,
    meanwhile: () => void,
  ): Promise<StagedRequestTables>;
  /** Release the scratch files (and the worker). */
  close(): void;
}

/** Chunks handed to the worker and not yet swept before the parser waits: the slots of the shared ring (each ~8 MB). */
const MAX_IN_FLIGHT = 3;
/** How often the end of the sweep looks for the worker's answers (this thread's event loop runs meanwhile). */
const POLL_MS = 2;
/** How long closing waits for the worker to close its files. */
const CLOSE_WAIT_MS = 5000;
/** How long the worker may go without answering before the sweep fails. */
const STALL_MS = 120_000;
/** Slots of the shared Int32Array. */
export const IN_FLIGHT = 0,
  REPLIES = 1,
  FAILED = 2;

/** The tables a sweep writes, in order. */
export const REQUEST_TABLES = ['block_requests.arrow', 'block_bios.arrow'] as const;

/** The sweep in this thread. */
class InThreadSweep implements RequestSweep {
  private readonly own = new IngestStats();
  private readonly sweep: StreamedRequestSweep;
  private rebuilt: RebuiltRequests | null = null;
  constructor(spillPath: string) {
    this.sweep = new StreamedRequestSweep(this.own, spillPath);
  }
  chunk(c: SweptColumns, n: number, firstRow: number): void {
    this.sweep.chunk(c, n, firstRow);
  }
  finishAndStage(
    names: EventNames,
    metadata: Record<string, string>,
    folder: RequestTableFolder,
    stats: IngestStats,
    meanwhile: () => void,
  ): Promise<StagedRequestTables> {
    const r = (this.rebuilt = this.sweep.finish(names, metadata));
    stats.merge(this.own);
    meanwhile();
    return Promise.resolve(stageBlockRequestTables(r, folder));
  }
  close(): void {
    this.rebuilt?.rec.close();
  }
}

/** An answer of the worker (sweep-thread-worker.ts). */
export interface SweepReply {
  ok: boolean;
  error?: ThreadError;
  counters?: Counter[];
  counts?: Omit<StagedRequestTables, 'requestsFile' | 'biosFile'>;
}

/** The sweep in a worker thread. */
class WorkerSweep implements RequestSweep {
  private readonly flags = new Int32Array(new SharedArrayBuffer(16));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  /** Makes each chunk a batch for the worker (the first event's time is kept here). */
  private readonly batches = new ChunkBatches();
  /** The batches the worker sweeps, in memory it shares: chunk i goes to slot i % MAX_IN_FLIGHT. */
  private readonly ring = SweepSlots.make(MAX_IN_FLIGHT);
  private sent = 0;
  private replies = 0;
  private closed = false;
  constructor(url: URL, spillPath: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(url, {
      workerData: { port: port2, shared: this.flags.buffer, slots: this.ring.memory, spillPath },
      transferList: [port2],
    });
    // the worker never keeps the process alive on its own
    this.worker.unref();
  }

  chunk(c: SweptColumns, n: number, firstRow: number): void {
    this.throwIfFailed();
    // the chunk is made a batch here, in the next slot of the shared ring (the conversion is this
    // thread's share of the work, which otherwise waits for the sweep): fewer than MAX_IN_FLIGHT
    // chunks are unswept after the wait below, so that slot's last batch has been swept. No batch
    // is allocated or transferred per chunk (a transferred buffer is freed in the worker, and
    // this thread then pays the page faults of new memory for every chunk).
    const k = this.sent++ % MAX_IN_FLIGHT;
    this.batches.into(this.ring.slots[k]!, c, n, firstRow);
    // the worker's Atomics.load of IN_FLIGHT on receipt orders the slot's contents before its sweep
    Atomics.add(this.flags, IN_FLIGHT, 1);
    this.port.postMessage({ type: 'batch', slot: k, length: n, firstRow });
    this.waitUntil(
      () => Atomics.load(this.flags, IN_FLIGHT) < MAX_IN_FLIGHT || Atomics.load(this.flags, FAILED) === 1,
      IN_FLIGHT,
      'a chunk',
    );
    this.throwIfFailed();
  }

  async finishAndStage(
    names: EventNames,
    metadata: Record<string, string>,
    folder: RequestTableFolder,
    stats: IngestStats,
    meanwhile: () => void,
  ): Promise<StagedRequestTables> {
    const done = await this.call({ type: 'finish', names, metadata, base: this.batches.base ?? 0n }, 1, 'the end of the sweep');
    stats.merge(IngestStats.fromCounters(done[0]!.counters ?? []));
    // the worker writes both tables while this thread runs `meanwhile`
    const files = REQUEST_TABLES.map((name) => folder.stageOpen(name));
    try {
      await this.call(
        REQUEST_TABLES.map((name, k) => ({ type: 'write', name, fd: files[k]!.fd })),
        files.length,
        'the request tables',
        meanwhile,
      );
    } catch (e) {
      for (const f of files) f.discard();
      throw e;
    }
    const [requestsFile, biosFile] = files.map((f) => f.finish());
    return { requestsFile: requestsFile!, biosFile: biosFile!, ...done[0]!.counts! };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // the worker closes its scratch files (a failed worker answers nothing more)
      if (Atomics.load(this.flags, FAILED) === 0) {
        const seen = Atomics.load(this.flags, REPLIES);
        this.port.postMessage({ type: 'close' });
        Atomics.wait(this.flags, REPLIES, seen, CLOSE_WAIT_MS);
      }
    } finally {
      this.port.close();
      void this.worker.terminate();
    }
  }

  /**
   * Send requests, run `meanwhile`, and wait for their `answers` without blocking this thread (its
   * event loop keeps running: a signal is handled at once); a failure is thrown as the worker's error.
   */
  private async call(messages: object | object[], answers: number, what: string, meanwhile?: () => void): Promise<SweepReply[]> {
    this.throwIfFailed();
    const seen = this.replies;
    for (const m of Array.isArray(messages) ? messages : [messages]) this.port.postMessage(m);
    meanwhile?.();
    let progress = Atomics.load(this.flags, REPLIES);
    let last = Date.now();
    while (Atomics.load(this.flags, REPLIES) < seen + answers && Atomics.load(this.flags, FAILED) === 0) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const now = Atomics.load(this.flags, REPLIES);
      if (now !== progress) {
        progress = now;
        last = Date.now();
      } else if (Date.now() - last > STALL_MS) throw new Error(`request sweep thread: no answer for ${what} in ${STALL_MS / 1000} s`);
    }
    this.throwIfFailed();
    const out: SweepReply[] = [];
    for (let k = 0; k < answers; k++) {
      const r = this.takeReply();
      if (!r.ok) throw fromThreadError(r.error!);
      out.push(r);
    }
    return out;
  }

  private takeReply(): SweepReply {
    const m = receiveMessageOnPort(this.port);
    if (!m) throw new Error('request sweep thread: an answer was signalled but none came');
    this.replies++;
    return m.message as SweepReply;
  }

  private throwIfFailed(): void {
    if (Atomics.load(this.flags, FAILED) === 0) return;
    // the failure's answer is the next one not yet read
    while (Atomics.load(this.flags, REPLIES) > this.replies) {
      const r = this.takeReply();
      if (!r.ok) throw fromThreadError(r.error!);
    }
    throw new Error('request sweep thread failed without saying why');
  }

  private waitUntil(done: () => boolean, slot: number, what: string): void {
    let last = Date.now();
    let progress = Atomics.load(this.flags, IN_FLIGHT) + Atomics.load(this.flags, REPLIES);
    while (!done()) {
      Atomics.wait(this.flags, slot, Atomics.load(this.flags, slot), 1000);
      const now = Atomics.load(this.flags, IN_FLIGHT) + Atomics.load(this.flags, REPLIES);
      if (now !== progress) {
        progress = now;
        last = Date.now();
      } else if (Date.now() - last > STALL_MS) {
        throw new Error(`request sweep thread: no answer for ${what} in ${STALL_MS / 1000} s`);
      }
    }
  }
}

/** Inputs below this many bytes are swept in this thread (a worker costs about 30 ms to start). */
export const THREAD_MIN_BYTES = 32 * 2 ** 20;

/**
 * The sweep for an ingest of `inputBytes` bytes: in a worker thread for large inputs when the
 * compiled worker is there (not when running from TypeScript sources), else in this thread.
 * IOLINEAGE_SWEEP_THREAD=always|never overrides the choice (tests compare the two).
 */
export function requestSweepFor(inputBytes: number, spillPath: string): RequestSweep {
  const url = new URL('./sweep-thread-worker.js', import.meta.url);
  const choice = process.env.IOLINEAGE_SWEEP_THREAD;
  const wanted = choice === 'always' || (choice !== 'never' && inputBytes >= THREAD_MIN_BYTES);
  if (wanted && url.protocol === 'file:' && existsSync(fileURLToPath(url))) return new WorkerSweep(url, spillPath);
  return new InThreadSweep(spillPath);
}
