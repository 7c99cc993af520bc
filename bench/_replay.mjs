// A real capture scaled up, for the benchmarks that need big analyses (analyze-e2e, notebooks):
// the strace log and the guest and host tracefs block traces of a bundle replayed K times, every
// timestamp shifted by k × SPAN (SPAN = the longest of the three logs' spans + 1 s; the same shift
// for all three, so the capture's app→guest and guest→host clock offsets still hold). Offsets and
// sectors are kept, so every file and sector maps through the capture's own guest fs metadata,
// image and host fs metadata. Each replayed line keeps its kernel/strace layout; only the
// timestamp token changes.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

function readLines(bundle, rel) {
  const text = gunzipSync(readFileSync(join(bundle, rel))).toString('latin1');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Time in whole microseconds from "S.UUUUUU" (both logs print 6 decimals). */
const toUs = (s, u) => Number(s) * 1e6 + Number(u);
const fmtUs = (us) => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;

/**
 * Split each line into [prefix, time µs, suffix]; lines without a timestamp (tracefs comment
 * header) are kept aside and written once, before the first replay.
 */
function parseTimed(lines, re, what) {
  const head = [],
    prefix = [],
    us = [],
    suffix = [];
  let blockEvents = 0;
  for (const line of lines) {
    if (line.startsWith('#')) {
      if (prefix.length === 0) head.push(line);
      continue;
    }
    const m = re.exec(line);
    if (!m) throw new Error(`${what}: expected a timestamped line, got ${JSON.stringify(line.slice(0, 120))}`);
    prefix.push(m[1] ?? '');
    us.push(toUs(m[2], m[3]));
    suffix.push(m[4]);
    if (m[4].startsWith(': block_')) blockEvents++;
  }
  let lo = Infinity,
    hi = -Infinity;
  for (const t of us) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return { head, prefix, us, suffix, blockEvents, spanUs: hi - lo };
}

// tracefs text (kernel trace_output.c): "TASK-PID [CPU] FLAGS TIMESTAMP: event: ..."
const TRACEFS = /^(.*?\] \S+ +)(\d+)\.(\d{6})(: .*)$/;
// strace -f -ttt: "[PID ]SECONDS.MICROS rest"
const STRACE = /^(\d+ +)?(\d+)\.(\d{6})( .*)$/;

function writeReplayed(path, log, k, shiftUs) {
  const fd = openSync(path, 'w');
  try {
    if (log.head.length) writeSync(fd, log.head.join('\n') + '\n');
    const n = log.us.length;
    for (let r = 0; r < k; r++) {
      const d = r * shiftUs,
        parts = new Array(n);
      for (let i = 0; i < n; i++) parts[i] = log.prefix[i] + fmtUs(log.us[i] + d) + log.suffix[i];
      writeSync(fd, parts.join('\n') + '\n');
    }
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

/** The three logs of the bundle's first VM and its host, parsed once for any number of replays. */
export function loadReplaySource(bundle) {
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
  const g = manifest.guests[0],
    h = manifest.host;
  const strace = parseTimed(readLines(bundle, g.strace.path), STRACE, g.strace.path);
  const guest = parseTimed(readLines(bundle, g.block_trace.path), TRACEFS, g.block_trace.path);
  const host = parseTimed(readLines(bundle, h.block_trace.path), TRACEFS, h.block_trace.path);
  const shiftUs = Math.ceil((Math.max(strace.spanUs, guest.spanUs, host.spanUs) + 1e6) / 1e6) * 1e6;
  return { bundle, manifest, guestVm: g, host: h, strace, guest, hostLog: host, shiftUs };
}

/**
 * Write the K-times replay into DIR; returns the `iolineage analyze` arguments (files mode, with
 * the clock offsets of the bundle's own analysis: its summary.json `clocks`) and the input bytes.
 */
export function writeReplay(src, k, dir, clocks) {
  mkdirSync(dir, { recursive: true });
  const { bundle, guestVm: g, host: h } = src;
  const bytes =
    writeReplayed(join(dir, 'app.strace'), src.strace, k, src.shiftUs) +
    writeReplayed(join(dir, 'guest.trace'), src.guest, k, src.shiftUs) +
    writeReplayed(join(dir, 'host.trace'), src.hostLog, k, src.shiftUs);
  const args = [
    '--app',
    join(dir, 'app.strace'),
    '--guest-trace',
    join(dir, 'guest.trace'),
    '--guest-dev',
    g.disk.dev,
    '--guest-fs',
    join(bundle, g.fs.metadata),
    '--guest-mount',
    g.fs.mount,
    '--host-trace',
    join(dir, 'host.trace'),
    '--host-dev',
    h.disk.dev,
    '--host-fs',
    join(bundle, h.fs.metadata),
    '--image',
    g.image.path_in_fs,
    '--image-format',
    g.image.format,
    '--host-cache',
    g.image.host_cache,
    `--app-clock-offset=${clocks.app_to_guest.offset_ns}`,
    `--clock-offset=${clocks.guest_to_host.offset_ns}`,
  ];
  return { args, bytes };
}
