/**
 * Parquet files written on several cores: a table that comes from an Arrow file is read and
 * encoded by a worker thread (parquet-worker.ts), which hands the encoded files back
 * (transferred, not copied: Parquet is a few times smaller than the table); a table in memory is
 * encoded in this thread. Every file is written here, staged in the export's OutputFolder
 * (io/output-folder.ts): under a temporary name until the whole set is written, then renamed into
 * place with the folder's manifest, so that an interrupted export leaves no file under a final name.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Table } from '@uwdata/flechette';
import { writeAll, type OutputFolder } from '../io/output-folder.js';
import { fromThreadError, type ThreadError } from '../util/thread-errors.js';
import { parquetFileWriter } from './parquet/parquet-file.js';
import { planTableFiles, type TableFilesPlan } from './table-files.js';

export interface ExportedFile {
  table: string;
  path: string;
  rows: number;
}

export interface ParquetJob {
  plan: TableFilesPlan;
  /** The table's Arrow file, when it has one: a worker thread reads it. */
  source?: string;
  /** The table (read when its turn comes, in this thread). */
  read: () => Table;
  /** How big the table is, in any unit: the biggest are started first. */
  weight?: number;
}

/** What a worker sends back for one job. */
export interface ParquetWorkerReply {
  ok: boolean;
  files?: { table: string; path: string; rows: number; blocks: Uint8Array[] }[];
  error?: ThreadError;
}

const WORKER_URL = new URL('./parquet-worker.js', import.meta.url);

/** The worker script, where there is one (the built package; not under a TypeScript test runner). */
function workerUrl(): URL | null {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL)) ? WORKER_URL : null;
}

/** Encode and stage one job's files in this thread. */
function runHere(job: ParquetJob, folder: OutputFolder): ExportedFile[] {
  return planTableFiles(job.read(), job.plan).map((f) => {
    folder.stage(folder.nameOf(f.path), parquetFileWriter(f.contents, f.path, f.options));
    return { table: f.table, path: f.path, rows: f.contents.numRows };
  });
}

/** One worker thread that takes jobs one at a time. */
class ParquetWorker {
  private readonly worker: Worker;
  constructor(url: URL) {
    this.worker = new Worker(url);
  }
  run(job: ParquetJob, folder: OutputFolder): Promise<ExportedFile[]> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        this.worker.off('message', onMessage);
        this.worker.off('error', onError);
        this.worker.off('exit', onExit);
      };
      const onError = (e: Error) => {
        settle();
        reject(e);
      };
      // a worker that ends without a reply (killed, out of memory) fails the job instead of leaving it pending
      const onExit = (code: number) => {
        settle();
        reject(new Error(`${job.source}: the Parquet worker thread ended (exit code ${code}) before it finished`));
      };
      const onMessage = (m: ParquetWorkerReply) => {
        settle();
        if (!m.ok) return reject(fromThreadError(m.error!));
        try {
          resolve(
            m.files!.map((f) => {
              folder.stage(folder.nameOf(f.path), (fd) => {
                for (const b of f.blocks) writeAll(fd, b);
              });
              return { table: f.table, path: f.path, rows: f.rows };
            }),
          );
        } catch (e) {
          reject(e);
        }
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', onError);
      this.worker.on('exit', onExit);
      this.worker.postMessage({ source: job.source, plan: job.plan });
    });
  }
  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Run the jobs, up to `threads` at once: jobs with an Arrow file on worker threads, the others in
 * this thread while the workers run; every file is staged in `folder` (the caller commits). The
 * files of each job, in the jobs' order; the first failure is thrown once every running job has ended.
 */
export async function runParquetJobs(jobs: readonly ParquetJob[], threads: number, folder: OutputFolder): Promise<ExportedFile[][]> {
  const results: ExportedFile[][] = new Array(jobs.length);
  const order = jobs.map((_, i) => i).sort((a, b) => (jobs[b]!.weight ?? 0) - (jobs[a]!.weight ?? 0));
  const url = threads > 1 ? workerUrl() : null;
  const remote = url ? order.filter((i) => jobs[i]!.source !== undefined) : [];
  const local = order.filter((i) => !remote.includes(i));
  let failure: unknown = null;
  const workers = remote.length ? Array.from({ length: Math.min(threads, remote.length) }, () => new ParquetWorker(url!)) : [];
  try {
    let next = 0;
    const drain = async (w: ParquetWorker) => {
      while (next < remote.length && failure === null) {
        const i = remote[next++]!;
        try {
          results[i] = await w.run(jobs[i]!, folder);
        } catch (e) {
          failure ??= e;
        }
      }
    };
    const running = workers.map(drain);
    for (const i of local) {
      if (failure !== null) break;
      // let the workers' replies in between the tables of this thread
      await new Promise((r) => setImmediate(r));
      try {
        results[i] = runHere(jobs[i]!, folder);
      } catch (e) {
        failure ??= e;
      }
    }
    await Promise.all(running);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  if (failure !== null) throw failure;
  return results;
}
