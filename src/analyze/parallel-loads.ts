/**
 * The parsing-heavy inputs of `analyze` (block traces, strace logs) loaded at the same time, each
 * in a worker thread, while the main thread reads the file-system metadata: on a machine with
 * several cores the traces of the host, of each guest and the strace logs are parsed in
 * parallel. Results are the same tables the in-process loaders give (they are the same code),
 * with the counters merged into the caller's IngestStats in the order the jobs were started.
 *
 * At most `availableParallelism() + 1` workers run at once by default (the main thread mostly
 * waits), and never more than 4 by default: each holds one chunk of its input and the pages of
 * rows not yet written (load-inputs.ts), then hands over its table as bytes, and has a heap and an
 * allocator arena of its own, so more at once would raise peak memory more than it saves time;
 * further jobs queue. At 10M block events per layer analyze's peak is 1.66 GiB with workers and
 * 1.62 GiB with --jobs 1 (bench/analyze-e2e.mjs). When the compiled
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
import { loadAppIo, loadAppIoBytes, loadBlockRequests, loadBlockRequestsBytes, type LoadScratch } from './load-inputs.js';

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

/** Run one job in this thread, its table as Arrow IPC bytes (what a worker hands back). */
export async function runLoadJobBytes(job: LoadJob, stats: IngestStats): Promise<Uint8Array> {
  if (job.scratch) {
    return job.kind === 'block_requests'
      ? loadBlockRequestsBytes(job.path, job.dev, stats, job.scratch)
      : loadAppIoBytes(job.paths, job.date, stats, job.scratch);
  }
  return tableToIPC(await runLoadJob(job, stats), { format: 'stream' })!;
}

interface WorkerReply {
  ok: boolean;
  ipc?: Uint8Array;
  counters: Counter[];
  error?: ThreadError;
}

/** A job's result: its table (or error) and its own counters, merged by `take`. */
interface Pending {
  done: Promise<{ table: Table | null; stats: IngestStats; error: unknown }>;
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
            return { table: await runLoadJob(job, stats), stats, error: null };
          } catch (e) {
            return { table: null, stats, error: e };
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
   * pending job lets go of the table, so that it lives only as long as the caller keeps it.
   */
  async take(p: Pending, stats: IngestStats): Promise<Table> {
    const r = await p.done;
    stats.merge(r.stats);
    if (r.error !== null) throw r.error;
    const table = r.table;
    if (table === null) throw new Error('input load: the table was already taken');
    r.table = null;
    return table;
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
        resolve({ table: null, stats: new IngestStats(), error: new Error('input loads closed') });
        return;
      }
      const w = new Worker(this.workerUrl!, { workerData: job });
      this.workers.add(w);
      let replied = false;
      w.once('message', (m: WorkerReply) => {
        replied = true;
        const stats = IngestStats.fromCounters(m.counters);
        if (m.ok) resolve({ table: tableFromIPC(m.ipc!, { useBigInt: true }), stats, error: null });
        else resolve({ table: null, stats, error: fromThreadError(m.error!) });
      });
      w.once('error', (e) => {
        if (!replied) {
          replied = true;
          resolve({ table: null, stats: new IngestStats(), error: e });
        }
      });
      w.once('exit', (code) => {
        this.workers.delete(w);
        if (!replied)
          resolve({
            table: null,
            stats: new IngestStats(),
            error: new Error(`input loader worker exited with code ${code} before answering (${describe(job)})`),
          });
      });
    });
  }
}

function describe(job: LoadJob): string {
  return job.kind === 'block_requests' ? `block trace ${job.path}` : `strace ${job.paths.join(', ')}`;
}
