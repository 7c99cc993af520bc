/**
 * Calls in flight: strace -f prints a call that another task's line interrupts as
 * `NAME(ARGS <unfinished ...>` and later `<... NAME resumed>REST) = RET` (strace(1), "Output
 * format"). A task has at most one call in flight; the two parts are joined into one call.
 */
import { decodeBytes } from './strace-bytes.js';
import { TimeFormat } from './strace-line.js';
import { SYSCALL_NAMES } from './strace-syscalls.js';

/** A call whose `<unfinished ...>` line was seen, waiting for its `<... resumed>` line. */
export class PendingCall {
  /** Sys id of a handled call; 0 for others (their head is not kept). */
  sys = 0;
  /** Its index in SYSCALL_NAMES; -1 for others (matched by nameHash). */
  nameIdx = -1;
  nameHash = 0;
  timeFormat: TimeFormat = TimeFormat.None;
  tsSec = 0;
  tsFrac = 0;
  /** Source index and line number of the unfinished line. */
  file = 0;
  line = 0;
  /** The arguments printed so far: bytes[0, headLen); the joined call follows them when resumed. */
  bytes = new Uint8Array(0);
  headLen = 0;

  get name(): string {
    return this.nameIdx >= 0 ? SYSCALL_NAMES[this.nameIdx]! : '';
  }
  /** The arguments printed so far, as text (for messages). */
  get head(): string {
    return decodeBytes(this.bytes, 0, this.headLen);
  }

  setHead(b: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (this.bytes.length < n) this.bytes = new Uint8Array(Math.max(256, n * 2));
    copyBytes(b, s, e, this.bytes, 0);
    this.headLen = n;
  }

  /** Append b[s, e) after the head (the joined call); returns its length. */
  join(b: Uint8Array, s: number, e: number): number {
    const n = this.headLen + e - s;
    if (this.bytes.length < n) {
      const g = new Uint8Array(n * 2);
      g.set(this.bytes.subarray(0, this.headLen));
      this.bytes = g;
    }
    copyBytes(b, s, e, this.bytes, this.headLen);
    return n;
  }
}

/**
 * Copy b[s, e) to `to` at `at`: a loop for a few bytes, the native copy (worth its view object)
 * for longer ranges such as a write's data string.
 */
function copyBytes(b: Uint8Array, s: number, e: number, to: Uint8Array, at: number): void {
  if (e - s > 24) {
    to.set(b.subarray(s, e), at);
    return;
  }
  for (let j = s; j < e; j++, at++) to[at] = b[j]!;
}

/**
 * The calls in flight by task: a Map (its insertion order is the order calls are flushed at the
 * end), a count per tid slot (tid & 63) so that most lines need no Map lookup, and the objects of
 * finished calls for reuse.
 */
export class PendingCalls {
  private readonly map = new Map<number, PendingCall>();
  private readonly slots = new Int32Array(64);
  private readonly pool: PendingCall[] = [];
  get size(): number {
    return this.map.size;
  }
  has(tid: number): boolean {
    return this.slots[tid & 63] !== 0 && this.map.has(tid);
  }
  get(tid: number): PendingCall | undefined {
    return this.slots[tid & 63] !== 0 ? this.map.get(tid) : undefined;
  }
  set(tid: number, p: PendingCall): void {
    if (!this.map.has(tid)) this.slots[tid & 63]!++;
    this.map.set(tid, p);
  }
  delete(tid: number): void {
    if (this.map.delete(tid)) this.slots[tid & 63]!--;
  }
  keys(): IterableIterator<number> {
    return this.map.keys();
  }
  [Symbol.iterator](): IterableIterator<[number, PendingCall]> {
    return this.map[Symbol.iterator]();
  }

  /** An object for a new call in flight (a reused one when there is one). */
  make(): PendingCall {
    return this.pool.pop() ?? new PendingCall();
  }
  /** Back to the pool once its call is done; a head buffer grown by a long call (strace -s) is not kept. */
  recycle(p: PendingCall): void {
    if (p.bytes.length > 1 << 16) p.bytes = new Uint8Array(0);
    this.pool.push(p);
  }
}
