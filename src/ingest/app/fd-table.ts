/**
 * Per-process file-descriptor tables with open file descriptions (POSIX.1-2017 XBD 3.258 "Open
 * File Description"): the file position and the O_APPEND/O_DIRECT status flags belong to the
 * description, which dup/dup2/dup3/fcntl(F_DUPFD) and fork share; close drops only the fd.
 * Threads (clone with CLONE_FILES) share the whole table; fork/vfork/clone without CLONE_FILES
 * copy it (clone(2)); a successful execve closes the fds marked close-on-exec (execve(2)).
 */

const NO_BYTES = new Uint8Array(0);
const utf8 = new TextEncoder();

/** What is known about one file (by path) across the trace. */
export class FileState {
  /** File size in bytes; -1 when not known (the file existed before the trace). */
  size = -1;
}

/** An open file description. */
export class OpenFileDescription {
  /** File position in bytes; -1 when not known. */
  pos = 0;
  /** The raw -y decoration text last seen for this description (a cache; '' when none). */
  raw = '';
  /** `raw` as UTF-8, for comparing with the bytes of a line. */
  rawBytes: Uint8Array = NO_BYTES;
  constructor(
    /** Key of the path in the app_io path dictionary; -1 when unknown. */
    public pathKey: number,
    public readonly file: FileState,
    public append: boolean,
    public direct: boolean,
    /** A regular file or block device (has a position); false for pipes, sockets, anon inodes. */
    public seekable: boolean,
  ) {}

  setRaw(raw: string): void {
    if (raw === this.raw) return;
    this.raw = raw;
    this.rawBytes = raw === '' ? NO_BYTES : utf8.encode(raw);
  }
}

/** The fd table of a process (or of threads sharing one). */
export class FdTable {
  /** The descriptions by fd. Change it only through set/close/exec (they keep `get`'s cache right). */
  readonly fds = new Map<number, OpenFileDescription>();
  readonly cloexec = new Set<number>();
  /** The fd last looked up with `get` and its description (a task mostly works on one fd at a time). */
  private lastFd = -1;
  private lastDesc: OpenFileDescription | undefined = undefined;

  get(fd: number): OpenFileDescription | undefined {
    if (fd === this.lastFd) return this.lastDesc;
    const d = this.fds.get(fd);
    this.lastFd = fd;
    this.lastDesc = d;
    return d;
  }
  set(fd: number, d: OpenFileDescription, cloexec: boolean): void {
    this.fds.set(fd, d);
    if (fd === this.lastFd) this.lastDesc = d;
    if (cloexec) this.cloexec.add(fd);
    else this.cloexec.delete(fd);
  }
  close(fd: number): void {
    this.fds.delete(fd);
    this.cloexec.delete(fd);
    if (fd === this.lastFd) this.lastDesc = undefined;
  }
  /** fork: a new table whose fds refer to the same descriptions. */
  copy(): FdTable {
    const t = new FdTable();
    for (const [fd, d] of this.fds) t.fds.set(fd, d);
    for (const fd of this.cloexec) t.cloexec.add(fd);
    return t;
  }
  /** execve: close the close-on-exec fds. */
  exec(): void {
    for (const fd of this.cloexec) this.fds.delete(fd);
    this.cloexec.clear();
    this.lastFd = -1;
    this.lastDesc = undefined;
  }
}

/** A traced task (thread): its process id and its fd table. */
export class Task {
  constructor(
    public tgid: number,
    public fds: FdTable,
  ) {}
}

/** All tasks of one trace. Unknown tasks get a fresh table until their clone is seen. */
export class TaskTracker {
  readonly tasks = new Map<number, Task>();

  /**
   * A direct-mapped cache of recent tasks by tid (slot tid & 63): traces interleave the lines of
   * a few busy threads, and a Map lookup per line is a large part of a line's cost. Cleared
   * whenever a task is added under a known tid, removed or renamed.
   */
  private readonly cacheTid = new Int32Array(64).fill(-2);
  private readonly cacheTask: (Task | undefined)[] = new Array<Task | undefined>(64).fill(undefined);

  task(tid: number): Task {
    const slot = tid & 63;
    if (this.cacheTid[slot] === tid) return this.cacheTask[slot]!;
    let t = this.tasks.get(tid);
    if (!t) {
      t = new Task(tid, new FdTable());
      this.tasks.set(tid, t);
    }
    this.cacheTid[slot] = tid;
    this.cacheTask[slot] = t;
    return t;
  }

  /** Whether `tid` is a known task. */
  has(tid: number): boolean {
    return this.cacheTid[tid & 63] === tid || this.tasks.has(tid);
  }

  private forget(): void {
    this.cacheTid.fill(-2);
    this.cacheTask.fill(undefined);
  }

  /**
   * A clone/fork returned `child` in `parent`. The child may already have printed lines (strace
   * shows the child before the parent's call returns): what it opened meanwhile is kept.
   */
  clone(parent: number, child: number, shareFiles: boolean, thread: boolean): void {
    const p = this.task(parent);
    const early = this.tasks.get(child);
    let fds: FdTable;
    if (shareFiles) {
      fds = p.fds;
      if (early) for (const [fd, d] of early.fds.fds) fds.set(fd, d, early.fds.cloexec.has(fd));
    } else {
      fds = p.fds.copy();
      if (early) for (const [fd, d] of early.fds.fds) fds.set(fd, d, early.fds.cloexec.has(fd));
    }
    const tgid = thread ? p.tgid : child;
    if (early) {
      early.fds = fds;
      early.tgid = tgid;
    } else this.tasks.set(child, new Task(tgid, fds));
    this.forget();
  }

  exit(tid: number): void {
    this.tasks.delete(tid);
    this.forget();
  }

  /** The task known as `from` turns out to be `to` (a pid learnt late). */
  rename(from: number, to: number): void {
    const t = this.tasks.get(from);
    if (!t) return;
    this.tasks.delete(from);
    if (t.tgid === from) t.tgid = to;
    for (const o of this.tasks.values()) if (o.tgid === from) o.tgid = to;
    this.tasks.set(to, t);
    this.forget();
  }
}
