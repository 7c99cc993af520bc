/**
 * `iolineage lookup SOURCE --sector S [--count N]` — who owns these sectors of a file system:
 * kind, inode, path and file offset (what `debugfs -R "icheck"` and `"ncheck"` say, plus metadata
 * kinds). `--file PATH|INODE --offset O --length L` answers the reverse question.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs } from './args.js';
import { parseSourceOptions, printStats } from './map.js';
import { UsageError } from '../util/errors.js';
import { readArrowFile } from '../table/arrow-file.js';
import { readHead } from '../io/input-stream.js';
import { openFsSource } from '../fs/open-fs-source.js';
import { buildFsMap } from '../fs/ext/fs-map-builder.js';
import { FsMap } from '../fs/ext/fs-map.js';

export const help = `usage: iolineage lookup SOURCE --sector S [--count N]
       iolineage lookup SOURCE --block B [--count N]
       iolineage lookup SOURCE --file PATH|INODE [--offset BYTES] [--length BYTES]

Who owns sectors of an ext2/3/4 file system: one line per owner with kind, inode, path and the
byte offset in the file. Sectors are 512-byte units counted on the whole disk (partition offset
included), as block traces report them. SOURCE is a directory or fs_map.arrow written by
\`iolineage map fs\` (fast), or anything \`map fs\` reads (the map is built first). --file prints where
a byte range of a file lies on the disk.

  --sector S        first 512-byte sector
  --block B         first file-system block instead of a sector
  --count N         number of sectors (or blocks with --block); default 1
  --file F          path ("/dir/name") or inode number, with --offset/--length (default: whole file)
  --partition N, --offset-bytes B, --format F, --max-decompressed SIZE
                    as for \`map fs\` when SOURCE is an image`;

async function loadMap(source: string, values: Record<string, unknown>): Promise<FsMap> {
  let arrow: string | null = null;
  if (existsSync(source) && statSync(source).isDirectory()) {
    arrow = join(source, 'fs_map.arrow');
    if (!existsSync(arrow)) throw new UsageError(`${source}: a directory without fs_map.arrow (run \`iolineage map fs\` first)`);
  } else {
    const head = readHead(source, 6);
    if (head.length >= 6 && String.fromCharCode(...head) === 'ARROW1') arrow = source;
  }
  if (arrow) {
    const pathsFile = join(arrow, '..', 'fs_paths.arrow');
    return FsMap.fromTables(readArrowFile(arrow), existsSync(pathsFile) ? readArrowFile(pathsFile) : null, arrow);
  }
  const opts = parseSourceOptions({
    partition: values.partition,
    offset: values['offset-bytes'],
    format: values.format,
    'max-decompressed': values['max-decompressed'],
  });
  const src = await openFsSource(source, opts);
  try {
    const r = buildFsMap(src.source, { partitionOffset: src.partitionOffset });
    printStats(r.stats);
    return r.map;
  } finally {
    src.source.close();
  }
}

function intArg(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} "${String(v)}": expected a non-negative integer`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('lookup', argv, {
    sector: { type: 'string' },
    block: { type: 'string' },
    count: { type: 'string' },
    file: { type: 'string' },
    offset: { type: 'string' },
    length: { type: 'string' },
    partition: { type: 'string' },
    'offset-bytes': { type: 'string' },
    format: { type: 'string' },
    'max-decompressed': { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`lookup: expected one SOURCE, got ${positionals.length} (see --help)`);
  const sector = intArg(values.sector, 'sector');
  const block = intArg(values.block, 'block');
  const count = intArg(values.count, 'count') ?? 1;
  if (count < 1) throw new UsageError('--count must be at least 1');
  const modes = [sector !== undefined, block !== undefined, values.file !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('lookup: give exactly one of --sector, --block, --file');
  const map = await loadMap(positionals[0]!, values);
  const out: string[] = [];
  if (values.file !== undefined) {
    const f = String(values.file);
    const file = /^\d+$/.test(f) ? Number(f) : f;
    const ino = typeof file === 'number' ? file : map.inodeOf(file);
    if (ino === null) throw new UsageError(`lookup: no such path in the file system: ${f}`);
    const offset = intArg(values.offset, 'offset') ?? 0;
    let length = intArg(values.length, 'length');
    if (length === undefined) {
      const ex = map.fileExtents(ino);
      const last = ex[ex.length - 1];
      length = last ? Math.max(0, (last.fileBlock + last.blocks) * map.geometry.blockSize - offset) : 0;
    }
    out.push(`inode ${ino}  ${map.pathsOf(ino).join('  ') || '(no path)'}`);
    out.push('file_offset\tlength\tsector\tdisk_offset\tflags');
    for (const p of map.fileToSectors(ino, offset, length)) {
      out.push(
        `${p.fileOffset}\t${p.length}\t${p.sector ?? '-'}\t${p.diskOffset ?? '-'}\t${p.sector === null ? 'hole' : p.unwritten ? 'unwritten' : ''}`,
      );
    }
  } else {
    const spb = map.geometry.blockSize / 512;
    const first = sector ?? map.sectorOfBlock(block!);
    const n = sector !== undefined ? count : count * spb;
    out.push('sector\tsectors\tkind\tinode\tpath\tfile_offset\tfs_block');
    let pos = first;
    const end = first + n;
    const fsStart = map.sectorOfBlock(0);
    const fsEnd = map.sectorOfBlock(map.geometry.blocksCount);
    // a sector range with no owner: free blocks, or sectors outside the file system
    const gap = (from: number, len: number): string => {
      for (const cut of [fsStart, fsEnd])
        if (from < cut && from + len > cut) return `${gap(from, cut - from)}\n${gap(cut, from + len - cut)}`;
      return `${from}\t${len}\t${from < fsStart || from >= fsEnd ? 'outside the file system' : 'free'}\t-\t-\t-\t-`;
    };
    for (const p of map.lookupSectors(first, n)) {
      if (p.sector > pos) out.push(gap(pos, p.sector - pos));
      const secs = Math.ceil(p.length / 512);
      const extra = p.inodes ? `\tinodes ${p.inodes[0]}-${p.inodes[1]}` : '';
      out.push(
        `${p.sector}\t${secs}\t${p.kind}${p.unwritten ? ' (unwritten)' : ''}\t${p.inode ?? '-'}\t${p.path ?? '-'}\t${p.fileOffset ?? '-'}\t${p.fsBlock}${extra}`,
      );
      pos = p.sector + secs;
    }
    if (pos < end) out.push(gap(pos, end - pos));
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
