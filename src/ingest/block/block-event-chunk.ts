/**
 * One chunk of block_events rows as typed arrays (CHUNK_ROWS rows per column), the unit that
 * BlockEventsBuilder fills row by row and hands to the table's column builders whole.
 */
import { CHUNK_ROWS, registerZeros } from '../../table/column-builders.js';

/** Typed arrays use the platform byte order; int64 halves are written as two 32-bit words on little-endian machines. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const VALID_BYTES = CHUNK_ROWS >> 3;

/**
 * One chunk of every column, filled in lock-step (one bounds check per row, not per value). The
 * columns most rows leave null (error, new_sector, old_dev, count, ioprio) get their value array
 * on the first non-null value: a chunk without one hands a shared zero array to the table, so
 * memory that would only hold zeros is never touched (first-touch page faults cost as much as
 * parsing on some machines).
 */
export class EventChunk {
  readonly ts: BigInt64Array;
  readonly tsW: Uint32Array;
  readonly sector: BigInt64Array;
  readonly sectorW: Uint32Array;
  readonly pid: Int32Array;
  readonly comm: Int32Array;
  readonly nr: Uint32Array;
  readonly bytes: Uint32Array;
  readonly cpu: Int16Array;
  readonly dev: Int16Array;
  readonly action: Int8Array;
  readonly rwbs: Int8Array;
  readonly op: Int8Array;
  readonly flags: Uint8Array;
  /**
   * The columns every row sets are views of one buffer (EVENT_CHUNK_BYTES); it and the arrays
   * made later come from `memory` (zero-filled buffers of the asked size, null = make one here).
   */
  constructor(
    private readonly memory: ChunkMemory | null = null,
    flags: Uint8Array | null = null,
  ) {
    const mem = chunkBuffer(memory, EVENT_CHUNK_BYTES);
    const R = CHUNK_ROWS;
    // flags are scratch (spread into the flag columns when the chunk is handed over): the previous
    // chunk's array is reused, every row overwrites its slot
    this.flags = flags ?? new Uint8Array(R);
    let o = 0;
    this.ts = new BigInt64Array(mem, o, R);
    this.tsW = new Uint32Array(mem, o, 2 * R);
    o += 8 * R;
    this.sector = new BigInt64Array(mem, o, R);
    this.sectorW = new Uint32Array(mem, o, 2 * R);
    o += 8 * R;
    this.pid = new Int32Array(mem, o, R);
    o += 4 * R;
    this.comm = new Int32Array(mem, o, R);
    o += 4 * R;
    this.nr = new Uint32Array(mem, o, R);
    o += 4 * R;
    this.bytes = new Uint32Array(mem, o, R);
    o += 4 * R;
    this.cpu = new Int16Array(mem, o, R);
    o += 2 * R;
    this.dev = new Int16Array(mem, o, R);
    o += 2 * R;
    this.action = new Int8Array(mem, o, R);
    o += R;
    this.rwbs = new Int8Array(mem, o, R);
    o += R;
    this.op = new Int8Array(mem, o, R);
  }
  error: Int16Array | null = null;
  newSector: BigInt64Array | null = null;
  newSectorW: Uint32Array | null = null;
  oldDev: Int16Array | null = null;
  count: Int32Array | null = null;
  ioprio: Int8Array | null = null;
  errorArray(): Int16Array {
    return (this.error ??= new Int16Array(chunkBuffer(this.memory, 2 * CHUNK_ROWS)));
  }
  newSectorArray(): BigInt64Array {
    if (this.newSector === null) {
      const b = chunkBuffer(this.memory, 8 * CHUNK_ROWS);
      this.newSector = new BigInt64Array(b);
      this.newSectorW = new Uint32Array(b);
    }
    return this.newSector;
  }
  newSectorWords(): Uint32Array {
    this.newSectorArray();
    return this.newSectorW!;
  }
  oldDevArray(): Int16Array {
    return (this.oldDev ??= new Int16Array(chunkBuffer(this.memory, 2 * CHUNK_ROWS)));
  }
  countArray(): Int32Array {
    return (this.count ??= new Int32Array(chunkBuffer(this.memory, 4 * CHUNK_ROWS)));
  }
  ioprioArray(): Int8Array {
    return (this.ioprio ??= new Int8Array(chunkBuffer(this.memory, CHUNK_ROWS)));
  }
  /** A flag column's array (bytes of 0/1). */
  flagArray(): Uint8Array {
    const a = new Uint8Array(chunkBuffer(this.memory, CHUNK_ROWS));
    this.flagBuffers.push(a.buffer);
    return a;
  }
  private readonly flagBuffers: ArrayBuffer[] = [];
  /**
   * The buffers this chunk took from its memory (or made): the one behind the always-set
   * columns, the mostly-null columns' arrays it made, and the flag arrays; never a shared array
   * of zeros. For a builder that reuses them once the table no longer holds the chunk.
   */
  buffers(): ArrayBuffer[] {
    const out = [this.ts.buffer as ArrayBuffer, ...this.flagBuffers];
    for (const a of [this.error, this.newSector, this.oldDev, this.count, this.ioprio]) if (a !== null) out.push(a.buffer as ArrayBuffer);
    return out;
  }
  /**
   * Validity bitmaps of the nullable columns (bit set = valid): comm, dev and sector start all
   * valid and a null clears its bit (`nulls` counts them); the mostly-null columns start all
   * null and a value sets its bit (`nulls` counts the values until the chunk is handed over).
   */
  readonly valid = [0, 1, 2, 3, 4, 5, 6, 7].map((col) =>
    col < V_SPARSE ? new Uint8Array(VALID_BYTES).fill(0xff) : new Uint8Array(VALID_BYTES),
  );
  readonly nulls = new Int32Array(8);
}
/** A source of zero-filled buffers of a given size; null when it has none ready. */
export type ChunkMemory = (bytes: number) => ArrayBuffer | null;

function chunkBuffer(memory: ChunkMemory | null, bytes: number): ArrayBuffer {
  const b = memory?.(bytes) ?? null;
  if (b === null) return new ArrayBuffer(bytes);
  if (b.byteLength !== bytes) throw new Error(`block_events chunk memory: expected a buffer of ${bytes} bytes, got ${b.byteLength}`);
  return b;
}

/** Bytes of the buffer behind the always-set columns of one chunk (ts, sector: 8; pid, comm, nr, bytes: 4; cpu, dev: 2; action, rwbs, op: 1). */
export const EVENT_CHUNK_BYTES = CHUNK_ROWS * 39;

type ZeroArray = Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array;
const SHARED_ZEROS = new Map<unknown, ZeroArray>();
/**
 * A chunk-sized array of zeros for a column whose chunk holds no value: one shared, never written
 * array per type for full chunks (the column builders keep full chunks as they are); the last,
 * partial chunk gets its own, since a builder's current chunk is the one it would write into.
 */
export function zeros<A extends ZeroArray>(ctor: { new (n: number): A }, n: number): A {
  if (n < CHUNK_ROWS) return new ctor(CHUNK_ROWS);
  let z = SHARED_ZEROS.get(ctor) as A | undefined;
  if (z === undefined) {
    z = new ctor(CHUNK_ROWS);
    SHARED_ZEROS.set(ctor, z);
    registerZeros(z);
  }
  return z;
}

/** The columns of a chunk the request sweep reads (ChunkBatches.of and .fresh). */
export type SweptColumns = Pick<
  EventChunk,
  'ts' | 'pid' | 'comm' | 'dev' | 'action' | 'rwbs' | 'op' | 'sector' | 'nr' | 'bytes' | 'error' | 'newSector' | 'nulls' | 'valid'
>;

/** Index of each nullable column in EventChunk.valid. */
export const V_COMM = 0,
  V_DEV = 1,
  V_SECTOR = 2,
  V_ERROR = 3,
  V_NEW_SECTOR = 4,
  V_OLD_DEV = 5,
  V_COUNT = 6,
  V_IOPRIO = 7;
/** Columns from this index on are mostly null: their bitmaps record values, not nulls. */
export const V_SPARSE = V_ERROR;
