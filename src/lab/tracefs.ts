/**
 * A block-trace recorder over a private tracefs instance (Documentation/trace/ftrace.rst,
 * "Instances"): its own ring buffer, clock and event filters, so it never disturbs another
 * tracer. Events are streamed out of `trace_pipe` into a text file while the run goes on, so the
 * per-CPU buffer stays bounded; overruns are counted from `per_cpu/cpuN/stats`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type Cleanup, sh } from './exec.js';

/** The block tracepoints recorded (include/trace/events/block.h). Plug/unplug carry no `dev` field
 * to filter on, so they are left out. */
export const BLOCK_EVENTS = [
  'block_bio_queue',
  'block_bio_backmerge',
  'block_bio_frontmerge',
  'block_bio_remap',
  'block_split',
  'block_getrq',
  'block_rq_insert',
  'block_rq_issue',
  'block_rq_merge',
  'block_rq_complete',
  'block_rq_requeue',
] as const;

/** Where tracefs is mounted, mounting it on /sys/kernel/tracing when it is not. Null if unavailable. */
export function tracefsRoot(): string | null {
  for (const d of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (existsSync(join(d, 'instances'))) return d;
  }
  try {
    sh('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  } catch {
    return null;
  }
  return existsSync('/sys/kernel/tracing/instances') ? '/sys/kernel/tracing' : null;
}

/** dev_t as the block tracepoints store it: (major << 20) | minor (MINORBITS = 20, include/linux/kdev_t.h). */
export function kernelDev(majMin: string): number {
  const [maj, min] = majMin.split(':').map(Number);
  return (maj! << 20) | min!;
}

export interface TraceResult {
  trace_clock: string;
  events: string[];
  filter: string;
  buffer_size_kb: number;
  lost_events: number;
  lines: number;
}

export class BlockRecorder {
  readonly dir: string;
  private reader: ChildProcess | null = null;
  private markerFd = -1;
  private readonly filter: string;
  private clock = 'mono';

  /**
   * @param root tracefs mount point
   * @param name instance name (must not exist yet)
   * @param dev `MAJ:MIN` of the disk to record
   * @param out text file to write
   * @param bufferKb per-CPU ring buffer, KiB
   * @param cleanup when given, the `cat trace_pipe` reader is one of its children (stopped on a signal, recorded)
   */
  constructor(
    root: string,
    name: string,
    readonly dev: string,
    readonly out: string,
    readonly bufferKb = 8192,
    private readonly cleanup?: Cleanup,
  ) {
    this.dir = join(root, 'instances', name);
    this.filter = `dev == ${kernelDev(dev)}`;
  }

  private w(rel: string, value: string): void {
    writeFileSync(join(this.dir, rel), value + '\n');
  }

  /** Create the instance, enable the events and start streaming. */
  start(clock = 'mono'): void {
    if (existsSync(this.dir)) throw new Error(`tracefs instance ${this.dir} already exists (another recorder running?)`);
    mkdirSync(this.dir);
    this.w('tracing_on', '0');
    try {
      this.w('trace_clock', clock);
      this.clock = clock;
    } catch {
      this.clock = /\[(\S+)\]/.exec(readFileSync(join(this.dir, 'trace_clock'), 'utf8'))?.[1] ?? 'local';
    }
    this.w('buffer_size_kb', String(this.bufferKb));
    for (const e of BLOCK_EVENTS) {
      const d = join(this.dir, 'events/block', e);
      if (!existsSync(d)) continue;
      this.w(`events/block/${e}/filter`, this.filter);
      this.w(`events/block/${e}/enable`, '1');
    }
    writeFileSync(this.out, readFileSync(join(this.dir, 'trace')));
    const fd = openSync(this.out, 'a');
    const args = [join(this.dir, 'trace_pipe')];
    const stdio: ['ignore', number, 'ignore'] = ['ignore', fd, 'ignore'];
    this.reader = this.cleanup ? this.cleanup.spawn('cat', args, { what: 'trace_pipe reader', stdio }) : spawn('cat', args, { stdio });
    closeSync(fd);
    this.markerFd = openSync(join(this.dir, 'trace_marker'), 'w');
    this.w('tracing_on', '1');
  }

  /** Write a line into the instance's trace_marker (lands in the trace on the trace clock). */
  mark(text: string): void {
    if (this.markerFd >= 0) writeSync(this.markerFd, text + '\n');
  }

  /** Stop tracing, drain what is left, count losses, remove the instance. Safe to call twice. */
  async stop(): Promise<TraceResult> {
    const result: TraceResult = {
      trace_clock: this.clock,
      events: BLOCK_EVENTS.map((e) => `block/${e}`),
      filter: this.filter,
      buffer_size_kb: this.bufferKb,
      lost_events: 0,
      lines: 0,
    };
    if (!existsSync(this.dir)) return result;
    this.w('tracing_on', '0');
    if (this.reader) {
      const r = this.reader;
      await new Promise((res) => setTimeout(res, 500));
      const closed = new Promise((res) => r.once('close', res));
      r.kill('SIGTERM');
      if (r.exitCode === null && r.signalCode === null) await closed;
      this.reader = null;
    }
    const rest = readFileSync(join(this.dir, 'trace'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    if (rest.length) appendFileSync(this.out, rest.join('\n') + '\n');
    for (const cpu of readdirSync(join(this.dir, 'per_cpu'))) {
      const stats = readFileSync(join(this.dir, 'per_cpu', cpu, 'stats'), 'utf8');
      result.lost_events += Number(/^overrun: (\d+)/m.exec(stats)?.[1] ?? 0);
      result.lost_events += Number(/^dropped events: (\d+)/m.exec(stats)?.[1] ?? 0);
    }
    const text = readFileSync(this.out, 'utf8');
    for (const m of text.matchAll(/LOST (\d+) EVENTS/g)) result.lost_events += Number(m[1]);
    result.lines = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    this.remove();
    return result;
  }

  /** Kill the reader and close the marker: what this process holds open in the instance. */
  closeHandles(): void {
    if (this.reader) {
      this.reader.kill('SIGKILL');
      this.reader = null;
    }
    if (this.markerFd >= 0) {
      closeSync(this.markerFd);
      this.markerFd = -1;
    }
  }

  /** Disable everything and remove the instance (cleanup path; no draining). */
  remove(): void {
    this.closeHandles();
    if (!existsSync(this.dir)) return;
    try {
      this.w('tracing_on', '0');
    } catch {
      /* already gone */
    }
    for (const e of BLOCK_EVENTS) {
      try {
        this.w(`events/block/${e}/enable`, '0');
      } catch {
        /* event absent */
      }
    }
    // the reader may still hold trace_pipe for a moment after SIGKILL
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch {
        sh('sleep', ['0.1']);
      }
    }
    rmdirSync(this.dir);
  }
}

/** Timestamps of `tracing_mark_write` lines matching `re` (group 1 = key) in a tracefs text trace, in ns. */
export function markTimes(text: string, re: RegExp): Map<string, bigint> {
  const out = new Map<string, bigint>();
  // "  busybox-9710    [001] ...1.   592.327145: tracing_mark_write: iolineage-mark 0"
  const line = /^\s*.+?\s+\[\d+\]\s+(?:\S+\s+)?(\d+)\.(\d+): tracing_mark_write: (.*)$/;
  for (const l of text.split('\n')) {
    if (!l.includes('tracing_mark_write')) continue;
    const m = line.exec(l);
    if (!m) continue;
    const k = re.exec(m[3]!);
    if (!k || out.has(k[1]!)) continue;
    out.set(k[1]!, BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!.padEnd(9, '0').slice(0, 9)));
  }
  return out;
}
