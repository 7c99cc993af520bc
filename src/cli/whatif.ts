/**
 * iolineage whatif: predicted guest-disk and host-disk bytes for other VM memory and host cache
 * sizes, from one analysed capture (an `iolineage analyze` output directory).
 */
import { basename } from 'node:path';
import { UsageError } from '../util/errors.js';
import { dropCallRows, readDropValues } from '../whatif/cache-drops.js';
import { formatBytes, parseSize } from '../util/numbers.js';
import { parseCommandArgs } from './args.js';
import { blockPageAccesses, PAGE_SIZE } from '../whatif/page-accesses.js';
import { loadWhatifInputs, memoryModelFor } from '../analyze/whatif-inputs.js';
import { exactCurve, shardsCurve } from '../whatif/shards.js';
import { evenSizes, type MissRatioCurve } from '../whatif/miss-ratio-curve.js';
import { UNCHECKED_ASSUMPTION_TEXT, type UncheckedAssumption } from '../whatif/cache-assumptions.js';

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
  --strace FILE          the strace log of the capture, to read the values written to drop_caches
                         (a capture bundle names its own; an analyze output does not keep it)
  --sample RATE          print the curves from SHARDS sampling at RATE (e.g. 0.1) instead of exactly
  --json                 print JSON: {captured, calibration, cache, predictions: [{guest_mem,
                         host_cache, predicted: {...}, unchecked: [...]}]} (sizes in bytes)

The guest page cache is followed through the trace: the cache drops it shows (writes to
/proc/sys/vm/drop_caches) free the clean pages, and sync/fsync make pages clean. What the cache
held before the trace's first line cannot be seen: the model takes it as cold and says so
("cache:" in the text, "cache" in JSON). A prediction that rests on an assumption the trace
cannot check lists it in "unchecked" (text: marked with *, explained below the table):
  cold_start          pages read before the trace wrote them were not cached at the start
  overhead_default    the memory the page cache cannot use is a default (the captured run's data fit)
  drop_value_unknown  the value written to drop_caches was not read (no strace log; see --strace): taken as 3
  dirty_at_drop       pages written since their last sync were still dirty at a drop
  cache_outside_trace the captured run read more than the trace explains (a drop or other memory
                      users the trace does not show), and does so at other sizes too
`;

function sizes(text: string, what: string): number[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((s) => {
      return parseSize(s, `whatif: ${what}`);
    });
}

function formatCurve(c: MissRatioCurve, label: string): string[] {
  const lines = [
    `${label}: ${c.accesses} page accesses, ${Math.round(c.distinctPages)} distinct pages, ${c.rate === 1 ? 'exact' : `SHARDS at ${c.rate} (estimated max error ${c.errorEstimate?.toFixed(4)})`}`,
  ];
  for (let i = 0; i < c.sizes.length; i += Math.max(1, Math.floor(c.sizes.length / 10))) {
    lines.push(`  ${formatBytes(c.sizes[i]! * PAGE_SIZE).padStart(10)}  miss ratio ${c.missRatio[i]!.toFixed(4)}`);
  }
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('whatif', argv, {
    'guest-mem': { type: 'string' },
    'host-cache': { type: 'string' },
    'host-cache-mode': { type: 'string' },
    'captured-mem': { type: 'string' },
    overhead: { type: 'string' },
    budget: { type: 'string' },
    sample: { type: 'string' },
    json: { type: 'boolean' },
    strace: { type: 'string' },
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new UsageError('whatif: expected one CAPTURE_OR_OUT directory (see --help)');
  if (typeof values['guest-mem'] !== 'string') throw new UsageError('whatif: --guest-mem is required, e.g. --guest-mem 128M,512M,1G');
  const guestMems = sizes(values['guest-mem'], '--guest-mem');
  const hostCaches = sizes(typeof values['host-cache'] === 'string' ? values['host-cache'] : '0,256M,1G,4G', '--host-cache');
  const given = {
    ...(typeof values['captured-mem'] === 'string'
      ? { capturedGuestMem: parseSize(values['captured-mem'], 'whatif: --captured-mem') }
      : {}),
    ...(typeof values['host-cache-mode'] === 'string' ? { hostCacheMode: values['host-cache-mode'] } : {}),
    ...(typeof values.overhead === 'string' ? { overheadBytes: parseSize(values.overhead, 'whatif: --overhead') } : {}),
  };
  const budget = typeof values.budget === 'string' ? parseSize(values.budget, 'whatif: --budget') : undefined;
  const loaded = await loadWhatifInputs(dir, (m) => process.stderr.write(`whatif: ${m}\n`));
  const stracePath = values.strace;
  const inp =
    typeof stracePath === 'string'
      ? { ...loaded, dropValues: await readDropValues(dropCallRows(loaded.appIo), new Map([[basename(stracePath), stracePath]])) }
      : loaded;
  const fitted = memoryModelFor(inp, given);
  const predictions = fitted.model.predict(guestMems, hostCaches);
  if (values.json) {
    process.stdout.write(JSON.stringify(jsonReport(fitted, predictions), null, 1) + '\n');
    return 0;
  }
  const rate = typeof values.sample === 'string' ? Number(values.sample) : 1;
  const lines = textReport(fitted, inp.guestRequests, predictions, guestMems, hostCaches, rate);
  if (budget !== undefined) {
    const r = fitted.model.recommend(budget, guestMems);
    lines.push(
      '',
      `recommended VM memory for a host budget of ${values.budget}: ${formatBytes(r.guest_mem)} (host cache ${formatBytes(r.host_cache)}; predicted host-disk reads ${formatBytes(r.prediction.predicted.host_read_bytes)})`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

type FittedModel = ReturnType<typeof memoryModelFor>;
type Predictions = ReturnType<FittedModel['model']['predict']>;

/** The --json output: the captured run, the calibration, the cache assumptions and the predictions. */
function jsonReport(fitted: FittedModel, predictions: Predictions) {
  const { model, measured, capturedGuestMem: capturedMem, hostCacheMode: mode } = fitted;
  const c = model.calibration;
  return {
    captured: {
      guest_mem: capturedMem,
      host_cache_mode: mode,
      guest_read_bytes: measured.guestReadBytes,
      guest_other_read_bytes: measured.guestOtherReadBytes ?? 0,
      guest_write_bytes: measured.guestWriteBytes,
    },
    calibration: {
      overhead_bytes: c.overheadBytes,
      method: c.method,
      residual_bytes: c.residualBytes,
      readahead_factor: c.readaheadFactor,
      reserve_bytes: c.reserveBytes,
      default_cache_bytes: c.defaultCacheBytes,
    },
    cache: model.cache,
    predictions,
  };
}

/** The text output: the captured run, both miss-ratio curves (exact, or SHARDS at `rate` < 1) and the prediction table. */
function textReport(
  fitted: FittedModel,
  guest: Parameters<typeof blockPageAccesses>[0],
  predictions: Predictions,
  guestMems: number[],
  hostCaches: number[],
  rate: number,
): string[] {
  const { model, app, measured, capturedGuestMem: capturedMem, hostCacheMode: mode } = fitted;
  const c = model.calibration;
  const guestSizes = evenSizes(Math.max(...guestMems) / PAGE_SIZE, 20);
  const guestCurve = rate < 1 ? shardsCurve(app.pages, rate, guestSizes) : model.guestCurve(guestSizes);
  const hostPages = blockPageAccesses(guest).pages;
  const hostSizes = evenSizes(Math.max(PAGE_SIZE, ...hostCaches) / PAGE_SIZE, 20);
  const hostCurve = rate < 1 ? shardsCurve(hostPages, rate, hostSizes) : exactCurve(hostPages, hostSizes);
  const used = new Set<UncheckedAssumption>(predictions.flatMap((p) => p.unchecked));
  return [
    `captured run: VM memory ${formatBytes(capturedMem)}, host cache mode ${mode}; guest-disk reads ${formatBytes(measured.guestReadBytes)} data + ${formatBytes(measured.guestOtherReadBytes ?? 0)} other, writes ${formatBytes(measured.guestWriteBytes)}`,
    `application: ${app.pages.length} buffered page accesses (${formatBytes(app.bufferedReadBytes)} read, ${formatBytes(app.bufferedWriteBytes)} written), O_DIRECT ${formatBytes(app.directReadBytes)} read, ${formatBytes(app.directWriteBytes)} written${app.skippedUncertain ? `, ${app.skippedUncertain} calls with unknown offset left out` : ''}`,
    `guest memory not available to the page cache: ${formatBytes(c.overheadBytes)} (${c.method}${c.method === 'unconstrained' ? `: the data fit in the captured run's cache; other sizes take the inactive file list of ${c.reserveBytes !== null ? `VM memory - ${formatBytes(c.reserveBytes)} reserved by the guest kernel` : 'the VM memory'}` : ''}; residual ${formatBytes(c.residualBytes)}); readahead factor ${c.readaheadFactor.toFixed(3)} (${formatBytes(measured.guestReadaheadBytes ?? 0)} read ahead)`,
    `cache: ${model.cache.summary}`,
    '',
    ...formatCurve(
      guestCurve,
      `guest page cache MRC (application page accesses${model.drops.length ? (rate < 1 ? '; the sampled curve leaves out the cache drops' : '; cache drops applied') : ''})`,
    ),
    '',
    ...formatCurve(hostCurve, 'host page cache MRC (guest-disk requests of this run)'),
    '',
    'guest mem   host cache   guest read   guest write    host read   host write',
    ...predictions.map(
      (p) =>
        `${formatBytes(p.guest_mem).padStart(9)} ${formatBytes(p.host_cache).padStart(12)} ${formatBytes(p.predicted.guest_read_bytes).padStart(12)} ${formatBytes(p.predicted.guest_write_bytes).padStart(12)} ${formatBytes(p.predicted.host_read_bytes).padStart(12)} ${formatBytes(p.predicted.host_write_bytes).padStart(12)}${p.unchecked.length ? `  * ${p.unchecked.join(', ')}` : ''}`,
    ),
    ...(used.size
      ? [
          '',
          '* rests on an assumption the trace cannot check (the other choice moves the guest reads by more than 20%):',
          ...[...used].map((k) => `  ${k}: ${UNCHECKED_ASSUMPTION_TEXT[k]}`),
        ]
      : []),
  ];
}
