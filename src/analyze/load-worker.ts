/**
 * Worker-thread entry of the parallel input loads (parallel-loads.ts): one job per worker, a
 * block trace → block_requests or strace logs → app_io. The table goes back as Arrow IPC bytes
 * (transferred, not copied), the counters as plain objects, a failure as its name, message
 * and place.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IngestStats } from '../util/ingest-stats.js';
import { toThreadError } from '../util/thread-errors.js';
import { runLoadJobBytes, type LoadJob } from './parallel-loads.js';

async function main(): Promise<void> {
  const job = workerData as LoadJob;
  const stats = new IngestStats();
  try {
    const ipc = await runLoadJobBytes(job, stats);
    parentPort!.postMessage({ ok: true, ipc, counters: stats.list() }, [ipc.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ ok: false, counters: stats.list(), error: toThreadError(e) });
  }
}
void main();
