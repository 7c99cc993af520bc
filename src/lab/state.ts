/**
 * What a lab run holds on this machine (loop devices, mounts, tracefs instances, child processes,
 * its work directory), written to a state file as the run goes, so that whatever a killed run left
 * can be found and removed by `iolineage lab --cleanup` or by the next run.
 *
 * The state files live in `<run dir>/runs/` (run dir: `$IOLINEAGE_RUN_DIR`, default
 * `/run/iolineage`, a tmpfs emptied at boot like the resources it lists). One file per run, named
 * after the owner's pid and start time, rewritten atomically (write a temporary file, rename) each
 * time a resource is recorded or released. A resource is recorded before it is acquired (the loop
 * device by its backing file, the mount by its directory), so a run killed between the two leaves
 * nothing unrecorded; releasing one that was never acquired does nothing.
 *
 * Processes are recorded with their start time (field 22 of /proc/PID/stat): a pid that was
 * recycled by another process is never signalled.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Run a tool, throwing with its stderr when it fails. */
function tool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`\`${cmd} ${args.join(' ')}\`: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `\`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? 'signal'}): ${String(r.stderr).trim().split('\n').slice(-2).join(' | ')}`,
    );
}

/** A loop device over `backing` (the lab's own file; several devices over it are all detached). */
export interface LoopResource {
  kind: 'loop';
  backing: string;
  dev?: string;
}
/** A file system mounted on `dir`. */
export interface MountResource {
  kind: 'mount';
  dir: string;
}
/** A tracefs instance directory (…/tracing/instances/NAME). */
export interface TracefsResource {
  kind: 'tracefs';
  dir: string;
}
/** A process (`group`: the process group it leads), identified by pid and start time. */
export interface ProcessResource {
  kind: 'process';
  pid: number;
  start: string;
  group: boolean;
  what: string;
}
/** A directory of mount points: its empty subdirectories and itself are removed (never recursively). */
export interface MountDirsResource {
  kind: 'mount-dirs';
  dir: string;
}
/** The run's work directory in the cache (image files, host disk file): removed recursively. */
export interface WorkDirResource {
  kind: 'work-dir';
  dir: string;
}

export type Resource = LoopResource | MountResource | TracefsResource | ProcessResource | MountDirsResource | WorkDirResource;

export interface RunStateFile {
  kind: 'iolineage-lab-run';
  version: 1;
  owner: { pid: number; start: string };
  started: string;
  command: string;
  /** In the order they were acquired. */
  resources: Resource[];
}

/** The lab's run directory: mount points of each run, and `runs/` with the state files. */
export function runDir(): string {
  return resolve(process.env.IOLINEAGE_RUN_DIR || '/run/iolineage');
}

export function statesDir(): string {
  return join(runDir(), 'runs');
}

/** Start time (clock ticks since boot) and state letter of a process, or null when there is none. */
export function procStat(pid: number): { start: string; state: string; pgid: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, pgid: Number(f[2]), start: f[19]! };
}

/** This process's start time. */
export function selfStart(): string {
  return procStat(process.pid)!.start;
}

/** Whether `pid` is still the process that started at `start` and has not exited (a zombie has). */
export function sameProcessAlive(pid: number, start: string): boolean {
  const s = procStat(pid);
  return s !== null && s.start === start && s.state !== 'Z' && s.state !== 'X';
}

/** Live (non-zombie) members of process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStat(Number(d));
    if (s && s.pgid === pgid && s.state !== 'Z' && s.state !== 'X') out.push(Number(d));
  }
  return out;
}

/** Sleep without returning to the event loop (cleanup runs synchronously, also from signal handlers). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitFor(cond: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    sleepSync(25);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone meanwhile */
  }
}

/**
 * Stop a recorded process (its group, when it leads one): `sig`, then SIGKILL after `graceMs`.
 * A group is signalled only while its leader is the recorded process (alive or not yet reaped),
 * so that its pgid cannot have been recycled.
 * @returns what was done, or null when the process was already gone
 */
export function stopProcess(r: ProcessResource, sig: NodeJS.Signals = 'SIGTERM', graceMs = 3000): string | null {
  const s = procStat(r.pid);
  if (s === null || s.start !== r.start) return null;
  const alive = r.group ? () => groupMembers(r.pid).length > 0 : () => sameProcessAlive(r.pid, r.start);
  if (!alive()) return null;
  const target = r.group ? -r.pid : r.pid;
  signal(target, sig);
  if (waitFor(() => !alive(), graceMs)) return `stopped ${r.what} (${r.group ? 'process group' : 'pid'} ${r.pid}, ${sig})`;
  signal(target, 'SIGKILL');
  if (waitFor(() => !alive(), 3000)) return `killed ${r.what} (${r.group ? 'process group' : 'pid'} ${r.pid}, SIGKILL after ${sig})`;
  throw new Error(`${r.what} (pid ${r.pid}) does not exit even after SIGKILL`);
}

/** Processes other than this one with a file open (or their cwd) inside `dir`. */
export function processesUsing(dir: string): number[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let links: string[] = [];
    try {
      links = readdirSync(`/proc/${d}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${d}/fd/${fd}`);
        } catch {
          return '';
        }
      });
    } catch {
      continue;
    }
    try {
      links.push(readlinkSync(`/proc/${d}/cwd`));
    } catch {
      /* gone */
    }
    if (links.some((l) => l === dir || l.startsWith(prefix))) out.push(Number(d));
  }
  return out;
}

/** Whether `dir` is a mount point (a line of /proc/mounts). */
export function isMountPoint(dir: string): boolean {
  const want = resolve(dir);
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1]?.replace(/\\040/g, ' ') === want);
}

/** Loop devices (`/dev/loopN`) whose backing file is `file`. */
export function loopsOver(file: string): string[] {
  const want = resolve(file);
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/sys/block');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^loop\d+$/.test(n)) continue;
    let back: string;
    try {
      back = readFileSync(`/sys/block/${n}/loop/backing_file`, 'utf8').trim();
    } catch {
      continue;
    }
    if (back.replace(/ \(deleted\)$/, '') === want) out.push(`/dev/${n}`);
  }
  return out;
}

/**
 * Release one resource from its record alone. Idempotent: what is already gone is skipped.
 * @returns what was done (null: nothing was there)
 * @throws Error when the resource is there and could not be released
 */
export function releaseResource(r: Resource): string | null {
  switch (r.kind) {
    case 'process':
      return stopProcess(r);
    case 'tracefs': {
      if (!existsSync(r.dir)) return null;
      try {
        writeFileSync(join(r.dir, 'tracing_on'), '0\n');
      } catch {
        /* removed meanwhile */
      }
      let events: string[] = [];
      try {
        events = readdirSync(join(r.dir, 'events/block'));
      } catch {
        /* no block events */
      }
      for (const e of events) {
        try {
          writeFileSync(join(r.dir, 'events/block', e, 'enable'), '0\n');
        } catch {
          /* not an event */
        }
      }
      // readers of its trace_pipe (a `cat` of the run) keep the instance busy: they are the run's
      const holders = processesUsing(r.dir);
      for (const p of holders) signal(p, 'SIGKILL');
      let last: unknown = null;
      const gone = waitFor(() => {
        try {
          rmdirSync(r.dir);
          return true;
        } catch (e) {
          last = e;
          return !existsSync(r.dir);
        }
      }, 5000);
      if (!gone) throw new Error(`cannot remove tracefs instance ${r.dir}: ${last instanceof Error ? last.message : String(last)}`);
      return `removed tracefs instance ${r.dir}${holders.length ? ` (killed its reader${holders.length > 1 ? 's' : ''}, pid ${holders.join(', ')})` : ''}`;
    }
    case 'mount': {
      if (!isMountPoint(r.dir)) return null;
      tool('umount', [r.dir]);
      return `unmounted ${r.dir}`;
    }
    case 'loop': {
      const devs = loopsOver(r.backing);
      if (!devs.length) return null;
      for (const d of devs) tool('losetup', ['-d', d]);
      // a device still open elsewhere is only marked for detaching (autoclear)
      if (!waitFor(() => loopsOver(r.backing).length === 0, 2000)) {
        throw new Error(`${devs.join(', ')} over ${r.backing} is still in use (marked to detach when closed)`);
      }
      return `detached ${devs.join(', ')} (over ${r.backing})`;
    }
    case 'mount-dirs': {
      if (!existsSync(r.dir)) return null;
      // rmdir, never a recursive delete: a file system that failed to unmount stays untouched
      for (const d of readdirSync(r.dir)) {
        const p = join(r.dir, d);
        if (isMountPoint(p)) throw new Error(`${p} is still mounted`);
        rmdirSync(p);
      }
      rmdirSync(r.dir);
      return `removed ${r.dir}`;
    }
    case 'work-dir': {
      if (!existsSync(r.dir)) return null;
      const dir = resolve(r.dir);
      const mounted = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir + '/'));
      if (mounted.length) throw new Error(`not removing ${dir}: ${mounted.join(', ')} is mounted inside`);
      rmSync(dir, { recursive: true, force: true });
      return `removed ${dir}`;
    }
  }
}

/** Short text of a resource, for messages. */
export function describeResource(r: Resource): string {
  switch (r.kind) {
    case 'process':
      return `${r.what} (pid ${r.pid})`;
    case 'tracefs':
      return `tracefs instance ${r.dir}`;
    case 'mount':
      return `mount ${r.dir}`;
    case 'loop':
      return `loop device${r.dev ? ` ${r.dev}` : ''} over ${r.backing}`;
    case 'mount-dirs':
      return `directory ${r.dir}`;
    case 'work-dir':
      return `work directory ${r.dir}`;
  }
}

/**
 * Release resources the way a run must: every process first (they keep mounts and tracefs
 * instances busy), then the rest newest first. A failure is reported and the others still run.
 * @returns the resources that could not be released
 */
export function releaseAll(resources: Resource[], say: (s: string) => void, warn: (s: string) => void): Resource[] {
  const order = [...resources.filter((r) => r.kind === 'process').reverse(), ...resources.filter((r) => r.kind !== 'process').reverse()];
  const failed: Resource[] = [];
  for (const r of order) {
    try {
      const did = releaseResource(r);
      if (did) say(did);
    } catch (e) {
      failed.push(r);
      warn(`${describeResource(r)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return resources.filter((r) => failed.includes(r));
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The state file of the running lab: what it holds now. */
export class RunState {
  readonly file: string;
  private readonly data: RunStateFile;

  constructor(command: string) {
    const start = selfStart();
    mkdirSync(statesDir(), { recursive: true, mode: 0o755 });
    this.file = join(statesDir(), `${process.pid}-${start}.json`);
    this.data = {
      kind: 'iolineage-lab-run',
      version: 1,
      owner: { pid: process.pid, start },
      started: new Date().toISOString(),
      command,
      resources: [],
    };
    this.write();
  }

  get resources(): readonly Resource[] {
    return this.data.resources;
  }

  private write(): void {
    writeAtomically(this.file, JSON.stringify(this.data, null, 1) + '\n');
  }

  add(r: Resource): void {
    this.data.resources.push(r);
    this.write();
  }

  /** Rewrite after a recorded resource changed (e.g. the loop device's name became known). */
  update(): void {
    this.write();
  }

  remove(r: Resource): void {
    const i = this.data.resources.indexOf(r);
    if (i < 0) return;
    this.data.resources.splice(i, 1);
    this.write();
  }

  /** Delete the state file (nothing is held any more). */
  close(): void {
    try {
      unlinkSync(this.file);
    } catch {
      /* gone */
    }
  }
}

export interface DeadRunsReport {
  /** Runs whose leftovers were looked at. */
  runs: number;
  /** What was done, one line each. */
  actions: string[];
  /** What could not be released (kept in the state file for the next try). */
  failures: string[];
}

/**
 * Find the state files of runs whose owner is gone and release what they recorded. A run being
 * cleaned is claimed first (its file renamed to NAME.cleaning-PID-START), so two cleaners never
 * work on the same run; a claim whose cleaner died is taken over.
 * @param log one line per action, prefixed with the run
 */
export function cleanupDeadRuns(log: (s: string) => void): DeadRunsReport {
  const report: DeadRunsReport = { runs: 0, actions: [], failures: [] };
  const dir = statesDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return report;
  }
  const me = `${process.pid}-${selfStart()}`;
  const ownerAlive = (id: string) => {
    const m = /^(\d+)-(\d+)$/.exec(id);
    return m !== null && sameProcessAlive(Number(m[1]), m[2]!);
  };
  for (const name of names) {
    // a temporary file of a writer that died between write and rename
    const tmp = /^(\d+)-(\d+)\.json\.tmp-(\d+)$/.exec(name);
    if (tmp) {
      if (!ownerAlive(`${tmp[1]}-${tmp[2]}`)) rmSync(join(dir, name), { force: true });
      continue;
    }
    const m = /^((\d+)-(\d+))\.json(?:\.cleaning-(\d+-\d+))?$/.exec(name);
    if (!m) continue;
    const [, id, pid] = m;
    if (id === me || ownerAlive(id!)) continue;
    if (m[4] !== undefined && ownerAlive(m[4])) continue;
    const claim = join(dir, `${id}.json.cleaning-${me}`);
    try {
      renameSync(join(dir, name), claim);
    } catch {
      continue; // another cleaner took it
    }
    let state: RunStateFile;
    try {
      state = JSON.parse(readFileSync(claim, 'utf8')) as RunStateFile;
      if (state.kind !== 'iolineage-lab-run' || !Array.isArray(state.resources)) throw new Error('not a lab state file');
    } catch (e) {
      report.failures.push(`${claim}: unreadable (${e instanceof Error ? e.message : String(e)}); left in place`);
      log(`lab: ${claim}: unreadable state file, left in place`);
      continue;
    }
    report.runs++;
    const who = `run ${pid} (started ${state.started}, no longer running)`;
    if (state.resources.length) log(`lab: cleaning up after ${who}: ${state.resources.length} resource(s) recorded`);
    const failed = releaseAll(
      state.resources,
      (s) => {
        report.actions.push(s);
        log(`lab:   ${s}`);
      },
      (s) => {
        report.failures.push(s);
        log(`lab:   could not release ${s}`);
      },
    );
    if (failed.length) {
      writeAtomically(join(dir, `${id}.json`), JSON.stringify({ ...state, resources: failed }, null, 1) + '\n');
      log(`lab:   ${failed.length} resource(s) of run ${pid} left in its state file for the next try`);
    }
    rmSync(claim, { force: true });
  }
  return report;
}
