/**
 * The parsing-heavy inputs of `analyze` (block traces, strace logs) loaded at the same time, each
 * in a worker thread, while the main thread reads the file-system metadata: on a machine with
 * several cores the traces of the host, of each guest and the strace logs are parsed in
 * parallel. Results are the same tables the in-process loaders give (they are the same code),
 * with the counters merged into the caller's IngestStats in the order the jobs were started.
 *
 * At most `availableParallelism() + 1` workers run at once by default (the main thread mostly
 * waits), and never more than 4 by default: each holds one chunk of its input and the pages of
 * rows not yet written (load-inputs.ts), and has a heap and an allocator arena of its own, so more
 * at once would raise peak memory more than it saves time; further jobs queue. A job with scratch
 * files leaves its table in a scratch file, read into memory only when the table is taken: the
 * tables of loads that finish together come in one at a time (at 100M block events per layer each
 * is over 2 GiB). When the compiled
 * worker script is not there (running from TypeScript sources, as the unit tests do), jobs run in
 * the main thread one after another.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tableFromIPC, tableToIPC, type Table } from '@uwdata/flechette';
import { IngestStats, type Counter } from '../util/ingest-stats.js';
import { fromThreadError, type ThreadError } from '../util/thread-errors.js';
import { releaseBuffers } from '../util/release-memory.js';
import {
  loadAppIo,
  loadAppIoScratch,
  loadBlockRequests,
  loadBlockRequestsScratch,
  type LoadScratch,
  type ScratchTable,
} from './load-inputs.js';

/** A load: a block trace → block_requests, or strace logs → app_io; with `scratch`, through scratch files (load-inputs.ts). */
export type LoadJob = (
  { kind: 'block_requests'; path: string; dev: string | undefined } | { kind: 'app_io'; paths: string[]; date: string | undefined }
) & { scratch?: LoadScratch };

/** Run one job in this thread. */
export function runLoadJob(job: LoadJob, stats: IngestStats): Promise<Table> {
  return job.kind === 'block_requests'
    ? loadBlockRequests(job.path, job.dev, stats, job.scratch)
    : loadAppIo(job.paths, job.date, stats, job.scratch);
}

/**
 * Run one job in this thread as a worker does: a job with `scratch` leaves its table in a scratch
 * file, read back when the main thread asks for it; one without hands back its table's bytes.
 */
export async function runLoadJobInWorker(job: LoadJob, stats: IngestStats): Promise<ScratchTable | Uint8Array> {
  if (job.scratch) {
    return job.kind === 'block_requests'
      ? loadBlockRequestsScratch(job.path, job.dev, stats, job.scratch)
      : loadAppIoScratch(job.paths, job.date, stats, job.scratch);
  }
  return tableToIPC(await runLoadJob(job, stats), { format: 'stream' })!;
}

/**
 * A worker's messages (load-worker.ts): the first has the counters and either the table's bytes,
 * or `ready` (the table waits in the worker's scratch file until this thread sends SEND_TABLE,
 * then comes as the second message), or the error.
 */
export interface WorkerReply {
  ok: boolean;
  ipc?: Uint8Array;
  ready?: boolean;
  counters?: Counter[];
  error?: ThreadError;
}

/** What this thread sends a worker whose table is `ready` when the table is taken. */
export const SEND_TABLE = 'send';

/** A job's outcome: its table (or the way to fetch it from its worker, or its error) and its own counters. */
interface Outcome {
  table: Table | null;
  fetch: (() => Promise<Table>) | null;
  stats: IngestStats;
  error: unknown;
}

/** A job's result, merged by `take`. */
interface Pending {
  done: Promise<Outcome>;
}

export class ParallelLoads {
  private readonly workerUrl: URL | null;
  private readonly limit: number;
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly workers = new Set<Worker>();
  private closed = false;

  /** At most `jobs` workers at once (default: cores + 1, at most 4); `jobs: 1` runs every job in the main thread. */
  constructor(opts: { jobs?: number } = {}) {
    const url = new URL('./load-worker.js', import.meta.url);
    this.limit = opts.jobs ?? Math.min(availableParallelism() + 1, 4);
    this.workerUrl = this.limit > 1 && url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
  }

  get usesWorkers(): boolean {
    return this.workerUrl !== null;
  }

  /** Start a job; its result is read with `take`. */
  start(job: LoadJob): Pending {
    if (!this.workerUrl) {
      // in-process: run lazily at `take`, one after another (no interleaving of two parsers)
      let p: Pending['done'] | null = null;
      const run = () =>
        (p ??= (async () => {
          const stats = new IngestStats();
          try {
            return { table: await runLoadJob(job, stats), fetch: null, stats, error: null };
          } catch (e) {
            return { table: null, fetch: null, stats, error: e };
          }
        })());
      return {
        get done() {
          return run();
        },
      };
    }
    return { done: this.slot().then((release) => this.inWorker(job).finally(release)) };
  }

  /**
   * The job's table; its counters go into `stats`; its error is thrown here. Taken once: the
   * pending job lets go of the table, so that it lives only as long as the caller keeps it. A
   * worker's table waits in its scratch file until taken: loads that finish together are read
   * into memory one at a time, as they are taken.
   */
  async take(p: Pending, stats: IngestStats): Promise<Table> {
    const r = await p.done;
    stats.merge(r.stats);
    if (r.error !== null) throw r.error;
    const { table, fetch } = r;
    r.table = null;
    r.fetch = null;
    if (table !== null) return table;
    if (fetch !== null) return fetch();
    throw new Error('input load: the table was already taken');
  }

  /** The IPC bytes each taken table's columns are views of (weakly: they go with the table). */
  private readonly bytesOf = new WeakMap<Table, ArrayBufferLike>();

  private remember(table: Table, bytes: Uint8Array): Table {
    this.bytesOf.set(table, bytes.buffer);
    return table;
  }

  /**
   * Hand back the memory of a taken table now (its IPC bytes), for a caller done with it and with
   * every view of its columns (analyze, once it has written the table and made its layer of
   * copies); without it the bytes wait for a full collection, beside the next table taken.
   */
  release(table: Table): void {
    const b = this.bytesOf.get(table);
    this.bytesOf.delete(table);
    releaseBuffers(b);
  }

  /** Stop the workers still running (the caller failed before taking their results). */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }

  private slot(): Promise<() => void> {
    const release = () => {
      this.running--;
      this.queue.shift()?.();
    };
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      this.queue.push(() => {
        this.running++;
        resolve(release);
      }),
    );
  }

  private inWorker(job: LoadJob): Pending['done'] {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve({ table: null, fetch: null, stats: new IngestStats(), error: new Error('input loads closed') });
        return;
      }
      const w = new Worker(this.workerUrl!, { workerData: job });
      this.workers.add(w);
      // the reply awaited (the first message, then for a `ready` table the second) and how it ends
      let waiting: ((m: WorkerReply | Error) => void) | null = null;
      let exited: Error | null = null;
      const fail = (e: Error) => {
        const k = waiting;
        waiting = null;
        k?.(e);
      };
      w.on('message', (m: WorkerReply) => {
        const k = waiting;
        waiting = null;
        k?.(m);
      });
      w.once('error', (e) => fail(e));
      w.once('exit', (code) => {
        this.workers.delete(w);
        exited = new Error(`input loader worker exited with code ${code} before answering (${describe(job)})`);
        fail(exited);
      });
      const fetch = () =>
        new Promise<Table>((ok, no) => {
          waiting = (m) => {
            if (m instanceof Error) no(m);
            else if (m.ok && m.ipc) ok(this.remember(tableFromIPC(m.ipc, { useBigInt: true }), m.ipc));
            else no(m.error ? fromThreadError(m.error) : new Error(`input loader worker sent no table (${describe(job)})`));
          };
          if (exited) waiting(exited);
          else w.postMessage(SEND_TABLE);
        });
      waiting = (m) => {
        if (m instanceof Error) {
          resolve({ table: null, fetch: null, stats: new IngestStats(), error: m });
          return;
        }
        const stats = IngestStats.fromCounters(m.counters ?? []);
        if (!m.ok) resolve({ table: null, fetch: null, stats, error: fromThreadError(m.error!) });
        else if (m.ready) resolve({ table: null, fetch, stats, error: null });
        else resolve({ table: this.remember(tableFromIPC(m.ipc!, { useBigInt: true }), m.ipc!), fetch: null, stats, error: null });
      };
    });
  }
}

function describe(job: LoadJob): string {
  return job.kind === 'block_requests' ? `block trace ${job.path}` : `strace ${job.paths.join(', ')}`;
}
