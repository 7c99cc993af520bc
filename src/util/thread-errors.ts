/**
 * An error crossing a worker-thread boundary (structured clone keeps neither its class nor its
 * fields): sent as plain data, rebuilt as the same kind of error on the other side, so a user's
 * error (InputError, UsageError) stays one and its message and place are kept.
 */
import { InputError, UsageError, type InputPlace } from './errors.js';

export interface ThreadError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  place?: InputPlace;
  /** A system call's error: its errno name, the call and its path (NodeJS.ErrnoException). */
  code?: string;
  syscall?: string;
  path?: string;
}

export function toThreadError(e: unknown): ThreadError {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    name: err.name,
    message: err.message,
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(e instanceof InputError ? { file: e.file, ...(e.place !== undefined ? { place: e.place } : {}) } : {}),
    ...systemCallFields(err as NodeJS.ErrnoException),
  };
}

function systemCallFields(e: NodeJS.ErrnoException): Pick<ThreadError, 'code' | 'syscall' | 'path'> {
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e.path === 'string' ? { path: e.path } : {}),
  };
}

/** The error as the same kind of error in this thread (user errors stay user errors). */
export function fromThreadError(e: ThreadError): Error {
  if (e.name === 'InputError' && e.file !== undefined) {
    const err = new InputError(e.file, '', e.place);
    err.message = e.message;
    return err;
  }
  if (e.name === 'UsageError') return new UsageError(e.message);
  const err: NodeJS.ErrnoException = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  if (e.code !== undefined) err.code = e.code;
  if (e.syscall !== undefined) err.syscall = e.syscall;
  if (e.path !== undefined) err.path = e.path;
  return err;
}
