/** Growable typed arrays for builders that do not know their final row count. */
type Ctor<A> = { new (n: number): A };

export class Growable<A extends Float64Array | Uint32Array | Uint8Array | Uint16Array> {
  data: A;
  length = 0;
  constructor(private readonly ctor: Ctor<A>, capacity = 1024) { this.data = new ctor(capacity); }
  push(v: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = v;
  }
  private grow(): void {
    const next = new this.ctor(this.data.length * 2);
    next.set(this.data as never);
    this.data = next;
  }
  /** The values so far, trimmed (a copy when the capacity is larger than needed). */
  finish(): A { return this.data.length === this.length ? this.data : (this.data.slice(0, this.length) as A); }
}
