/**
 * Errors a user can act on. The CLI prints their message without a stack trace, as it does for a
 * system call that failed because of the machine's state (a full disk: environmentProblem);
 * anything else that escapes is reported as an internal error.
 */

/** Where in an input a problem was found: a line (text inputs) or a byte offset (binary inputs). */
export interface InputPlace {
  line?: number;
  offset?: number | bigint;
  /** The structure being read, e.g. "superblock", "L2 table", "blk_io_trace record". */
  what?: string;
}

function placeText(file: string, place: InputPlace | undefined): string {
  if (!place) return file;
  const parts: string[] = [];
  if (place.line !== undefined) parts.push(`line ${place.line}`);
  if (place.offset !== undefined) parts.push(`byte offset ${formatOffset(place.offset)}`);
  const where = parts.length ? `${file}:${parts.join(', ')}` : file;
  return place.what ? `${where} (${place.what})` : where;
}

/** Format a byte offset as decimal and hex, e.g. "4096 (0x1000)". */
export function formatOffset(offset: number | bigint): string {
  return `${offset} (0x${offset.toString(16)})`;
}

/** An input file whose structure is broken or unsupported: names the file and the place. */
export class InputError extends Error {
  readonly file: string;
  readonly place: InputPlace | undefined;
  constructor(file: string, message: string, place?: InputPlace, options?: { cause?: unknown }) {
    super(`${placeText(file, place)}: ${message}`, options);
    this.name = 'InputError';
    this.file = file;
    this.place = place;
  }
}

/** Wrong use of the CLI or of an API: bad option, missing argument, contradictory settings. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** True for errors whose message is meant for the user as is. */
export function isUserError(e: unknown): e is InputError | UsageError {
  return e instanceof InputError || e instanceof UsageError;
}

/**
 * Error codes of a system call (errno names, errno(3)) that tell of the machine's state, not of the
 * input or of iolineage, with what the user can do about them.
 */
const ENVIRONMENT_CODES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device (the output folder holds the outputs and, while a command runs, its scratch files)',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EIO: 'input/output error of the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files in this process (raise `ulimit -n`)',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
};

/**
 * For an error of a system call failed by the machine's state (a full disk, a quota, a device
 * error), the message for the user: what happened, in which call and on which path when known;
 * null for any other error.
 */
export function environmentProblem(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !Object.hasOwn(ENVIRONMENT_CODES, code)) return null;
  const where = [syscall, path].filter((x) => typeof x === 'string' && x !== '').join(' ');
  return `${ENVIRONMENT_CODES[code]} (${code}${where ? `, ${where}` : ''})`;
}

/** "expected X, got Y" in one place so every message reads the same. */
export function expectedActual(what: string, expected: unknown, actual: unknown): string {
  return `${what}: expected ${String(expected)}, got ${String(actual)}`;
}
