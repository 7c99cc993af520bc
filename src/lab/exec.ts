/**
 * Running the system tools the lab needs (losetup, mkfs, qemu...), and undoing what it did.
 */
import { type ChildProcess, spawn, spawnSync, type SpawnSyncOptions, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import {
  describeResource,
  procStat,
  type ProcessResource,
  releaseResource,
  type Resource,
  type RunState,
  sameProcessAlive,
} from './state.js';

/** A tool failed: names the command line, the exit status and the end of its stderr. */
export class ToolError extends Error {
  constructor(
    readonly command: string,
    readonly status: number | null,
    readonly stderr: string,
  ) {
    super(`\`${command}\` failed (exit ${status ?? 'signal'}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'ToolError';
  }
}

/** Run a command to completion and return its stdout; throws ToolError when it fails. */
export function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  const line = [cmd, ...args].join(' ');
  if (r.error) throw new ToolError(line, null, String(r.error.message));
  if (r.status !== 0) throw new ToolError(line, r.status, String(r.stderr ?? ''));
  return String(r.stdout ?? '');
}

/** Run a shell pipeline (`/bin/sh -c`), e.g. `e2image -r X - | gzip > Y`, with pipefail semantics emulated. */
export function pipeline(script: string): string {
  return sh('/bin/bash', ['-o', 'pipefail', '-c', script]);
}

/** Resolve with a child's exit status (128 + signal number when a signal ended it; never rejects),
 * passing what it prints to `log`. */
export function childExit(p: ChildProcess, log?: (s: string) => void): Promise<number> {
  return new Promise((resolve) => {
    p.stdout?.on('data', (b: Buffer) => log?.(b.toString()));
    p.stderr?.on('data', (b: Buffer) => log?.(b.toString()));
    p.on('error', () => resolve(127));
    p.on('close', (code, sig) => resolve(code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0)));
  });
}

/** Whether a program is on PATH. */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The lab was stopped by a signal; its resources were released. Exit status 128 + signal number. */
export class LabInterrupted extends Error {
  readonly exitCode: number;
  /** Whether everything the run held was released (else its state file lists what is left). */
  released = true;
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'LabInterrupted';
    this.exitCode = 128 + (constants.signals[signal] ?? 0);
  }
}

interface Undo {
  what: string;
  fn: () => void;
  resource?: Resource;
}

/** Signals that stop a lab run (what Ctrl-C, `timeout`, supervisors and a closed terminal send). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** After a stop signal: how long children get before SIGKILL, and the run before it is cleaned up and ended regardless. */
const CHILD_GRACE_MS = 5000;
const RUN_GRACE_MS = 30_000;

/**
 * What the lab holds (loop devices, mounts, tracefs instances, child processes, work files) and
 * how to release it. Each resource is recorded in the run's state file (when there is one, see
 * state.ts) before it is acquired and removed from it once released, so a killed run can be
 * cleaned up later by `iolineage lab --cleanup`.
 *
 * On SIGINT, SIGTERM or SIGHUP: the signal is forwarded to the children (process groups get the
 * same signal, single processes SIGTERM, SIGKILL after 5 s); the run then fails at its next step
 * with LabInterrupted and releases everything on its way out (`runAll` in a `finally`). A second
 * signal, or a run still going 30 s later, releases everything at once and exits 128 + signal.
 *
 * Release order: every process first (they keep mounts and tracefs instances busy), then the rest
 * newest first. Each release runs once; a failing one is reported and the others still run.
 */
export class Cleanup {
  private readonly undo: Undo[] = [];
  private readonly children = new Map<ChildProcess, ProcessResource>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** The stop signal received, if any. */
  signal: NodeJS.Signals | null = null;
  private readonly onSignal = (sig: NodeJS.Signals) => this.stop(sig);

  /**
   * @param state the run's state file (null: nothing is recorded, e.g. in tests of one helper)
   * @param log where progress and problems are reported
   */
  constructor(
    readonly state: RunState | null = null,
    private readonly log: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  ) {
    for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }

  /** Register an undo that is not a recorded resource; returns a function that runs it now (and unregisters it). */
  add(what: string, fn: () => void): () => void {
    const entry: Undo = { what, fn };
    this.undo.push(entry);
    return () => this.runOne(entry);
  }

  /**
   * Record a resource (before acquiring it) and register its release; returns a function that
   * releases it now. `before` runs first on release (e.g. closing what this process has open in it).
   */
  acquire(r: Resource, before?: () => void): () => void {
    this.state?.add(r);
    const entry: Undo = {
      what: describeResource(r),
      resource: r,
      fn: () => {
        before?.();
        const did = releaseResource(r);
        if (did && this.signal) this.log(`lab: ${did}`);
      },
    };
    this.undo.push(entry);
    return () => this.runOne(entry);
  }

  /** The state file changed a recorded resource (e.g. the loop device's name, known after attaching). */
  recorded(): void {
    this.state?.update();
  }

  private runOne(entry: Undo): void {
    const i = this.undo.indexOf(entry);
    if (i < 0) return;
    entry.fn();
    // released: forget it (a release that threw stays registered and recorded, for runAll or --cleanup)
    const j = this.undo.indexOf(entry);
    if (j >= 0) this.undo.splice(j, 1);
    if (entry.resource) this.state?.remove(entry.resource);
  }

  /**
   * Spawn a child process the lab stops on a signal and on cleanup. `group`: in its own process
   * group (a shell script and everything it starts), signalled as a whole.
   */
  spawn(cmd: string, args: string[], opts: { what: string; group?: boolean; stdio?: StdioOptions }): ChildProcess {
    const group = opts.group === true;
    const p = spawn(cmd, args, { stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'], detached: group });
    const st = p.pid === undefined ? null : procStat(p.pid);
    if (p.pid === undefined || st === null) return p; // failed to start, or already gone: nothing to stop
    const res: ProcessResource = { kind: 'process', pid: p.pid, start: st.start, group, what: opts.what };
    const release = this.acquire(res);
    this.children.set(p, res);
    p.once('exit', () => {
      this.children.delete(p);
      // a group may outlive its leader: runAll stops what is left; a single process is done
      if (!group) release();
    });
    if (this.signal) this.forward(res, this.signal);
    return p;
  }

  /** Pass a stop signal on: the same signal to a process group, SIGTERM to a single process. */
  private forward(r: ProcessResource, sig: NodeJS.Signals): void {
    if (!r.group && !sameProcessAlive(r.pid, r.start)) return;
    try {
      process.kill(r.group ? -r.pid : r.pid, r.group ? sig : 'SIGTERM');
    } catch {
      /* gone */
    }
  }

  private stop(sig: NodeJS.Signals): void {
    if (this.signal !== null) {
      this.log(`lab: ${sig} again: releasing everything now`);
      this.exitNow(this.signal);
      return;
    }
    this.signal = sig;
    this.log(`lab: ${sig}: stopping the lab's processes, then releasing what it holds`);
    for (const r of this.children.values()) this.forward(r, sig);
    this.timers.push(
      setTimeout(() => {
        for (const r of this.children.values()) {
          try {
            process.kill(r.group ? -r.pid : r.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }, CHILD_GRACE_MS),
    );
    this.timers.push(
      setTimeout(() => {
        this.log(`lab: still running ${RUN_GRACE_MS / 1000} s after ${sig}: releasing everything now`);
        this.exitNow(sig);
      }, RUN_GRACE_MS),
    );
  }

  private exitNow(sig: NodeJS.Signals): never {
    this.runAll(this.log);
    process.exit(new LabInterrupted(sig).exitCode);
  }

  /** Throw LabInterrupted if a stop signal came. */
  check(): void {
    if (this.signal) throw new LabInterrupted(this.signal);
  }

  /** Let a pending signal be handled (one pass of the event loop's poll phase), then `check()`. */
  async checkpoint(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    this.check();
  }

  /** Release everything still registered (processes first, then newest first), and close the state file. */
  runAll(warn: (s: string) => void = () => {}): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
    const order = [
      ...this.undo.filter((e) => e.resource?.kind === 'process').reverse(),
      ...this.undo.filter((e) => e.resource?.kind !== 'process').reverse(),
    ];
    for (const e of order) {
      try {
        this.runOne(e);
      } catch (err) {
        const i = this.undo.indexOf(e);
        if (i >= 0) this.undo.splice(i, 1);
        warn(`lab cleanup: ${e.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const s of STOP_SIGNALS) process.removeListener(s, this.onSignal);
    if (this.state) {
      const left = this.state.resources.length;
      if (left === 0) this.state.close();
      else
        warn(
          `lab cleanup: ${left} resource(s) could not be released; they are listed in ${this.state.file}, and \`iolineage lab --cleanup\` (or the next lab run) retries once this process has ended`,
        );
    }
  }
}
