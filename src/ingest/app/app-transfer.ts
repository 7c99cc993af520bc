/**
 * The transfer rows of app_io (read and write calls of syscall-effects.ts): where a transfer goes
 * in its file, and how it moves the description's file position and the file's size.
 */
import { AppIoFlag, type AppOp } from '../../table/schemas/app-io.js';
import type { OpenFileDescription } from './fd-table.js';
import type { AppIoEmitter } from './app-io-emitter.js';

const NULL = Number.NaN;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * One transfer row; moves the file position of stream calls. `stated` is the call's own offset
 * (NaN: use the description's position).
 */
export function transfer(
  rows: AppIoEmitter,
  op: AppOp,
  fd: number,
  d: OpenFileDescription | undefined,
  stated: number | bigint,
  req: number | bigint,
  done: number | bigint,
  ok: boolean,
  unknown: boolean,
  rwfAppend: boolean,
  flags: number,
  write: boolean,
): void {
  const key = d?.pathKey ?? -1;
  if (!d || key < 0) flags |= AppIoFlag.FdUnknown;
  const positional = !(typeof stated === 'number' && Number.isNaN(stated));
  let offset: number | bigint = NULL;
  let append = false;
  const n = typeof done === 'number' && !Number.isNaN(done) ? done : -1;
  if (!d) {
    if (positional) offset = stated;
    else flags |= AppIoFlag.OffsetUnknown;
  } else if (write && (rwfAppend || d.append)) {
    // O_APPEND (open(2)) and RWF_APPEND (pwritev2(2)): the write goes to the end of the file,
    // pwrite too on Linux (pwrite(2) BUGS); positional calls leave the file position alone
    append = true;
    if (d.file.size >= 0) offset = d.file.size;
    else flags |= AppIoFlag.OffsetUnknown;
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
    if (d.pos >= 0) offset = d.pos;
    else flags |= AppIoFlag.OffsetUnknown;
    if (unknown) d.pos = -1;
    else if (ok && n >= 0 && d.pos >= 0) {
      d.pos += n;
      if (d.pos > MAX_SAFE) d.pos = -1;
      if (write && d.file.size >= 0 && d.pos > d.file.size) d.file.size = d.pos;
    } else if (ok && write && d.file.size >= 0) d.file.size = -1;
  }
  if (unknown && write && d) d.file.size = -1;
  rows.row(op, fd, d, key, offset, req, done, append, flags);
}
