/**
 * Worker-thread entry of the request sweep (request-sweep.ts WorkerSweep): batches of swept
 * columns in (the main thread makes them of its chunks, in the slots of a ring in shared memory;
 * a message names the slot), in order; at the end the counters and
 * row counts out, then each request table written to the descriptor the main thread staged. Every answer is posted on the port and then
 * signalled in the shared Int32Array (REPLIES), each swept chunk by IN_FLIGHT; a failure is
 * answered once, as its error, and marks FAILED (later chunks are dropped).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { IngestStats } from '../../util/ingest-stats.js';
import { toThreadError } from '../../util/thread-errors.js';
import { SweepSlots, type EventNames } from './block-event-batches.js';
import { StreamedRequestSweep, type RebuiltRequests } from './block-requests.js';
import { FAILED, IN_FLIGHT, REPLIES, requestTableCounts, writeRequestTable, type SweepReply } from './request-sweep.js';

type Message =
  | { type: 'batch'; slot: number; length: number; firstRow: number }
  | { type: 'finish'; names: EventNames; metadata: Record<string, string>; base: bigint }
  | { type: 'write'; name: 'block_requests.arrow' | 'block_bios.arrow'; fd: number }
  | { type: 'close' };

const { port, shared, slots, spillPath } = workerData as {
  port: MessagePort;
  shared: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  spillPath: string;
};
const flags = new Int32Array(shared);
/** The batches the main thread fills (request-sweep.ts WorkerSweep), in memory shared with it. */
const ring = SweepSlots.over(slots);
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
    case 'batch': {
      // pairs with the main thread's Atomics.add before it posted: the slot's contents are seen
      Atomics.load(flags, IN_FLIGHT);
      const b = ring.slots[m.slot]!;
      b.length = m.length;
      b.firstRow = m.firstRow;
      sweep.batch(b);
      Atomics.sub(flags, IN_FLIGHT, 1);
      Atomics.notify(flags, IN_FLIGHT);
      return;
    }
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
