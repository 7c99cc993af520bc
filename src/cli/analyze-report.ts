/**
 * What `iolineage analyze` prints after the run: the clock offsets in seconds with a readable
 * size, and a short summary of the result (bytes per layer, amplification, cache hits, outcomes),
 * read from the summary.json it wrote.
 */
import { formatBytes } from '../util/numbers.js';
import type { Summary, SummaryClock } from '../metrics/summary-json.js';

/** A duration in ns as seconds with 9 decimals, exact for any 64-bit value. */
export function formatSeconds(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')} s`;
}

/** A duration in ns in the largest fitting unit, e.g. "258.5 µs", "3.72 h", "20784 days". */
export function formatDuration(ns: number): string {
  const a = Math.abs(ns);
  const sign = ns < 0 ? '-' : '';
  const units: [number, string][] = [
    [86400e9, 'days'],
    [3600e9, 'h'],
    [60e9, 'min'],
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ];
  for (const [size, name] of units) {
    if (a < size) continue;
    const v = a / size;
    return `${sign}${v >= 1000 ? v.toFixed(0) : v.toPrecision(4).replace(/\.?0+$/, '')} ${name}`;
  }
  return `${sign}${a} ns`;
}

function clockLine(vm: string, name: string, c: SummaryClock): string {
  const ns = BigInt(c.offset_ns);
  const unc = c.uncertainty_ns == null ? 'uncertainty unknown' : `± ${formatDuration(c.uncertainty_ns)}`;
  const support = c.support !== undefined ? `, ${c.support} of ${c.considered ?? c.support} matched` : '';
  const drift = c.drift_ppm ? `, drift ${c.drift_ppm.toFixed(3)} ppm` : '';
  return `  ${vm} ${name}: ${formatSeconds(ns)} (${formatDuration(Number(ns))}) ${unc} (from ${c.source ?? '?'}${support}${drift})`;
}

const pct = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? '?' : `${(100 * x).toFixed(1)}%`);
const ratio = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? '?' : `${x.toFixed(2)}×`);

/** The lines printed after an analyze run. */
export function analyzeResultLines(s: Summary, outDir: string, tables: number): string[] {
  const lines: string[] = [];
  const clocks = Object.entries(s.clocks ?? {});
  if (clocks.length) {
    lines.push('clock offsets (t_lower = t_upper + offset):');
    for (const [vm, c] of clocks) {
      if (c.app_to_guest) lines.push(clockLine(vm, 'app → guest', c.app_to_guest));
      if (c.guest_to_host) lines.push(clockLine(vm, 'guest → host', c.guest_to_host));
    }
  }
  lines.push('result:');
  for (const [layer, t] of Object.entries(s.layers ?? {})) {
    lines.push(
      `  ${layer.padEnd(5)} ${formatBytes(t.read_bytes ?? 0).padStart(11)} read, ${formatBytes(t.write_bytes ?? 0).padStart(11)} written in ${t.requests ?? 0} ${layer === 'app' ? 'calls' : 'requests'}`,
    );
  }
  for (const [layer, a] of Object.entries(s.amplification ?? {})) {
    lines.push(`  ${layer} bytes per app byte: read ${ratio(a.read)}, write ${ratio(a.write)}, total ${ratio(a.total)}`);
  }
  for (const [layer, c] of Object.entries(s.cache ?? {})) {
    lines.push(`  read bytes from above that never reached the ${layer} disk (cache hits): ${pct(c.hit_ratio)}`);
  }
  const outcomes = Object.entries(s.outcomes ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  if (outcomes.length) lines.push(`  app I/O outcomes: ${outcomes.map(([k, n]) => `${k.replaceAll('_', ' ')} ${n}`).join(', ')}`);
  lines.push(`  ${tables} tables and summary.json in ${outDir}`);
  return lines;
}
