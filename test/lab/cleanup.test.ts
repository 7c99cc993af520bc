/**
 * The lab always cleans up: a lab run (loop backend, the fastest) is started as a child process
 * and stopped mid-workload with SIGINT (it must release everything itself and exit 130), or killed
 * with SIGKILL (what it held stays, and `lab --cleanup` or the next run removes it). Checked from
 * outside with `losetup -a`, /proc/mounts, the tracefs instances directory and the process table
 * (what `ps` shows, read from /proc).
 *
 * Each run gets its own IOLINEAGE_RUN_DIR, so that lab runs of other tests (or other users of this
 * machine) neither see nor clean this test's state files.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labUnavailable } from '../../src/lab/lab.js';
import {
  type MountDirsResource,
  procStat,
  releaseResource,
  type ProcessResource,
  type RunStateFile,
  sleepSync,
  stopProcess,
} from '../../src/lab/state.js';

const CLI = resolve('dist/cli/main.js');
const why = labUnavailable('loop') ?? (existsSync(CLI) ? null : 'dist/cli/main.js is missing (npm run build)');
if (why) console.log(`test/lab/cleanup: skipping the lab cleanup runs: ${why}`);
const skipped = why ? ` (skipped: ${why})` : '';

const root = mkdtempSync(join(tmpdir(), 'iolineage-lab-cleanup-'));
const cache = join(root, 'cache');
const started: LabChild[] = [];
afterAll(() => {
  // a failed test may leave a run going or killed: stop it and release what it held before removing
  // anything (a recursive delete must never go through a mounted file system)
  for (const lab of started) {
    if (lab.child.exitCode === null && lab.child.signalCode === null) lab.child.kill('SIGKILL');
    for (let i = 0; i < 100 && !['Z', undefined].includes(procStat(lab.child.pid!)?.state); i++) sleepSync(20);
  }
  for (const lab of started) if (why === null) cleanupCli(lab.runDir);
  const mounted = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(root + '/'));
  if (mounted.length) console.log(`test/lab/cleanup: not removing ${root}: ${mounted.join(', ')} still mounted`);
  else rmSync(root, { recursive: true, force: true });
});

interface LabChild {
  child: ChildProcess;
  runDir: string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `iolineage lab --backend loop` with a workload that runs up to 30 s. */
function startLab(name: string, runDir: string, extra: string[] = ['--ops', '1000000', '--duration', '30']): LabChild {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'lab',
      '--backend',
      'loop',
      '--data',
      '8M',
      '--files',
      '2',
      '--seed',
      '3',
      '--cache',
      cache,
      '-o',
      join(root, `${name}-out`),
      ...extra,
    ],
    {
      env: { ...process.env, IOLINEAGE_RUN_DIR: runDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('close', (code, signal) => res({ code, signal }));
  });
  const lab = { child, runDir, stderr: () => err, exit };
  started.push(lab);
  return lab;
}

/** The state file of the run in `runDir` (there is one while it runs). */
function readState(runDir: string): RunStateFile | null {
  const dir = join(runDir, 'runs');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  if (files.length !== 1) return null;
  try {
    return JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as RunStateFile;
  } catch {
    return null; // being renamed into place
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until the workload runs: the guest tracefs instance exists and ffsb-lite is in the script's group. */
async function workloadRunning(lab: LabChild): Promise<RunStateFile> {
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    if (lab.child.exitCode !== null) throw new Error(`the lab ended early: ${lab.stderr()}`);
    const st = readState(lab.runDir);
    const guest = st?.resources.find((r) => r.kind === 'tracefs' && r.dir.includes('iolineage-guest-'));
    const group = st?.resources.find((r): r is ProcessResource => r.kind === 'process' && r.group);
    if (
      st &&
      guest &&
      existsSync((guest as { dir: string }).dir) &&
      group &&
      psTable().some((p) => p.pgid === group.pid && p.comm.startsWith('ffsb-lite'))
    ) {
      await sleep(700);
      return readState(lab.runDir)!;
    }
    await sleep(100);
  }
  throw new Error(`the workload did not start: ${lab.stderr()}`);
}

interface Ps {
  pid: number;
  ppid: number;
  pgid: number;
  stat: string;
  comm: string;
}

/** What `ps -e -o pid,ppid,pgid,stat,comm` shows, read from /proc (no procps needed). */
function psTable(): Ps[] {
  const out: Ps[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    out.push({ pid: Number(d), ppid: Number(f[1]), pgid: Number(f[2]), stat: f[0]!, comm });
  }
  return out;
}

/** Every live descendant of `pid`, with its start time (so that a recycled pid is not mistaken for it). */
function descendants(pid: number): { pid: number; start: string; comm: string }[] {
  const ps = psTable();
  const out: { pid: number; start: string; comm: string }[] = [];
  const walk = (p: number) => {
    for (const c of ps.filter((x) => x.ppid === p)) {
      const s = procStat(c.pid);
      if (s) out.push({ pid: c.pid, start: s.start, comm: c.comm });
      walk(c.pid);
    }
  };
  walk(pid);
  return out;
}

/** What of a run (its state file, its processes) is still on the machine, one line each. */
function leftovers(st: RunStateFile, procs: { pid: number; start: string; comm: string }[]): string[] {
  const left: string[] = [];
  const losetup = execFileSync('losetup', ['-a'], { encoding: 'utf8' });
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '');
  for (const r of st.resources) {
    if (r.kind === 'loop' && losetup.includes(`(${r.backing}`)) left.push(`loop device over ${r.backing}`);
    if (r.kind === 'mount' && mounts.includes(r.dir)) left.push(`mount ${r.dir}`);
    if (r.kind === 'tracefs' && existsSync(r.dir)) left.push(`tracefs instance ${r.dir}`);
    if ((r.kind === 'mount-dirs' || r.kind === 'work-dir') && existsSync(r.dir)) left.push(`directory ${r.dir}`);
  }
  const mountDirs = st.resources.find((r): r is MountDirsResource => r.kind === 'mount-dirs')!.dir;
  for (const m of mounts) if (m.startsWith(mountDirs + '/')) left.push(`mount ${m}`);
  const ps = psTable();
  for (const p of procs) {
    const now = ps.find((x) => x.pid === p.pid);
    if (now && !now.stat.startsWith('Z') && procStat(p.pid)?.start === p.start) left.push(`process ${p.pid} ${p.comm}`);
  }
  return [...new Set(left)];
}

function cleanupCli(runDir: string): { code: number; out: string } {
  try {
    const out = execFileSync(process.execPath, [CLI, 'lab', '--cleanup'], {
      encoding: 'utf8',
      env: { ...process.env, IOLINEAGE_RUN_DIR: runDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, out };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: x.stdout + x.stderr };
  }
}

describe.skipIf(why !== null)(`a lab run stopped mid-workload${skipped}`, () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s to the node process only: it stops its children, releases everything and exits %i', async (sig, code) => {
    const lab = startLab(sig.toLowerCase(), mkdtempSync(join(root, 'run-')));
    const st = await workloadRunning(lab);
    const procs = descendants(lab.child.pid!);
    // the kernel keeps the first 15 characters of a command name (ffsb-lite-HASH)
    expect(procs.map((p) => p.comm.replace(/^ffsb-lite.*/, 'ffsb-lite'))).toEqual(
      expect.arrayContaining(['cat', 'sh', 'strace', 'ffsb-lite']),
    );
    expect(leftovers(st, procs).length).toBeGreaterThanOrEqual(8); // 2 loops, 2 mounts, 2 instances, dirs, processes
    const t = Date.now();
    lab.child.kill(sig);
    const ex = await lab.exit;
    expect(ex.code, lab.stderr()).toBe(code);
    expect(Date.now() - t).toBeLessThan(15_000); // not the 30 s the workload would have run
    expect(lab.stderr()).toMatch(new RegExp(`stopped by ${sig}; everything the run held is released`));
    expect(leftovers(st, procs)).toEqual([]);
    expect(readdirSync(join(lab.runDir, 'runs'))).toEqual([]);
  });

  it('SIGKILL leaves what the run held; `lab --cleanup` finds it in the state file and removes it', async () => {
    const lab = startLab('sigkill', mkdtempSync(join(root, 'run-')));
    const st = await workloadRunning(lab);
    const procs = descendants(lab.child.pid!);
    lab.child.kill('SIGKILL');
    await lab.exit;
    const left = leftovers(st, procs);
    // what the issue saw: loop devices, mounts, a host tracefs instance still tracing, a `cat trace_pipe`
    expect(left.filter((l) => l.startsWith('loop device'))).toHaveLength(2);
    expect(left.filter((l) => l.startsWith('mount'))).toHaveLength(2);
    const hostInstance = st.resources.find((r) => r.kind === 'tracefs' && r.dir.includes('iolineage-host-'))!;
    expect(readFileSync(join((hostInstance as { dir: string }).dir, 'tracing_on'), 'utf8').trim()).toBe('1');
    expect(left.some((l) => / cat$/.test(l))).toBe(true);

    const r = cleanupCli(lab.runDir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`cleaning up after run ${lab.child.pid} `));
    expect(r.out).toMatch(/stopped guest-capture.sh and the workload \(process group \d+/);
    expect(r.out).toMatch(/unmounted .*\/vm0/);
    expect(r.out).toMatch(/detached \/dev\/loop\d+ \(over .*host\.disk\)/);
    expect(r.out).toMatch(/removed tracefs instance .*iolineage-host-/);
    expect(leftovers(st, procs)).toEqual([]);
    expect(readdirSync(join(lab.runDir, 'runs'))).toEqual([]);
    // idempotent: nothing more to do
    expect(cleanupCli(lab.runDir).out).toMatch(/nothing left by earlier runs/);
  });

  it('SIGKILL, then the next lab run cleans up first (and says so) and completes', async () => {
    const runDir = mkdtempSync(join(root, 'run-'));
    const killed = startLab('killed', runDir);
    const st = await workloadRunning(killed);
    const procs = descendants(killed.child.pid!);
    killed.child.kill('SIGKILL');
    await killed.exit;
    expect(leftovers(st, procs).length).toBeGreaterThan(0);

    const next = startLab('next', runDir, ['--ops', '50']);
    const ex = await next.exit;
    expect(ex.code, next.stderr()).toBe(0);
    expect(next.stderr()).toMatch(new RegExp(`lab: cleaning up after run ${killed.child.pid} .*no longer running`));
    expect(next.stderr()).toMatch(/unmounted .*\/host/);
    expect(leftovers(st, procs)).toEqual([]);
    expect(readdirSync(join(runDir, 'runs'))).toEqual([]);
    expect(existsSync(join(root, 'next-out', 'manifest.json'))).toBe(true);
  });
});

describe.skipIf(!existsSync('/proc/self/stat'))('releasing recorded processes', () => {
  it('never signals a pid whose start time is not the recorded one (a recycled pid)', async () => {
    const p = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const start = procStat(p.pid!)!.start;
      const recycled: ProcessResource = { kind: 'process', pid: p.pid!, start: String(Number(start) - 1), group: false, what: 'sleep' };
      expect(stopProcess(recycled)).toBeNull();
      await sleep(100);
      expect(p.exitCode).toBeNull();
      expect(p.signalCode).toBeNull();
      const same: ProcessResource = { ...recycled, start };
      expect(releaseResource(same)).toMatch(/^stopped sleep \(pid \d+, SIGTERM\)$/);
      // idempotent: released once, nothing the second time
      expect(releaseResource(same)).toBeNull();
    } finally {
      p.kill('SIGKILL');
    }
  });
});
