/**
 * Replace a file in one step: the new content is written to a temporary name in the same folder
 * and renamed over the destination, so that a reader never sees half a file and an interrupted
 * export leaves the old file (or none). The rename replaces a symbolic link at the destination
 * instead of writing through it; a folder there is refused.
 */
import { lstatSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../util/errors.js';

/** Temporary sibling of a destination: hidden, unique to this process and call. */
function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
}

/** Run write(temporaryPath), then rename the temporary file to path; remove it on failure. */
export async function replaceFile(path: string, write: (temporaryPath: string) => Promise<void>): Promise<void> {
  let existing;
  try { existing = lstatSync(path); } catch { existing = undefined; }
  if (existing?.isDirectory()) throw new UsageError(`${path}: expected a file name to write, found a folder`);
  const temporary = temporarySibling(path);
  try {
    await write(temporary);
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw e;
  }
}
