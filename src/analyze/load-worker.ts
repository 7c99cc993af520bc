/**
 * Worker-thread entry of the parallel input loads (parallel-loads.ts): one job per worker, a
 * block trace → block_requests or strace logs → app_io. The table goes back as Arrow IPC stream
 * bytes (transferred, not copied), the counters as plain objects, a failure as its name, message
 * and place.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { tableToIPC } from '@uwdata/flechette';
import { IngestStats } from '../util/ingest-stats.js';
import { toThreadError } from '../util/thread-errors.js';
import { runLoadJob, type LoadJob } from './parallel-loads.js';

async function main(): Promise<void> {
  const job = workerData as LoadJob;
  const stats = new IngestStats();
  try {
    const table = await runLoadJob(job, stats);
    const ipc = tableToIPC(table, { format: 'stream' })!;
    parentPort!.postMessage({ ok: true, ipc, counters: stats.list() }, [ipc.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ ok: false, counters: stats.list(), error: toThreadError(e) });
  }
}
void main();
