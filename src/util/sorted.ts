/**
 * Orders and searches over sorted typed arrays: one stable order and one lower bound, used by every
 * join and lookup instead of a hand-written loop each.
 */
import { releaseArrays } from './release-memory.js';

/**
 * Indices 0..n-1 ordered by key, ties by index (a stable sort). Inputs of 512 keys and more use an
 * LSD radix sort on the IEEE 754 bit patterns (passes of 8 or 16 bits; passes whose digit is
 * constant are skipped), which is several times faster than a comparator sort of typed arrays in V8.
 */
export function sortedOrder(key: Float64Array, n = key.length): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n < 512) {
    order.sort((a, b) => key[a]! - key[b]! || a - b);
    return order;
  }
  // sortable unsigned words: flip the sign bit of non-negative numbers, every bit of negative ones
  const f = key.slice(0, n);
  const w = new Uint32Array(f.buffer, f.byteOffset, 2 * n);
  const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const lo = new Uint32Array(n),
    hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = w[2 * i + (LE ? 1 : 0)]!,
      l = w[2 * i + (LE ? 0 : 1)]!;
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
  }
  let src = order,
    dst = new Int32Array(n);
  // digits of 16 bits for large inputs, of 8 bits below 2^16 keys (a pass costs n + 2^bits)
  const bits = n >= 65536 ? 16 : 8;
  const digits = 1 << bits,
    mask = digits - 1,
    perWord = 32 / bits;
  const count = new Int32Array(digits);
  for (let pass = 0; pass < 2 * perWord; pass++) {
    const words = pass < perWord ? lo : hi,
      shift = (pass % perWord) * bits;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(words[i]! >>> shift) & mask]!++;
    if (count[(words[0]! >>> shift) & mask] === n) continue;
    let sum = 0;
    for (let d = 0; d < digits; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = src[i]!;
      dst[count[(words[k]! >>> shift) & mask]!++] = k;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  releaseArrays(f, lo, hi, dst);
  return src;
}

/**
 * The first index i in [lo, hi) with keys[i] >= value (hi when none): keys ascending over the range.
 */
export function lowerBound(keys: ArrayLike<number>, value: number, lo = 0, hi = keys.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index i in [lo, hi) with keys[i] > value (hi when none): keys ascending over the range. */
export function upperBound(keys: ArrayLike<number>, value: number, lo = 0, hi = keys.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
