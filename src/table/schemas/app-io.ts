/**
 * app_io: the application layer of the lineage. One row per I/O-relevant system call seen by
 * strace (open/close/dup, read/write families, seeks, syncs, truncate/allocate, file mmaps,
 * io_uring), with the file, the exact file offset, the size and the time of the call.
 */
import { defineTable } from '../table-spec.js';

export const APP_OPS = ['read', 'write', 'sync', 'open', 'close', 'truncate', 'allocate', 'map', 'other'] as const;
export type AppOp = (typeof APP_OPS)[number];

/**
 * Bits of the `flags` column. A row with any of the UNCERTAIN bits set has an outcome or an
 * offset that the log does not determine; it is kept and flagged, never guessed.
 */
export const AppIoFlag = {
  /** The call's `<unfinished ...>` line had no `<... resumed>` line (or resumed with `= ?`): outcome unknown. */
  Unfinished: 1,
  /** The file position before the call was not known (fd from before the trace, an earlier unknown outcome, O_APPEND to a file of unknown size). */
  OffsetUnknown: 2,
  /** The fd was not opened in the trace and strace printed no `-y` path for it. */
  FdUnknown: 4,
  /** io_uring: the I/O goes through shared rings that strace does not show. */
  Invisible: 8,
  /** The requested byte count is not known (abbreviated iovec array). */
  SizeUnknown: 16,
  /** The second row of a two-file call (sendfile, copy_file_range, splice): the write side. */
  SecondHalf: 32,
  /** Interrupted (`= ? ERESTART...`): the call will be restarted; no bytes moved. */
  Interrupted: 64,
} as const;

/** Flags that make a row `uncertain`. */
export const APP_IO_UNCERTAIN = AppIoFlag.Unfinished | AppIoFlag.OffsetUnknown | AppIoFlag.FdUnknown | AppIoFlag.Invisible;

export const appIoTable = defineTable({
  name: 'app_io',
  doc: 'One row per I/O-relevant system call of the traced application (strace -f), in the order the calls completed in the log; sendfile, copy_file_range and splice give two rows (read side, then write side). Offsets of calls that do not state one (read, write, readv, writev) come from a per-open-file-description position tracker (open, dup, fork, lseek, O_APPEND).',
  columns: [
    { name: 'id', type: 'int32', doc: 'Row number, 0-based, in log order; referenced by links_app_guest.upper_id.' },
    {
      name: 'ts_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'strace wall clock (schema metadata "time_base": epoch or time_of_day)',
      doc: 'Start of the call in nanoseconds: Unix epoch time for -ttt logs, time of day (plus the given date, if any) for -tt logs; exact integer, microsecond resolution unless strace printed ns; null when the log has no timestamps.',
    },
    {
      name: 'dur_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      doc: 'Time spent in the call (strace -T), nanoseconds; null without -T or when the call did not finish in the log.',
    },
    {
      name: 'pid',
      type: 'int32',
      doc: 'Process id (thread group id): the pid of the task that created the thread, derived from clone(CLONE_THREAD); equals tid for single-threaded processes; -1 when the log names no task (strace without -f).',
    },
    {
      name: 'tid',
      type: 'int32',
      doc: 'Thread id as printed by strace (the pid column, or the suffix of a -ff file); the process id when the log has neither.',
    },
    { name: 'syscall', type: 'string', index: 'int8', doc: 'System call name as printed by strace (pread64, openat, ...).' },
    {
      name: 'op',
      type: 'string',
      index: 'int8',
      values: APP_OPS,
      doc: 'Operation: read | write | sync | open | close | truncate | allocate | map | other (lseek, dup, fcntl, io_uring).',
    },
    {
      name: 'fd',
      type: 'int32',
      nullable: true,
      doc: 'File descriptor the call acted on (the new fd for open/dup; the first fd for close_range); null for calls without one (sync).',
    },
    {
      name: 'path',
      type: 'string',
      nullable: true,
      doc: 'Path of the file: from the -y decoration when present, else from the open that created the fd (relative to the directory when that was not known); null when unknown. Escapes are decoded (UTF-8); "(deleted)" files keep the path.',
    },
    {
      name: 'offset',
      type: 'int64',
      nullable: true,
      unit: 'bytes',
      doc: 'File offset of the call: stated (pread64, pwritev2, sync_file_range, fallocate, mmap) or tracked (read, write, readv, writev, sendfile); the new length for truncate, the resulting position for lseek; null when not known or not applicable.',
    },
    {
      name: 'bytes_req',
      type: 'int64',
      nullable: true,
      unit: 'bytes',
      doc: 'Bytes requested: the count argument, the sum of iov_len, the length of a range; null when not applicable or not known.',
    },
    {
      name: 'bytes_done',
      type: 'int64',
      nullable: true,
      unit: 'bytes',
      doc: 'Bytes transferred (the return value of read/write families; the mapped length for mmap); 0 for failed calls; null when the outcome is unknown or not applicable.',
    },
    { name: 'direct', type: 'bool', doc: 'The open file description has O_DIRECT (from the open flags or fcntl F_SETFL).' },
    {
      name: 'append',
      type: 'bool',
      doc: 'A write to a description with O_APPEND (or pwritev2 RWF_APPEND): it goes to the end of file; the offset is set only when the file size was known.',
    },
    {
      name: 'error',
      type: 'string',
      index: 'int16',
      nullable: true,
      doc: 'errno name of a failed call (ENOENT, EBADF, ...), ERESTARTSYS-like names for interrupted calls, "error" when strace printed none; null on success.',
    },
    {
      name: 'flags',
      type: 'uint16',
      doc: 'Bit set of AppIoFlag: 1 unfinished (outcome unknown), 2 offset unknown, 4 fd unknown, 8 invisible I/O (io_uring), 16 size unknown, 32 second row of a two-file call, 64 interrupted.',
    },
    {
      name: 'uncertain',
      type: 'bool',
      doc: 'True when flags has 1, 2, 4 or 8: the outcome, the offset or the file of this call cannot be known from the log.',
    },
    { name: 'file', type: 'string', doc: 'Input file (base name) of the line that completed the call.' },
    { name: 'line', type: 'int32', doc: 'Line number (1-based) in that file of the line that completed the call.' },
  ],
});
