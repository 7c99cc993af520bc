/**
 * Ingest strace logs into app_io.arrow. Inputs are streamed (.gz/.xz/.zst transparently). Files
 * named PREFIX.TID that share a prefix are one `strace -ff -o PREFIX` capture: their lines carry
 * no pid column, the task id is the suffix, and they are merged by timestamp so that file
 * positions shared across tasks advance in the order the calls happened. Other files are
 * independent traces, read one after the other.
 */
import { appIoTable, APP_OPS } from '../../table/schemas/app-io.js';
import { TableBuilder } from '../../table/table-builder.js';
import { tableBuilderWriter } from '../../table/arrow-file.js';
import { withOutputFolder, type OutputFolder } from '../../io/output-folder.js';
import { openInputStream, type InputStream } from '../../io/input-stream.js';
import { openFileChunks } from '../../io/file-chunks.js';
import { ByteLineFramer } from '../../io/byte-line-framer.js';
import { InputError } from '../../util/errors.js';
import { formatBytes } from '../../util/numbers.js';
import { printable } from '../../util/printable.js';
import { IngestStats } from '../../util/ingest-stats.js';
import { StraceParser, type AppIoBuilder, type AppIoCounts, type StraceParserOptions } from './strace-parser.js';
import { LineKind, StraceLine, TimeFormat, tokenizeStraceLine } from './strace-line.js';

export interface StraceIngestOptions {
  /** Date (YYYY-MM-DD) that anchors -tt time-of-day timestamps. */
  date?: string;
  stats?: IngestStats;
  /** Called after each input chunk with bytes read so far and the total size of the inputs. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Every line through the general path, no fast path (tests compare the two). */
  generalOnly?: boolean;
}

export interface StraceParseResult {
  rows: number;
  lines: number;
  metadata: Record<string, string>;
  counts: AppIoCounts;
  /** Path dictionary: counts.pathCalls[k] belongs to paths[k]. */
  paths: readonly string[];
}

/** A group of inputs: one file, or the per-task files of one -ff capture (tid per file). */
interface InputGroup {
  files: string[];
  tids: number[];
}

const COMPRESSED = /\.(gz|xz|zst)$/;
/** Read size of each file of a -ff capture (they are merged line by line, all open at once). */
const MERGE_CHUNK = 1 << 16;

/**
 * Group `strace -ff` per-task files (PREFIX.TID[.gz]) by prefix; other files stand alone. The
 * suffix is the task of lines without a pid column (a pid column, when present, wins).
 */
export function groupStraceInputs(paths: string[]): InputGroup[] {
  const byPrefix = new Map<string, InputGroup>();
  const out: InputGroup[] = [];
  for (const p of paths) {
    const m = /^(.*)\.(\d+)$/.exec(p.replace(COMPRESSED, ''));
    if (!m) {
      out.push({ files: [p], tids: [-1] });
      continue;
    }
    let g = byPrefix.get(m[1]!);
    if (!g) {
      g = { files: [], tids: [] };
      byPrefix.set(m[1]!, g);
      out.push(g);
    }
    g.files.push(p);
    g.tids.push(Number(m[2]));
  }
  return out;
}

/** A UTF-8 byte order mark opening a file is dropped, as a streaming TextDecoder does. */
function withoutByteOrderMark(chunk: Uint8Array): Uint8Array {
  return chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? chunk.subarray(3) : chunk;
}

/** The parser options of an ingest or a parse of bytes in memory. */
function parserOptions(opts: { date?: string; generalOnly?: boolean }): StraceParserOptions {
  return { ...(opts.date !== undefined ? { date: opts.date } : {}), ...(opts.generalOnly ? { generalOnly: true } : {}) };
}

/** Parse strace logs into `builder` (the library entry; ingestStrace writes the file). */
export async function parseStrace(
  paths: string[],
  builder: AppIoBuilder,
  stats: IngestStats,
  opts: Omit<StraceIngestOptions, 'stats'> = {},
): Promise<StraceParseResult> {
  const parser = new StraceParser(builder, stats, parserOptions(opts));
  const groups = groupStraceInputs(paths);
  const streams = new Map<string, InputStream>();
  // the files of a -ff capture are read side by side: smaller chunks keep memory at about
  // 2 x MERGE_CHUNK per task file
  for (const g of groups) for (const p of g.files) streams.set(p, openInputStream(p, g.files.length > 1 ? MERGE_CHUNK : undefined));
  let total = 0;
  for (const s of streams.values()) total += s.fileSize;
  const done = new Set<InputStream>();
  /** Bytes read so far of the files read through openFileChunks, not through their stream. */
  const direct = new Map<InputStream, number>();
  const progress = (): void => {
    if (!opts.onProgress) return;
    let n = 0;
    for (const s of streams.values()) n += done.has(s) ? s.fileSize : (direct.get(s) ?? s.fileBytesRead);
    opts.onProgress(n, total);
  };
  for (const g of groups) {
    if (g.files.length === 1) {
      const s = streams.get(g.files[0]!)!;
      parser.beginSource(s.path, g.tids[0]!, true);
      const framer = new ByteLineFramer(s.path, notStraceGuard(parser, s.path));
      // reused buffers for a plain file; the framer and the parser copy what outlives a chunk
      const chunks = openFileChunks(s.path);
      direct.set(s, 0);
      let first = true;
      for await (const chunk of chunks) {
        framer.push(first ? withoutByteOrderMark(chunk) : chunk);
        first = false;
        direct.set(s, chunks.fileBytesRead);
        progress();
      }
      framer.finish();
      done.add(s);
    } else {
      await mergePerTaskFiles(parser, g, streams, progress, done);
    }
    parser.endTrace();
  }
  const metadata = parser.finish();
  return { rows: parser.rows, lines: parser.lines, metadata, counts: parser.counts, paths: parser.pathNames };
}

/** Options of parseStraceText. */
export interface StraceTextOptions {
  name?: string;
  date?: string;
  /** Every line through the general path, no fast path (tests compare the two). */
  generalOnly?: boolean;
  /** Feed the bytes in pieces of this size, as a stream would (tests of lines cut by chunks). */
  chunkBytes?: number;
}

/** Parse strace text held in memory (tests, notebooks): encoded to UTF-8 here and read as bytes, like a file. */
export function parseStraceText(text: string, builder: AppIoBuilder, stats: IngestStats, opts: StraceTextOptions = {}): StraceParseResult {
  return parseStraceBytes(Buffer.from(text, 'utf8'), builder, stats, opts);
}

/** Parse a strace log whose bytes are in memory (uncompressed). */
export function parseStraceBytes(
  bytes: Uint8Array,
  builder: AppIoBuilder,
  stats: IngestStats,
  opts: StraceTextOptions = {},
): StraceParseResult {
  const parser = new StraceParser(builder, stats, parserOptions(opts));
  const name = opts.name ?? 'strace.txt';
  parser.beginSource(name, -1, true);
  const framer = new ByteLineFramer(name, notStraceGuard(parser, name));
  const step = opts.chunkBytes !== undefined && opts.chunkBytes > 0 ? opts.chunkBytes : bytes.length;
  for (let i = 0; i < bytes.length; i += step) framer.push(bytes.subarray(i, i + step));
  framer.finish();
  const metadata = parser.finish();
  return { rows: parser.rows, lines: parser.lines, metadata, counts: parser.counts, paths: parser.pathNames };
}

/**
 * Wrap the parser's byte line handler: when none of the first 1000 lines is a strace line, the
 * input is something else and a clear error beats a million warnings.
 */
function notStraceGuard(parser: StraceParser, file: string): (bytes: Uint8Array, start: number, end: number, lineNo: number) => void {
  const probe = new StraceLine();
  let checking = true;
  const byteLine = parser.byteLine;
  return (bytes, start, end, lineNo) => {
    if (!checking) {
      byteLine(bytes, start, end, lineNo);
      return;
    }
    const k = tokenizeStraceLine(bytes, start, end, probe);
    if (k !== LineKind.Malformed && k !== LineKind.Blank) checking = false;
    else if (lineNo >= 1000) {
      throw new InputError(file, 'not strace output: none of the first 1000 lines looks like "[PID ][TIME ]NAME(ARGS) = RESULT"', {
        line: lineNo,
      });
    }
    byteLine(bytes, start, end, lineNo);
  };
}

/**
 * One -ff per-task file, a line at a time as byte ranges of its current input chunk: the line's
 * prefix is tokenized here (the merge orders by its timestamp) and handed to the parser as is.
 */
class TaskFileCursor {
  /** Lines of the current chunk: [starts[k], ends[k]) of bufs[k] (the chunk, or a copy of a line that spanned two chunks). */
  private bufs: Uint8Array[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  private idx = 0;
  /** 1-based number of the current line in its file. */
  lineNo = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private readonly framer: ByteLineFramer;
  private readonly it: AsyncIterator<Uint8Array>;
  private ended = false;
  private first = true;
  /** The current line, tokenized (tokenizeStraceLine). */
  readonly probe = new StraceLine();
  kind: LineKind = LineKind.Blank;
  bytes: Uint8Array = this.chunk;
  start = 0;
  end = 0;
  /** Time of the current line (of the last line that had one, for lines without). */
  sec = 0;
  frac = 0;
  constructor(
    readonly stream: InputStream,
    readonly src: number,
    readonly tid: number,
  ) {
    this.it = stream[Symbol.asyncIterator]();
    this.framer = new ByteLineFramer(stream.path, (b, s, e) => {
      // a line cut by a chunk end comes in the framer's own buffer, which it refills: keep a copy
      if (b !== this.chunk) {
        b = b.slice(s, e);
        e -= s;
        s = 0;
      }
      this.bufs.push(b);
      this.starts.push(s);
      this.ends.push(e);
    });
  }

  /** Move to the next line held in memory; false when the lines read so far are used up (then call load). */
  next(): boolean {
    const k = this.idx;
    if (k >= this.bufs.length) return false;
    this.idx = k + 1;
    const b = this.bufs[k]!;
    const s = this.starts[k]!;
    const e = this.ends[k]!;
    this.bytes = b;
    this.start = s;
    this.end = e;
    this.lineNo++;
    const P = this.probe;
    this.kind = tokenizeStraceLine(b, s, e, P);
    if (P.timeFormat !== TimeFormat.None) {
      this.sec = P.tsSec;
      this.frac = P.tsFrac;
    }
    return true;
  }

  /** Read on until a line is available; false at the end of the file. */
  async load(): Promise<boolean> {
    for (;;) {
      if (this.next()) return true;
      if (this.ended) return false;
      this.bufs.length = 0;
      this.starts.length = 0;
      this.ends.length = 0;
      this.idx = 0;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        this.framer.finish();
        continue;
      }
      const c = this.first ? withoutByteOrderMark(r.value) : r.value;
      this.first = false;
      // lines reach the parser as plain Uint8Array views (one array type for its element loads)
      this.chunk = c.constructor === Uint8Array ? c : new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
      this.framer.push(this.chunk);
    }
  }
}

/** Merge the per-task files of one -ff capture by timestamp (a binary heap of cursors). */
async function mergePerTaskFiles(
  parser: StraceParser,
  g: InputGroup,
  streams: Map<string, InputStream>,
  progress: () => void,
  done: Set<InputStream>,
): Promise<void> {
  const cursors: TaskFileCursor[] = [];
  for (let i = 0; i < g.files.length; i++) {
    const s = streams.get(g.files[i]!)!;
    const src = parser.beginSource(s.path, g.tids[i]!, i === 0);
    cursors.push(new TaskFileCursor(s, src, g.tids[i]!));
  }
  const heap: TaskFileCursor[] = [];
  const less = (a: TaskFileCursor, b: TaskFileCursor): boolean =>
    a.sec < b.sec || (a.sec === b.sec && (a.frac < b.frac || (a.frac === b.frac && a.src < b.src)));
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const c of cursors)
    if (await c.load()) {
      heap.push(c);
      up(heap.length - 1);
    } else done.add(c.stream);
  let n = 0;
  while (heap.length) {
    const c = heap[0]!;
    parser.useSource(c.src, c.tid);
    parser.tokenizedByteLine(c.bytes, c.start, c.end, c.lineNo, c.probe, c.kind);
    if (c.next() || (await c.load())) down(0);
    else {
      done.add(c.stream);
      const last = heap.pop()!;
      if (heap.length) {
        heap[0] = last;
        down(0);
      }
    }
    if ((++n & 0xffff) === 0) progress();
  }
  progress();
}

/**
 * Ingest strace logs into `outDir/app_io.arrow`; returns the row count and a printable summary.
 * With `folder` (the OutputFolder of outDir a command already holds) the table is staged in it;
 * else the function opens the folder and commits the table itself.
 */
export async function ingestStrace(
  paths: string[],
  opts: { outDir: string; folder?: OutputFolder } & StraceIngestOptions,
): Promise<{ rows: number; summary: string[]; stats: IngestStats; file: string }> {
  if (paths.length === 0) throw new InputError('(no input)', 'ingest --format strace needs at least one strace log');
  const folder = opts.folder;
  if (!folder) return (await withOutputFolder(opts.outDir, 'ingest', (f) => ingestStrace(paths, { ...opts, folder: f }))).result;
  const stats = opts.stats ?? new IngestStats();
  // full record batches wait in a scratch file beside the output, not in memory: a log of any
  // length is ingested in the memory of one batch (plus the dictionaries and the open files)
  const builder = new TableBuilder(appIoTable);
  builder.spillTo(folder.scratchPath('app_io.arrow'));
  try {
    const r = await parseStrace(paths, builder, stats, opts);
    const file = folder.stage('app_io.arrow', tableBuilderWriter(builder, r.metadata));
    return { rows: r.rows, summary: summarizeAppIo(r, stats, file), stats, file };
  } finally {
    builder.close();
  }
}

/** Summary lines: calls and bytes by op and by path (top 10), unresolved fds, problems. */
export function summarizeAppIo(r: StraceParseResult, stats: IngestStats, file?: string): string[] {
  const c = r.counts;
  const out: string[] = [];
  out.push(`app_io: ${r.rows} calls from ${r.lines} lines${file ? ` -> ${file}` : ''}`);
  out.push(`time base: ${r.metadata.time_base}${r.metadata.date ? ` (date ${r.metadata.date})` : ''}, clock "${r.metadata.clock}"`);
  out.push('by op:        calls        bytes');
  APP_OPS.forEach((op, i) => {
    if (c.opCalls[i]) out.push(`  ${op.padEnd(9)} ${String(c.opCalls[i]).padStart(9)}  ${formatBytes(c.opBytes[i]!).padStart(11)}`);
  });
  const keys = c.pathCalls.map((_, k) => k).filter((k) => c.pathCalls[k]! > 0);
  keys.sort((a, b) => c.pathBytes[b]! - c.pathBytes[a]! || c.pathCalls[b]! - c.pathCalls[a]!);
  out.push(`by path (top 10 of ${keys.length}, by bytes):`);
  for (const k of keys.slice(0, 10))
    out.push(`  ${String(c.pathCalls[k]).padStart(9)} calls ${formatBytes(c.pathBytes[k]!).padStart(11)}  ${printable(r.paths[k]!)}`);
  out.push(`unresolved fds: ${c.unresolvedFdCalls} calls on fds with no known path (not opened in the trace, no -y)`);
  out.push(`uncertain: ${c.uncertainCalls} calls whose outcome, offset or file the log does not determine (column uncertain)`);
  const problems = stats.format();
  out.push(problems.length ? 'skipped lines and other counts:' : 'skipped lines: none');
  for (const p of problems) out.push(`  ${p.trim()}`);
  return out;
}
