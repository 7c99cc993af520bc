/**
 * Turning the files a capture left behind (guest.env from capture/guest-capture.sh, traces,
 * metadata) into manifest entries.
 */
import { readFileSync } from 'node:fs';
import type { BlockTraceInfo, ClockMark, ClockPair } from '../capture/manifest.js';
import { pipeline } from './exec.js';
import { markTimes } from './tracefs.js';

/** Parse the key=value lines of guest.env (written by capture/guest-capture.sh). */
export function parseEnv(text: string, file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  for (const k of ['kernel', 'dev', 'trace_clock', 'lost_events', 'clocks_start_realtime_ns', 'clocks_end_monotonic_ns']) {
    if (!m.has(k)) throw new Error(`${file}: no "${k}=" line (capture/guest-capture.sh did not finish?)`);
  }
  return m;
}

/** Read an env key, failing clearly. */
export function envGet(env: Map<string, string>, key: string): string {
  const v = env.get(key);
  if (v === undefined) throw new Error(`guest.env has no "${key}="`);
  return v;
}

export function envClocks(env: Map<string, string>, when: 'start' | 'end'): ClockPair {
  return { realtime_ns: envGet(env, `clocks_${when}_realtime_ns`), monotonic_ns: envGet(env, `clocks_${when}_monotonic_ns`) };
}

/** Block-trace entry of a guest from its guest.env. */
export function envTrace(env: Map<string, string>, path: string): BlockTraceInfo {
  return {
    path,
    format: 'tracefs-text',
    trace_clock: envGet(env, 'trace_clock'),
    events: envGet(env, 'events').split(',').filter(Boolean),
    filter: envGet(env, 'filter'),
    buffer_size_kb: Number(envGet(env, 'buffer_size_kb')),
    lost_events: Number(envGet(env, 'lost_events')),
    lines: Number(envGet(env, 'lines')),
  };
}

/** Pair the marks found in the guest and host traces by number. */
export function pairMarks(guestTrace: string, hostTrace: string | null, hostMark: RegExp): ClockMark[] {
  const g = markTimes(guestTrace, /^iolineage-mark (\d+)$/);
  const h = hostTrace === null ? new Map<string, bigint>() : markTimes(hostTrace, hostMark);
  const keys = [...new Set([...g.keys(), ...h.keys()])].map(Number).sort((a, b) => a - b);
  return keys.map((n) => ({
    n,
    guest_ns: g.get(String(n))?.toString() ?? null,
    host_ns: h.get(String(n))?.toString() ?? null,
  }));
}

/** gzip a file into the bundle (`-n`: no name or time stamp inside, so reruns compare equal). */
export function gzipInto(src: string, dst: string): void {
  pipeline(`gzip -6 -n -c '${src}' > '${dst}'`);
}

export function readText(p: string): string {
  return readFileSync(p, 'utf8');
}
