/**
 * `filefrag -v` output (e2fsprogs misc/filefrag.c; FIEMAP extents of a file on a mounted file
 * system) as an fs_map restricted to the listed files: file logical block -> file-system block and
 * 512-byte sector. This lets the host side of a capture use the image file's own extents when no
 * host file-system metadata image is available.
 *
 * Per file, filefrag prints (values are in units of the "blocks of N bytes" of the File size line,
 * the file-system block size unless -b was given; ranges are inclusive):
 *   File size of NAME is BYTES (BLOCKS blocks of N bytes)
 *    ext:     logical_offset:        physical_offset: length:   expected: flags:
 *      0:        0..      48:       2065..      2113:     49:             last,eof
 *   NAME: K extents found
 */
import type { Table } from '@uwdata/flechette';
import { openInputStream } from '../io/input-stream.js';
import { forEachLineOfStream, forEachLineOfText } from '../io/line-splitter.js';
import { IngestStats } from '../util/ingest-stats.js';
import { TableBuilder } from '../table/table-builder.js';
import { fsMapTable } from '../table/schemas/fs-map.js';
import { InputError } from '../util/errors.js';

export interface FilefragOptions {
  /** Byte offset of the file system on the host disk (a partition start), added to `sector`. */
  partitionOffset?: number;
  /** Name used in messages (default: the path, or "filefrag output"). */
  name?: string;
}

export interface FilefragFile {
  path: string;
  size: number;
  blockSize: number;
  extents: number;
}

export interface FilefragResult {
  /** fs_map rows of the listed files, sorted by fs_block. */
  table: Table;
  files: FilefragFile[];
  stats: IngestStats;
}

const SIZE_LINE = /^File size of (.*) is (\d+) \((\d+) blocks? of (\d+) bytes\)$/;
const EXTENT_LINE = /^\s*(\d+):\s*(\d+)\.\.\s*(\d+):\s*(\d+)\.\.\s*(\d+):\s*(\d+):\s*(?:(\d+):)?\s*(\S*)\s*$/;
const IGNORED = /^(Filesystem type is:|Filesystem cylinder groups|\s*ext:\s+logical_offset:|.*: \d+ extents? found$|Discontinuity: )/;

interface Row {
  fsBlock: number;
  blocks: number;
  fileBlock: number;
  unwritten: boolean;
  file: number;
}

/** Parse filefrag -v text already in memory. */
export function parseFilefrag(text: string, opts: FilefragOptions = {}): FilefragResult {
  const p = new FilefragParser(opts.name ?? 'filefrag output', opts);
  forEachLineOfText(text, (t, s, e, n) => p.line(t.slice(s, e), n));
  return p.finish();
}

/** Parse a filefrag -v output file (.gz/.xz/.zst accepted). */
export async function readFilefrag(path: string, opts: FilefragOptions = {}): Promise<FilefragResult> {
  const p = new FilefragParser(opts.name ?? path, opts);
  await forEachLineOfStream(openInputStream(path), (t, s, e, n) => p.line(t.slice(s, e), n));
  return p.finish();
}

class FilefragParser {
  readonly stats = new IngestStats();
  readonly files: FilefragFile[] = [];
  private readonly rows: Row[] = [];
  private cur: FilefragFile | null = null;

  constructor(
    private readonly name: string,
    private readonly opts: FilefragOptions,
  ) {}

  line(l: string, n: number): void {
    if (l.trim() === '') return;
    const size = SIZE_LINE.exec(l);
    if (size) {
      const blockSize = Number(size[4]);
      if (!(blockSize > 0 && blockSize % 512 === 0))
        throw new InputError(this.name, `block size ${blockSize}: expected a positive multiple of 512`, {
          line: n,
          what: 'File size line',
        });
      this.cur = { path: size[1]!, size: Number(size[2]), blockSize, extents: 0 };
      this.files.push(this.cur);
      return;
    }
    const m = EXTENT_LINE.exec(l);
    if (m) {
      if (!this.cur)
        throw new InputError(this.name, 'extent line before any "File size of ..." line', { line: n, what: 'filefrag extent' });
      const [lo, hi, po, pe, len] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
      const flags = m[8] ?? '';
      if (hi - lo + 1 !== len || pe - po + 1 !== len || !Number.isSafeInteger(pe)) {
        this.stats.count('filefrag_inconsistent_extent', 'data_loss', 'extent line whose ranges disagree with its length; skipped', {
          file: this.name,
          line: n,
          text: l,
        });
        return;
      }
      if (flags.split(',').includes('inline')) {
        // inline data: a byte range inside the inode table, not blocks of the file
        this.stats.count('filefrag_inline_data', 'info', 'inline-data file (content inside the inode, measured in bytes); not mapped', {
          file: this.name,
          line: n,
          text: l,
        });
        return;
      }
      this.rows.push({
        fsBlock: po,
        blocks: len,
        fileBlock: lo,
        unwritten: flags.split(',').includes('unwritten'),
        file: this.files.length - 1,
      });
      this.cur.extents++;
      return;
    }
    if (IGNORED.test(l)) return;
    this.stats.count('filefrag_unknown_line', 'error', 'line that is not part of filefrag -v output; skipped', {
      file: this.name,
      line: n,
      text: l,
    });
  }

  finish(): FilefragResult {
    if (this.files.length === 0)
      throw new InputError(this.name, 'no "File size of ... is ... (... blocks of ... bytes)" line: not filefrag -v output', {
        line: 1,
        what: 'filefrag output',
      });
    this.rows.sort((a, b) => a.fsBlock - b.fsBlock);
    const b = new TableBuilder(fsMapTable);
    const fsBlock = b.int64('fs_block'),
      blocks = b.number('blocks'),
      sector = b.int64('sector'),
      nrSectors = b.number('nr_sectors');
    const inode = b.int64('inode'),
      fileBlock = b.int64('file_block'),
      path = b.string('path'),
      kind = b.string('kind'),
      unwritten = b.bool('unwritten');
    const dataKey = kind.intern('data');
    const pathKeys = this.files.map((f) => path.intern(f.path));
    const base = (this.opts.partitionOffset ?? 0) / 512;
    if (!Number.isInteger(base)) throw new RangeError(`partitionOffset ${this.opts.partitionOffset} is not a multiple of 512`);
    for (const r of this.rows) {
      const spb = this.files[r.file]!.blockSize / 512;
      fsBlock.push(r.fsBlock);
      blocks.push(r.blocks);
      sector.push(base + r.fsBlock * spb);
      nrSectors.push(r.blocks * spb);
      inode.pushNull();
      fileBlock.push(r.fileBlock);
      path.pushKey(pathKeys[r.file]!);
      kind.pushKey(dataKey);
      unwritten.push(r.unwritten);
    }
    const bs = [...new Set(this.files.map((f) => f.blockSize))];
    const table = b.finish({
      'iolineage.fs_map.source': 'filefrag -v',
      block_size: String(bs.length === 1 ? bs[0] : bs.join(',')),
      partition_offset: String(this.opts.partitionOffset ?? 0),
    });
    return { table, files: this.files, stats: this.stats };
  }
}
