/**
 * Safe outputs: every table, summary.json and manifest iolineage writes goes through here.
 *  - A file is written under a temporary name in its own folder (".NAME.PID.tmp", created with
 *    O_CREAT|O_EXCL|O_NOFOLLOW) and renamed into place (rename(2) is atomic within a file system),
 *    so its final name only ever holds a complete file.
 *  - A symbolic link (or anything but a regular file) at an output's name is refused: it is
 *    neither written through nor replaced.
 *  - A command's outputs are staged in an OutputFolder and renamed into place together at commit,
 *    after the last one is written; the folder's manifest (OUTPUTS_MANIFEST) is rewritten last and
 *    names the files of each run. A run that fails or is interrupted leaves none of its files
 *    under their final names; one killed while renaming leaves complete files and no manifest
 *    entry for them.
 *  - One command writes into a folder at a time: a lock file (LOCK_FILE) holds the writer's pid.
 *    A lock or temporary file of a process that no longer runs (SIGKILL) is removed by the next
 *    run. SIGINT, SIGTERM and SIGHUP remove the temporary files and the lock before the process
 *    ends with the signal.
 */
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { InputError, UsageError } from '../util/errors.js';
import { ioPiece } from './io-limits.js';

/** The manifest of an output folder: which run wrote which file. */
export const OUTPUTS_MANIFEST = 'iolineage-outputs.json';
/** The lock file of an output folder while a command writes into it. */
export const LOCK_FILE = '.iolineage.lock';

/** How deep nested output names go: a dataset's TABLE/host=/vm=/run=/FILE. */
const NESTED_DEPTH = 4;

/** Temporary names: ".NAME.PID.tmp", and ".NAME.PID.scratch" (scratchPath). */
const TEMP_NAME = /^\.(.+)\.(\d+)\.(?:tmp|scratch)$/;

/** Flags of a new temporary file: never an existing file, never through a symlink. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Temporary files of this process not yet renamed into place, removed on a signal. */
const pendingTemps = new Set<string>();
/** Locks this process holds. */
const heldLocks = new Set<string>();

/** Refuse an output name that holds anything but a regular file (a symlink above all). */
function refuseNonFile(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) {
    let target = '?';
    try {
      target = readlinkSync(path);
    } catch {
      /* unreadable: the name is still refused */
    }
    throw new InputError(
      path,
      `the output name is a symbolic link (to ${target}): refusing to write through or replace it; remove the link or choose another output folder`,
    );
  }
  if (!st.isFile())
    throw new InputError(
      path,
      `the output name is taken by ${st.isDirectory() ? 'a directory' : 'something that is not a regular file'}: expected a regular file or nothing`,
    );
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/**
 * Create a new file at a temporary name beside `path`, open for writing; the caller writes to
 * `fd`, closes it, and renames the file into place (renameIntoPlace) or discards it
 * (discardTemporary). Refuses a symlink at `path`. For files written over a while (several
 * open at once); writeTemporary is the one-call form.
 */
export function createTemporary(path: string): { fd: number; temp: string } {
  refuseNonFile(path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, CREATE_NEW, 0o644);
  } catch (e) {
    throw new InputError(path, `cannot create the temporary file ${temp} for it: ${errorCode(e)}`);
  }
  pendingTemps.add(temp);
  return { fd, temp };
}

/**
 * Write a new file at a temporary name beside `path` with `write(fd)`; returns the temporary
 * name, to be renamed into place by renameIntoPlace. Refuses a symlink at `path`.
 */
export function writeTemporary(path: string, write: (fd: number) => void): string {
  const { fd, temp } = createTemporary(path);
  try {
    write(fd);
  } catch (e) {
    closeSync(fd);
    removeTemporary(temp);
    throw e;
  }
  closeSync(fd);
  return temp;
}

/** Rename a file written by writeTemporary to its final name (checked again for a symlink). */
export function renameIntoPlace(temp: string, path: string): void {
  refuseNonFile(path);
  try {
    renameSync(temp, path);
  } catch (e) {
    throw new InputError(path, `cannot rename ${temp} into place: ${errorCode(e)}`);
  }
  pendingTemps.delete(temp);
}

/** Remove a temporary file that is not to take its final name. */
export function discardTemporary(temp: string): void {
  removeTemporary(temp);
}

function removeTemporary(temp: string): void {
  try {
    unlinkSync(temp);
  } catch {
    /* already gone */
  }
  pendingTemps.delete(temp);
}

/** All bytes of `bytes` to a file descriptor. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, ioPiece(bytes.length - done));
}

/** Write one file safely (temporary name, then rename; no symlink followed): the single-file case. */
export function writeFileAtomically(path: string, write: (fd: number) => void): void {
  renameIntoPlace(writeTemporary(path, write), path);
}

/** Whether a process with this pid runs (EPERM: it runs under another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

let signalsHooked = false;
/** On SIGINT/SIGTERM/SIGHUP: remove temporary files and locks, then end with the signal. */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const t of [...pendingTemps]) removeTemporary(t);
      for (const l of [...heldLocks]) {
        try {
          unlinkSync(l);
        } catch {
          /* gone */
        }
        heldLocks.delete(l);
      }
      process.kill(process.pid, signal);
    });
  }
}

/** One file's entry in the manifest. */
export interface OutputEntry {
  /** The command that wrote it, e.g. "ingest". */
  command: string;
  /** When its run committed (ISO 8601); the files of one run share it. */
  run: string;
  bytes: number;
}

export interface OutputsManifest {
  kind: 'iolineage-outputs';
  version: 1;
  files: Record<string, OutputEntry>;
}

/** The folder's manifest, or an empty one (none yet, or unreadable: then nothing is known complete). */
export function readOutputsManifest(dir: string): OutputsManifest {
  try {
    const m = JSON.parse(readFileSync(join(dir, OUTPUTS_MANIFEST), 'utf8')) as OutputsManifest;
    if (m && m.kind === 'iolineage-outputs' && typeof m.files === 'object' && m.files !== null) return m;
  } catch {
    /* no manifest */
  }
  return { kind: 'iolineage-outputs', version: 1, files: {} };
}

/** Files that look like outputs (tables, summaries, their exports): what a note about earlier runs mentions. */
function isOutputName(name: string): boolean {
  return outputFormat(name) !== null;
}

/**
 * The format family of an output name: Arrow tables and summary.json (what ingest, map and
 * analyze write), or an export's Parquet or CSV files. A run's notes about other files cover the
 * families it writes: an export into an analysis folder says nothing of the Arrow tables there.
 */
function outputFormat(name: string): 'tables' | 'parquet' | 'csv' | null {
  if (name.endsWith('.arrow') || name === 'summary.json') return 'tables';
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.csv')) return 'csv';
  return null;
}

/** The output folder of one command run: staged files, renamed into place together by commit(). */
export class OutputFolder {
  private readonly staged = new Map<string, string>();
  private done = false;

  /** Whether this run made the folder (removed again when the run fails and leaves it empty). */
  private created = false;
  /** Folders under it this run made for nested names (removed again, when empty, if the run fails). */
  private readonly madeDirs: string[] = [];

  private constructor(
    readonly dir: string,
    readonly command: string,
    private readonly lock: string,
  ) {}

  /** Create the folder if needed, take its lock, and remove what killed runs left. */
  static open(dir: string, command: string): OutputFolder {
    let created = false;
    try {
      created = !existsSync(dir);
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      const code = errorCode(e);
      throw new InputError(
        dir,
        code === 'EEXIST' || code === 'ENOTDIR'
          ? 'the output folder is a file (or lies under one): expected a directory or a new name'
          : `cannot create the output folder: ${code}`,
      );
    }
    const lock = join(dir, LOCK_FILE);
    hookSignals();
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lock, CREATE_NEW, 0o644);
        writeAll(fd, new TextEncoder().encode(`${process.pid} ${command}\n`));
        closeSync(fd);
        break;
      } catch (e) {
        if (errorCode(e) !== 'EEXIST' || attempt > 0) throw new InputError(lock, `cannot take the output folder's lock: ${errorCode(e)}`);
      }
      refuseNonFile(lock);
      let text = '';
      try {
        text = readFileSync(lock, 'utf8');
      } catch {
        /* removed meanwhile */
      }
      const pid = Number(text.split(' ')[0]);
      // this process's own pid: a lock it holds (a second OutputFolder on the folder), or one left by a dead process whose pid it got
      const holderRuns = pid === process.pid ? heldLocks.has(lock) : running(pid);
      if (Number.isInteger(pid) && pid > 0 && holderRuns) {
        throw new UsageError(
          `${dir}: another iolineage command (pid ${pid}, ${text.trim().split(' ').slice(1).join(' ') || 'unknown'}) is writing into this folder: wait for it to end, or choose another output folder`,
        );
      }
      // a lock of a process that is gone
      try {
        unlinkSync(lock);
      } catch {
        /* another run removed it */
      }
    }
    heldLocks.add(lock);
    const folder = new OutputFolder(dir, command, lock);
    folder.created = created;
    try {
      // the manifest is written last: a bad name for it is refused before any work
      refuseNonFile(folder.path(OUTPUTS_MANIFEST));
      folder.removeDeadTemporaries();
    } catch (e) {
      folder.close();
      throw e;
    }
    return folder;
  }

  /**
   * Temporary files whose writer no longer runs (a SIGKILL mid-write), here and in the folders of
   * nested names (a dataset's partitions; symbolic links are not followed).
   */
  private removeDeadTemporaries(dir = this.dir, depth = 0): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const m = TEMP_NAME.exec(entry.name);
      if (m && entry.isFile() && !running(Number(m[2]))) removeTemporary(join(dir, entry.name));
      else if (entry.isDirectory() && depth < NESTED_DEPTH) this.removeDeadTemporaries(join(dir, entry.name), depth + 1);
    }
  }

  /**
   * A path for a scratch file of this run (e.g. a table's batches while it is built): a hidden
   * name with this process's pid, removed by the next run if this one is killed before it does.
   */
  scratchPath(name: string): string {
    return join(this.dir, `.${name}.${process.pid}.scratch`);
  }

  /** The final path of an output name. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * The output name of a path inside this folder: "lineage.parquet", or a nested one such as
   * "lineage/host=h/vm=v/run=r/lineage.parquet" (a dataset's partition files).
   */
  nameOf(path: string): string {
    const name = relative(this.dir, path);
    if (name === '' || name === '..' || name.startsWith(`..${sep}`) || isAbsolute(name))
      throw new Error(`output folder ${this.dir}: ${path} is not a file inside it`);
    return name.split(sep).join('/');
  }

  /** Make the folders a nested name lies in (recorded, so that a failed run removes those it made). */
  private makeParents(name: string): void {
    const parts = name.split('/').slice(0, -1);
    let dir = this.dir;
    for (const part of parts) {
      dir = join(dir, part);
      let st;
      try {
        st = lstatSync(dir);
      } catch {
        st = null;
      }
      if (st === null) {
        try {
          mkdirSync(dir);
        } catch (e) {
          throw new InputError(dir, `cannot create the output folder: ${errorCode(e)}`);
        }
        this.madeDirs.push(dir);
      } else if (!st.isDirectory()) {
        throw new InputError(
          dir,
          st.isSymbolicLink()
            ? 'is a symbolic link: refusing to write through it; remove the link or choose another output folder'
            : 'expected a directory, found a file',
        );
      }
    }
  }

  /** Write `name` now under a temporary name; it takes its final name at commit(). Returns the final path. */
  stage(name: string, write: (fd: number) => void): string {
    const t = this.stageOpen(name);
    try {
      write(t.fd);
    } catch (e) {
      t.discard();
      throw e;
    }
    return t.finish();
  }

  /**
   * Stage `name` written by a writer that takes a path (DuckDB's `COPY ... TO`): it writes the
   * temporary name, which takes the final name at commit(). Returns the final path.
   */
  async stageByPath(name: string, write: (temporaryPath: string) => Promise<void>): Promise<string> {
    const t = this.stageOpen(name);
    try {
      await write(t.temp);
    } catch (e) {
      t.discard();
      throw e;
    }
    return t.finish();
  }

  /**
   * Start `name` under a temporary name (`temp`, open as `fd`), for a writer that finishes later
   * (e.g. in another thread, while this one writes something else): `finish()` closes it and
   * stages it, to take its final name at commit(); `discard()` removes it. The one way every file
   * of the folder is staged (stage and stageByPath are its one-call forms).
   */
  stageOpen(name: string): { fd: number; temp: string; finish(): string; discard(): void } {
    if (this.done) throw new Error(`output folder ${this.dir}: ${name} staged after commit`);
    const path = this.path(name);
    this.makeParents(name);
    const { fd, temp } = createTemporary(path);
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    };
    return {
      fd,
      temp,
      finish: () => {
        close();
        const previous = this.staged.get(name);
        if (previous) removeTemporary(previous);
        this.staged.set(name, temp);
        return path;
      },
      discard: () => {
        close();
        discardTemporary(temp);
      },
    };
  }

  /** Stage a JSON file (2-space indent, final newline). */
  stageJson(name: string, value: unknown): string {
    return this.stage(name, (fd) => writeAll(fd, new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n')));
  }

  /**
   * Rename every staged file into place, record them in the manifest (written last) and release
   * the lock. Returns notes on the folder's other outputs: files of earlier runs kept beside these,
   * and output-like files no recorded run wrote.
   */
  commit(): string[] {
    const manifest = readOutputsManifest(this.dir);
    // while files are renamed the folder holds no manifest: a run killed now is not marked complete
    try {
      unlinkSync(this.path(OUTPUTS_MANIFEST));
    } catch {
      /* none yet */
    }
    const run = new Date().toISOString();
    for (const [name, temp] of this.staged) {
      renameIntoPlace(temp, this.path(name));
      manifest.files[name] = { command: this.command, run, bytes: lstatSync(this.path(name)).size };
    }
    const present = new Set(readdirSync(this.dir));
    const exists = (name: string) => {
      if (!name.includes('/')) return present.has(name);
      try {
        return lstatSync(this.path(name)).isFile();
      } catch {
        return false;
      }
    };
    // the notes cover the formats this run wrote (see outputFormat)
    const written = new Set([...this.staged.keys()].map(outputFormat));
    const noted = (name: string) => written.has(outputFormat(name));
    const notes: string[] = [];
    for (const [name, e] of Object.entries(manifest.files)) {
      if (!exists(name)) {
        delete manifest.files[name];
        continue;
      }
      if (!this.staged.has(name) && noted(name))
        notes.push(`${this.path(name)}: left from an earlier run (iolineage ${e.command}, ${e.run}), not rewritten by this one`);
    }
    for (const name of [...present].sort()) {
      if (isOutputName(name) && noted(name) && !manifest.files[name])
        notes.push(`${this.path(name)}: not written by a run this folder's ${OUTPUTS_MANIFEST} records`);
    }
    writeFileAtomically(this.path(OUTPUTS_MANIFEST), (fd) =>
      writeAll(fd, new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n')),
    );
    this.done = true;
    this.release();
    return notes;
  }

  /** Drop what was staged (nothing reaches a final name) and release the lock; a no-op after commit. */
  close(): void {
    if (this.done) return;
    this.done = true;
    for (const temp of this.staged.values()) removeTemporary(temp);
    this.staged.clear();
    this.release();
    // a failed run leaves no empty folder it made behind
    for (const dir of this.madeDirs.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        /* not empty, or gone */
      }
    }
    if (this.created) {
      try {
        rmdirSync(this.dir);
      } catch {
        /* not empty, or gone */
      }
    }
  }

  private release(): void {
    try {
      unlinkSync(this.lock);
    } catch {
      /* gone */
    }
    heldLocks.delete(this.lock);
  }
}

/**
 * Run `fn` with an output folder and commit what it staged when it returns; when it throws,
 * nothing it staged reaches a final name. Returns fn's result and the commit's notes.
 */
export async function withOutputFolder<T>(
  dir: string,
  command: string,
  fn: (folder: OutputFolder) => Promise<T> | T,
): Promise<{ result: T; notes: string[] }> {
  const folder = OutputFolder.open(dir, command);
  try {
    const result = await fn(folder);
    // a signal that came while the tables were written (synchronous code) is handled here,
    // before anything takes its final name
    await new Promise((resolve) => setImmediate(resolve));
    return { result, notes: folder.commit() };
  } finally {
    folder.close();
  }
}

/**
 * What is wrong with an output folder after a run, or null: temporary files or a lock left
 * behind; with `completed`, a table or summary missing from the manifest or of another size than
 * recorded; without (the run failed into a folder that was empty), any output at all.
 */
export function checkOutputFolder(dir: string, completed: boolean): string | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return completed ? `${dir}: no output folder` : null;
  }
  for (const name of names) {
    if (TEMP_NAME.test(name)) return `temporary or scratch file ${name} left behind`;
    if (name === LOCK_FILE) return 'lock file left behind';
  }
  if (!completed) {
    const outputs = names.filter((n) => isOutputName(n) || n === OUTPUTS_MANIFEST);
    return outputs.length ? `a failed run left ${outputs.join(', ')}` : null;
  }
  const manifest = readOutputsManifest(dir);
  for (const name of names) {
    if (!isOutputName(name)) continue;
    const e = manifest.files[name];
    if (!e) return `${name} is not in ${OUTPUTS_MANIFEST}`;
    const size = lstatSync(join(dir, name)).size;
    if (size !== e.bytes) return `${name} has ${size} bytes, ${OUTPUTS_MANIFEST} records ${e.bytes}`;
  }
  return null;
}
