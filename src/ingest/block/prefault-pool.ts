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
  /** Prepared buffers and requests in flight, per size (a size is prepared once it was asked for). */
  private readonly ready = new Map<number, ArrayBuffer[]>();
  private readonly inFlight = new Map<number, number>();
  private readonly worker: Worker;
  private closed = false;
  /** Callers of whenReady, per size. */
  private readonly waiters = new Map<number, ((ready: boolean) => void)[]>();

  /** `sizes` are prepared from the start; any other size from its first `take`. */
  constructor(
    sizes: readonly number[] = [],
    private readonly depth = 1,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 } });
    this.worker.unref();
    this.worker.on('message', (b: ArrayBuffer) => {
      this.inFlight.set(b.byteLength, this.inFlight.get(b.byteLength)! - 1);
      if (!this.closed) this.ready.get(b.byteLength)!.push(b);
      this.wake(b.byteLength, !this.closed);
    });
    // a pool that cannot run its thread just hands out nothing: the caller allocates
    this.worker.on('error', () => {
      this.closed = true;
      for (const n of [...this.waiters.keys()]) this.wake(n, false);
    });
    for (const n of sizes) this.refill(n);
  }

  /** A prepared zero-filled buffer of `bytes`, or null when none is ready (the caller makes its own). */
  take(bytes: number): ArrayBuffer | null {
    const b = this.ready.get(bytes)?.shift() ?? null;
    this.refill(bytes);
    return b;
  }

  /**
   * Resolves true once a buffer of `bytes` is ready to take (asking the thread for one if needed),
   * false when the pool is closed or its thread failed. For callers that want the pool's memory and
   * can wait (tests); readers use `take`, which never waits.
   */
  whenReady(bytes: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if ((this.ready.get(bytes)?.length ?? 0) > 0) return Promise.resolve(true);
    this.refill(bytes);
    return new Promise((resolve) => {
      const list = this.waiters.get(bytes) ?? [];
      list.push(resolve);
      this.waiters.set(bytes, list);
    });
  }

  private wake(bytes: number, ready: boolean): void {
    const list = this.waiters.get(bytes);
    if (!list) return;
    this.waiters.delete(bytes);
    for (const w of list) w(ready);
  }

  /** Stop the thread and drop the buffers not taken. */
  async close(): Promise<void> {
    this.closed = true;
    this.ready.clear();
    for (const n of [...this.waiters.keys()]) this.wake(n, false);
    await this.worker.terminate();
  }

  private refill(bytes: number): void {
    let list = this.ready.get(bytes);
    if (list === undefined) {
      list = [];
      this.ready.set(bytes, list);
      this.inFlight.set(bytes, 0);
    }
    while (!this.closed && list.length + this.inFlight.get(bytes)! < this.depth) {
      this.inFlight.set(bytes, this.inFlight.get(bytes)! + 1);
      this.worker.postMessage(bytes);
    }
  }
}
