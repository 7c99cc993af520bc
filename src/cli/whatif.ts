/**
 * iolineage whatif: predicted guest-disk and host-disk bytes for other VM memory and host cache
 * sizes, from one analysed capture (an `iolineage analyze` output directory).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { readArrowFile } from '../table/arrow-file.js';
import { UsageError, InputError } from '../util/errors.js';
import { formatBytes, parseSize } from '../util/numbers.js';
import { parseCommandArgs } from './args.js';
import { appPageAccesses, blockPageAccesses, PAGE_SIZE } from '../whatif/page-accesses.js';
import { MemoryModel, type Measured } from '../whatif/memory-model.js';
import { exactCurve, shardsCurve } from '../whatif/shards.js';
import { evenSizes, type MissRatioCurve } from '../whatif/miss-ratio-curve.js';

export const help = `usage: iolineage whatif OUT_DIR --guest-mem SIZES [options]

Predict the bytes read and written at the guest disk and at the host disk for other guest memory
sizes and host page-cache sizes, from one capture analysed by \`iolineage analyze\` (OUT_DIR holds
app_io.arrow and guest_requests.arrow; summary.json or --captured-mem gives the run's VM memory).

options:
  --guest-mem SIZES      comma-separated guest memory sizes, e.g. 128M,256M,512M,1G (required)
  --host-cache SIZES     comma-separated host page-cache sizes (default: 0,256M,1G,4G)
  --host-cache-mode M    writeback (host page cache in use) or none (default: from summary.json, else writeback)
  --captured-mem SIZE    guest memory of the captured run (default: from summary.json)
  --overhead SIZE        guest memory not available to the page cache (default: calibrated)
  --budget SIZE          host memory shared by the VM and the host cache: recommend a VM memory size
  --sample RATE          print the curves from SHARDS sampling at RATE (e.g. 0.1) instead of exactly
  --json                 print JSON: [{guest_mem, host_cache, predicted: {...}}] (sizes in bytes)
`;

function sizes(text: string, what: string): number[] {
  return text.split(',').filter(Boolean).map((s) => {
    try { return parseSize(s); } catch { throw new UsageError(`whatif: ${what}: "${s}" is not a size (e.g. 128M, 1G)`); }
  });
}

function sumBytes(t: Table, op: string): number {
  const ops = t.getChild('op');
  const bytes = t.getChild('bytes');
  let s = 0;
  for (let i = 0; i < t.numRows; i++) if (ops.at(i) === op) s += Number(bytes.at(i) ?? 0);
  return s;
}

function load(dir: string, name: string): Table {
  const p = join(dir, `${name}.arrow`);
  if (!existsSync(p)) throw new InputError(dir, `no ${name}.arrow: run \`iolineage analyze\` first and pass its output directory`);
  return readArrowFile(p);
}

/** Guest-disk reads that are not file data, from attribution (metadata and journal causes). */
function otherGuestReadBytes(dir: string, guest: Table): number | undefined {
  const p = join(dir, 'attribution.arrow');
  if (!existsSync(p)) return undefined;
  const a = readArrowFile(p);
  const layer = a.getChild('layer'), cause = a.getChild('cause'), lower = a.getChild('lower_id'), bytes = a.getChild('bytes');
  const op = guest.getChild('op');
  let s = 0;
  for (let i = 0; i < a.numRows; i++) {
    if (layer.at(i) !== 'guest') continue;
    const c = String(cause.at(i));
    if ((c === 'journal' || c.startsWith('fs_metadata')) && op.at(Number(lower.at(i))) === 'read') s += Number(bytes.at(i));
  }
  return s;
}

function formatCurve(c: MissRatioCurve, label: string): string[] {
  const lines = [`${label}: ${c.accesses} page accesses, ${Math.round(c.distinctPages)} distinct pages, ${c.rate === 1 ? 'exact' : `SHARDS at ${c.rate} (estimated max error ${c.errorEstimate?.toFixed(4)})`}`];
  for (let i = 0; i < c.sizes.length; i += Math.max(1, Math.floor(c.sizes.length / 10))) {
    lines.push(`  ${formatBytes(c.sizes[i]! * PAGE_SIZE).padStart(10)}  miss ratio ${c.missRatio[i]!.toFixed(4)}`);
  }
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('whatif', argv, {
    'guest-mem': { type: 'string' }, 'host-cache': { type: 'string' }, 'host-cache-mode': { type: 'string' },
    'captured-mem': { type: 'string' }, overhead: { type: 'string' }, budget: { type: 'string' },
    sample: { type: 'string' }, json: { type: 'boolean' },
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageError('whatif: expected one OUT_DIR (see --help)');
  if (typeof values['guest-mem'] !== 'string') throw new UsageError('whatif: --guest-mem is required, e.g. --guest-mem 128M,512M,1G');
  const guestMems = sizes(values['guest-mem'], '--guest-mem');
  const hostCaches = sizes(typeof values['host-cache'] === 'string' ? values['host-cache'] : '0,256M,1G,4G', '--host-cache');
  let summary: Record<string, unknown> = {};
  const sp = join(dir, 'summary.json');
  if (existsSync(sp)) {
    try { summary = JSON.parse(readFileSync(sp, 'utf8')) as Record<string, unknown>; } catch (e) { throw new InputError(sp, `not JSON: ${(e as Error).message}`); }
  }
  const capture = (summary.capture ?? {}) as Record<string, unknown>;
  const capturedMem = typeof values['captured-mem'] === 'string' ? parseSize(values['captured-mem']) : Number(capture.vm_mem_bytes ?? NaN);
  if (!Number.isFinite(capturedMem) || capturedMem <= 0) throw new UsageError('whatif: the captured VM memory is unknown: pass --captured-mem SIZE');
  const mode = (typeof values['host-cache-mode'] === 'string' ? values['host-cache-mode'] : String(capture.host_cache ?? 'writeback')) as string;
  if (mode !== 'writeback' && mode !== 'none') throw new UsageError(`whatif: --host-cache-mode: expected writeback or none, got ${mode}`);

  const app = appPageAccesses(load(dir, 'app_io'));
  const guest = load(dir, 'guest_requests');
  const other = otherGuestReadBytes(dir, guest);
  const measured: Measured = { guestReadBytes: sumBytes(guest, 'read') - (other ?? 0), guestWriteBytes: sumBytes(guest, 'write'), guestOtherReadBytes: other ?? 0 };
  const model = new MemoryModel({
    app, capturedGuestMem: capturedMem, measured, hostCacheMode: mode,
    ...(typeof values.overhead === 'string' ? { overheadBytes: parseSize(values.overhead) } : {}),
  });
  const predictions = model.predict(guestMems, hostCaches);
  if (values.json) {
    process.stdout.write(JSON.stringify(predictions, null, 1) + '\n');
    return 0;
  }
  const rate = typeof values.sample === 'string' ? Number(values.sample) : 1;
  const guestSizes = evenSizes(Math.max(...guestMems) / PAGE_SIZE, 20);
  const guestCurve = rate < 1 ? shardsCurve(app.pages, rate, guestSizes) : exactCurve(app.pages, guestSizes);
  const hostPages = blockPageAccesses(guest).pages;
  const hostSizes = evenSizes(Math.max(PAGE_SIZE, ...hostCaches) / PAGE_SIZE, 20);
  const hostCurve = rate < 1 ? shardsCurve(hostPages, rate, hostSizes) : exactCurve(hostPages, hostSizes);
  const c = model.calibration;
  const lines = [
    `captured run: VM memory ${formatBytes(capturedMem)}, host cache mode ${mode}; guest-disk reads ${formatBytes(measured.guestReadBytes)} data + ${formatBytes(measured.guestOtherReadBytes ?? 0)} other, writes ${formatBytes(measured.guestWriteBytes)}`,
    `application: ${app.pages.length} buffered page accesses (${formatBytes(app.bufferedReadBytes)} read, ${formatBytes(app.bufferedWriteBytes)} written), O_DIRECT ${formatBytes(app.directReadBytes)} read, ${formatBytes(app.directWriteBytes)} written${app.skippedUncertain ? `, ${app.skippedUncertain} calls with unknown offset left out` : ''}`,
    `guest memory not available to the page cache: ${formatBytes(c.overheadBytes)} (${c.method}; residual ${formatBytes(c.residualBytes)})`,
    '',
    ...formatCurve(guestCurve, 'guest page cache MRC (application page accesses)'),
    '',
    ...formatCurve(hostCurve, 'host page cache MRC (guest-disk requests of this run)'),
    '',
    'guest mem   host cache   guest read   guest write    host read   host write',
    ...predictions.map((p) => `${formatBytes(p.guest_mem).padStart(9)} ${formatBytes(p.host_cache).padStart(12)} ${formatBytes(p.predicted.guest_read_bytes).padStart(12)} ${formatBytes(p.predicted.guest_write_bytes).padStart(12)} ${formatBytes(p.predicted.host_read_bytes).padStart(12)} ${formatBytes(p.predicted.host_write_bytes).padStart(12)}`),
  ];
  if (typeof values.budget === 'string') {
    const r = model.recommend(parseSize(values.budget), guestMems);
    lines.push('', `recommended VM memory for a host budget of ${values.budget}: ${formatBytes(r.guest_mem)} (host cache ${formatBytes(r.host_cache)}; predicted host-disk reads ${formatBytes(r.prediction.predicted.host_read_bytes)})`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
