/**
 * Worker-thread entry of the request sweep (request-sweep.ts WorkerSweep): batches of swept
 * columns in (the main thread makes them of its chunks), in order; at the end the counters and
 * row counts out, then each request table written to the descriptor the main thread staged. Every answer is posted on the port and then
 * signalled in the shared Int32Array (REPLIES), each swept chunk by IN_FLIGHT; a failure is
 * answered once, as its error, and marks FAILED (later chunks are dropped).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { IngestStats } from '../../util/ingest-stats.js';
import { toThreadError } from '../../util/thread-errors.js';
import type { EventBatch, EventNames } from './block-event-batches.js';
import { StreamedRequestSweep, type RebuiltRequests } from './block-requests.js';
import { FAILED, IN_FLIGHT, REPLIES, requestTableCounts, writeRequestTable, type SweepReply } from './request-sweep.js';

type Message =
  | { type: 'batch'; batch: EventBatch }
  | { type: 'finish'; names: EventNames; metadata: Record<string, string>; base: bigint }
  | { type: 'write'; name: 'block_requests.arrow' | 'block_bios.arrow'; fd: number }
  | { type: 'close' };

const { port, shared, spillPath } = workerData as { port: MessagePort; shared: SharedArrayBuffer; spillPath: string };
const flags = new Int32Array(shared);
const stats = new IngestStats();
const sweep = new StreamedRequestSweep(stats, spillPath);
let rebuilt: RebuiltRequests | null = null;
let failed = false;

function reply(r: SweepReply): void {
  port.postMessage(r);
  Atomics.add(flags, REPLIES, 1);
  Atomics.notify(flags, REPLIES);
}

function handle(m: Message): void {
  switch (m.type) {
    case 'batch':
      sweep.batch(m.batch);
      Atomics.sub(flags, IN_FLIGHT, 1);
      Atomics.notify(flags, IN_FLIGHT);
      return;
    case 'finish':
      rebuilt = sweep.finish(m.names, m.metadata, m.base);
      reply({ ok: true, counters: stats.list(), counts: requestTableCounts(rebuilt) });
      return;
    case 'write':
      writeRequestTable(rebuilt!, m.name, m.fd);
      reply({ ok: true });
      return;
    case 'close':
      rebuilt?.rec.close();
      reply({ ok: true });
      port.close();
      return;
  }
}

port.on('message', (m: Message) => {
  if (failed) return;
  try {
    handle(m);
  } catch (e) {
    failed = true;
    Atomics.store(flags, FAILED, 1);
    reply({ ok: false, error: toThreadError(e), counters: stats.list() });
    Atomics.notify(flags, IN_FLIGHT);
  }
});
