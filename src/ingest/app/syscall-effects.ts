/**
 * What each handled system call does to the state a trace builds up (fd-table.ts: fd tables, open
 * file descriptions with their file positions; strace-paths.ts: file sizes), and the app_io rows
 * it gives. The semantics are those of the Linux man pages of each call (cited where a detail
 * matters). A call whose outcome or offset the log does not determine is kept with AppIoFlag
 * bits, never guessed.
 */
import { AppIoFlag } from '../../table/schemas/app-io.js';
import { FileState, OpenFileDescription, TaskTracker, type FdTable } from './fd-table.js';
import type { AppIoEmitter } from './app-io-emitter.js';
import type { PathTable } from './strace-paths.js';
import type { StraceLine } from './strace-line.js';
import {
  argFlag,
  argInt,
  argIs,
  bracketInt,
  cloneFlags,
  CLONE_FILES,
  CLONE_THREAD,
  F_APPEND,
  F_CLOEXEC,
  F_DIRECT,
  F_EXCL,
  F_TRUNC,
  F_WRITE,
  fdArg,
  iovBytes,
  openFlags,
  retInt,
} from './strace-args.js';
import { bytesEqual, decimalBytes, decodeBytes, findBytes, intAt } from './strace-bytes.js';
import { Sys } from './strace-syscalls.js';
import { transfer } from './app-transfer.js';

const NULL = Number.NaN;

/** How a call ended, as its return part tells (one object, reused from call to call). */
class Outcome {
  /** The return value (NaN when "?" or absent). */
  ret: number | bigint = NULL;
  /** It succeeded: no errno, not -1, not "?", not cut by the end of its task. */
  ok = false;
  /** It never resumed (its task ended inside it, or the log did): the outcome is not known. */
  unknown = false;
  /** AppIoFlag bits every row of the call carries. */
  flags = 0;
}

export class SyscallEffects {
  tasks = new TaskTracker();
  private readonly o = new Outcome();
  constructor(
    private readonly paths: PathTable,
    private readonly rows: AppIoEmitter,
  ) {}

  /** A new trace: no task and no file is known. */
  endTrace(): void {
    this.tasks = new TaskTracker();
    this.paths.endTrace();
  }

  /**
   * The call split into `L` (parseCallBody or parseCallFast), of task `tid`, at `ts` (ts_ns
   * relative to the time base). `unknown`: it never resumed (its return part is "?").
   */
  call(sys: number, nameIdx: number, L: StraceLine, tid: number, ts: number, unknown: boolean): void {
    const task = this.tasks.task(tid);
    const table = task.fds;
    const b = L.bytes;
    const o = this.o;
    const ret = retInt(L);
    const failed = L.errStart >= 0 || ret === -1;
    const interrupted = L.retStart >= 0 && b[L.retStart] === 63 && !unknown; // "?"
    o.ret = ret;
    o.unknown = unknown;
    o.ok = !failed && !interrupted && !unknown;
    const errKey = L.errStart >= 0 ? this.rows.errorKey(decodeBytes(b, L.errStart, L.errEnd)) : failed ? this.rows.errorKey('error') : -1;
    o.flags = unknown ? AppIoFlag.Unfinished : interrupted ? AppIoFlag.Interrupted : 0;
    this.rows.begin(ts, L.durNs, task.tgid, tid, nameIdx, errKey);
    switch (sys) {
      case Sys.Open:
      case Sys.OpenAt:
      case Sys.OpenAt2:
      case Sys.Creat:
        this.open(sys, L, table, o);
        return;
      case Sys.Close:
        this.close(L, table, o);
        return;
      case Sys.CloseRange:
        this.closeRange(L, table, o);
        return;
      case Sys.Dup:
      case Sys.Dup2:
      case Sys.Dup3:
      case Sys.Fcntl:
        this.dupOrFcntl(sys, L, table, o);
        return;
      case Sys.Read:
      case Sys.Write:
      case Sys.Readv:
      case Sys.Writev:
      case Sys.Pread:
      case Sys.Pwrite:
      case Sys.Preadv:
      case Sys.Pwritev:
      case Sys.Preadv2:
      case Sys.Pwritev2:
        this.readOrWrite(sys, L, table, o);
        return;
      case Sys.Lseek:
      case Sys.Llseek:
        this.seek(sys, L, table, o);
        return;
      case Sys.Fsync:
      case Sys.SyncFileRange:
      case Sys.Sync:
        this.sync(sys, L, table, o);
        return;
      case Sys.Ftruncate:
      case Sys.Truncate:
        this.truncate(sys, L, table, o);
        return;
      case Sys.Fallocate:
        this.fallocate(L, table, o);
        return;
      case Sys.Sendfile:
      case Sys.CopyFileRange:
      case Sys.Splice:
        this.copy(sys, L, table, o);
        return;
      case Sys.Mmap:
      case Sys.Mmap2:
        this.mmap(sys, L, table, o);
        return;
      case Sys.IoUringSetup:
      case Sys.IoUringEnter:
        this.ioUring(sys, L, table, o);
        return;
      case Sys.Fork:
      case Sys.Clone:
      case Sys.Clone3: {
        if (!o.ok || typeof ret !== 'number' || ret <= 0) return;
        const fl = sys === Sys.Fork ? 0 : cloneFlags(L);
        this.tasks.clone(tid, ret, (fl & CLONE_FILES) !== 0, (fl & CLONE_THREAD) !== 0);
        return;
      }
      case Sys.Execve:
        if (o.ok) table.exec();
        return;
      case Sys.Stat:
        if (o.ok) this.statSize(L, table);
        return;
    }
  }

  /** open/openat/openat2/creat: a new description at position 0 (O_TRUNC/O_EXCL/creat: an empty file). */
  private open(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    const b = L.bytes;
    const pathArg = sys === Sys.Open || sys === Sys.Creat ? 0 : 1;
    const dirKey = pathArg === 1 ? this.paths.decorated(b, L.argStart[0]!, L.argEnd[0]!) : -1;
    const fl = sys === Sys.Creat ? F_WRITE | F_TRUNC : openFlags(L, pathArg + 1);
    let key = o.ok ? this.paths.decorated(b, L.retStart, L.retEnd) : -1;
    if (key < 0 && pathArg < L.argc) key = this.paths.quoted(b, L.argStart[pathArg]!, L.argEnd[pathArg]!, dirKey);
    const fd = o.ok && typeof o.ret === 'number' ? o.ret : -1;
    let d: OpenFileDescription | undefined;
    let flags = o.flags;
    if (fd >= 0) {
      const seek = key < 0 || this.paths.seekable(key);
      d = new OpenFileDescription(key, this.paths.fileState(key), (fl & F_APPEND) !== 0, (fl & F_DIRECT) !== 0, seek);
      if ((fl & F_TRUNC && fl & F_WRITE) || fl & F_EXCL) d.file.size = 0;
      table.set(fd, d, (fl & F_CLOEXEC) !== 0);
    } else if (o.unknown) flags |= AppIoFlag.FdUnknown;
    this.rows.row('open', fd, d, key, NULL, NULL, NULL, false, flags);
  }

  private close(L: StraceLine, table: FdTable, o: Outcome): void {
    const fd = fdArg(L, 0);
    const d = table.fds.get(fd);
    const key = this.paths.decorated(L.bytes, L.argStart[0]!, L.argEnd[0]!);
    if (!o.unknown) table.close(fd); // close(2): the fd is released even when close fails with EIO/EINTR
    this.rows.row(
      'close',
      fd,
      d,
      key >= 0 ? key : (d?.pathKey ?? -1),
      NULL,
      NULL,
      NULL,
      false,
      o.flags | (key < 0 && !d ? AppIoFlag.FdUnknown : 0),
    );
  }

  private closeRange(L: StraceLine, table: FdTable, o: Outcome): void {
    const first = argInt(L, 0);
    const last = argInt(L, 1);
    if (o.ok && typeof first === 'number') {
      const hi = typeof last === 'number' ? last : Number.MAX_SAFE_INTEGER;
      const cloexecOnly = argFlag(L, 2, 'CLOSE_RANGE_CLOEXEC', 4); // linux/close_range.h
      for (const fd of [...table.fds.keys()]) {
        if (fd >= first && fd <= hi) {
          if (cloexecOnly) table.cloexec.add(fd);
          else table.close(fd);
        }
      }
    }
    this.rows.row('close', typeof first === 'number' ? first : -1, undefined, -1, NULL, NULL, NULL, false, o.flags);
  }

  /** dup/dup2/dup3 and fcntl F_DUPFD/F_DUPFD_CLOEXEC (a new fd on the same description), F_SETFL, F_SETFD. */
  private dupOrFcntl(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    const fd = fdArg(L, 0);
    let cloexec = false;
    if (sys === Sys.Fcntl) {
      // fcntl commands and FD_CLOEXEC: asm-generic/fcntl.h (F_DUPFD 0, F_SETFD 2, F_SETFL 4, F_DUPFD_CLOEXEC 1030)
      if (argIs(L, 1, 'F_SETFL', 4)) {
        const d = this.desc(table, fd, L, 0);
        if (d && o.ok) {
          const fl = openFlags(L, 2);
          d.append = (fl & F_APPEND) !== 0;
          d.direct = (fl & F_DIRECT) !== 0;
        }
        this.rows.row('other', fd, d, d?.pathKey ?? -1, NULL, NULL, NULL, false, o.flags);
        return;
      }
      if (argIs(L, 1, 'F_SETFD', 2)) {
        if (o.ok) {
          if (argFlag(L, 2, 'FD_CLOEXEC', 1)) table.cloexec.add(fd);
          else table.cloexec.delete(fd);
        }
        return;
      }
      cloexec = argIs(L, 1, 'F_DUPFD_CLOEXEC', 1030);
      if (!cloexec && !argIs(L, 1, 'F_DUPFD', 0)) return;
    } else if (sys === Sys.Dup3) cloexec = argFlag(L, 2, 'O_CLOEXEC', 0o2000000);
    const d = this.desc(table, fd, L, 0);
    const nfd = o.ok && typeof o.ret === 'number' ? o.ret : -1;
    if (nfd >= 0 && d) table.set(nfd, d, cloexec);
    if (o.unknown && sys !== Sys.Dup && sys !== Sys.Fcntl) {
      const t = fdArg(L, 1);
      if (t >= 0) table.close(t);
    }
    const key = nfd >= 0 ? this.paths.decorated(L.bytes, L.retStart, L.retEnd) : -1;
    this.rows.row('other', nfd >= 0 ? nfd : fd, d, key >= 0 ? key : (d?.pathKey ?? -1), NULL, NULL, NULL, false, o.flags);
  }

  private readOrWrite(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    const write = sys === Sys.Write || sys === Sys.Writev || sys === Sys.Pwrite || sys === Sys.Pwritev || sys === Sys.Pwritev2;
    const vec = sys === Sys.Readv || sys === Sys.Writev || sys >= Sys.Preadv;
    const fd = fdArg(L, 0);
    const d = this.desc(table, fd, L, 0);
    let flags = o.flags;
    let req: number | bigint = NULL;
    if (vec) {
      req = iovBytes(L, 1);
      if (Number.isNaN(req as number)) flags |= AppIoFlag.SizeUnknown;
    } else req = argInt(L, 2);
    let stated: number | bigint = NULL;
    if (sys === Sys.Pread || sys === Sys.Pwrite || sys >= Sys.Preadv) stated = argInt(L, 3);
    // preadv2/pwritev2 with offset -1 use and move the file position (preadv2(2))
    const positional =
      (sys === Sys.Pread || sys === Sys.Pwrite || sys >= Sys.Preadv) && !(stated === -1 && (sys === Sys.Preadv2 || sys === Sys.Pwritev2));
    const rwfAppend = sys === Sys.Pwritev2 && argFlag(L, 4, 'RWF_APPEND', 0x10); // linux/fs.h
    const done = o.unknown ? NULL : o.ok ? o.ret : 0;
    transfer(this.rows, write ? 'write' : 'read', fd, d, positional ? stated : NULL, req, done, o.ok, o.unknown, rwfAppend, flags, write);
  }

  private seek(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    const fd = fdArg(L, 0);
    const d = this.desc(table, fd, L, 0);
    const off = argInt(L, 1);
    let newPos: number | bigint;
    let whence: number;
    // lseek(fd, offset, whence) returns the new position; _llseek(fd, offset, [result], whence)
    // stores it in result (strace prints offset_high<<32|offset_low as one offset)
    if (sys === Sys.Lseek) {
      newPos = o.ok ? o.ret : NULL;
      whence = 2;
    } else {
      newPos = o.ok ? bracketInt(L, 2) : NULL;
      whence = 3;
    }
    if (d) {
      if (o.ok && typeof newPos === 'number' && !Number.isNaN(newPos)) {
        d.pos = newPos;
        if (argIs(L, whence, 'SEEK_END', 2) && typeof off === 'number' && d.seekable) d.file.size = newPos - off;
      } else if (o.unknown || (o.ok && typeof newPos !== 'number')) d.pos = -1;
    }
    this.rows.row('other', fd, d, d?.pathKey ?? -1, newPos, NULL, NULL, false, o.flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0));
  }

  private sync(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    if (sys === Sys.Sync) {
      this.rows.row('sync', -1, undefined, -1, NULL, NULL, NULL, false, o.flags);
      return;
    }
    const fd = fdArg(L, 0);
    const d = this.desc(table, fd, L, 0);
    const range = sys === Sys.SyncFileRange;
    this.rows.row(
      'sync',
      fd,
      d,
      d?.pathKey ?? -1,
      range ? argInt(L, 1) : NULL,
      range ? argInt(L, 2) : NULL,
      NULL,
      false,
      o.flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0),
    );
  }

  private truncate(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    let d: OpenFileDescription | undefined;
    let key: number;
    let fd = -1;
    if (sys === Sys.Ftruncate) {
      fd = fdArg(L, 0);
      d = this.desc(table, fd, L, 0);
      key = d?.pathKey ?? -1;
    } else key = this.paths.quoted(L.bytes, L.argStart[0]!, L.argEnd[0]!, -1);
    const len = argInt(L, 1);
    if (o.ok && typeof len === 'number' && !Number.isNaN(len)) (d ? d.file : this.paths.fileState(key)).size = len;
    else if (o.unknown) (d ? d.file : this.paths.fileState(key)).size = -1;
    this.rows.row('truncate', fd, d, key, len, NULL, NULL, false, o.flags | (key < 0 ? AppIoFlag.FdUnknown : 0));
  }

  private fallocate(L: StraceLine, table: FdTable, o: Outcome): void {
    const fd = fdArg(L, 0);
    const d = this.desc(table, fd, L, 0);
    const off = argInt(L, 2);
    const len = argInt(L, 3);
    if (d && d.file.size >= 0) {
      // linux/falloc.h: KEEP_SIZE 1, PUNCH_HOLE 2, COLLAPSE_RANGE 8, INSERT_RANGE 0x20
      const keep = argFlag(L, 1, 'FALLOC_FL_KEEP_SIZE', 1) || argFlag(L, 1, 'FALLOC_FL_PUNCH_HOLE', 2);
      const changes = argFlag(L, 1, 'FALLOC_FL_COLLAPSE_RANGE', 8) || argFlag(L, 1, 'FALLOC_FL_INSERT_RANGE', 0x20);
      if (o.unknown || changes) d.file.size = -1;
      else if (o.ok && !keep && typeof off === 'number' && typeof len === 'number') d.file.size = Math.max(d.file.size, off + len);
    }
    this.rows.row('allocate', fd, d, d?.pathKey ?? -1, off, len, NULL, false, o.flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0));
  }

  /** sendfile/copy_file_range/splice: a read row for the input, a write row for the output. */
  private copy(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    // sendfile(out_fd, in_fd, offset_ptr, count); copy_file_range/splice(fd_in, off_in_ptr, fd_out, off_out_ptr, len, flags)
    const send = sys === Sys.Sendfile;
    const inFd = fdArg(L, send ? 1 : 0);
    const outFd = fdArg(L, send ? 0 : 2);
    const dIn = this.desc(table, inFd, L, send ? 1 : 0);
    const dOut = this.desc(table, outFd, L, send ? 0 : 2);
    const inOff = bracketInt(L, send ? 2 : 1);
    const outOff = send ? NULL : bracketInt(L, 3);
    const req = argInt(L, send ? 3 : 4);
    const done = o.unknown ? NULL : o.ok ? o.ret : 0;
    transfer(this.rows, 'read', inFd, dIn, inOff, req, done, o.ok, o.unknown, false, o.flags, false);
    transfer(this.rows, 'write', outFd, dOut, outOff, req, done, o.ok, o.unknown, false, o.flags | AppIoFlag.SecondHalf, true);
  }

  private mmap(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    const fd = fdArg(L, 4);
    if (fd < 0) return; // anonymous mapping
    const d = this.desc(table, fd, L, 4);
    const b = L.bytes;
    let off = argInt(L, 5);
    if (sys === Sys.Mmap2 && typeof off === 'number') off *= 4096; // mmap2(2): offset in 4096-byte units
    if (L.argc > 5 && b[L.argStart[5]!] === 48 && b[L.argStart[5]! + 1] === 120)
      off = parseInt(L.arg(5).slice(2), 16) * (sys === Sys.Mmap2 ? 4096 : 1);
    const len = argInt(L, 1);
    this.rows.row(
      'map',
      fd,
      d,
      d?.pathKey ?? -1,
      off,
      len,
      o.unknown ? NULL : o.ok ? len : 0,
      false,
      o.flags | (!d || d.pathKey < 0 ? AppIoFlag.FdUnknown : 0),
    );
  }

  /** io_uring_setup/io_uring_enter: the I/O itself is not in the log (flag Invisible). */
  private ioUring(sys: number, L: StraceLine, table: FdTable, o: Outcome): void {
    if (sys === Sys.IoUringSetup) {
      const fd = o.ok && typeof o.ret === 'number' ? o.ret : -1;
      const key = fd >= 0 ? this.paths.decorated(L.bytes, L.retStart, L.retEnd) : -1;
      if (fd >= 0) table.set(fd, new OpenFileDescription(key, new FileState(), false, false, false), false);
      this.rows.row('other', fd, undefined, key, NULL, NULL, NULL, false, o.flags | AppIoFlag.Invisible);
      return;
    }
    const fd = fdArg(L, 0);
    const d = this.desc(table, fd, L, 0);
    this.rows.row('other', fd, undefined, d?.pathKey ?? -1, NULL, NULL, NULL, false, o.flags | AppIoFlag.Invisible);
  }

  /** File sizes seen in fstat/newfstatat/statx results of regular files. */
  private statSize(L: StraceLine, table: FdTable): void {
    const t = L.bytes;
    const s0 = L.argStart[0]!;
    const e0 = L.retStart;
    let k = findBytes(t, 'st_size=', s0, e0);
    let n = 8;
    if (k < 0) {
      k = findBytes(t, 'stx_size=', s0, e0);
      n = 9;
    }
    if (k < 0 || findBytes(t, 'S_IFREG', s0, e0) < 0) return;
    const size = intAt(t, k + n, L.retStart);
    if (typeof size !== 'number' || Number.isNaN(size)) return;
    // fstat(fd, ...) or f?statat(dirfd, "path"|"", ...) or stat("path", ...)
    let key = -1;
    if (t[L.argStart[0]!] === 34) key = this.paths.quoted(t, L.argStart[0]!, L.argEnd[0]!, -1);
    else if (L.argc > 1 && t[L.argStart[1]!] === 34 && L.argEnd[1]! - L.argStart[1]! > 2) {
      key = this.paths.quoted(t, L.argStart[1]!, L.argEnd[1]!, this.paths.decorated(t, L.argStart[0]!, L.argEnd[0]!));
    } else {
      const fd = fdArg(L, 0);
      const d = fd >= 0 ? table.fds.get(fd) : undefined;
      if (d) {
        if (d.seekable) d.file.size = size;
        return;
      }
      key = this.paths.decorated(t, L.argStart[0]!, L.argEnd[0]!);
    }
    if (key >= 0 && this.paths.seekable(key)) this.paths.fileState(key).size = size;
  }

  /** The description of fd arg i; created (position unknown) when the fd was opened before the trace. */
  private desc(table: FdTable, fd: number, L: StraceLine, i: number): OpenFileDescription | undefined {
    if (fd < 0) return undefined;
    const d = table.fds.get(fd);
    let decoKey = -1;
    let raw = '';
    if (i < L.argc) {
      const b = L.bytes;
      const s = L.argStart[i]!;
      const e = L.argEnd[i]!;
      let k = s;
      while (k < e && b[k]! >= 48 && b[k]! <= 57) k++;
      if (k < e && b[k] === 60) {
        if (d !== undefined && sameDecoration(d, b, k, e)) decoKey = d.pathKey;
        else {
          decoKey = this.paths.decorated(b, s, e);
          raw = this.paths.lastRaw;
        }
      }
    }
    return this.withDecoration(table, fd, d, decoKey, raw);
  }

  /**
   * The description behind `fd` after its -y decoration was read (decoKey -1: none): a
   * description first seen here (fd opened before the trace) is made from the path; a known one
   * takes the path the decoration names (it may be newer than what the trace showed).
   */
  withDecoration(table: FdTable, fd: number, d: OpenFileDescription | undefined, decoKey: number, raw: string): OpenFileDescription {
    if (!d) {
      d = new OpenFileDescription(decoKey, this.paths.fileState(decoKey), false, false, decoKey < 0 || this.paths.seekable(decoKey));
      d.pos = -1;
      d.setRaw(raw);
      table.set(fd, d, false);
    } else if (decoKey >= 0 && raw !== '') {
      d.pathKey = decoKey;
      d.setRaw(raw);
    }
    return d;
  }

  // ---- the fast path: read/write/pread64/pwrite64/lseek lines of the common shape

  /** What fastCheck read from the line, for fastApply. */
  private fastFd = 0;
  private fastA = 0;
  private fastStated = NULL;
  private fastSeekEnd = false;
  private fastRet = 0;

  /**
   * Whether the call split into `L` by parseCallFast can take the fast path: a plain fd (with no
   * -y decoration or a plain absolute path), a plain decimal return value below 2^53 (success, no
   * errno), plain decimal arguments, a symbolic whence, and a known task (a task's first line may
   * adopt a clone child). Changes no state; fastApply then does the call.
   */
  fastCheck(sys: number, L: StraceLine, tid: number): boolean {
    const ret = L.plainRet;
    const fd = L.plainFd;
    if (ret < 0 || fd < 0 || L.decoAt === -2 || !this.tasks.has(tid)) return false;
    const b = L.bytes;
    const as = L.argStart;
    const ae = L.argEnd;
    const lseek = sys === Sys.Lseek;
    // lseek(fd, offset, whence); read/write(fd, buf, count); pread64/pwrite64(fd, buf, count, offset)
    const a = decimalBytes(b, as[lseek ? 1 : 2]!, ae[lseek ? 1 : 2]!);
    if (a === Number.POSITIVE_INFINITY) return false;
    let stated = NULL;
    let seekEnd = false;
    if (lseek) {
      // a symbolic whence (SEEK_SET, SEEK_END, ...): one word, so SEEK_END is all of it or absent
      for (let j = as[2]!; j < ae[2]!; j++) {
        const c = b[j]!;
        if (!((c >= 65 && c <= 90) || c === 95)) return false;
      }
      seekEnd = ae[2]! - as[2]! === 8 && bytesEqual(b, as[2]!, 'SEEK_END');
    } else if (sys === Sys.Pread || sys === Sys.Pwrite) {
      stated = decimalBytes(b, as[3]!, ae[3]!);
      if (stated === Number.POSITIVE_INFINITY) return false;
    }
    this.fastFd = fd;
    this.fastA = a;
    this.fastStated = stated;
    this.fastSeekEnd = seekEnd;
    this.fastRet = ret;
    return true;
  }

  /** The call fastCheck accepted, at `ts`: what `call` does with it, with less reading. */
  fastApply(sys: number, nameIdx: number, L: StraceLine, tid: number, ts: number): void {
    const task = this.tasks.task(tid);
    const table = task.fds;
    this.rows.begin(ts, L.durNs, task.tgid, tid, nameIdx, -1);
    const fd = this.fastFd;
    const d = this.fastDesc(table, fd, L);
    const ret = this.fastRet;
    if (sys === Sys.Lseek) {
      d.pos = ret;
      if (this.fastSeekEnd && d.seekable) d.file.size = ret - this.fastA;
      this.rows.row('other', fd, d, d.pathKey, ret, NULL, NULL, false, d.pathKey < 0 ? AppIoFlag.FdUnknown : 0);
      return;
    }
    const write = sys === Sys.Write || sys === Sys.Pwrite;
    transfer(this.rows, write ? 'write' : 'read', fd, d, this.fastStated, this.fastA, ret, true, false, false, 0, write);
  }

  /** `desc` for argument 0 of a fast-path call (decoAt: its plain -y decoration, or -1). */
  private fastDesc(table: FdTable, fd: number, L: StraceLine): OpenFileDescription {
    const d = table.get(fd);
    let decoKey = -1;
    let raw = '';
    const k = L.decoAt;
    if (k >= 0) {
      if (d !== undefined && sameDecoration(d, L.bytes, k, L.argEnd[0]!)) decoKey = d.pathKey;
      else {
        decoKey = this.paths.decorated(L.bytes, L.argStart[0]!, L.argEnd[0]!);
        raw = this.paths.lastRaw;
      }
    }
    return this.withDecoration(table, fd, d, decoKey, raw);
  }
}

/**
 * Whether the decoration whose '<' is at b[k] repeats the raw text last seen on `d` (then its
 * path is known without a lookup): the same bytes, closed by '>' (or a -yy '<' suffix) before `e`.
 */
function sameDecoration(d: OpenFileDescription, b: Uint8Array, k: number, e: number): boolean {
  const raw = d.rawBytes;
  const n = raw.length;
  if (n === 0) return false;
  const after = k + 1 + n;
  if (after >= e || (b[after] !== 62 && b[after] !== 60)) return false;
  for (let i = 0, j = k + 1; i < n; i++, j++) if (b[j] !== raw[i]) return false;
  return true;
}
