/**
 * Memory handed back now rather than at V8's next full collection. A typed array's backing store
 * is freed only when its ArrayBuffer object is collected; the large arrays of a long phase live in
 * the old generation, where that waits for a full (mark-compact) collection, so a phase's dead
 * arrays pile up beside the next phase's new ones (at 100M events a layer: gigabytes). A buffer
 * transferred to a clone that is dropped at once is detached here and freed by the next minor
 * collection instead (structuredClone with `transfer`, HTML § 2.7.3 StructuredSerializeWithTransfer).
 */

/** Buffers smaller than this are left to the garbage collector (they may be slices of a shared pool). */
export const RELEASE_MIN_BYTES = 1 << 16;

/**
 * Detach the buffer of each array the caller is done with, so its memory goes at the next minor
 * collection. Every view of those buffers becomes empty: only for buffers nobody else reads. A
 * buffer that cannot be detached (shared, or smaller than RELEASE_MIN_BYTES) is left as it is.
 */
export function releaseBuffers(...buffers: (ArrayBufferLike | null | undefined)[]): void {
  for (const buf of buffers) {
    if (!(buf instanceof ArrayBuffer) || buf.byteLength < RELEASE_MIN_BYTES) continue;
    try {
      structuredClone(buf, { transfer: [buf] });
    } catch {
      // not transferable (e.g. an ArrayBuffer of WebAssembly memory): the collector takes it
    }
  }
}

/** releaseBuffers for the buffers of typed arrays (views; nulls skipped). */
export function releaseArrays(...arrays: (ArrayBufferView | null | undefined)[]): void {
  releaseBuffers(...arrays.map((a) => a?.buffer));
}
