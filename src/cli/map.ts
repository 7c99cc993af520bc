/**
 * `iolineage map fs SOURCE -o DIR` — the fs_map (and fs_paths) of an ext2/3/4 file system.
 * `iolineage map image ...` — the image_map of a disk image (src/image; see its own help).
 */
import { parseCommandArgs } from './args.js';
import { ProgressBar } from './progress.js';
import { UsageError } from '../util/errors.js';
import { formatBytes, parseSize } from '../util/numbers.js';
import { arrowFileWriter } from '../table/arrow-file.js';
import { withOutputFolder } from '../io/output-folder.js';
import { openFsSource, type OpenFsSourceOptions } from '../fs/open-fs-source.js';
import { buildFsMap } from '../fs/ext/fs-map-builder.js';
import type { IngestStats } from '../util/ingest-stats.js';
import { mapImageHelp, runMapImage } from './map-image.js';

export const fsHelp = `usage: iolineage map fs SOURCE -o DIR [--partition N | --offset BYTES] [--format auto|raw|qcow2] [--strict]

Map every allocated block of the ext2/3/4 file system in SOURCE to its owner (inode, file offset,
path, kind) and write DIR/fs_map.arrow (one row per extent, sorted by block) and DIR/fs_paths.arrow
(every path of every inode). SOURCE is a file-system image or block device, a partitioned disk image
(--partition N), a qcow2 image (also an e2image -Q dump), an e2image -r dump, or a .gz/.xz/.zst copy
of any of these. It is opened read-only; only metadata is read.

  -o, --out DIR        output directory (created if missing)
  --partition N        file system in partition N of a disk image (MBR or GPT; sectors stay disk-absolute)
  --offset BYTES       file system at this byte offset of the disk (no partition table)
  --format F           auto (default) | raw | qcow2
  --file PATH          keep only the rows of this file (repeatable; e.g. the VM image files on a host
                       file system: their rows give image offset → host disk sector)
  --strict             stop at the first corrupt inode or directory block instead of counting it
  --max-decompressed SIZE  a .gz/.xz/.zst SOURCE is decompressed into a sparse temporary file first:
                       stop when it would store more than SIZE of non-zero data (default 4G)`;

/** Full help (the dispatcher prints it for `map --help`, `map fs --help` and `map image --help`). */
export const help = `${fsHelp}\n\n${mapImageHelp}`;
/** `map fs --help` and `map image --help` print the subcommand's own help (see run). */
export const handlesHelp = true;

export function printStats(stats: IngestStats): void {
  for (const c of stats.list()) {
    process.stderr.write(`warning: ${c.count} × ${c.name} (${c.severity}): ${c.description}\n`);
    for (const e of c.examples) process.stderr.write(`    e.g. ${e.text}\n`);
  }
}

async function runFs(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(fsHelp + '\n');
    return 0;
  }
  const { values, positionals } = parseCommandArgs('map fs', argv, {
    out: { type: 'string', short: 'o' },
    partition: { type: 'string' },
    offset: { type: 'string' },
    format: { type: 'string' },
    strict: { type: 'boolean' },
    file: { type: 'string', multiple: true },
    'max-decompressed': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`map fs: expected one SOURCE, got ${positionals.length} (see --help)`);
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('map fs: -o DIR is required');
  const opts = parseSourceOptions(values);
  const src = await openFsSource(positionals[0]!, opts);
  const bar = new ProgressBar('map fs', 1);
  let result;
  try {
    result = buildFsMap(src.source, {
      partitionOffset: src.partitionOffset,
      strict: Boolean(values.strict),
      onProgress: (d, t) => bar.update(d / t),
    });
  } finally {
    bar.done();
    src.source.close();
  }
  const only = (values.file as string[] | undefined) ?? [];
  const map = only.length ? result.map.restrictTo(only.map((f) => (/^\d+$/.test(f) ? Number(f) : f))) : result.map;
  const paths = result.map.pathsTable();
  const {
    result: [mapFile, pathsFile],
    notes,
  } = await withOutputFolder(out, 'map fs', (folder) => [
    folder.stage('fs_map.arrow', arrowFileWriter(map.toTable())),
    folder.stage('fs_paths.arrow', arrowFileWriter(paths)),
  ]);
  const g = result.map.geometry;
  const s = map.stats();
  const lines = [
    `${g.source}: ${g.fsType}, ${g.blocksCount} blocks of ${g.blockSize} bytes (${formatBytes(g.blocksCount * g.blockSize)}), ${g.groups} groups, ${g.inodesCount} inodes, uuid ${g.uuid}${g.partitionOffset ? `, at byte ${g.partitionOffset} of the disk` : ''}`,
    `features: ${g.features.join(' ')}`,
    `files: ${s.files}, directories: ${s.dirs}, paths: ${result.map.paths.inode.length}`,
    `extents (fs_map rows): ${s.rows}; file data extents: ${s.fileExtents}; fragmented files: ${s.fragmentedFiles} of ${s.files}${s.files ? ` (${((100 * s.fragmentedFiles) / s.files).toFixed(1)}%)` : ''}`,
    'bytes by kind:',
    ...Object.entries(s.blocksByKind)
      .filter(([, b]) => b > 0)
      .map(([k, b]) => `  ${k.padEnd(13)} ${formatBytes(b * g.blockSize).padStart(11)}  (${b} blocks)`),
    `wrote ${mapFile} and ${pathsFile}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  printStats(result.stats);
  return 0;
}

export function parseSourceOptions(values: Record<string, unknown>): OpenFsSourceOptions {
  const o: OpenFsSourceOptions = {};
  if (values['max-decompressed'] !== undefined)
    o.maxDecompressedBytes = parseSize(String(values['max-decompressed']), '--max-decompressed');
  if (values.partition !== undefined) {
    const n = Number(values.partition);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--partition "${String(values.partition)}": expected a partition number >= 1`);
    o.partition = n;
  }
  if (values.offset !== undefined) {
    const n = Number(values.offset);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--offset "${String(values.offset)}": expected a byte offset`);
    o.offset = n;
  }
  if (values.format !== undefined) {
    const f = String(values.format);
    if (f !== 'auto' && f !== 'raw' && f !== 'qcow2') throw new UsageError(`--format "${f}": expected auto, raw or qcow2`);
    o.format = f;
  }
  return o;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(help + '\n');
    return 0;
  }
  if (sub === 'fs') return runFs(rest);
  // ---- `map image` dispatch (owned by src/image): replace this branch with the call to mapImage ----
  if (sub === 'image') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(mapImageHelp + '\n');
      return 0;
    }
    return runMapImage(rest);
  }
  // ---- end of `map image` dispatch ----
  throw new UsageError(`map: expected a subcommand "fs" or "image", got ${sub === undefined ? 'nothing' : `"${sub}"`}\n${help}`);
}
