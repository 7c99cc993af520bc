/**
 * Zero-filled buffers whose pages a helper thread has already touched. Building a large table
 * writes every page of its memory once, and on virtual machines that first touch (a guest and a
 * host page fault) can cost as much as parsing the text that fills it; a reader that takes its
 * chunk buffers from this pool leaves those faults to the other core. At most `depth` buffers are
 * prepared ahead, so the pool holds little memory; `take` never waits (null = none ready yet).
 */
import { Worker } from 'node:worker_threads';

/** The helper thread: allocate, write one byte per page (zeros: the content stays zero), hand over. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (bytes) => {
  const b = new ArrayBuffer(bytes);
  const u = new Uint8Array(b);
  for (let i = 0; i < bytes; i += 4096) u[i] = 0;
  parentPort.postMessage(b, [b]);
});
`;

export class PrefaultPool {
  private readonly ready: ArrayBuffer[] = [];
  private inFlight = 0;
  private readonly worker: Worker;
  private closed = false;

  constructor(private readonly bytes: number, private readonly depth = 2) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (b: ArrayBuffer) => {
      this.inFlight--;
      if (!this.closed) this.ready.push(b);
    });
    // a pool that cannot run its thread just hands out nothing: the caller allocates
    this.worker.on('error', () => { this.closed = true; });
    this.refill();
  }

  /** A prepared buffer, or null when none is ready (the caller then makes its own). */
  take(): ArrayBuffer | null {
    const b = this.ready.shift() ?? null;
    this.refill();
    return b;
  }

  /** Stop the thread and drop the buffers not taken. */
  async close(): Promise<void> {
    this.closed = true;
    this.ready.length = 0;
    await this.worker.terminate();
  }

  private refill(): void {
    while (!this.closed && this.ready.length + this.inFlight < this.depth) {
      this.inFlight++;
      this.worker.postMessage(this.bytes);
    }
  }
}
