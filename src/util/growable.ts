/**
 * Append-only typed arrays that double their capacity: the building block of every columnar
 * intermediate result whose row count is not known in advance (no object per row).
 */
import { releaseArrays } from './release-memory.js';

export type GrowableTypedArray = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;
type Ctor<A> = { new (n: number): A };

export class GrowableArray<A extends GrowableTypedArray> {
  /** The storage; valid up to `length`, replaced when a push grows it. */
  data: A;
  length = 0;
  constructor(
    private readonly ctor: Ctor<A>,
    capacity = 1024,
  ) {
    this.data = new ctor(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = v;
  }
  /** Make room for `k` more values (so `data` can be written up to length + k). */
  reserve(k: number): void {
    while (this.length + k > this.data.length) this.grow();
  }
  private grow(): void {
    const next = new this.ctor(this.data.length * 2);
    next.set(this.data as never);
    this.data = next;
  }
  get(i: number): number {
    return this.data[i]!;
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
  /** A view of the values pushed so far (shares memory until the next push that grows). */
  view(): A {
    return this.data.subarray(0, this.length) as A;
  }
  /** A compact copy. */
  toArray(): A {
    return this.data.slice(0, this.length) as A;
  }
  /** The values so far, trimmed: the storage itself when it is full, else a compact copy. */
  finish(): A {
    return this.data.length === this.length ? this.data : (this.data.slice(0, this.length) as A);
  }
  /**
   * finish(), for an array that is done: the storage, when copied, is handed back at once
   * (releaseArrays) instead of at the next full collection. No view of it may still be in use.
   */
  take(): A {
    const out = this.finish();
    if (out !== this.data) releaseArrays(this.data);
    this.data = out;
    return out;
  }
}

export const growFloat64 = (capacity?: number) => new GrowableArray(Float64Array, capacity);
export const growInt32 = (capacity?: number) => new GrowableArray(Int32Array, capacity);
export const growUint8 = (capacity?: number) => new GrowableArray(Uint8Array, capacity);
