/**
 * `iolineage analyze`: cross-layer lineage and metrics of a capture (bundle directory with
 * manifest.json, or the inputs named one by one).
 */
import { join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { option, parseOptions, requireDirectory, type OptionValues } from './args.js';
import { UsageError } from '../util/errors.js';
import { HOST_CACHE_MODES, IMAGE_FORMATS, readManifest, type CaptureManifest } from '../capture/manifest.js';
import { IngestStats } from '../util/ingest-stats.js';
import { arrowFileWriter, tableBuilderWriter } from '../table/arrow-file.js';
import { TableBuilder } from '../table/table-builder.js';
import { withOutputFolder, type OutputFolder } from '../io/output-folder.js';
import { analyzeResultLines } from './analyze-report.js';
import { analyzeCapture, type AnalyzeInputs } from '../analyze/analyze-capture.js';
import { arrowTableInput, exportTables, tableInputs } from '../export/export-tables.js';

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
                             (default: the number of cores + 1, at most 4; 1: one after another in this thread,
                             which takes a little less memory)`;

const OPTIONS = {
  out: option.string('o'),
  app: option.string(),
  'app-date': option.string(),
  'guest-trace': option.string(),
  'guest-dev': option.dev(),
  'guest-fs': option.string(),
  'guest-partition-offset': option.integer(0, 'a byte count'),
  'guest-partition': option.integer(1, 'a partition number (1, 2, ...)'),
  'guest-mount': option.string(),
  'host-trace': option.string(),
  'host-dev': option.dev(),
  'host-fs': option.string(),
  'host-cache': option.choiceOr(HOST_CACHE_MODES, 'writeback'),
  image: option.strings(),
  'image-format': option.choiceOr(IMAGE_FORMATS, 'raw'),
  'image-file': option.string(),
  'image-map-json': option.string(),
  'clock-offset': option.nanoseconds(),
  'app-clock-offset': option.nanoseconds(),
  vm: option.string(),
  jobs: option.integer(1, 'a positive integer'),
  parquet: option.boolean(),
} as const;

/** The rules between options that one option's kind cannot say. */
function checkCombinations(o: OptionValues<typeof OPTIONS>, positionals: string[]): void {
  if (!o.out) throw new UsageError('analyze: -o OUT is required (see --help)');
  if (positionals.length > 1)
    throw new UsageError(`analyze: expected at most one CAPTURE_DIR, got ${positionals.length} positional arguments`);
  if (positionals.length === 1) {
    if (o['guest-trace'] !== undefined) throw new UsageError('analyze: give either CAPTURE_DIR or --guest-trace and friends, not both');
    return;
  }
  if (!o['guest-trace']) throw new UsageError('analyze: give a CAPTURE_DIR or at least --guest-trace FILE (see --help)');
  if (o['host-trace'] && (!o['host-fs'] || o.image.length === 0))
    throw new UsageError('analyze: --host-trace needs --host-fs and --image (where the guest image lives in the host fs)');
  if (o['image-format'] === 'qcow2' && o.image.length > 0 && !o['image-file'] && !o['image-map-json'])
    throw new UsageError('analyze: a qcow2 image needs --image-file FILE or --image-map-json FILE to map guest offsets');
  if (o['guest-partition'] !== undefined && o['guest-partition-offset'] !== undefined)
    throw new UsageError('analyze: give either --guest-partition or --guest-partition-offset, not both');
}

export async function run(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseOptions('analyze', argv, OPTIONS);
  checkCombinations(o, positionals);
  const out = o.out!;
  let inputs: AnalyzeInputs;
  if (positionals.length === 1) {
    requireDirectory(
      positionals[0]!,
      'a capture bundle directory (with manifest.json); give single inputs with --guest-trace FILE and friends',
    );
    const m: CaptureManifest = readManifest(positionals[0]!);
    inputs = {
      kind: 'bundle',
      dir: positionals[0]!,
      manifest: m,
      appClockOffsetNs: o['app-clock-offset'],
      clockOffsetNs: o['clock-offset'],
      guestMount: o['guest-mount'],
    };
  } else {
    inputs = {
      kind: 'files',
      vm: o.vm ?? 'vm0',
      app: o.app,
      appDate: o['app-date'],
      guestTrace: o['guest-trace']!,
      guestDev: o['guest-dev'],
      guestFs: o['guest-fs'],
      guestPartitionOffset: o['guest-partition-offset'],
      guestPartition: o['guest-partition'],
      guestMount: o['guest-mount'],
      hostTrace: o['host-trace'],
      hostDev: o['host-dev'],
      hostFs: o['host-fs'],
      images: o.image,
      imageFormat: o['image-format'],
      imageFile: o['image-file'],
      imageMapJson: o['image-map-json'],
      clockOffsetNs: o['clock-offset'],
      appClockOffsetNs: o['app-clock-offset'],
      hostCache: o['host-cache'],
    };
  }
  const stats = new IngestStats();
  const log = (s: string) => process.stderr.write(`analyze: ${s}\n`);
  // the folder is taken first: its lock keeps a second command out, and the loads' scratch files go
  // there; the input tables are written as soon as the analysis is done reading them
  const written: string[] = [];
  const stageTable = (folder: OutputFolder, name: string, table: Table | TableBuilder) => {
    if (table instanceof TableBuilder) {
      // a builder whose record batches are in its scratch file (analyzeCapture): written, then closed
      try {
        folder.stage(`${name}.arrow`, tableBuilderWriter(table));
      } finally {
        table.close();
      }
    } else folder.stage(`${name}.arrow`, arrowFileWriter(table));
    written.push(name);
  };
  const { result: res, notes } = await withOutputFolder(out, 'analyze', async (folder) => {
    const res = await analyzeCapture(inputs, stats, log, {
      ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
      scratch: (name) => folder.scratchPath(name),
      release: (name, table) => stageTable(folder, name, table),
    });
    for (const [name, table] of Object.entries(res.tables)) stageTable(folder, name, table);
    folder.stageJson('summary.json', res.summary);
    return res;
  });
  // Parquet copies (src/export), after the Arrow set is in place: the tables written early are
  // read back from their files by worker threads while this thread encodes those still in memory
  // (reading a table back costs about half of encoding it)
  if (o.parquet) {
    const early = written.filter((name) => !res.tables[name]).map((name) => arrowTableInput(name, join(out, `${name}.arrow`)));
    const inputs = [...early, ...tableInputs(res.tables)];
    const parquet = await withOutputFolder(out, 'analyze --parquet', (folder) =>
      exportTables(inputs, res.summary, folder, { format: 'parquet' }),
    );
    notes.push(...parquet.notes);
  }
  // the clock lines of the report print offsets as raw ns: analyzeResultLines prints them readably
  for (const line of res.report) if (!/ clock offset -?\d+ ns/.test(line)) process.stdout.write(line + '\n');
  for (const line of analyzeResultLines(res.summary, out, written.length)) process.stdout.write(line + '\n');
  for (const w of res.warnings) process.stderr.write(`analyze: WARNING: ${w}\n`);
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  for (const line of stats.format()) process.stderr.write(line + '\n');
  return stats.failed ? 1 : 0;
}
