/**
 * iolineage whatif: predicted guest-disk and host-disk bytes for other VM memory and host cache
 * sizes, from one analysed capture (an `iolineage analyze` output directory).
 */
import { UsageError } from '../util/errors.js';
import { formatBytes, parseSize } from '../util/numbers.js';
import { parseCommandArgs } from './args.js';
import { blockPageAccesses, PAGE_SIZE } from '../whatif/page-accesses.js';
import { loadWhatifInputs, memoryModelFor } from '../whatif/whatif-inputs.js';
import { exactCurve, shardsCurve } from '../whatif/shards.js';
import { evenSizes, type MissRatioCurve } from '../whatif/miss-ratio-curve.js';

export const help = `usage: iolineage whatif CAPTURE_OR_OUT --guest-mem SIZES [options]

Predict the bytes read and written at the guest disk and at the host disk for other guest memory
sizes and host page-cache sizes, from one capture: a capture bundle (a directory with
manifest.json, analysed on the fly) or the output directory of \`iolineage analyze\` (app_io.arrow,
guest_requests.arrow; --captured-mem gives the run's VM memory when summary.json does not).

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
    return parseSize(s, `whatif: ${what}`);
  });
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
  if (!dir || positionals.length > 1) throw new UsageError('whatif: expected one CAPTURE_OR_OUT directory (see --help)');
  if (typeof values['guest-mem'] !== 'string') throw new UsageError('whatif: --guest-mem is required, e.g. --guest-mem 128M,512M,1G');
  const guestMems = sizes(values['guest-mem'], '--guest-mem');
  const hostCaches = sizes(typeof values['host-cache'] === 'string' ? values['host-cache'] : '0,256M,1G,4G', '--host-cache');
  const given = {
    ...(typeof values['captured-mem'] === 'string' ? { capturedGuestMem: parseSize(values['captured-mem'], 'whatif: --captured-mem') } : {}),
    ...(typeof values['host-cache-mode'] === 'string' ? { hostCacheMode: values['host-cache-mode'] } : {}),
    ...(typeof values.overhead === 'string' ? { overheadBytes: parseSize(values.overhead, 'whatif: --overhead') } : {}),
  };
  const budget = typeof values.budget === 'string' ? parseSize(values.budget, 'whatif: --budget') : undefined;
  const inp = await loadWhatifInputs(dir, (m) => process.stderr.write(`whatif: ${m}\n`));
  const { model, app, measured, capturedGuestMem: capturedMem, hostCacheMode: mode } = memoryModelFor(inp, given);
  const guest = inp.guestRequests;
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
  if (budget !== undefined) {
    const r = model.recommend(budget, guestMems);
    lines.push('', `recommended VM memory for a host budget of ${values.budget}: ${formatBytes(r.guest_mem)} (host cache ${formatBytes(r.host_cache)}; predicted host-disk reads ${formatBytes(r.prediction.predicted.host_read_bytes)})`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
