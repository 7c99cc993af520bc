/**
 * strace output → app_io rows: the line handler. Each line is tokenized once (strace-line.ts) and
 * taken by one of two paths: the fast path for the shapes that make up almost all of an I/O trace
 * (read/write/pread64/pwrite64/lseek of the common shape, their unfinished/resumed halves, calls
 * app_io ignores), and the general path for every line. Both read the same tokens and change the
 * same state (syscall-effects.ts); the fast path only refuses a line before it changes anything.
 * Unfinished calls are paired with their resumed halves per task (pending-calls.ts), tasks are
 * named and followed through clone (fd-table.ts), and calls whose outcome the log does not
 * determine are kept with AppIoFlag bits. Bad lines are counted in IngestStats with file:line;
 * nothing here throws on input text.
 */
import type { IngestStats } from '../../util/ingest-stats.js';
import { AppIoEmitter, type AppIoBuilder, type AppIoCounts } from './app-io-emitter.js';
import { CLONE_FILES, CLONE_THREAD, cloneFlagsIn } from './strace-args.js';
import { decodeBytes } from './strace-bytes.js';
import { parseCallBody, parseCallFast } from './strace-call.js';
import { InputPosition, StraceClock, parseAnchorDate } from './strace-clock.js';
import { LineKind, StraceLine, TimeFormat, tokenizeStraceLine } from './strace-line.js';
import { detach, PathTable } from './strace-paths.js';
import { PendingCalls, type PendingCall } from './pending-calls.js';
import { SYSCALL_IDS, Sys, knownSyscallIndex } from './strace-syscalls.js';
import { SyscallEffects } from './syscall-effects.js';

export { parseAnchorDate, type AppIoBuilder, type AppIoCounts };

/** Options of a parse. */
export interface StraceParserOptions {
  /** Date (YYYY-MM-DD, UTC) that anchors -t/-tt time-of-day timestamps. */
  date?: string;
  /** Send every line through the general path (no fast path): for tests that compare both. */
  generalOnly?: boolean;
}

/** strace -f writing to stderr puts its own messages inside the line of the call that made the task. */
const STRACE_MESSAGE = /^strace: Process \d+ (attached|detached|suspended)$/;
/** "strace: " */
const STRACE_PREFIX = [115, 116, 114, 97, 99, 101, 58, 32];
/** The return part of a call that never resumed: ") = ?". */
const UNKNOWN_RETURN = Uint8Array.from(') = ?', (c) => c.charCodeAt(0));

/**
 * Arguments parseCallFast reads from the right for a call of the fast shape: read/write(fd, buf,
 * count), pread64/pwrite64(fd, buf, count, offset), lseek(fd, offset, whence); 0 for others.
 */
function fastArgsFromRight(sys: number): number {
  switch (sys) {
    case Sys.Read:
    case Sys.Write:
      return 1;
    case Sys.Pread:
    case Sys.Pwrite:
    case Sys.Lseek:
      return 2;
    default:
      return 0;
  }
}

/** Split a call's arguments: the fast shape when it has it, else the general splitter. */
function splitCall(sys: number, L: StraceLine, b: Uint8Array, bodyStart: number, end: number): boolean {
  const k = fastArgsFromRight(sys);
  if (k > 0 && parseCallFast(L, b, bodyStart, end, k, sys !== Sys.Lseek)) return true;
  return parseCallBody(L, b, bodyStart, end);
}

/** Index of the last "strace: " in b[s, e), or -1. */
function lastStracePrefix(b: Uint8Array, s: number, e: number): number {
  outer: for (let i = e - STRACE_PREFIX.length; i >= s; i--) {
    for (let k = 0; k < STRACE_PREFIX.length; k++) if (b[i + k] !== STRACE_PREFIX[k]) continue outer;
    return i;
  }
  return -1;
}

export class StraceParser {
  /** The current line; a joined unfinished + resumed call. */
  private readonly L = new StraceLine();
  private readonly J = new StraceLine();
  private readonly at = new InputPosition();
  private readonly clock: StraceClock;
  private readonly emitter: AppIoEmitter;
  private readonly paths: PathTable;
  private readonly effects: SyscallEffects;
  private readonly pending = new PendingCalls();
  private readonly fastPath: boolean;
  private readonly fileNames: string[] = [];

  /** Task of a -ff per-task file (its lines have no pid column); -1 otherwise. */
  private defaultTid = -1;
  /** Task of lines without a pid column (stderr output: the only task left); -1 unknown. */
  private soleTid = -1;
  private traceStartRow = 0;
  /** Head of a line broken by a message of strace itself. */
  private carry: Uint8Array | null = null;
  private finished = false;
  /** Lines read. */
  lines = 0;
  private ignoredCalls = 0;

  constructor(
    readonly builder: AppIoBuilder,
    readonly stats: IngestStats,
    opts: StraceParserOptions = {},
  ) {
    this.emitter = new AppIoEmitter(builder, this.at);
    this.paths = new PathTable(this.emitter.cPath, this.emitter.newPath);
    this.effects = new SyscallEffects(this.paths, this.emitter);
    this.clock = new StraceClock(stats, this.at, opts.date !== undefined ? parseAnchorDate(opts.date) : undefined);
    this.fastPath = opts.generalOnly !== true;
  }

  /** Rows emitted. */
  get rows(): number {
    return this.emitter.rows;
  }
  /** Per-op and per-path counts for the summary. */
  get counts(): AppIoCounts {
    return this.emitter.counts;
  }
  /** Names of paths by key (the path dictionary). */
  get pathNames(): readonly string[] {
    return this.paths.names;
  }

  /**
   * Start reading lines of `name` (its base name goes into the `file` column). `tid` is the task
   * of a -ff per-task file (lines have no pid column), else -1. `independent` starts a new trace:
   * fd tables and pending calls of the previous one are dropped.
   */
  beginSource(name: string, tid: number, independent: boolean): number {
    if (independent) {
      this.endTrace();
      this.soleTid = -1;
      this.carry = null;
      this.traceStartRow = this.rows;
    }
    const idx = this.fileNames.length;
    this.fileNames.push(name);
    this.emitter.addSource(name);
    this.useSource(idx, tid);
    return idx;
  }

  /** Switch to an already begun source (for -ff files merged by time). */
  useSource(idx: number, tid: number): void {
    this.at.fileIdx = idx;
    this.at.fileName = this.fileNames[idx]!;
    this.defaultTid = tid;
  }

  /** One line given as text: encoded to UTF-8 here, then read as bytes like every other line. */
  readonly line = (text: string, start: number, end: number, lineNo: number): void => {
    const b = Buffer.from(text.slice(start, end), 'utf8');
    this.byteLine(new Uint8Array(b.buffer, b.byteOffset, b.length), 0, b.length, lineNo);
  };

  /** The line handler for raw bytes (ByteLineHandler shape): the line b[start, end), no terminator. */
  readonly byteLine = (b: Uint8Array, start: number, end: number, lineNo: number): void => {
    const L = this.L;
    if (this.carry !== null) {
      // the rest of a line that a message of strace itself broke (see generalLine)
      const joined = new Uint8Array(this.carry.length + end - start);
      joined.set(this.carry);
      joined.set(b.subarray(start, end), this.carry.length);
      this.carry = null;
      this.generalLine(L, tokenizeStraceLine(joined, 0, joined.length, L), lineNo);
      return;
    }
    const kind = tokenizeStraceLine(b, start, end, L);
    if (this.fastPath && this.fastLine(L, kind, lineNo)) return;
    this.generalLine(L, kind, lineNo);
  };

  /**
   * byteLine for a line the caller already tokenized into `T` (tokenizeStraceLine returned
   * `kind`): the -ff merge reads each line's timestamp first. `T` is the caller's and is changed.
   */
  tokenizedByteLine(b: Uint8Array, start: number, end: number, lineNo: number, T: StraceLine, kind: LineKind): void {
    if (this.carry !== null) {
      this.byteLine(b, start, end, lineNo);
      return;
    }
    if (this.fastPath && this.fastLine(T, kind, lineNo)) return;
    this.generalLine(T, kind, lineNo);
  }

  /** The task of a line on the fast path; -2 when the line needs the general path to name it. */
  private fastTid(L: StraceLine): number {
    const tid = L.tid;
    if (this.defaultTid >= 0) return tid >= 0 ? tid : this.defaultTid;
    if (tid >= 0) return this.soleTid === tid || this.effects.tasks.has(tid) ? tid : -2;
    return this.soleTid >= 0 ? this.soleTid : -1;
  }

  /**
   * One line on the fast path: true when it was handled, exactly as generalLine would have.
   * Every check that can send the line to the general path comes before the first change of state.
   */
  private fastLine(L: StraceLine, kind: LineKind, lineNo: number): boolean {
    if (kind > LineKind.Resumed || L.resumedUnfinished) return false;
    const b = L.bytes;
    if (b[L.end - 1] === 100) return false; // "... attached": a message of strace inside the line
    if (L.timeFormat !== this.clock.timeFormat) return false; // the first timestamp, or mixed formats
    const tid = this.fastTid(L);
    if (tid === -2) return false;
    if (kind === LineKind.Call) {
      if (this.pending.has(tid)) return false;
      const ni = knownSyscallIndex(b, L.nameStart, L.nameEnd, L.nameHash);
      if (ni < 0) {
        this.lines++;
        this.at.lineNo = lineNo;
        this.ignoredCalls++;
        return true;
      }
      const sys = SYSCALL_IDS[ni]!;
      const k = fastArgsFromRight(sys);
      if (k === 0 || !parseCallFast(L, b, L.bodyStart, L.end, k, sys !== Sys.Lseek) || !this.effects.fastCheck(sys, L, tid)) return false;
      this.lines++;
      this.at.lineNo = lineNo;
      this.effects.fastApply(sys, ni, L, tid, this.clock.tsNs(L.timeFormat, L.tsSec, L.tsFrac));
      return true;
    }
    if (kind === LineKind.Unfinished) {
      if (this.pending.has(tid)) return false;
      this.lines++;
      this.at.lineNo = lineNo;
      this.startPending(L, tid);
      return true;
    }
    // Resumed
    const p = this.pending.get(tid);
    if (!p || p.nameHash !== L.nameHash) return false;
    if (!p.sys) {
      this.lines++;
      this.at.lineNo = lineNo;
      this.pending.delete(tid);
      this.pending.recycle(p);
      this.ignoredCalls++;
      return true;
    }
    const k = fastArgsFromRight(p.sys);
    if (k === 0) return false;
    const n = p.join(b, L.bodyStart, L.end);
    const J = this.J;
    if (!parseCallFast(J, p.bytes, 0, n, k, p.sys !== Sys.Lseek) || !this.effects.fastCheck(p.sys, J, tid)) return false;
    this.lines++;
    this.at.lineNo = lineNo;
    this.pending.delete(tid);
    this.effects.fastApply(p.sys, p.nameIdx, J, tid, this.clock.tsNs(p.timeFormat, p.tsSec, p.tsFrac));
    this.pending.recycle(p);
    return true;
  }

  /** Any line, tokenized into `L` (of kind `kind`). */
  private generalLine(L: StraceLine, kind: LineKind, lineNo: number): void {
    this.lines++;
    this.at.lineNo = lineNo;
    const b = L.bytes;
    const start = L.start;
    const end = L.end;
    // strace -f writing to stderr prints "strace: Process N attached" in the middle of the
    // line of the call that made the task, then a newline: join the two parts again
    if (b[end - 1] === 100 && end - start > 20) {
      // ...attached / ...detached
      const m = lastStracePrefix(b, start, end);
      if (m >= 0 && STRACE_MESSAGE.test(decodeBytes(b, m, end))) {
        if (m > start) this.carry = b.slice(start, m);
        else
          this.stats.count('strace_message', 'info', 'messages of strace itself ("strace: Process N attached")', {
            file: this.at.fileName,
            line: lineNo,
            text: decodeBytes(b, start, end),
          });
        return;
      }
    }
    if (kind !== LineKind.Malformed && this.defaultTid < 0) {
      if (L.tid >= 0) this.prefixedTid(L);
      else if (this.soleTid >= 0) L.tid = this.soleTid;
    }
    if (kind === LineKind.Malformed) {
      this.malformed(L, 'strace_bad_line', 'line is not a strace output line (garbage, a cut line, or a message of strace itself)');
      return;
    }
    if (kind === LineKind.Blank) return;
    if (L.timeFormat !== TimeFormat.None && this.clock.check(L.timeFormat, L.tsSec)) this.emitter.out.tsBase = this.clock.baseNs;
    const tid = L.tid >= 0 ? L.tid : this.defaultTid;
    switch (kind) {
      case LineKind.Call: {
        const ni = knownSyscallIndex(b, L.nameStart, L.nameEnd, L.nameHash);
        if (this.pending.size !== 0 && this.pending.has(tid)) this.dropPending(tid, 'a new call started');
        if (ni < 0) {
          this.ignoredCalls++;
          return;
        }
        const sys = SYSCALL_IDS[ni]!;
        if (!splitCall(sys, L, b, L.bodyStart, end)) {
          this.malformed(L, 'strace_cut_call', 'system call line without ") = RESULT" (cut or garbled)');
          return;
        }
        this.call(sys, ni, L, tid, L.timeFormat, L.tsSec, L.tsFrac, false);
        return;
      }
      case LineKind.Unfinished:
        if (this.pending.has(tid)) this.dropPending(tid, 'a new call started');
        this.startPending(L, tid);
        return;
      case LineKind.Resumed:
        this.resumed(L, tid);
        return;
      case LineKind.Exit:
        if (this.pending.has(tid)) this.dropPending(tid, 'the task ended');
        this.effects.tasks.exit(tid);
        // strace -f to stderr: lines of the last remaining task carry no "[pid N]" prefix
        if (this.effects.tasks.tasks.size === 1) this.soleTid = this.effects.tasks.tasks.keys().next().value!;
        return;
      default: // signals change no file state
    }
  }

  /** The `<unfinished ...>` half of a call of task `tid`: kept until its `<... resumed>` half. */
  private startPending(L: StraceLine, tid: number): void {
    const ni = knownSyscallIndex(L.bytes, L.nameStart, L.nameEnd, L.nameHash);
    const p = this.pending.make();
    const sys = ni >= 0 ? SYSCALL_IDS[ni]! : 0;
    p.sys = sys;
    p.nameIdx = ni;
    p.nameHash = L.nameHash;
    if (sys) p.setHead(L.bytes, L.bodyStart, L.bodyEnd);
    else p.headLen = 0;
    p.timeFormat = L.timeFormat;
    p.tsSec = L.tsSec;
    p.tsFrac = L.tsFrac;
    p.file = this.at.fileIdx;
    p.line = this.at.lineNo;
    this.pending.set(tid, p);
  }

  /**
   * A "[pid N]"/"N " prefixed line. With -f to stderr, lines before the first clone have no
   * prefix; they were filed under task -1, which is the first prefixed task that is no child.
   */
  private prefixedTid(L: StraceLine): void {
    const tid = L.tid;
    const tasks = this.effects.tasks;
    if (this.soleTid === tid || tasks.has(tid)) return;
    const anon = this.pending.get(-1);
    if (anon && (anon.sys === Sys.Fork || anon.sys === Sys.Clone || anon.sys === Sys.Clone3)) {
      // task -1 is inside clone: a new task is its child unless it resumes that very clone
      if (L.kind !== LineKind.Resumed || L.nameHash !== anon.nameHash) return;
    }
    if (tasks.tasks.has(-1) || anon) {
      tasks.rename(-1, tid);
      if (anon) {
        this.pending.delete(-1);
        this.pending.set(tid, anon);
      }
      // rows already written for the unnamed task get its id (once per trace)
      this.emitter.out.renameTask(this.traceStartRow, tid);
    }
    this.soleTid = -1;
  }

  /** The `<... NAME resumed>` half of a call: joined with its head and handled as one call. */
  private resumed(L: StraceLine, tid: number): void {
    const p = this.pending.get(tid);
    if (!p || p.nameHash !== L.nameHash) {
      this.malformed(
        L,
        'strace_resumed_without_start',
        'a "<... NAME resumed>" line whose "<unfinished ...>" part is missing (call ignored)',
      );
      return;
    }
    this.pending.delete(tid);
    if (!p.sys) this.ignoredCalls++;
    else if (L.resumedUnfinished) this.emitUnknownOutcome(p, tid);
    else {
      const n = p.join(L.bytes, L.bodyStart, L.end);
      const J = this.J;
      if (splitCall(p.sys, J, p.bytes, 0, n)) this.call(p.sys, p.nameIdx, J, tid, p.timeFormat, p.tsSec, p.tsFrac, false);
      else this.malformed(L, 'strace_cut_call', 'system call line without ") = RESULT" (cut or garbled)');
    }
    this.pending.recycle(p);
  }

  /** A pending call that never resumed: keep it, flagged; its effect on the file position is unknown. */
  private dropPending(tid: number, why: string): void {
    const p = this.pending.get(tid)!;
    this.pending.delete(tid);
    if (p.sys) {
      this.stats.count(
        'strace_unfinished_never_resumed',
        'data_loss',
        'a call cut by "<unfinished ...>" never resumed; kept with flags=unfinished (outcome unknown)',
        { file: this.fileNames[p.file]!, line: p.line, text: `${p.name}(${p.head.slice(0, 100)} (${why})` },
      );
      this.emitUnknownOutcome(p, tid);
    }
    this.pending.recycle(p);
  }

  private emitUnknownOutcome(p: PendingCall, tid: number): void {
    const J = this.J;
    const n = p.join(UNKNOWN_RETURN, 0, UNKNOWN_RETURN.length);
    if (!parseCallBody(J, p.bytes, 0, n)) return;
    this.call(p.sys, p.nameIdx, J, tid, p.timeFormat, p.tsSec, p.tsFrac, true);
  }

  /** A call split into `L`, of the handled syscall `sys`, at the given timestamp. */
  private call(
    sys: number,
    nameIdx: number,
    L: StraceLine,
    tid: number,
    tf: TimeFormat,
    tsSec: number,
    tsFrac: number,
    unknown: boolean,
  ): void {
    if (this.pending.size !== 0 && !this.effects.tasks.has(tid)) this.adoptEarlyChild(tid);
    this.effects.call(sys, nameIdx, L, tid, this.clock.tsNs(tf, tsSec, tsFrac), unknown);
  }

  /**
   * A task seen for the first time while a clone is in flight (strace prints the child before the
   * parent's clone returns): when exactly one clone/fork is pending, the task is its child.
   */
  private adoptEarlyChild(tid: number): void {
    let parent = -2;
    let p: PendingCall | undefined;
    for (const [t, q] of this.pending) {
      if (q.sys === Sys.Clone || q.sys === Sys.Clone3 || q.sys === Sys.Fork) {
        if (p) return; // two clones in flight: which child is whose is not known
        parent = t;
        p = q;
      }
    }
    if (!p || parent === tid) return;
    let fl = 0;
    if (p.sys !== Sys.Fork) {
      fl = cloneFlagsIn(p.bytes, 0, p.headLen);
      if (fl < 0) return; // the flags were not printed yet
    }
    this.effects.tasks.clone(parent, tid, (fl & CLONE_FILES) !== 0, (fl & CLONE_THREAD) !== 0);
  }

  /** Flush calls left unfinished at the end of a trace and forget its tasks. */
  endTrace(): void {
    for (const tid of [...this.pending.keys()]) this.dropPending(tid, 'end of the log');
    this.effects.endTrace();
  }

  private malformed(L: StraceLine, name: string, description: string): void {
    this.stats.count(name, 'data_loss', description, {
      file: this.at.fileName,
      line: this.at.lineNo,
      text: detach(decodeBytes(L.bytes, L.start, L.end).slice(0, 200)),
    });
  }

  /** End of all input: flush pending calls; returns the table metadata. */
  finish(): Record<string, string> {
    this.endTrace();
    if (!this.finished) {
      this.finished = true;
      this.emitter.finish();
    }
    if (this.ignoredCalls > 0)
      this.stats.count(
        'strace_other_syscalls',
        'info',
        'system calls that do not concern file I/O (ignored)',
        undefined,
        this.ignoredCalls,
      );
    this.ignoredCalls = 0;
    return this.clock.metadata({ source_format: 'strace', sources: this.fileNames.map((f) => f.replace(/^.*[\\/]/, '')).join(',') });
  }
}
