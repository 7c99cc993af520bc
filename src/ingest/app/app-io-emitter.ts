/**
 * app_io rows of a strace parse: one row per file-level effect of a call (a call that moves data
 * between two files gives two). Fills the row sink (app-io-rows.ts) with dictionary keys, numbers
 * the row id, and keeps the per-op and per-path counts of the summary.
 */
import { APP_OPS, APP_IO_UNCERTAIN, AppIoFlag, type AppOp, type appIoTable } from '../../table/schemas/app-io.js';
import type { TableBuilder } from '../../table/table-builder.js';
import type { StringColumnBuilder } from '../../table/column-builders.js';
import { InputError } from '../../util/errors.js';
import { AppIoRows } from './app-io-rows.js';
import type { InputPosition } from './strace-clock.js';
import type { OpenFileDescription } from './fd-table.js';
import { SYSCALL_NAMES } from './strace-syscalls.js';
import { detach } from './strace-paths.js';

export type AppIoBuilder = TableBuilder<typeof appIoTable>;

/** Per-op and per-path call and byte counts, for the summary. */
export interface AppIoCounts {
  opCalls: number[];
  opBytes: number[];
  pathCalls: number[];
  pathBytes: number[];
  unresolvedFdCalls: number;
  uncertainCalls: number;
}

/** Index of an op in APP_OPS (a switch on interned strings: no keyed property lookup per row). */
function opIndex(op: AppOp): number {
  switch (op) {
    case 'read':
      return 0;
    case 'write':
      return 1;
    case 'sync':
      return 2;
    case 'open':
      return 3;
    case 'close':
      return 4;
    case 'truncate':
      return 5;
    case 'allocate':
      return 6;
    case 'map':
      return 7;
    default:
      return 8;
  }
}
APP_OPS.forEach((o, i) => {
  if (opIndex(o) !== i) throw new Error(`opIndex(${o}) is not its place in APP_OPS`);
});
const NULL = Number.NaN;

export class AppIoEmitter {
  /** Rows emitted. */
  rows = 0;
  readonly counts: AppIoCounts = {
    opCalls: APP_OPS.map(() => 0),
    opBytes: APP_OPS.map(() => 0),
    pathCalls: [],
    pathBytes: [],
    unresolvedFdCalls: 0,
    uncertainCalls: 0,
  };
  readonly out: AppIoRows;
  readonly cPath: StringColumnBuilder;
  private readonly cSyscall: StringColumnBuilder;
  private readonly cError: StringColumnBuilder;
  private readonly cFile: StringColumnBuilder;
  private readonly opKeys: number[];
  /** syscall column key per SYSCALL_NAMES index; -1 until interned. */
  private readonly syscallKeys = new Int32Array(SYSCALL_NAMES.length).fill(-1);
  /** file column key per source index. */
  private readonly fileKeys: number[] = [];

  // the call being turned into rows (begin sets it, row reads it)
  private ts = NULL;
  private dur = -1;
  private pid = 0;
  private tid = 0;
  private nameIdx = 0;
  private errKey = -1;

  constructor(
    builder: AppIoBuilder,
    private readonly at: InputPosition,
  ) {
    this.out = new AppIoRows(builder);
    this.cSyscall = builder.string('syscall');
    this.cPath = builder.string('path');
    this.cError = builder.string('error');
    this.cFile = builder.string('file');
    const cOp = builder.string('op');
    this.opKeys = APP_OPS.map((o) => cOp.intern(o));
  }

  /** A new source (its base name goes into the `file` column). */
  addSource(name: string): void {
    this.fileKeys.push(this.cFile.intern(name.replace(/^.*[\\/]/, '')));
  }

  /** A new path key: its summary counters. */
  readonly newPath = (k: number): void => {
    this.counts.pathCalls[k] = 0;
    this.counts.pathBytes[k] = 0;
  };

  /** The call whose rows follow: its time, -T duration (-1 none), task, syscall and errno key (-1 none). */
  begin(ts: number, durNs: number, pid: number, tid: number, nameIdx: number, errKey: number): void {
    this.ts = ts;
    this.dur = durNs;
    this.pid = pid;
    this.tid = tid;
    this.nameIdx = nameIdx;
    this.errKey = errKey;
  }

  /** Dictionary key of an errno name; garbled names beyond a few hundred distinct ones share one key. */
  errorKey(name: string): number {
    if (this.cError.dictionary.length >= 512 && !this.cError.dictionary.includes(name)) name = 'E?';
    return this.cError.intern(detach(name));
  }

  /** One row of the current call. Nulls: offset/req/done NaN, fd/pathKey negative. */
  row(
    op: AppOp,
    fd: number,
    d: OpenFileDescription | undefined,
    pathKey: number,
    offset: number | bigint,
    req: number | bigint,
    done: number | bigint,
    append: boolean,
    flags: number,
  ): void {
    const id = this.rows++;
    if (id === 0x7fffffff)
      throw new InputError(this.at.fileName, 'more than 2^31-1 calls: app_io.id is int32; split the log', { line: this.at.lineNo });
    const nameIdx = this.nameIdx;
    let sk = this.syscallKeys[nameIdx]!;
    if (sk < 0) sk = this.syscallKeys[nameIdx] = this.cSyscall.intern(SYSCALL_NAMES[nameIdx]!);
    const oi = opIndex(op);
    const uncertain = (flags & APP_IO_UNCERTAIN) !== 0;
    const durNs = this.dur;
    this.out.add(
      id,
      this.ts,
      durNs >= 0 ? durNs : NULL,
      this.pid,
      this.tid,
      sk,
      this.opKeys[oi]!,
      fd,
      pathKey,
      offset,
      req,
      done,
      d?.direct ?? false,
      append,
      this.errKey,
      flags,
      uncertain,
      this.fileKeys[this.at.fileIdx]!,
      this.at.lineNo,
    );
    const c = this.counts;
    const bytes = typeof done === 'number' ? (Number.isNaN(done) ? 0 : done) : Number(done);
    c.opCalls[oi]!++;
    c.opBytes[oi]! += bytes;
    if (pathKey >= 0) {
      c.pathCalls[pathKey]!++;
      c.pathBytes[pathKey]! += bytes;
    }
    if (flags & AppIoFlag.FdUnknown) c.unresolvedFdCalls++;
    if (uncertain) c.uncertainCalls++;
  }

  /** Hand the last rows to the builders. */
  finish(): void {
    this.out.finish();
  }
}
