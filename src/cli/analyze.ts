/**
 * `iolineage analyze`: cross-layer lineage and metrics of a capture (bundle directory with
 * manifest.json, or the inputs named one by one).
 */
import { parseCommandArgs, parseDevArg, requireDirectory } from './args.js';
import { UsageError } from '../util/errors.js';
import { readManifest, type CaptureManifest } from '../capture/manifest.js';
import { IngestStats } from '../ingest/ingest-stats.js';
import { arrowFileWriter } from '../table/arrow-file.js';
import { withOutputFolder } from '../io/output-folder.js';
import { analyzeResultLines } from './analyze-report.js';
import { analyzeCapture, type AnalyzeInputs } from '../analyze/analyze-capture.js';
import { exportTables, tableInputs } from '../export/export-tables.js';

export const help = `usage: iolineage analyze CAPTURE_DIR -o OUT
       iolineage analyze -o OUT --guest-trace FILE [--guest-dev MAJ:MIN] [--app STRACE_LOG]
           [--guest-fs SOURCE [--guest-partition N | --guest-partition-offset BYTES] [--guest-mount PATH]]
           [--host-trace FILE [--host-dev MAJ:MIN] --host-fs SOURCE --image PATH_IN_HOST_FS
            [--image-format raw|qcow2] [--image-file FILE | --image-map-json FILE] [--host-cache writeback|none]]
           [--app-date YYYY-MM-DD] [--clock-offset NS] [--app-clock-offset NS]

Links every application I/O (strace) to the guest block requests and the host block requests it
caused, attributes every lower-layer byte to an application I/O or a named cause, and measures
amplification, splitting/merging, reordering and cache effects. Every input except the guest
trace is optional: without a host trace the lineage has two layers, without a guest fs it is
sector-level only.

Writes to OUT: app_io, guest_requests, host_requests, guest_fs_map, host_fs_map, image_map,
links_app_guest, links_guest_host, lineage, attribution (.arrow, columns documented in
docs/tables.md) and summary.json. With several VMs in a bundle, the per-VM tables are
app_io_<vm>, guest_requests_<vm>, guest_fs_map_<vm>, image_map_<vm>, and the other tables carry
a vm column.

Clocks: app → guest and guest → host offsets are estimated from matched pairs (reads served
inside the call, O_DIRECT / cache=none requests), seeded by the bundle's clock readings and
trace marks (with drift), and reported with their uncertainty in summary.json (clocks).

options:
  -o, --out DIR              output directory                                        (required)
  --guest-trace FILE         guest block trace (tracefs text or binary blktrace; .gz/.xz/.zst)
  --guest-dev MAJ:MIN        keep only this device's events
  --app FILE                 strace log of the application (-f -tt/-ttt -T -y)
  --app-date YYYY-MM-DD      date of a -tt (time-of-day) strace log
  --guest-fs SOURCE          guest file system: image, device or e2image dump (.gz ok)
  --guest-partition N        SOURCE is the whole guest disk image: use partition N (MBR/GPT)
  --guest-partition-offset BYTES  SOURCE is the file system itself; it starts this far into the traced disk
                             (default: inferred from the trace's block_bio_remap events, else SOURCE's
                             partition table, else the offset at which the fs map explains the reads;
                             summary.json fs_offset says which)
  --guest-mount PATH         mount point of the guest fs in the application's paths (default: inferred)
  --host-trace FILE          host block trace
  --host-dev MAJ:MIN         keep only this device's events
  --host-fs SOURCE           host file system holding the image(s)
  --image PATH_IN_HOST_FS    the guest image file inside the host fs (repeat for several VMs;
                             the first belongs to the guest given here, the others count as other_vm)
  --image-format raw|qcow2   format of the image (default raw)
  --image-file FILE          the image itself (qcow2: read its L1/L2 tables)
  --image-map-json FILE      \`qemu-img map --output=json\` of the image (instead of --image-file)
  --host-cache writeback|none  QEMU cache mode of the image (none: O_DIRECT, host requests run inside guest ones)
  --clock-offset NS          guest→host clock offset (t_host = t_guest + NS); default: estimated
  --app-clock-offset NS      app→guest clock offset (t_guest = t_app + NS); default: estimated
  --vm NAME                  name of the guest in the outputs (default vm0)
  --parquet                  also write each table as <table>.parquet (and summary.parquet), as
                             \`iolineage export\` does
  --jobs N                   parse up to N traces and strace logs at once, in worker threads
                             (default: the number of cores + 1, at most 4; 1: one after another in this thread)`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  app: { type: 'string' },
  'app-date': { type: 'string' },
  'guest-trace': { type: 'string' },
  'guest-dev': { type: 'string' },
  'guest-fs': { type: 'string' },
  'guest-partition-offset': { type: 'string' },
  'guest-partition': { type: 'string' },
  'guest-mount': { type: 'string' },
  'host-trace': { type: 'string' },
  'host-dev': { type: 'string' },
  'host-fs': { type: 'string' },
  'host-cache': { type: 'string' },
  image: { type: 'string', multiple: true },
  'image-format': { type: 'string' },
  'image-file': { type: 'string' },
  'image-map-json': { type: 'string' },
  'clock-offset': { type: 'string' },
  'app-clock-offset': { type: 'string' },
  vm: { type: 'string' },
  jobs: { type: 'string' },
  parquet: { type: 'boolean' },
} as const;

function bigintArg(name: string, v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name}: expected an integer number of nanoseconds, got "${v}"`);
  return BigInt(v.trim());
}

function str(v: unknown): string | undefined { return typeof v === 'string' ? v : undefined; }

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseCommandArgs('analyze', argv, OPTIONS);
  const out = str(o.out);
  if (!out) throw new UsageError('analyze: -o OUT is required (see --help)');
  if (positionals.length > 1) throw new UsageError(`analyze: expected at most one CAPTURE_DIR, got ${positionals.length} positional arguments`);
  let inputs: AnalyzeInputs;
  if (positionals.length === 1) {
    if (o['guest-trace'] !== undefined) throw new UsageError('analyze: give either CAPTURE_DIR or --guest-trace and friends, not both');
    requireDirectory(positionals[0]!, 'a capture bundle directory (with manifest.json); give single inputs with --guest-trace FILE and friends');
    const m: CaptureManifest = readManifest(positionals[0]!);
    inputs = { kind: 'bundle', dir: positionals[0]!, manifest: m, appClockOffsetNs: bigintArg('app-clock-offset', str(o['app-clock-offset'])), clockOffsetNs: bigintArg('clock-offset', str(o['clock-offset'])), guestMount: str(o['guest-mount']) };
  } else {
    const guestTrace = str(o['guest-trace']);
    if (!guestTrace) throw new UsageError('analyze: give a CAPTURE_DIR or at least --guest-trace FILE (see --help)');
    const fmt = str(o['image-format']) ?? 'raw';
    if (fmt !== 'raw' && fmt !== 'qcow2') throw new UsageError(`--image-format: expected raw or qcow2, got "${fmt}"`);
    const images = (o.image as string[] | undefined) ?? [];
    if (str(o['host-trace']) && (!str(o['host-fs']) || images.length === 0)) throw new UsageError('analyze: --host-trace needs --host-fs and --image (where the guest image lives in the host fs)');
    if (fmt === 'qcow2' && images.length > 0 && !str(o['image-file']) && !str(o['image-map-json'])) throw new UsageError('analyze: a qcow2 image needs --image-file FILE or --image-map-json FILE to map guest offsets');
    const po = str(o['guest-partition-offset']);
    if (po !== undefined && !/^\d+$/.test(po)) throw new UsageError(`--guest-partition-offset: expected a byte count, got "${po}"`);
    const part = str(o['guest-partition']);
    if (part !== undefined && !/^[1-9]\d*$/.test(part)) throw new UsageError(`--guest-partition: expected a partition number (1, 2, ...), got "${part}"`);
    if (part !== undefined && po !== undefined) throw new UsageError('analyze: give either --guest-partition or --guest-partition-offset, not both');
    const hc = str(o['host-cache']) ?? 'writeback';
    if (hc !== 'writeback' && hc !== 'none') throw new UsageError(`--host-cache: expected writeback or none, got "${hc}"`);
    inputs = {
      kind: 'files',
      vm: str(o.vm) ?? 'vm0',
      app: str(o.app), appDate: str(o['app-date']),
      guestTrace, guestDev: str(o['guest-dev']) ? parseDevArg(str(o['guest-dev'])!) : undefined,
      guestFs: str(o['guest-fs']), guestPartitionOffset: po !== undefined ? Number(po) : undefined, guestPartition: part !== undefined ? Number(part) : undefined, guestMount: str(o['guest-mount']),
      hostTrace: str(o['host-trace']), hostDev: str(o['host-dev']) ? parseDevArg(str(o['host-dev'])!) : undefined,
      hostFs: str(o['host-fs']), images, imageFormat: fmt, imageFile: str(o['image-file']), imageMapJson: str(o['image-map-json']),
      clockOffsetNs: bigintArg('clock-offset', str(o['clock-offset'])), appClockOffsetNs: bigintArg('app-clock-offset', str(o['app-clock-offset'])),
      hostCache: hc,
    };
  }
  const stats = new IngestStats();
  const log = (s: string) => process.stderr.write(`analyze: ${s}\n`);
  const jobsArg = str(o.jobs);
  if (jobsArg !== undefined && !/^[1-9]\d*$/.test(jobsArg)) throw new UsageError(`--jobs: expected a positive integer, got "${jobsArg}"`);
  const res = await analyzeCapture(inputs, stats, log, jobsArg !== undefined ? { jobs: Number(jobsArg) } : {});
  const { notes } = await withOutputFolder(out, 'analyze', (folder) => {
    for (const [name, table] of Object.entries(res.tables)) folder.stage(`${name}.arrow`, arrowFileWriter(table));
    folder.stageJson('summary.json', res.summary);
  });
  // Parquet copies (src/export), after the Arrow set is in place
  if (o.parquet) await exportTables(tableInputs(res.tables), res.summary, out, { format: 'parquet' });
  // the clock lines of the report print offsets as raw ns: analyzeResultLines prints them readably
  for (const line of res.report) if (!/ clock offset -?\d+ ns/.test(line)) process.stdout.write(line + '\n');
  for (const line of analyzeResultLines(res.summary, out, Object.keys(res.tables).length)) process.stdout.write(line + '\n');
  for (const w of res.warnings) process.stderr.write(`analyze: WARNING: ${w}\n`);
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  for (const line of stats.format()) process.stderr.write(line + '\n');
  return stats.failed ? 1 : 0;
}
