/**
 * Worker-thread entry of the parallel input loads (parallel-loads.ts): one job per worker, a
 * block trace → block_requests or strace logs → app_io. The counters go back as plain objects, a
 * failure as its name, message and place; the table as Arrow IPC bytes (transferred, not copied),
 * at once, or, from a scratch file, when the main thread takes it (parallel-loads.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IngestStats } from '../util/ingest-stats.js';
import { toThreadError } from '../util/thread-errors.js';
import { runLoadJobInWorker, SEND_TABLE, type LoadJob, type WorkerReply } from './parallel-loads.js';

function reply(m: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

async function main(): Promise<void> {
  const job = workerData as LoadJob;
  const stats = new IngestStats();
  let result;
  try {
    result = await runLoadJobInWorker(job, stats);
  } catch (e) {
    reply({ ok: false, counters: stats.list(), error: toThreadError(e) });
    return;
  }
  if (result instanceof Uint8Array) {
    reply({ ok: true, ipc: result, counters: stats.list() }, [result.buffer as ArrayBuffer]);
    return;
  }
  // the table waits in its scratch file until the main thread takes it (parallel-loads.ts)
  const table = result;
  parentPort!.once('message', (m: unknown) => {
    if (m !== SEND_TABLE) {
      table.close();
      reply({ ok: false, error: toThreadError(new Error(`input loader worker: expected ${SEND_TABLE}, got ${String(m)}`)) });
      return;
    }
    try {
      const ipc = table.read();
      reply({ ok: true, ipc }, [ipc.buffer as ArrayBuffer]);
    } catch (e) {
      reply({ ok: false, error: toThreadError(e) });
    }
    parentPort!.close();
  });
  reply({ ok: true, ready: true, counters: stats.list() });
}
void main();
