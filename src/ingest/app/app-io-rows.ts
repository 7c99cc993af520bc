/**
 * The row sink of the strace parser: the 19 app_io columns filled in lock-step, one typed-array
 * chunk of CHUNK_ROWS rows per column, handed to the TableBuilder's column builders with
 * appendChunk when full (and at the end). A row is a handful of stores into arrays held in
 * fields, instead of 19 builder calls each checking for a chunk roll and a validity bitmap.
 * Nullable columns keep a validity bitmap (bit set = valid) that is passed on only when the chunk
 * holds a null, exactly as the column builders do, so the Arrow output is the same. String columns
 * hold dictionary keys; the dictionaries stay in the builders (intern there).
 */
import {
  CHUNK_ROWS,
  type BoolColumnBuilder,
  type Int64ColumnBuilder,
  type NumberColumnBuilder,
  type StringColumnBuilder,
} from '../../table/column-builders.js';
import type { TableBuilder } from '../../table/table-builder.js';
import type { appIoTable } from '../../table/schemas/app-io.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4294967296;

/**
 * A validity bitmap (bit set = valid) of a column that is almost never null: it starts all set,
 * and a null clears its bit, so a valid value costs no bitmap store. `trim` clears the bits past
 * the rows of a short last chunk, which the builders expect clear.
 */
function allValid(): Uint8Array {
  return new Uint8Array(CHUNK_ROWS >> 3).fill(0xff);
}
function trimValid(valid: Uint8Array, n: number): void {
  if (n >= CHUNK_ROWS) return;
  if (n & 7) valid[n >> 3]! &= (1 << (n & 7)) - 1;
  valid.fill(0, (n + 7) >> 3);
}

/** One int64 column chunk: the values, their 32-bit words (little-endian stores), validity. */
class Int64Chunk {
  readonly values = new BigInt64Array(CHUNK_ROWS);
  readonly words = new Uint32Array(this.values.buffer);
  readonly valid = new Uint8Array(CHUNK_ROWS >> 3);
  nulls = 0;
  /** Store a safe integer without making a BigInt; NaN is null. */
  set(i: number, v: number): void {
    if (v !== v) {
      this.nulls++;
      return;
    }
    this.valid[i >> 3]! |= 1 << (i & 7);
    this.store(i, v);
  }
  protected store(i: number, v: number): void {
    if (LITTLE_ENDIAN) {
      const k = i << 1;
      this.words[k] = v >>> 0;
      this.words[k + 1] = Math.floor(v / TWO_32) >>> 0;
    } else this.values[i] = BigInt(v);
  }
  setBig(i: number, v: bigint): void {
    this.valid[i >> 3]! |= 1 << (i & 7);
    this.values[i] = v;
  }
  /** Make the bitmap what the builders expect for the first n rows. */
  trim(_n: number): void {
    /* bits are only ever set for rows added */
  }
  /** Empty again, for the next chunk. */
  reset(): void {
    this.values.fill(0n);
    this.valid.fill(0);
    this.nulls = 0;
  }
}

/** An Int64Chunk of a column that is almost never null (ts_ns, dur_ns with -T). */
class DenseInt64Chunk extends Int64Chunk {
  override readonly valid = allValid();
  override set(i: number, v: number): void {
    if (v !== v) {
      this.nulls++;
      this.valid[i >> 3]! &= ~(1 << (i & 7));
      return;
    }
    this.store(i, v);
  }
  override setBig(i: number, v: bigint): void {
    this.values[i] = v;
  }
  override trim(n: number): void {
    trimValid(this.valid, n);
  }
  override reset(): void {
    this.values.fill(0n);
    this.valid.fill(0xff);
    this.nulls = 0;
  }
}

/** A nullable dictionary-key or int32 column chunk. */
class KeyChunk<A extends Int8Array | Int16Array | Int32Array> {
  readonly valid = new Uint8Array(CHUNK_ROWS >> 3);
  nulls = 0;
  constructor(readonly values: A) {}
  /** Store `v`; a negative value is null (keys and fds are never negative). */
  set(i: number, v: number): void {
    if (v < 0) {
      this.nulls++;
      return;
    }
    this.valid[i >> 3]! |= 1 << (i & 7);
    this.values[i] = v;
  }
  trim(_n: number): void {
    /* bits are only ever set for rows added */
  }
  reset(): void {
    this.values.fill(0);
    this.valid.fill(0);
    this.nulls = 0;
  }
}

/** A KeyChunk of a column that is almost never null (fd, path). */
class DenseKeyChunk<A extends Int8Array | Int16Array | Int32Array> extends KeyChunk<A> {
  override readonly valid = allValid();
  override set(i: number, v: number): void {
    if (v < 0) {
      this.nulls++;
      this.valid[i >> 3]! &= ~(1 << (i & 7));
      return;
    }
    this.values[i] = v;
  }
  override trim(n: number): void {
    trimValid(this.valid, n);
  }
  override reset(): void {
    this.values.fill(0);
    this.valid.fill(0xff);
    this.nulls = 0;
  }
}

export class AppIoRows {
  private readonly bId: NumberColumnBuilder<Int32Array>;
  private readonly bPid: NumberColumnBuilder<Int32Array>;
  private readonly bTid: NumberColumnBuilder<Int32Array>;
  private readonly bSyscall: StringColumnBuilder;
  private readonly bOp: StringColumnBuilder;
  private readonly bFd: NumberColumnBuilder<Int32Array>;
  private readonly bPath: StringColumnBuilder;
  private readonly bError: StringColumnBuilder;
  private readonly bFlags: NumberColumnBuilder<Uint16Array>;
  private readonly bFile: StringColumnBuilder;
  private readonly bLine: NumberColumnBuilder<Int32Array>;
  private readonly bTs: Int64ColumnBuilder;
  private readonly bDur: Int64ColumnBuilder;
  private readonly bOffset: Int64ColumnBuilder;
  private readonly bReq: Int64ColumnBuilder;
  private readonly bDone: Int64ColumnBuilder;
  private readonly bDirect: BoolColumnBuilder;
  private readonly bAppend: BoolColumnBuilder;
  private readonly bUncertain: BoolColumnBuilder;

  // the current chunk of every column
  private id!: Int32Array;
  private pid!: Int32Array;
  private tid!: Int32Array;
  private syscall!: Int8Array;
  private op!: Int8Array;
  private fd!: KeyChunk<Int32Array>;
  private path!: KeyChunk<Int32Array>;
  private error!: KeyChunk<Int16Array>;
  private flags!: Uint16Array;
  private file!: Int32Array;
  private line!: Int32Array;
  private ts!: Int64Chunk;
  private dur!: Int64Chunk;
  private offset!: Int64Chunk;
  private req!: Int64Chunk;
  private done!: Int64Chunk;
  private direct!: Uint8Array;
  private append!: Uint8Array;
  private uncertain!: Uint8Array;
  /** Rows in the current chunk; rows it has room for; rows handed to the builders before it. */
  private i = 0;
  private room = 0;
  private flushed = 0;
  /**
   * Added to ts_ns as each chunk is handed over: the parser keeps times relative to the first
   * timestamp of the log (safe integers) and sets this once it has seen it.
   */
  tsBase = 0n;

  constructor(private readonly builder: TableBuilder<typeof appIoTable>) {
    const b = builder;
    this.bId = b.number('id') as NumberColumnBuilder<Int32Array>;
    this.bTs = b.int64('ts_ns');
    this.bDur = b.int64('dur_ns');
    this.bPid = b.number('pid') as NumberColumnBuilder<Int32Array>;
    this.bTid = b.number('tid') as NumberColumnBuilder<Int32Array>;
    this.bSyscall = b.string('syscall');
    this.bOp = b.string('op');
    this.bFd = b.number('fd') as NumberColumnBuilder<Int32Array>;
    this.bPath = b.string('path');
    this.bOffset = b.int64('offset');
    this.bReq = b.int64('bytes_req');
    this.bDone = b.int64('bytes_done');
    this.bDirect = b.bool('direct');
    this.bAppend = b.bool('append');
    this.bError = b.string('error');
    this.bFlags = b.number('flags') as unknown as NumberColumnBuilder<Uint16Array>;
    this.bUncertain = b.bool('uncertain');
    this.bFile = b.string('file');
    this.bLine = b.number('line') as NumberColumnBuilder<Int32Array>;
    if (builder.length % CHUNK_ROWS !== 0)
      throw new Error(`app_io rows: the table builder holds ${builder.length} rows, not a whole number of chunks`);
    this.flushed = builder.length;
    // no chunk yet: the first add opens it (flush with no rows). This does not spare the compiled
    // add its bailout at the first full chunk: V8 records no type feedback in a function's first
    // calls, so the branch still looks never taken when add is compiled
  }

  /** Rows added so far (including those of the builder before this sink). */
  get length(): number {
    return this.flushed + this.i;
  }

  /**
   * Add a row. Nulls: ts/dur/offset/req/done NaN, fd/path/error a negative key. Numbers of int64
   * columns are safe integers; offset/req/done may be bigints beyond 2^53.
   */
  add(
    id: number,
    ts: number,
    dur: number,
    pid: number,
    tid: number,
    syscallKey: number,
    opKey: number,
    fd: number,
    pathKey: number,
    offset: number | bigint,
    req: number | bigint,
    done: number | bigint,
    direct: boolean,
    append: boolean,
    errKey: number,
    flags: number,
    uncertain: boolean,
    fileKey: number,
    line: number,
  ): void {
    if (this.i === this.room) this.flush();
    const i = this.i++;
    this.id[i] = id;
    this.ts.set(i, ts);
    this.dur.set(i, dur);
    this.pid[i] = pid;
    this.tid[i] = tid;
    this.syscall[i] = syscallKey;
    this.op[i] = opKey;
    this.fd.set(i, fd);
    this.path.set(i, pathKey);
    if (typeof offset === 'number') this.offset.set(i, offset);
    else this.offset.setBig(i, offset);
    if (typeof req === 'number') this.req.set(i, req);
    else this.req.setBig(i, req);
    if (typeof done === 'number') this.done.set(i, done);
    else this.done.setBig(i, done);
    this.direct[i] = direct ? 1 : 0;
    this.append[i] = append ? 1 : 0;
    this.error.set(i, errKey);
    this.flags[i] = flags;
    this.uncertain[i] = uncertain ? 1 : 0;
    this.file[i] = fileKey;
    this.line[i] = line;
  }

  /**
   * Give the rows [start, length) of task -1 (lines without a pid column) the id `tid`: pid and
   * tid -1 become `tid`, in the current chunk and in the builders (also chunks in their scratch
   * file).
   */
  renameTask(start: number, tid: number): void {
    const end = this.length;
    for (const [chunk, builder] of [
      [this.tid, this.bTid],
      [this.pid, this.bPid],
    ] as const) {
      if (start < this.flushed) builder.replaceInRange(start, this.flushed, -1, tid);
      for (let r = Math.max(start - this.flushed, 0); r < end - this.flushed; r++) if (chunk[r] === -1) chunk[r] = tid;
    }
  }

  /** Hand the rows of the current chunk to the builders (the last chunk may be short). */
  finish(): void {
    if (this.i > 0) this.flush();
  }

  private flush(): void {
    const n = this.i;
    if (n === 0) {
      this.fresh();
      return;
    }
    this.bId.appendChunk(this.id, n, null, 0);
    if (this.tsBase !== 0n) addBase(this.ts, n, this.tsBase);
    int64(this.bTs, this.ts, n);
    int64(this.bDur, this.dur, n);
    this.bPid.appendChunk(this.pid, n, null, 0);
    this.bTid.appendChunk(this.tid, n, null, 0);
    this.bSyscall.appendChunk(this.syscall, n, null, 0);
    this.bOp.appendChunk(this.op, n, null, 0);
    keys(this.bFd, this.fd, n);
    keys(this.bPath, this.path, n);
    int64(this.bOffset, this.offset, n);
    int64(this.bReq, this.req, n);
    int64(this.bDone, this.done, n);
    this.bDirect.appendChunk(this.direct, n, null, 0);
    this.bAppend.appendChunk(this.append, n, null, 0);
    keys(this.bError, this.error, n);
    this.bFlags.appendChunk(this.flags, n, null, 0);
    this.bUncertain.appendChunk(this.uncertain, n, null, 0);
    this.bFile.appendChunk(this.file, n, null, 0);
    this.bLine.appendChunk(this.line, n, null, 0);
    this.flushed += n;
    this.builder.spillFullBatches();
    // once every column of the chunk is in the scratch file the builders hold none of these
    // arrays: fill the same ones again (fresh ones would cost a page fault per 4 KiB on first touch)
    const c = this.flushed / CHUNK_ROWS - 1;
    if (n === CHUNK_ROWS && this.bId.isSpilled(c) && this.bLine.isSpilled(c)) this.reuse();
    else this.fresh();
  }

  private reuse(): void {
    this.i = 0;
    for (const a of [
      this.id,
      this.pid,
      this.tid,
      this.syscall,
      this.op,
      this.flags,
      this.direct,
      this.append,
      this.uncertain,
      this.file,
      this.line,
    ])
      a.fill(0);
    for (const c of [this.ts, this.dur, this.offset, this.req, this.done]) c.reset();
    for (const c of [this.fd, this.path, this.error]) c.reset();
  }

  private fresh(): void {
    this.i = 0;
    this.room = CHUNK_ROWS;
    this.id = new Int32Array(CHUNK_ROWS);
    this.ts = new DenseInt64Chunk();
    this.dur = new DenseInt64Chunk();
    this.pid = new Int32Array(CHUNK_ROWS);
    this.tid = new Int32Array(CHUNK_ROWS);
    this.syscall = new Int8Array(CHUNK_ROWS);
    this.op = new Int8Array(CHUNK_ROWS);
    this.fd = new DenseKeyChunk(new Int32Array(CHUNK_ROWS));
    this.path = new DenseKeyChunk(new Int32Array(CHUNK_ROWS));
    this.offset = new Int64Chunk();
    this.req = new Int64Chunk();
    this.done = new Int64Chunk();
    this.direct = new Uint8Array(CHUNK_ROWS);
    this.append = new Uint8Array(CHUNK_ROWS);
    this.error = new KeyChunk(new Int16Array(CHUNK_ROWS));
    this.flags = new Uint16Array(CHUNK_ROWS);
    this.uncertain = new Uint8Array(CHUNK_ROWS);
    this.file = new Int32Array(CHUNK_ROWS);
    this.line = new Int32Array(CHUNK_ROWS);
  }
}

/** Add `base` to the first n values (64-bit two's complement, as BigInt64Array arithmetic wraps). */
function addBase(c: Int64Chunk, n: number, base: bigint): void {
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) c.values[i] = BigInt.asIntN(64, c.values[i]! + base);
    return;
  }
  const lo = Number(BigInt.asUintN(32, base));
  const hi = Number(BigInt.asUintN(32, base >> 32n));
  const w = c.words;
  for (let i = 0; i < 2 * n; i += 2) {
    const l = w[i]! + lo;
    w[i] = l >>> 0;
    w[i + 1] = (w[i + 1]! + hi + (l >= TWO_32 ? 1 : 0)) >>> 0;
  }
}

/** The validity bitmap as the builders keep it: none when the chunk has no null. */
function int64(b: Int64ColumnBuilder, c: Int64Chunk, n: number): void {
  c.trim(n);
  b.appendChunk(c.values, n, c.nulls > 0 ? c.valid : null, c.nulls);
}
function keys(b: NumberColumnBuilder<Int32Array> | StringColumnBuilder, c: KeyChunk<Int8Array | Int16Array | Int32Array>, n: number): void {
  c.trim(n);
  (b as StringColumnBuilder).appendChunk(c.values, n, c.nulls > 0 ? c.valid : null, c.nulls);
}
