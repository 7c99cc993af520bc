/**
 * strace text → app_io rows. Joins `<unfinished ...>` / `<... resumed>` pairs per thread, keeps
 * the fd tables of every process (fd-table.ts) and the file position of every open file
 * description, so that read/write/readv/writev get the offset the kernel used. Calls whose
 * outcome or offset the log does not determine are kept with AppIoFlag bits, never guessed.
 * Bad lines are counted in IngestStats with file:line; nothing here throws on input text.
 */
import { APP_OPS, APP_IO_UNCERTAIN, AppIoFlag, appIoTable, type AppOp } from '../../table/schemas/app-io.js';
import type { TableBuilder } from '../../table/table-builder.js';
import type { StringColumnBuilder } from '../../table/column-builders.js';
import { AppIoRows } from './app-io-rows.js';
import type { IngestStats } from '../ingest-stats.js';
import { LineKind, StraceLine, TimeFormat, parseCallBody, parseCallFast, tokenizeStraceLine } from './strace-line.js';
import { decodeCEscapes, decorationRange, findIn } from './strace-string.js';
import { ByteKind, ByteLine, bytesEqual, decimalBytes, decodeBytes, parseCallBytes, tokenizeStraceBytes } from './strace-bytes.js';
import { FileState, OpenFileDescription, TaskTracker, type FdTable } from './fd-table.js';
import { SYSCALL_IDS, SYSCALL_NAMES, Sys, knownSyscallIndex, knownSyscallIndexBytes, nameHash } from './strace-syscalls.js';
import { InputError, UsageError } from '../../util/errors.js';

export type AppIoBuilder = TableBuilder<typeof appIoTable>;

/** Index of an op in APP_OPS (a switch on interned strings: no keyed property lookup per row). */
function opIndex(op: AppOp): number {
  switch (op) {
    case 'read': return 0; case 'write': return 1; case 'sync': return 2; case 'open': return 3; case 'close': return 4;
    case 'truncate': return 5; case 'allocate': return 6; case 'map': return 7; default: return 8;
  }
}
APP_OPS.forEach((o, i) => { if (opIndex(o) !== i) throw new Error(`opIndex(${o}) is not its place in APP_OPS`); });
const NULL = Number.NaN;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * A call whose `<unfinished ...>` line was seen, waiting for its `<... resumed>` line. The byte
 * lane keeps the head as bytes (and reuses these objects); the text is made only if a text-path
 * line needs it.
 */
class Pending {
  sys = 0;
  /** Name of a handled call; '' for others (matched by nameHash). */
  name = '';
  /** Its index in SYSCALL_NAMES; -1 for others. */
  nameIdx = -1;
  nameHash = 0;
  timeFormat: TimeFormat = TimeFormat.None;
  tsSec = 0;
  tsFrac = 0;
  file = 0;
  line = 0;
  private text: string | null = '';
  /** The head as bytes: bytes[0, headLen); headLen -1 when the head is text. */
  bytes = new Uint8Array(0);
  headLen = -1;

  /** The arguments printed so far (only kept for calls app_io handles). */
  get head(): string {
    if (this.text === null) this.text = decodeBytes(this.bytes, 0, this.headLen);
    return this.text;
  }
  setHeadText(head: string): void { this.text = head; this.headLen = -1; }
  setHeadBytes(b: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (this.bytes.length < n) this.bytes = new Uint8Array(Math.max(256, n * 2));
    copyBytes(b, s, e, this.bytes, 0);
    this.headLen = n; this.text = null;
  }
  /** Append b[s, e) after the head bytes (the joined call); returns its length. */
  joinBytes(b: Uint8Array, s: number, e: number): number {
    const n = this.headLen + e - s;
    if (this.bytes.length < n) { const g = new Uint8Array(n * 2); g.set(this.bytes.subarray(0, this.headLen)); this.bytes = g; }
    copyBytes(b, s, e, this.bytes, this.headLen);
    return n;
  }
}

/**
 * Copy b[s, e) to `to` at `at`: a loop for a few bytes, the native copy (worth its view object)
 * for longer ranges such as a write's data string.
 */
function copyBytes(b: Uint8Array, s: number, e: number, to: Uint8Array, at: number): void {
  if (e - s > 24) { to.set(b.subarray(s, e), at); return; }
  for (let j = s; j < e; j++, at++) to[at] = b[j]!;
}

/**
 * The calls in flight by task: a Map (its insertion order is the order calls are flushed at the
 * end), and a count per tid slot (tid & 63) so that most lines need no Map lookup.
 */
class PendingCalls {
  private readonly map = new Map<number, Pending>();
  private readonly slots = new Int32Array(64);
  get size(): number { return this.map.size; }
  has(tid: number): boolean { return this.slots[tid & 63] !== 0 && this.map.has(tid); }
  get(tid: number): Pending | undefined { return this.slots[tid & 63] !== 0 ? this.map.get(tid) : undefined; }
  set(tid: number, p: Pending): void {
    if (!this.map.has(tid)) this.slots[tid & 63]!++;
    this.map.set(tid, p);
  }
  delete(tid: number): void { if (this.map.delete(tid)) this.slots[tid & 63]!--; }
  keys(): IterableIterator<number> { return this.map.keys(); }
  [Symbol.iterator](): IterableIterator<[number, Pending]> { return this.map[Symbol.iterator](); }
}

/** Argument shapes of the byte lane per Sys id: [k, middle] of parseCallBytes; k 0 = not handled there. */
const FAST_K = new Int8Array(64);
const FAST_MIDDLE = new Uint8Array(64);
FAST_K[Sys.Read] = 1; FAST_MIDDLE[Sys.Read] = 1;
FAST_K[Sys.Write] = 1; FAST_MIDDLE[Sys.Write] = 1;
FAST_K[Sys.Pread] = 2; FAST_MIDDLE[Sys.Pread] = 1;
FAST_K[Sys.Pwrite] = 2; FAST_MIDDLE[Sys.Pwrite] = 1;
FAST_K[Sys.Lseek] = 2;

/** Options of a parse. */
export interface StraceParserOptions {
  /** Date (YYYY-MM-DD, UTC) that anchors -t/-tt time-of-day timestamps. */
  date?: string;
  /** Send every byte line through the text tokenizer (no byte lane): for tests that compare both. */
  textOnly?: boolean;
}

/** Per-op and per-path call and byte counts, for the summary. */
export interface AppIoCounts {
  opCalls: number[];
  opBytes: number[];
  pathCalls: number[];
  pathBytes: number[];
  unresolvedFdCalls: number;
  uncertainCalls: number;
}

/** Parse a "YYYY-MM-DD" date to the epoch second of its UTC midnight. */
export function parseAnchorDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(m[3]) || new Date(ms).getUTCMonth() !== Number(m[2]) - 1) {
    throw new UsageError(`--date "${date}": expected a calendar date YYYY-MM-DD (the day the -tt log was recorded)`);
  }
  return ms / 1000;
}

export class StraceParser {
  private readonly L = new StraceLine();
  private readonly J = new StraceLine();
  private tasks = new TaskTracker();
  private readonly files = new Map<number, FileState>();
  private readonly pending = new PendingCalls();
  private readonly rawPathKeys = new Map<string, number>();
  /** Per path key: 1 seekable (a path), 0 not (pipe:, socket:, anon_inode:). */
  private readonly pathSeekable: number[] = [];
  private readonly fileNames: string[] = [];
  private readonly fileKeys: number[] = [];
  private readonly dec = new Int32Array(2);
  /** Raw text of the last decoration decoratedPath() looked up. */
  private lastRaw = '';

  // columns: rows go through the lock-step chunk sink; the dictionaries live in the builders
  private readonly out: AppIoRows;
  private readonly cSyscall: StringColumnBuilder;
  private readonly cOp: StringColumnBuilder;
  private readonly cPath: StringColumnBuilder;
  private readonly cError: StringColumnBuilder;
  private readonly cFile: StringColumnBuilder;
  private readonly opKeys: number[];
  /** syscall column key per SYSCALL_NAMES index; -1 until interned. */
  private readonly syscallKeys = new Int32Array(SYSCALL_NAMES.length).fill(-1);

  // current source
  private fileIdx = 0;
  private fileName = '';
  private defaultTid = -1;
  private lineNo = 0;
  /** Task of lines without a pid column (stderr output: the only task left); -1 unknown. */
  private soleTid = -1;
  private traceStartRow = 0;
  /** Head of a line broken by a message of strace itself. */
  private carry: string | null = null;

  // time base
  private timeFormat: TimeFormat = TimeFormat.None;
  private baseSec = -1;
  private readonly dateSec: number | undefined;
  private lastDaySec = -1;
  private dayOffset = 0;
  private mixedTimeWarned = false;
  private finished = false;

  /** Rows emitted, lines read. */
  rows = 0;
  lines = 0;
  private ignoredCalls = 0;
  readonly counts: AppIoCounts = { opCalls: APP_OPS.map(() => 0), opBytes: APP_OPS.map(() => 0), pathCalls: [], pathBytes: [], unresolvedFdCalls: 0, uncertainCalls: 0 };

  constructor(readonly builder: AppIoBuilder, readonly stats: IngestStats, opts: StraceParserOptions = {}) {
    const b = builder;
    this.out = new AppIoRows(b);
    this.cSyscall = b.string('syscall');
    this.cOp = b.string('op');
    this.cPath = b.string('path');
    this.cError = b.string('error');
    this.cFile = b.string('file');
    this.opKeys = APP_OPS.map((o) => this.cOp.intern(o));
    this.dateSec = opts.date !== undefined ? parseAnchorDate(opts.date) : undefined;
    this.byteLane = opts.textOnly !== true;
  }

  /**
   * Start reading lines of `name` (its base name goes into the `file` column). `tid` is the task
   * of a -ff per-task file (lines have no pid column), else -1. `independent` starts a new trace:
   * fd tables and pending calls of the previous one are dropped.
   */
  beginSource(name: string, tid: number, independent: boolean): number {
    if (independent) { this.endTrace(); this.soleTid = -1; this.carry = null; this.traceStartRow = this.rows; }
    const idx = this.fileNames.length;
    this.fileNames.push(name);
    this.fileKeys.push(this.cFile.intern(name.replace(/^.*[\\/]/, '')));
    this.useSource(idx, tid);
    return idx;
  }

  /** Switch to an already begun source (for -ff files merged by time). */
  useSource(idx: number, tid: number): void {
    this.fileIdx = idx;
    this.fileName = this.fileNames[idx]!;
    this.defaultTid = tid;
  }

  /** The line handler (LineHandler shape). */
  readonly line = (text: string, start: number, end: number, lineNo: number): void => {
    this.lines++;
    this.lineNo = lineNo;
    if (this.carry !== null) {
      // the rest of a line that a message of strace itself broke (see below)
      text = this.carry + text.slice(start, end); start = 0; end = text.length;
      this.carry = null;
    }
    const L = this.L;
    const kind = tokenizeStraceLine(text, start, end, L);
    // strace -f writing to stderr prints "strace: Process N attached" in the middle of the
    // line of the call that made the task, then a newline: join the two parts again
    if (text.charCodeAt(end - 1) === 100 && end - start > 20) { // ...attached / ...detached
      const m = text.slice(start, end).lastIndexOf('strace: ') + start;
      if (m >= start && STRACE_MESSAGE.test(text.slice(m, end))) {
        if (m > start) this.carry = detach(text.slice(start, m));
        else this.stats.count('strace_message', 'info', 'messages of strace itself ("strace: Process N attached")', { file: this.fileName, line: lineNo, text: detach(text.slice(start, end)) });
        return;
      }
    }
    if (kind !== LineKind.Malformed && this.defaultTid < 0) {
      if (L.tid >= 0) this.prefixedTid(L);
      else if (this.soleTid >= 0) L.tid = this.soleTid;
    }
    if (kind === LineKind.Malformed) { this.malformed(text, start, end, 'strace_bad_line', 'line is not a strace output line (garbage, a cut line, or a message of strace itself)'); return; }
    if (kind === LineKind.Blank) return;
    if (L.timeFormat !== TimeFormat.None) this.checkTime(L);
    const tid = L.tid >= 0 ? L.tid : this.defaultTid;
    if (kind === LineKind.Call) {
      const ni = knownSyscallIndex(text, L.nameStart, L.nameEnd, nameHash(text, L.nameStart, L.nameEnd));
      if (this.pending.size !== 0 && this.pending.has(tid)) this.dropPending(tid, 'a new call started');
      if (ni < 0) { this.ignoredCalls++; return; }
      const sys = SYSCALL_IDS[ni]!;
      if (!this.parseBody(sys, L, text, L.bodyStart, end)) { this.malformed(text, start, end, 'strace_cut_call', 'system call line without ") = RESULT" (cut or garbled)'); return; }
      this.call(sys, ni, L, tid, L.timeFormat, L.tsSec, L.tsFrac, false);
      return;
    }
    if (kind === LineKind.Unfinished) {
      const h = nameHash(text, L.nameStart, L.nameEnd);
      const ni = knownSyscallIndex(text, L.nameStart, L.nameEnd, h);
      const sys = ni >= 0 ? SYSCALL_IDS[ni]! : 0;
      if (this.pending.has(tid)) this.dropPending(tid, 'a new call started');
      const p = new Pending();
      p.sys = sys; p.name = ni >= 0 ? SYSCALL_NAMES[ni]! : ''; p.nameIdx = ni; p.nameHash = h;
      p.setHeadText(sys ? this.keptHead(tid, text, L.bodyStart, L.bodyEnd) : '');
      p.timeFormat = L.timeFormat; p.tsSec = L.tsSec; p.tsFrac = L.tsFrac; p.file = this.fileIdx; p.line = this.lineNo;
      this.pending.set(tid, p);
      return;
    }
    if (kind === LineKind.Resumed) { this.resumed(L, tid, text, start, end); return; }
    if (kind === LineKind.Exit) {
      if (this.pending.has(tid)) this.dropPending(tid, 'the task ended');
      this.tasks.exit(tid);
      // strace -f to stderr: lines of the last remaining task carry no "[pid N]" prefix
      if (this.tasks.tasks.size === 1) this.soleTid = this.tasks.tasks.keys().next().value!;
      return;
    }
    // signals change no file state
  };

  // ---- the byte lane

  private readonly byteLane: boolean;
  private readonly B = new ByteLine();
  private readonly BJ = new ByteLine();
  /** Pending objects the byte lane made and got back, for its next unfinished calls. */
  private readonly pendingPool: Pending[] = [];

  /** Back to the pool; a head buffer grown by a long call (strace -s) is not kept. */
  private recycle(p: Pending): void {
    if (p.bytes.length > 1 << 16) p.bytes = new Uint8Array(0);
    this.pendingPool.push(p);
  }

  /**
   * The line handler for raw bytes (ByteLineHandler shape): the common shapes are handled on the
   * bytes (fastLine); any other line is decoded and goes through `line`.
   */
  readonly byteLine = (b: Uint8Array, start: number, end: number, lineNo: number): void => {
    if (this.byteLane && this.carry === null && this.fastLine(b, start, end, lineNo, this.B, tokenizeStraceBytes(b, start, end, this.B))) return;
    const text = decodeBytes(b, start, end);
    this.line(text, 0, text.length, lineNo);
  };

  /**
   * byteLine for a line the caller already tokenized into `B` (tokenizeStraceBytes returned
   * `kind`): the -ff merge reads each line's timestamp first. `B` is the caller's and is changed.
   */
  tokenizedByteLine(b: Uint8Array, start: number, end: number, lineNo: number, B: ByteLine, kind: ByteKind): void {
    if (this.byteLane && this.carry === null && this.fastLine(b, start, end, lineNo, B, kind)) return;
    const text = decodeBytes(b, start, end);
    this.line(text, 0, text.length, lineNo);
  }

  /**
   * One line on the byte lane: true when it was handled, exactly as `line` would have. Every
   * check that can send the line to the text path comes before the first change of state.
   */
  private fastLine(b: Uint8Array, start: number, end: number, lineNo: number, B: ByteLine, kind: ByteKind): boolean {
    if (kind === ByteKind.Other) return false;
    if (b[end - 1] === 100) return false; // "... attached": a message of strace inside the line
    if (B.timeFormat !== this.timeFormat) return false; // the first timestamp, or mixed formats
    let tid = B.tid;
    if (this.defaultTid < 0) {
      if (tid >= 0) { if (this.soleTid !== tid && !this.tasks.has(tid)) return false; } else tid = this.soleTid >= 0 ? this.soleTid : -1;
    } else if (tid < 0) tid = this.defaultTid;
    if (kind === ByteKind.Call) {
      if (this.pending.has(tid)) return false;
      const ni = knownSyscallIndexBytes(b, B.nameStart, B.nameEnd, B.nameHash);
      if (ni < 0) { this.lines++; this.lineNo = lineNo; this.ignoredCalls++; return true; }
      const sys = SYSCALL_IDS[ni]!;
      const k = FAST_K[sys]!;
      if (k === 0 || !parseCallBytes(B, b, B.bodyStart, end, k, FAST_MIDDLE[sys] === 1)) return false;
      return this.fastCall(sys, ni, B, b, tid, B.timeFormat, B.tsSec, B.tsFrac, lineNo, null);
    }
    if (kind === ByteKind.Unfinished) {
      if (this.pending.has(tid)) return false;
      const ni = knownSyscallIndexBytes(b, B.nameStart, B.nameEnd, B.nameHash);
      this.lines++; this.lineNo = lineNo;
      const p = this.pendingPool.pop() ?? new Pending();
      const sys = ni >= 0 ? SYSCALL_IDS[ni]! : 0;
      p.sys = sys; p.name = ni >= 0 ? SYSCALL_NAMES[ni]! : ''; p.nameIdx = ni; p.nameHash = B.nameHash;
      if (sys) p.setHeadBytes(b, B.bodyStart, B.bodyEnd); else p.setHeadText('');
      p.timeFormat = B.timeFormat; p.tsSec = B.tsSec; p.tsFrac = B.tsFrac; p.file = this.fileIdx; p.line = lineNo;
      this.pending.set(tid, p);
      return true;
    }
    // Resumed
    const p = this.pending.get(tid);
    if (!p || p.nameHash !== B.nameHash) return false;
    if (!p.sys) { this.lines++; this.lineNo = lineNo; this.pending.delete(tid); this.recycle(p); this.ignoredCalls++; return true; }
    const k = FAST_K[p.sys]!;
    if (k === 0 || p.headLen < 0) return false;
    const n = p.joinBytes(b, B.bodyStart, end);
    const J = this.BJ;
    if (!parseCallBytes(J, p.bytes, 0, n, k, FAST_MIDDLE[p.sys] === 1)) return false;
    return this.fastCall(p.sys, p.nameIdx, J, p.bytes, tid, p.timeFormat, p.tsSec, p.tsFrac, lineNo, p);
  }

  /**
   * `call` for read/write/pread64/pwrite64/lseek lines that parseCallBytes accepted (so the
   * call succeeded: a plain return value, no errno). `p` is the pending call it completes.
   */
  private fastCall(sys: number, nameIdx: number, B: ByteLine, b: Uint8Array, tid: number, tf: TimeFormat, tsSec: number, tsFrac: number, lineNo: number, p: Pending | null): boolean {
    if (!this.tasks.has(tid)) return false; // a task's first line may adopt a clone child: text path
    const as = B.argStart; const ae = B.argEnd;
    let fd = 0;
    for (let i = as[0]!; i < ae[0]! && b[i]! < 58; i++) fd = fd * 10 + (b[i]! - 48);
    const lseek = sys === Sys.Lseek;
    // lseek(fd, offset, whence); read/write(fd, buf, count); pread64/pwrite64(fd, buf, count, offset)
    const a = decimalBytes(b, as[lseek ? 1 : 2]!, ae[lseek ? 1 : 2]!);
    if (a === Number.POSITIVE_INFINITY) return false;
    let stated = NULL;
    let seekEnd = false;
    if (lseek) {
      // a symbolic whence (SEEK_SET, SEEK_END, ...): one word, so SEEK_END is all of it or absent
      for (let i = as[2]!; i < ae[2]!; i++) { const c = b[i]!; if (!((c >= 65 && c <= 90) || c === 95)) return false; }
      seekEnd = ae[2]! - as[2]! === 8 && bytesEqual(b, as[2]!, 'SEEK_END');
    } else if (sys === Sys.Pread || sys === Sys.Pwrite) {
      stated = decimalBytes(b, as[3]!, ae[3]!);
      if (stated === Number.POSITIVE_INFINITY) return false;
    }
    // from here on the line is handled
    this.lines++; this.lineNo = lineNo;
    if (p) { this.pending.delete(tid); this.recycle(p); }
    const task = this.tasks.task(tid);
    const table = task.fds;
    this.rTs = this.tsNs(tf, tsSec, tsFrac); this.rDur = B.durNs; this.rPid = task.tgid; this.rTid = tid; this.rNameIdx = nameIdx; this.rErr = -1;
    const d = this.fastDesc(table, fd, b, B);
    const ret = B.ret;
    if (lseek) {
      if (d) {
        d.pos = ret;
        if (seekEnd && d.seekable) d.file.size = ret - a;
      }
      this.rowFn('other', fd, d, d?.pathKey ?? -1, ret, NULL, NULL, false, !d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0);
      return true;
    }
    const write = sys === Sys.Write || sys === Sys.Pwrite;
    this.transfer(write ? 'write' : 'read', this.rowFn, fd, d, stated, a, ret, true, false, false, 0, write);
    return true;
  }

  /** `desc` for argument 0 of a byte-lane call. */
  private fastDesc(table: FdTable, fd: number, b: Uint8Array, B: ByteLine): OpenFileDescription | undefined {
    let d = table.get(fd);
    let decoKey = -1;
    let raw = '';
    const k = B.decoAt;
    if (k >= 0) {
      // the same decoration as last time on this description: no lookup
      let same = false;
      if (d && d.raw.length > 0) {
        if (d.rawCodesOf !== d.raw) {
          const r = d.raw; const c = new Uint16Array(r.length);
          for (let i = 0; i < r.length; i++) c[i] = r.charCodeAt(i);
          d.rawCodes = c; d.rawCodesOf = r;
        }
        const codes = d.rawCodes; const n = codes.length;
        const after = k + 1 + n;
        if (after < b.length && (b[after] === 62 || b[after] === 60)) {
          same = true;
          for (let i = 0, j = k + 1; i < n; i++, j++) if (b[j] !== codes[i]) { same = false; break; }
        }
      }
      if (same) decoKey = d!.pathKey;
      else {
        const t = decodeBytes(b, B.argStart[0]!, B.argEnd[0]!);
        decoKey = this.decoratedPath(t, 0, t.length); raw = this.lastRaw;
      }
    }
    return this.withDecoration(table, fd, d, decoKey, raw);
  }

  /**
   * The description behind `fd` after its -y decoration was read: a description first seen here
   * (fd opened before the trace) is made from the path; a known one takes the path the decoration
   * names (it may be newer than what the trace showed).
   */
  private withDecoration(table: FdTable, fd: number, d: OpenFileDescription | undefined, decoKey: number, raw: string): OpenFileDescription {
    if (!d) {
      d = new OpenFileDescription(decoKey, this.fileState(decoKey), false, false, decoKey < 0 || this.pathSeekable[decoKey] === 1);
      d.pos = -1;
      d.raw = raw;
      table.set(fd, d, false);
    } else if (decoKey >= 0 && raw !== '') {
      d.pathKey = decoKey;
      d.raw = raw;
    }
    return d;
  }

  /**
   * The arguments of an unfinished call as a string that does not pin the input chunk. A task
   * often repeats the same head (`pread64(5</data/f>,  <unfinished ...>`): the last one of each
   * task slot is reused instead of copied again.
   */
  private keptHead(tid: number, text: string, s: number, e: number): string {
    const raw = text.slice(s, e);
    const slot = tid & 63;
    const last = this.lastHeads[slot]!;
    if (last === raw) return last;
    const head = detach(raw);
    this.lastHeads[slot] = head;
    return head;
  }
  private readonly lastHeads: string[] = new Array<string>(64).fill('');

  /**
   * A "[pid N]"/"N " prefixed line. With -f to stderr, lines before the first clone have no
   * prefix; they were filed under task -1, which is the first prefixed task that is no child.
   */
  private prefixedTid(L: StraceLine): void {
    const tid = L.tid;
    if (this.soleTid === tid || this.tasks.has(tid)) return;
    const anon = this.pending.get(-1);
    if (anon && (anon.sys === Sys.Fork || anon.sys === Sys.Clone || anon.sys === Sys.Clone3)) {
      // task -1 is inside clone: a new task is its child unless it resumes that very clone
      if (L.kind !== LineKind.Resumed || nameHash(L.text, L.nameStart, L.nameEnd) !== anon.nameHash) return;
    }
    if (this.tasks.tasks.has(-1) || anon) {
      this.tasks.rename(-1, tid);
      if (anon) { this.pending.delete(-1); this.pending.set(tid, anon); }
      // rows already written for the unnamed task get its id (once per trace)
      this.out.renameTask(this.traceStartRow, tid);
    }
    this.soleTid = -1;
  }

  /** Split the arguments: the fast path for the hot calls, else the general tokenizer. */
  private parseBody(sys: number, L: StraceLine, text: string, bodyStart: number, end: number): boolean {
    switch (sys) {
      case Sys.Read: case Sys.Write: if (parseCallFast(L, text, bodyStart, end, 1, true)) return true; break;
      case Sys.Pread: case Sys.Pwrite: if (parseCallFast(L, text, bodyStart, end, 2, true)) return true; break;
      case Sys.Lseek: if (parseCallFast(L, text, bodyStart, end, 2, false)) return true; break;
    }
    L.durNs = -1; L.errStart = -1; L.retStart = -1;
    return parseCallBody(L, text, bodyStart, end);
  }

  private resumed(L: StraceLine, tid: number, text: string, start: number, end: number): void {
    const p = this.pending.get(tid);
    if (!p || p.nameHash !== nameHash(text, L.nameStart, L.nameEnd)) {
      this.malformed(text, start, end, 'strace_resumed_without_start', 'a "<... NAME resumed>" line whose "<unfinished ...>" part is missing (call ignored)');
      return;
    }
    this.pending.delete(tid);
    if (!p.sys) { this.ignoredCalls++; return; }
    if (L.resumedUnfinished) { this.emitUnknownOutcome(p, tid); return; }
    const joined = p.head + text.slice(L.bodyStart, end);
    const J = this.J;
    J.durNs = -1; J.errStart = -1; J.retStart = -1;
    if (!this.parseBody(p.sys, J, joined, 0, joined.length)) { this.malformed(text, start, end, 'strace_cut_call', 'system call line without ") = RESULT" (cut or garbled)'); return; }
    this.call(p.sys, p.nameIdx, J, tid, p.timeFormat, p.tsSec, p.tsFrac, false);
  }

  /** A pending call that never resumed: keep it, flagged; its effect on the file position is unknown. */
  private dropPending(tid: number, why: string): void {
    const p = this.pending.get(tid)!;
    this.pending.delete(tid);
    if (!p.sys) return;
    this.stats.count('strace_unfinished_never_resumed', 'data_loss', 'a call cut by "<unfinished ...>" never resumed; kept with flags=unfinished (outcome unknown)', { file: this.fileNames[p.file]!, line: p.line, text: `${p.name}(${p.head.slice(0, 100)} (${why})` });
    this.emitUnknownOutcome(p, tid);
  }

  private emitUnknownOutcome(p: Pending, tid: number): void {
    const J = this.J;
    const joined = p.head + ') = ?';
    if (!parseCallBody(J, joined, 0, joined.length)) return;
    J.durNs = -1;
    this.call(p.sys, p.nameIdx, J, tid, p.timeFormat, p.tsSec, p.tsFrac, true);
  }

  /** Flush calls left unfinished at the end of a trace and forget its tasks. */
  endTrace(): void {
    for (const tid of [...this.pending.keys()]) this.dropPending(tid, 'end of the log');
    this.tasks = new TaskTracker();
    this.files.clear();
  }

  private malformed(text: string, start: number, end: number, name: string, description: string): void {
    this.stats.count(name, 'data_loss', description, { file: this.fileName, line: this.lineNo, text: detach(text.slice(start, Math.min(end, start + 200))) });
  }

  private checkTime(L: StraceLine): void {
    if (this.timeFormat === TimeFormat.None) {
      this.timeFormat = L.timeFormat;
      this.baseSec = L.tsSec;
      if (L.timeFormat === TimeFormat.Epoch) this.out.tsBase = BigInt(L.tsSec) * 1_000_000_000n;
      else this.out.tsBase = this.dateSec !== undefined ? BigInt(this.dateSec) * 1_000_000_000n : 0n;
      if (L.timeFormat === TimeFormat.TimeOfDay) this.baseSec = 0;
    } else if (L.timeFormat !== this.timeFormat && !this.mixedTimeWarned) {
      this.mixedTimeWarned = true;
      this.stats.count('strace_mixed_time_formats', 'error', 'the log mixes -tt (time of day) and -ttt (epoch) timestamps; ts_ns of the other format is wrong', { file: this.fileName, line: this.lineNo, text: '' });
    }
  }

  /**
   * ts_ns of a line's timestamp, relative to the time base: a safe integer (exact up to 104 days
   * from the first timestamp); the row sink adds the base (out.tsBase) to each chunk as it hands
   * it over. NaN when the line has none.
   */
  private tsNs(format: TimeFormat, sec: number, frac: number): number {
    if (format === TimeFormat.None) return NULL;
    if (format === TimeFormat.TimeOfDay && this.timeFormat === TimeFormat.TimeOfDay) {
      // midnight: the time of day drops by more than 12 h
      if (this.lastDaySec >= 0 && sec + 43200 < this.lastDaySec) this.dayOffset += 86400;
      this.lastDaySec = sec;
      return (this.dayOffset + sec) * 1e9 + frac;
    }
    const d = sec - this.baseSec;
    // (d + 1.5) * 1e9 + frac - 1.5e9 is d * 1e9 + frac, exact while |d| < 9e6, written so that no
    // operation starts out on small integers: the JIT then compiles float arithmetic from the
    // first line instead of 31-bit integer arithmetic that overflows a second into the trace (a
    // bailout and a recompile of the whole hot path)
    const v = d < 9e6 && d > -9e6 ? (d + 1.5) * 1e9 + frac - 1.5e9 : d * 1e9 + frac;
    if (v > MAX_SAFE || v < -MAX_SAFE) {
      this.stats.count('strace_time_out_of_range', 'data_loss', 'timestamp more than 104 days from the first one of the log (ts_ns left null)', { file: this.fileName, line: this.lineNo, text: `${sec}.${frac}` });
      return NULL;
    }
    return v;
  }

  // ---- paths

  /** Path key of a -y decoration in [s, e) of `text`, or -1. */
  private decoratedPath(text: string, s: number, e: number): number {
    decorationRange(text, s, e, this.dec);
    const ds = this.dec[0]!;
    if (ds < 0) return -1;
    const raw = detach(text.slice(ds, this.dec[1]!));
    this.lastRaw = raw;
    let k = this.rawPathKeys.get(raw);
    if (k === undefined) {
      k = this.pathKey(decodeCEscapes(raw, 0, raw.length));
      this.rawPathKeys.set(raw, k);
    }
    return k;
  }

  private pathKey(path: string): number {
    const k = this.cPath.intern(detach(path));
    if (this.pathSeekable[k] === undefined) {
      this.pathSeekable[k] = path.charCodeAt(0) === 47 ? 1 : 0;
      this.counts.pathCalls[k] = 0;
      this.counts.pathBytes[k] = 0;
    }
    return k;
  }

  /** Path key of a quoted path argument, resolved against the -y path of dirfd when relative. */
  private stringPath(text: string, s: number, e: number, dirKey: number): number {
    if (text.charCodeAt(s) !== 34) return -1;
    let q = e - 1;
    while (q > s && text.charCodeAt(q) !== 34) q--;
    if (q <= s) return -1;
    let p = decodeCEscapes(text, s + 1, q);
    if (p.charCodeAt(0) !== 47 && dirKey >= 0) {
      const dir = this.cPath.dictionary[dirKey]!;
      p = p === '' ? dir : dir.endsWith('/') ? dir + p : `${dir}/${p}`;
    }
    return this.pathKey(p);
  }

  private fileState(pathKey: number): FileState {
    if (pathKey < 0 || !this.pathSeekable[pathKey]) return new FileState();
    let f = this.files.get(pathKey);
    if (!f) { f = new FileState(); this.files.set(pathKey, f); }
    return f;
  }

  // ---- numbers

  /** Signed decimal in [s, e) (stops at a non-digit); a bigint beyond 2^53; NaN if none. */
  private int(text: string, s: number, e: number): number | bigint {
    let neg = false;
    if (text.charCodeAt(s) === 45) { neg = true; s++; }
    let v = 0; let i = s;
    for (; i < e; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (i === s) {
      if (text.charCodeAt(s) === 48 && text.charCodeAt(s + 1) === 120) return 0; // 0x... pointer
      return NULL;
    }
    if (v > MAX_SAFE) { const b = BigInt(text.slice(s, i)); return neg ? -b : b; }
    return neg ? -v : v;
  }

  private argInt(L: StraceLine, i: number): number | bigint {
    if (i >= L.argc) return NULL;
    return this.int(L.text, L.argStart[i]!, L.argEnd[i]!);
  }

  /** The value inside "[N]" or "[N] => [M]" (an offset pointer argument); NaN for NULL. */
  private bracketInt(L: StraceLine, i: number): number | bigint {
    if (i >= L.argc) return NULL;
    const s = L.argStart[i]!;
    if (L.text.charCodeAt(s) !== 91) return NULL;
    return this.int(L.text, s + 1, L.argEnd[i]!);
  }

  private argHas(L: StraceLine, i: number, word: string): boolean {
    if (i >= L.argc) return false;
    return hasFlag(L.text, L.argStart[i]!, L.argEnd[i]!, word);
  }

  /** Numeric value of a flags/constant argument as -X raw prints it (0x hex, 0 octal, decimal); NaN if symbolic. */
  private argRaw(L: StraceLine, i: number): number {
    if (i >= L.argc) return NULL;
    return rawNumber(L.text, L.argStart[i]!, L.argEnd[i]!);
  }

  /** Flag `name` (value `bit`) set in arg i, symbolic or numeric. */
  private argFlag(L: StraceLine, i: number, name: string, bit: number): boolean {
    if (this.argHas(L, i, name)) return true;
    const v = this.argRaw(L, i);
    return !Number.isNaN(v) && (v & bit) !== 0;
  }

  /** Arg i is the constant `name` (value `value`), symbolic or numeric. */
  private argIs(L: StraceLine, i: number, name: string, value: number): boolean {
    if (this.argHas(L, i, name)) return true;
    return this.argRaw(L, i) === value;
  }

  /** Open-flag bits from a symbolic ("O_RDWR|O_APPEND") or numeric (-X raw) flags argument. */
  private openFlags(L: StraceLine, i: number): number {
    if (i >= L.argc) return 0;
    const s = L.argStart[i]!; const e = L.argEnd[i]!;
    const t = L.text;
    const o = findIn(t, 'O_', s, e);
    if (o >= 0) {
      return (hasFlag(t, s, e, 'O_APPEND') ? F_APPEND : 0) | (hasFlag(t, s, e, 'O_DIRECT') ? F_DIRECT : 0) |
        (hasFlag(t, s, e, 'O_TRUNC') ? F_TRUNC : 0) | (hasFlag(t, s, e, 'O_CLOEXEC') ? F_CLOEXEC : 0) |
        (hasFlag(t, s, e, 'O_EXCL') ? F_EXCL : 0) | (hasFlag(t, s, e, 'O_WRONLY') || hasFlag(t, s, e, 'O_RDWR') ? F_WRITE : 0);
    }
    // -X raw: numeric flags (x86_64 and generic values of asm-generic/fcntl.h, octal)
    let k = findIn(t, 'flags=', s, e); k = k >= 0 ? k + 6 : s;
    const n = rawNumber(t, k, e);
    if (Number.isNaN(n)) return 0;
    return (n & 0o2000 ? F_APPEND : 0) | (n & 0o40000 ? F_DIRECT : 0) | (n & 0o1000 ? F_TRUNC : 0) |
      (n & 0o2000000 ? F_CLOEXEC : 0) | (n & 0o200 ? F_EXCL : 0) | (n & 3 ? F_WRITE : 0);
  }

  // ---- fds

  private fdOf(L: StraceLine, i: number): number {
    const v = this.argInt(L, i);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= -1 && v < 0x7fffffff ? v : -2;
  }

  /** The description of fd arg i; created (position unknown) when the fd was opened before the trace. */
  private desc(table: FdTable, fd: number, L: StraceLine, i: number): OpenFileDescription | undefined {
    if (fd < 0) return undefined;
    let d = table.fds.get(fd);
    let decoKey = -1;
    let raw = '';
    if (i < L.argc) {
      const t = L.text; const s = L.argStart[i]!; const e = L.argEnd[i]!;
      let k = s;
      while (k < e && t.charCodeAt(k) >= 48 && t.charCodeAt(k) <= 57) k++;
      if (k < e && t.charCodeAt(k) === 60) {
        // the same decoration as last time on this description: no lookup (a slice compared with
        // === is a native comparison, cheaper than a loop for a path)
        const last = d ? d.raw : '';
        const after = k + 1 + last.length;
        if (last.length > 0 && (t.charCodeAt(after) === 62 || t.charCodeAt(after) === 60) && t.slice(k + 1, after) === last) decoKey = d!.pathKey;
        else { decoKey = this.decoratedPath(t, s, e); raw = this.lastRaw; }
      }
    }
    return this.withDecoration(table, fd, d, decoKey, raw);
  }

  // ---- rows

  private call(sys: number, nameIdx: number, L: StraceLine, tid: number, tf: TimeFormat, tsSec: number, tsFrac: number, unknown: boolean): void {
    if (this.pending.size !== 0 && !this.tasks.has(tid)) this.adoptEarlyChild(tid);
    const task = this.tasks.task(tid);
    const table = task.fds;
    const text = L.text;
    const ret = L.retStart >= 0 ? this.int(text, L.retStart, L.retEnd) : NULL;
    const failed = L.errStart >= 0 || ret === -1;
    const interrupted = text.charCodeAt(L.retStart) === 63 && !unknown; // "?"
    const ok = !failed && !interrupted && !unknown;
    const errKey = L.errStart >= 0 ? this.errorKey(text.slice(L.errStart, L.errEnd)) : failed ? this.errorKey('error') : -1;
    const ts = this.tsNs(tf, tsSec, tsFrac);
    let flags = unknown ? AppIoFlag.Unfinished : interrupted ? AppIoFlag.Interrupted : 0;
    this.rTs = ts; this.rDur = L.durNs; this.rPid = task.tgid; this.rTid = tid; this.rNameIdx = nameIdx; this.rErr = errKey;
    const row = this.rowFn;
    switch (sys) {
      case Sys.Open: case Sys.OpenAt: case Sys.OpenAt2: case Sys.Creat: {
        const pathArg = sys === Sys.Open || sys === Sys.Creat ? 0 : 1;
        const dirKey = pathArg === 1 ? this.decoratedPath(text, L.argStart[0]!, L.argEnd[0]!) : -1;
        const fl = sys === Sys.Creat ? F_WRITE | F_TRUNC : this.openFlags(L, pathArg + 1);
        let key = ok ? this.decoratedPath(text, L.retStart, L.retEnd) : -1;
        if (key < 0 && pathArg < L.argc) key = this.stringPath(text, L.argStart[pathArg]!, L.argEnd[pathArg]!, dirKey);
        const fd = ok && typeof ret === 'number' ? ret : -1;
        let d: OpenFileDescription | undefined;
        if (fd >= 0) {
          const seek = key < 0 || this.pathSeekable[key] === 1;
          d = new OpenFileDescription(key, this.fileState(key), (fl & F_APPEND) !== 0, (fl & F_DIRECT) !== 0, seek);
          if ((fl & F_TRUNC && fl & F_WRITE) || fl & F_EXCL) d.file.size = 0;
          table.set(fd, d, (fl & F_CLOEXEC) !== 0);
        } else if (unknown) flags |= AppIoFlag.FdUnknown;
        row('open', fd, d, key, NULL, NULL, NULL, false, flags);
        return;
      }
      case Sys.Close: {
        const fd = this.fdOf(L, 0);
        const d = table.fds.get(fd);
        const key = this.decoratedPath(text, L.argStart[0]!, L.argEnd[0]!);
        if (!unknown) table.close(fd); // close(2): the fd is released even when close fails with EIO/EINTR
        row('close', fd, d, key >= 0 ? key : d?.pathKey ?? -1, NULL, NULL, NULL, false, flags | (key < 0 && !d ? AppIoFlag.FdUnknown : 0));
        return;
      }
      case Sys.CloseRange: {
        const first = this.argInt(L, 0); const last = this.argInt(L, 1);
        if (ok && typeof first === 'number') {
          const hi = typeof last === 'number' ? last : Number.MAX_SAFE_INTEGER;
          const cloexecOnly = this.argFlag(L, 2, 'CLOSE_RANGE_CLOEXEC', 4); // linux/close_range.h
          for (const fd of [...table.fds.keys()]) {
            if (fd >= first && fd <= hi) { if (cloexecOnly) table.cloexec.add(fd); else table.close(fd); }
          }
        }
        row('close', typeof first === 'number' ? first : -1, undefined, -1, NULL, NULL, NULL, false, flags);
        return;
      }
      case Sys.Dup: case Sys.Dup2: case Sys.Dup3: case Sys.Fcntl: {
        const fd = this.fdOf(L, 0);
        let cloexec = false;
        if (sys === Sys.Fcntl) {
          // fcntl commands and FD_CLOEXEC: asm-generic/fcntl.h (F_DUPFD 0, F_SETFD 2, F_SETFL 4, F_DUPFD_CLOEXEC 1030)
          if (this.argIs(L, 1, 'F_SETFL', 4)) {
            const d = this.desc(table, fd, L, 0);
            if (d && ok) { const fl = this.openFlags(L, 2); d.append = (fl & F_APPEND) !== 0; d.direct = (fl & F_DIRECT) !== 0; }
            row('other', fd, d, d?.pathKey ?? -1, NULL, NULL, NULL, false, flags);
            return;
          }
          if (this.argIs(L, 1, 'F_SETFD', 2)) {
            if (ok) { if (this.argFlag(L, 2, 'FD_CLOEXEC', 1)) table.cloexec.add(fd); else table.cloexec.delete(fd); }
            return;
          }
          cloexec = this.argIs(L, 1, 'F_DUPFD_CLOEXEC', 1030);
          if (!cloexec && !this.argIs(L, 1, 'F_DUPFD', 0)) return;
        } else if (sys === Sys.Dup3) cloexec = this.argFlag(L, 2, 'O_CLOEXEC', 0o2000000);
        const d = this.desc(table, fd, L, 0);
        const nfd = ok && typeof ret === 'number' ? ret : -1;
        if (nfd >= 0 && d) table.set(nfd, d, cloexec);
        if (unknown && sys !== Sys.Dup && sys !== Sys.Fcntl) { const t = this.fdOf(L, 1); if (t >= 0) table.close(t); }
        const key = nfd >= 0 ? this.decoratedPath(text, L.retStart, L.retEnd) : -1;
        row('other', nfd >= 0 ? nfd : fd, d, key >= 0 ? key : d?.pathKey ?? -1, NULL, NULL, NULL, false, flags);
        return;
      }
      case Sys.Read: case Sys.Write: case Sys.Readv: case Sys.Writev:
      case Sys.Pread: case Sys.Pwrite: case Sys.Preadv: case Sys.Pwritev: case Sys.Preadv2: case Sys.Pwritev2: {
        const write = sys === Sys.Write || sys === Sys.Writev || sys === Sys.Pwrite || sys === Sys.Pwritev || sys === Sys.Pwritev2;
        const vec = sys === Sys.Readv || sys === Sys.Writev || sys >= Sys.Preadv;
        const fd = this.fdOf(L, 0);
        const d = this.desc(table, fd, L, 0);
        let req: number | bigint = NULL;
        if (vec) {
          req = this.iovBytes(L, 1);
          if (Number.isNaN(req as number)) flags |= AppIoFlag.SizeUnknown;
        } else req = this.argInt(L, 2);
        let stated: number | bigint = NULL;
        if (sys === Sys.Pread || sys === Sys.Pwrite) stated = this.argInt(L, 3);
        else if (sys >= Sys.Preadv) stated = this.argInt(L, 3);
        // preadv2/pwritev2 with offset -1 use and move the file position (preadv2(2))
        const positional = (sys === Sys.Pread || sys === Sys.Pwrite || sys >= Sys.Preadv) && !(stated === -1 && (sys === Sys.Preadv2 || sys === Sys.Pwritev2));
        const rwfAppend = sys === Sys.Pwritev2 && this.argFlag(L, 4, 'RWF_APPEND', 0x10); // linux/fs.h
        const done = unknown ? NULL : ok ? ret : 0;
        this.transfer(write ? 'write' : 'read', row, fd, d, positional ? stated : NULL, req, done, ok, unknown, rwfAppend, flags, write);
        return;
      }
      case Sys.Lseek: case Sys.Llseek: {
        const fd = this.fdOf(L, 0);
        const d = this.desc(table, fd, L, 0);
        let newPos: number | bigint = NULL;
        let off: number | bigint = NULL;
        let whence: number;
        if (sys === Sys.Lseek) { off = this.argInt(L, 1); newPos = ok ? ret : NULL; whence = 2; } else {
          // _llseek(fd, offset, [result], whence): strace prints offset_high<<32|offset_low
          off = this.argInt(L, 1); newPos = ok ? this.bracketInt(L, 2) : NULL; whence = 3;
        }
        if (d) {
          if (ok && typeof newPos === 'number' && !Number.isNaN(newPos)) {
            d.pos = newPos;
            if (this.argIs(L, whence, 'SEEK_END', 2) && typeof off === 'number' && d.seekable) d.file.size = newPos - off;
          } else if (unknown || (ok && typeof newPos !== 'number')) d.pos = -1;
        }
        row('other', fd, d, d?.pathKey ?? -1, newPos, NULL, NULL, false, flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0));
        return;
      }
      case Sys.Fsync: case Sys.SyncFileRange: case Sys.Sync: {
        if (sys === Sys.Sync) { row('sync', -1, undefined, -1, NULL, NULL, NULL, false, flags); return; }
        const fd = this.fdOf(L, 0);
        const d = this.desc(table, fd, L, 0);
        const range = sys === Sys.SyncFileRange;
        row('sync', fd, d, d?.pathKey ?? -1, range ? this.argInt(L, 1) : NULL, range ? this.argInt(L, 2) : NULL, NULL, false, flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0));
        return;
      }
      case Sys.Ftruncate: case Sys.Truncate: {
        let d: OpenFileDescription | undefined; let key: number; let fd = -1;
        if (sys === Sys.Ftruncate) { fd = this.fdOf(L, 0); d = this.desc(table, fd, L, 0); key = d?.pathKey ?? -1; } else key = this.stringPath(text, L.argStart[0]!, L.argEnd[0]!, -1);
        const len = this.argInt(L, 1);
        if (ok && typeof len === 'number' && !Number.isNaN(len)) (d ? d.file : this.fileState(key)).size = len;
        else if (unknown) (d ? d.file : this.fileState(key)).size = -1;
        row('truncate', fd, d, key, len, NULL, NULL, false, flags | (key < 0 ? AppIoFlag.FdUnknown : 0));
        return;
      }
      case Sys.Fallocate: {
        const fd = this.fdOf(L, 0);
        const d = this.desc(table, fd, L, 0);
        const off = this.argInt(L, 2); const len = this.argInt(L, 3);
        if (d && d.file.size >= 0) {
          // linux/falloc.h: KEEP_SIZE 1, PUNCH_HOLE 2, COLLAPSE_RANGE 8, INSERT_RANGE 0x20
          const keep = this.argFlag(L, 1, 'FALLOC_FL_KEEP_SIZE', 1) || this.argFlag(L, 1, 'FALLOC_FL_PUNCH_HOLE', 2);
          const changes = this.argFlag(L, 1, 'FALLOC_FL_COLLAPSE_RANGE', 8) || this.argFlag(L, 1, 'FALLOC_FL_INSERT_RANGE', 0x20);
          if (unknown || changes) d.file.size = -1;
          else if (ok && !keep && typeof off === 'number' && typeof len === 'number') d.file.size = Math.max(d.file.size, off + len);
        }
        row('allocate', fd, d, d?.pathKey ?? -1, off, len, NULL, false, flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0));
        return;
      }
      case Sys.Sendfile: case Sys.CopyFileRange: case Sys.Splice: {
        // sendfile(out_fd, in_fd, offset_ptr, count); copy_file_range/splice(fd_in, off_in_ptr, fd_out, off_out_ptr, len, flags)
        const send = sys === Sys.Sendfile;
        const inFd = this.fdOf(L, send ? 1 : 0); const outFd = this.fdOf(L, send ? 0 : 2);
        const dIn = this.desc(table, inFd, L, send ? 1 : 0);
        const dOut = this.desc(table, outFd, L, send ? 0 : 2);
        const inOff = this.bracketInt(L, send ? 2 : 1);
        const outOff = send ? NULL : this.bracketInt(L, 3);
        const req = this.argInt(L, send ? 3 : 4);
        const done = unknown ? NULL : ok ? ret : 0;
        this.transfer('read', row, inFd, dIn, inOff, req, done, ok, unknown, false, flags, false);
        this.transfer('write', row, outFd, dOut, outOff, req, done, ok, unknown, false, flags | AppIoFlag.SecondHalf, true);
        return;
      }
      case Sys.Mmap: case Sys.Mmap2: {
        const fd = this.fdOf(L, 4);
        if (fd < 0) return; // anonymous mapping
        const d = this.desc(table, fd, L, 4);
        let off = this.argInt(L, 5);
        if (sys === Sys.Mmap2 && typeof off === 'number') off *= 4096; // mmap2(2): offset in 4096-byte units
        if (L.argc > 5 && L.text.charCodeAt(L.argStart[5]!) === 48 && L.text.charCodeAt(L.argStart[5]! + 1) === 120) off = parseInt(L.arg(5).slice(2), 16) * (sys === Sys.Mmap2 ? 4096 : 1);
        const len = this.argInt(L, 1);
        row('map', fd, d, d?.pathKey ?? -1, off, len, unknown ? NULL : ok ? len : 0, false, flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0));
        return;
      }
      case Sys.IoUringSetup: {
        const fd = ok && typeof ret === 'number' ? ret : -1;
        const key = fd >= 0 ? this.decoratedPath(text, L.retStart, L.retEnd) : -1;
        if (fd >= 0) table.set(fd, new OpenFileDescription(key, new FileState(), false, false, false), false);
        row('other', fd, undefined, key, NULL, NULL, NULL, false, flags | AppIoFlag.Invisible);
        return;
      }
      case Sys.IoUringEnter: {
        const fd = this.fdOf(L, 0);
        const d = this.desc(table, fd, L, 0);
        row('other', fd, undefined, d?.pathKey ?? -1, NULL, NULL, NULL, false, flags | AppIoFlag.Invisible);
        return;
      }
      case Sys.Fork: case Sys.Clone: case Sys.Clone3: {
        if (!ok || typeof ret !== 'number' || ret <= 0) return;
        // clone(2) flags (linux/sched.h): CLONE_FILES 0x400, CLONE_THREAD 0x10000; strace prints
        // clone(child_stack=..., flags=...) and clone3({flags=..., ...}, size)
        const fl = sys === Sys.Fork ? 0 : this.cloneFlags(L);
        const shareFiles = (fl & 0x400) !== 0;
        const thread = (fl & 0x10000) !== 0;
        this.tasks.clone(tid, ret, shareFiles, thread);
        return;
      }
      case Sys.Execve: {
        if (ok) table.exec();
        return;
      }
      case Sys.Stat: {
        if (!ok) return;
        this.statSize(L, table);
        return;
      }
    }
  }

  /** The flags of clone/clone3 as a number (symbolic names or -X raw hex). */
  private cloneFlags(L: StraceLine): number {
    const t = L.text;
    const s = L.argStart[0]!; const e = L.argEnd[L.argc > 1 ? 1 : 0]!;
    let k = findIn(t, 'flags=', s, e);
    if (k < 0) return 0;
    k += 6;
    let j = k;
    while (j < e) { const c = t.charCodeAt(j); if (c === 44 || c === 125 || c === 32) break; j++; }
    const n = rawNumber(t, k, j);
    if (!Number.isNaN(n)) return n;
    return (hasFlag(t, k, j, 'CLONE_FILES') ? 0x400 : 0) | (hasFlag(t, k, j, 'CLONE_THREAD') ? 0x10000 : 0);
  }

  /**
   * A task seen for the first time while a clone is in flight (strace prints the child before the
   * parent's clone returns): when exactly one clone/fork is pending, the task is its child.
   */
  private adoptEarlyChild(tid: number): void {
    let parent = -2; let p: Pending | undefined;
    for (const [t, q] of this.pending) {
      if (q.sys === Sys.Clone || q.sys === Sys.Clone3 || q.sys === Sys.Fork) {
        if (p) return; // two clones in flight: which child is whose is not known
        parent = t; p = q;
      }
    }
    if (!p || parent === tid) return;
    let fl = 0;
    if (p.sys !== Sys.Fork) {
      const k = p.head.indexOf('flags=');
      if (k < 0) return; // the flags were not printed yet
      const j = p.head.slice(k + 6).search(/[,} ]|$/);
      const f = p.head.slice(k + 6, k + 6 + j);
      const n = rawNumber(f, 0, f.length);
      fl = !Number.isNaN(n) ? n : (hasFlag(f, 0, f.length, 'CLONE_FILES') ? 0x400 : 0) | (hasFlag(f, 0, f.length, 'CLONE_THREAD') ? 0x10000 : 0);
    }
    this.tasks.clone(parent, tid, (fl & 0x400) !== 0, (fl & 0x10000) !== 0);
  }

  /** File sizes seen in fstat/newfstatat/statx results of regular files. */
  private statSize(L: StraceLine, table: FdTable): void {
    const t = L.text;
    const s0 = L.argStart[0]!; const e0 = L.retStart;
    let k = findIn(t, 'st_size=', s0, e0);
    let n = 8;
    if (k < 0) { k = findIn(t, 'stx_size=', s0, e0); n = 9; }
    if (k < 0 || findIn(t, 'S_IFREG', s0, e0) < 0) return;
    const size = this.int(t, k + n, L.retStart);
    if (typeof size !== 'number' || Number.isNaN(size)) return;
    // fstat(fd, ...) or f?statat(dirfd, "path"|"", ...) or stat("path", ...)
    const first = t.charCodeAt(L.argStart[0]!);
    let key = -1;
    if (first === 34) key = this.stringPath(t, L.argStart[0]!, L.argEnd[0]!, -1);
    else if (L.argc > 1 && t.charCodeAt(L.argStart[1]!) === 34 && L.argEnd[1]! - L.argStart[1]! > 2) {
      key = this.stringPath(t, L.argStart[1]!, L.argEnd[1]!, this.decoratedPath(t, L.argStart[0]!, L.argEnd[0]!));
    } else {
      const fd = this.fdOf(L, 0);
      const d = fd >= 0 ? table.fds.get(fd) : undefined;
      if (d) { if (d.seekable) d.file.size = size; return; }
      key = this.decoratedPath(t, L.argStart[0]!, L.argEnd[0]!);
    }
    if (key >= 0 && this.pathSeekable[key]) this.fileState(key).size = size;
  }

  /** Sum of iov_len in an iovec array argument; NaN when strace abbreviated the array ("...]"). */
  private iovBytes(L: StraceLine, i: number): number | bigint {
    if (i >= L.argc) return NULL;
    const t = L.text; const s = L.argStart[i]!; const e = L.argEnd[i]!;
    if (e - s >= 4 && t.charCodeAt(e - 1) === 93 && t.charCodeAt(e - 2) === 46 && t.charCodeAt(e - 3) === 46) return NULL;
    let sum = 0; let k = findIn(t, 'iov_len=', s, e);
    if (k < 0) return NULL;
    while (k >= 0) {
      const v = this.int(t, k + 8, e);
      if (typeof v !== 'number' || Number.isNaN(v)) return NULL;
      sum += v;
      k = findIn(t, 'iov_len=', k + 8, e);
    }
    return sum;
  }

  /**
   * One transfer row; moves the file position of stream calls. `stated` is the call's own offset
   * (NaN: use the description's position).
   */
  private transfer(op: AppOp, row: RowFn,
    fd: number, d: OpenFileDescription | undefined, stated: number | bigint, req: number | bigint, done: number | bigint, ok: boolean, unknown: boolean, rwfAppend: boolean, flags: number, write: boolean): void {
    const key = d?.pathKey ?? -1;
    if (!d || key < 0) flags |= AppIoFlag.FdUnknown;
    const positional = !(typeof stated === 'number' && Number.isNaN(stated));
    let offset: number | bigint = NULL;
    let append = false;
    const n = typeof done === 'number' && !Number.isNaN(done) ? done : -1;
    if (!d) {
      if (positional) offset = stated; else flags |= AppIoFlag.OffsetUnknown;
    } else if (write && (rwfAppend || d.append)) {
      // O_APPEND (open(2)) and RWF_APPEND (pwritev2(2)): the write goes to the end of the file,
      // pwrite too on Linux (pwrite(2) BUGS); positional calls leave the file position alone
      append = true;
      if (d.file.size >= 0) offset = d.file.size; else flags |= AppIoFlag.OffsetUnknown;
      if (ok && n >= 0) {
        if (d.file.size >= 0) d.file.size += n;
        if (!positional) d.pos = d.file.size;
      } else if (unknown) {
        d.file.size = -1;
        if (!positional) d.pos = -1;
      }
    } else if (positional) {
      offset = stated;
      if (write && d.file.size >= 0) {
        if (ok && n >= 0 && typeof stated === 'number') d.file.size = Math.max(d.file.size, stated + n);
        else if (unknown || typeof stated !== 'number') d.file.size = -1;
      }
    } else if (d.seekable) {
      if (d.pos >= 0) offset = d.pos; else flags |= AppIoFlag.OffsetUnknown;
      if (unknown) d.pos = -1;
      else if (ok && n >= 0 && d.pos >= 0) {
        d.pos += n;
        if (d.pos > MAX_SAFE) d.pos = -1;
        if (write && d.file.size >= 0 && d.pos > d.file.size) d.file.size = d.pos;
      } else if (ok && write && d.file.size >= 0) d.file.size = -1;
    }
    if (unknown && write && d) d.file.size = -1;
    row(op, fd, d, key, offset, req, done, append, flags);
  }

  // context of the call being turned into rows (set by call(), read by row())
  private rTs = NULL;
  private rDur = -1;
  private rPid = 0;
  private rTid = 0;
  private rNameIdx = 0;
  private rErr = -1;
  private readonly rowFn: RowFn = (op, fd, d, pathKey, offset, req, done, append, f) => {
    this.emit(this.rTs, this.rDur, this.rPid, this.rTid, this.rNameIdx, op, fd, pathKey, offset, req, done, d?.direct ?? false, append, this.rErr, f);
  };

  /** Dictionary key of an errno name; garbled names beyond a few hundred distinct ones share one key. */
  private errorKey(name: string): number {
    if (this.cError.dictionary.length >= 512 && !this.cError.dictionary.includes(name)) name = 'E?';
    return this.cError.intern(detach(name));
  }

  private emit(ts: number, durNs: number, pid: number, tid: number, nameIdx: number, op: AppOp, fd: number, pathKey: number,
    offset: number | bigint, req: number | bigint, done: number | bigint, direct: boolean, append: boolean, errKey: number, flags: number): void {
    const id = this.rows++;
    if (id === 0x7fffffff) throw new InputError(this.fileName, 'more than 2^31-1 calls: app_io.id is int32; split the log', { line: this.lineNo });
    let sk = this.syscallKeys[nameIdx]!;
    if (sk < 0) sk = this.syscallKeys[nameIdx] = this.cSyscall.intern(SYSCALL_NAMES[nameIdx]!);
    const oi = opIndex(op);
    const uncertain = (flags & APP_IO_UNCERTAIN) !== 0;
    this.out.add(id, ts, durNs >= 0 ? durNs : NULL, pid, tid, sk, this.opKeys[oi]!, fd, pathKey, offset, req, done, direct, append, errKey, flags,
      uncertain, this.fileKeys[this.fileIdx]!, this.lineNo);
    // summary
    const c = this.counts;
    const bytes = typeof done === 'number' ? (Number.isNaN(done) ? 0 : done) : Number(done);
    c.opCalls[oi]!++;
    c.opBytes[oi]! += bytes;
    if (pathKey >= 0) { c.pathCalls[pathKey]!++; c.pathBytes[pathKey]! += bytes; }
    if (flags & AppIoFlag.FdUnknown) c.unresolvedFdCalls++;
    if (uncertain) c.uncertainCalls++;
  }

  /** End of all input: flush pending calls; returns the table metadata. */
  finish(): Record<string, string> {
    this.endTrace();
    if (!this.finished) { this.finished = true; this.out.finish(); }
    if (this.ignoredCalls > 0) this.stats.count('strace_other_syscalls', 'info', 'system calls that do not concern file I/O (ignored)', undefined, this.ignoredCalls);
    this.ignoredCalls = 0;
    const meta: Record<string, string> = {
      clock: 'strace wall clock',
      time_base: this.timeFormat === TimeFormat.Epoch ? 'epoch' : this.timeFormat === TimeFormat.TimeOfDay ? 'time_of_day' : 'none',
      source_format: 'strace',
      sources: this.fileNames.map((f) => f.replace(/^.*[\\/]/, '')).join(','),
    };
    if (this.timeFormat === TimeFormat.TimeOfDay) meta.date = this.dateSec !== undefined ? new Date(this.dateSec * 1000).toISOString().slice(0, 10) : 'unknown (ts_ns counts from midnight of the first day)';
    return meta;
  }

  /** Names of paths by key (the path dictionary). */
  get pathNames(): readonly string[] { return this.cPath.dictionary; }
}

type RowFn = (op: AppOp, fd: number, d: OpenFileDescription | undefined, pathKey: number, offset: number | bigint, req: number | bigint, done: number | bigint, append: boolean, f: number) => void;

const STRACE_MESSAGE = /^strace: Process \d+ (attached|detached|suspended)$/;

const F_APPEND = 1, F_DIRECT = 2, F_TRUNC = 4, F_CLOEXEC = 8, F_EXCL = 16, F_WRITE = 32;

/** A number as -X raw prints constants: "0x1f" hex, "0644" octal, "12" decimal; NaN otherwise. */
function rawNumber(t: string, s: number, e: number): number {
  const c0 = t.charCodeAt(s);
  if (c0 < 48 || c0 > 57) return Number.NaN;
  let j = s;
  if (c0 === 48 && t.charCodeAt(s + 1) === 120) {
    j = s + 2;
    while (j < e && /[0-9a-fA-F]/.test(t[j]!)) j++;
    return j > s + 2 ? parseInt(t.slice(s + 2, j), 16) : Number.NaN;
  }
  while (j < e && t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57) j++;
  return c0 === 48 && j > s + 1 ? parseInt(t.slice(s, j), 8) : parseInt(t.slice(s, j), 10);
}

/** True when `word` occurs in text[s, e) as a whole flag name (O_DIRECT but not O_DIRECTORY). */
function hasFlag(t: string, s: number, e: number, word: string): boolean {
  let k = findIn(t, word, s, e);
  while (k >= 0) {
    const c = t.charCodeAt(k + word.length);
    const p = k > 0 ? t.charCodeAt(k - 1) : 0;
    const nameChar = (x: number): boolean => (x >= 65 && x <= 90) || (x >= 48 && x <= 57) || x === 95 || (x >= 97 && x <= 122);
    if (!nameChar(c) && !nameChar(p)) return true;
    k = findIn(t, word, k + 1, e);
  }
  return false;
}

/**
 * A copy of a substring that does not keep its parent alive: V8 slices of 13+ characters point
 * into the parent string (here a whole 1 MiB input chunk). Strings kept past the current chunk
 * (dictionary entries, map keys, pending calls, examples) go through this.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

