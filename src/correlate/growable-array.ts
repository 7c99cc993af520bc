/**
 * Append-only typed arrays that double their capacity: the building block for the columnar
 * intermediate results of the joins (no object per row).
 */

type NumericArray = Float64Array | Int32Array | Uint8Array;
type Ctor<A extends NumericArray> = { new (n: number): A };

export class GrowableArray<A extends NumericArray> {
  private data: A;
  length = 0;
  constructor(private readonly ctor: Ctor<A>, capacity = 1024) {
    this.data = new ctor(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new this.ctor(this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number { return this.data[i]!; }
  set(i: number, v: number): void { this.data[i] = v; }
  /** A view of the values pushed so far (shares memory until the next push that grows). */
  view(): A { return this.data.subarray(0, this.length) as A; }
  /** A compact copy. */
  toArray(): A { return this.data.slice(0, this.length) as A; }
}

export const growFloat64 = (capacity?: number) => new GrowableArray(Float64Array, capacity);
export const growInt32 = (capacity?: number) => new GrowableArray(Int32Array, capacity);
export const growUint8 = (capacity?: number) => new GrowableArray(Uint8Array, capacity);

/** Indices 0..n-1 ordered by key (then by index, so the order is stable). */
export function sortedOrder(key: Float64Array, n = key.length): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // sort a Float64 copy of (key, index) pairs via an index sort on the typed array
  order.sort((a, b) => (key[a]! - key[b]!) || (a - b));
  return order;
}
