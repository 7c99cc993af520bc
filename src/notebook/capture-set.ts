/**
 * A set of capture bundles (folders with a manifest.json, e.g. data/) as the throughput grid sees
 * them: each run's parameters from its manifest (VM memory, buffered or O_DIRECT, data size, host
 * cache, image format) and the workload's throughput from its own I/O log (the ground truth).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readManifest } from '../capture/manifest.js';
import { openInputStream } from '../io/input-stream.js';
import { forEachLineOfStream } from '../io/line-splitter.js';
import { InputError, UsageError } from '../util/errors.js';

/** Where the capture set is: the argument, else $IOLINEAGE_CAPTURE_SET, else the project's data/. */
export function captureSetDir(dir?: string): string {
  const chosen = dir ?? process.env.IOLINEAGE_CAPTURE_SET;
  if (chosen) return resolve(chosen);
  return basename(process.cwd()) === 'notebooks' ? resolve('..', 'data') : resolve('data');
}

export interface WorkloadThroughput {
  /** Operations of the measured phase that moved data (read and write calls with ret > 0). */
  ops: number;
  reads: number;
  writes: number;
  /** Bytes those calls transferred (sum of ret). */
  bytes: number;
  /** From the first start to the last end of the phase's calls, ns. */
  span_ns: number;
  /** bytes / span, MB/s (10^6 bytes per second, as FFSB reports). */
  mb_per_s: number;
  ops_per_s: number;
}

const TAB = 9;

/**
 * Throughput of one phase (default "run", the random phase) from an ffsb-lite-v1 workload log
 * (capture/workload/ffsb-lite.c; manifest `workload_log`): `#` comment lines, then tab-separated
 * `seq phase op file offset size ret start_ns end_ns`, times on CLOCK_MONOTONIC. Streams the file.
 * @throws InputError naming the file and line when a data line does not have the 9 fields
 */
export async function workloadThroughput(path: string, phase = 'run'): Promise<WorkloadThroughput> {
  let ops = 0,
    reads = 0,
    writes = 0,
    bytes = 0;
  let first = Infinity,
    last = -Infinity;
  let sawHeader = false;
  const fields = new Int32Array(10);
  await forEachLineOfStream(openInputStream(path), (t, s, e, lineNo) => {
    if (s === e) return;
    if (t.charCodeAt(s) === 35 /* # */) {
      if (lineNo === 1) {
        const head = t.slice(s, e).trim();
        if (head !== '# ffsb-lite v1')
          throw new InputError(path, `expected the header "# ffsb-lite v1", found "${head.slice(0, 40)}"`, { line: lineNo });
        sawHeader = true;
      }
      return;
    }
    if (!sawHeader)
      throw new InputError(path, 'expected the header "# ffsb-lite v1" on line 1: not an ffsb-lite workload log', { line: 1 });
    let n = 0;
    fields[n++] = s;
    for (let i = s; i < e && n < 10; i++) if (t.charCodeAt(i) === TAB) fields[n++] = i + 1;
    if (n !== 9)
      throw new InputError(path, `expected 9 tab-separated fields (seq phase op file offset size ret start_ns end_ns), found ${n}`, {
        line: lineNo,
      });
    const field = (k: number) => t.slice(fields[k]!, k === 8 ? e : fields[k + 1]! - 1);
    if (field(1) !== phase) return;
    const op = field(2);
    if (op !== 'read' && op !== 'write') return;
    const ret = Number(field(6));
    const start = Number(field(7));
    const end = Number(field(8));
    if (!Number.isFinite(ret) || !Number.isFinite(start) || !Number.isFinite(end) || end < start) {
      throw new InputError(path, `expected numbers ret, start_ns <= end_ns, found "${field(6)}", "${field(7)}", "${field(8)}"`, {
        line: lineNo,
      });
    }
    // CLOCK_MONOTONIC ns stay below 2^53 for 104 days of uptime: exact as numbers
    if (start < first) first = start;
    if (end > last) last = end;
    if (ret <= 0) return;
    ops++;
    bytes += ret;
    if (op === 'read') reads++;
    else writes++;
  });
  const span = last > first ? last - first : 0;
  return {
    ops,
    reads,
    writes,
    bytes,
    span_ns: span,
    mb_per_s: span > 0 ? bytes / (span / 1e9) / 1e6 : 0,
    ops_per_s: span > 0 ? ops / (span / 1e9) : 0,
  };
}

export interface CaptureSetRun {
  /** Bundle folder name (with "/VM id" for bundles of several VMs). */
  run: string;
  vm_mem_mib: number;
  data_mib: number;
  /** "buffered" or "O_DIRECT", plus the host cache and image format when not the default. */
  mode: string;
  direct: boolean;
  host_cache: string;
  image_format: string;
  throughput: WorkloadThroughput;
}

/** Every bundle of the set with a workload log, with its parameters and measured throughput. */
export async function captureSetRuns(dir?: string): Promise<CaptureSetRun[]> {
  const root = captureSetDir(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new UsageError(`no capture set at ${root} (set IOLINEAGE_CAPTURE_SET to a folder of capture bundles)`);
  const runs: CaptureSetRun[] = [];
  for (const name of readdirSync(root).sort()) {
    const bundle = join(root, name);
    if (!existsSync(join(bundle, 'manifest.json'))) continue;
    const m = readManifest(bundle);
    const lab = m.lab;
    const withLogs = m.guests.filter((g) => g.workload_log);
    // a bundle with several VMs gives one row per VM (each ran its own workload)
    for (const guest of withLogs) {
      const direct = lab ? lab.direct : false;
      const hostCache = lab?.host_cache ?? guest.image?.host_cache ?? 'unknown';
      const imageFormat = lab?.image_format ?? guest.image?.format ?? 'unknown';
      const extras = [
        hostCache !== 'writeback' ? `host cache ${hostCache}` : '',
        imageFormat !== 'raw' ? imageFormat : '',
        withLogs.length > 1 ? `${withLogs.length} VMs` : '',
      ].filter(Boolean);
      runs.push({
        run: withLogs.length > 1 ? `${name}/${guest.id}` : name,
        vm_mem_mib: (lab?.vm_mem_bytes ?? guest.mem_bytes ?? 0) / 1048576,
        data_mib: (lab?.data_bytes ?? 0) / 1048576,
        mode: `${direct ? 'O_DIRECT' : 'buffered'}${extras.length ? ` (${extras.join(', ')})` : ''}`,
        direct,
        host_cache: hostCache,
        image_format: imageFormat,
        throughput: await workloadThroughput(join(bundle, guest.workload_log!.path)),
      });
    }
  }
  if (runs.length === 0) throw new UsageError(`no capture bundle with a workload log under ${root}`);
  return runs;
}
