/**
 * iolineage ingest: block traces (tracefs text, trace-cmd report, blkparse text, binary blktrace)
 * into block_events.arrow + block_requests.arrow (+ block_bios.arrow), strace logs into
 * app_io.arrow, with a one-screen summary.
 */
import { statSync } from 'node:fs';
import { BlockEventsBuilder } from '../ingest/block/block-events-builder.js';
import { readTracefsText } from '../ingest/block/tracefs-text.js';
import type { BlockTextFileSummary } from '../ingest/block/block-text-context.js';
import { readTraceCmdText } from '../ingest/block/trace-cmd-text.js';
import { readBlkparseText } from '../ingest/block/blkparse-text.js';
import { readBlktraceBinary } from '../ingest/block/blktrace-binary.js';
import { requestSweepFor } from '../ingest/block/request-sweep.js';
import type { EventChunk } from '../ingest/block/block-event-chunk.js';
import { detectInputFormat, INPUT_FORMATS, type InputFormat } from '../ingest/detect-format.js';
import { IngestStats } from '../util/ingest-stats.js';
import { BLOCK_ACTIONS, BLOCK_OPS } from '../table/schemas/block-events.js';
import { tableBuilderWriter } from '../table/arrow-file.js';
import { int64Words } from '../table/column-arrays.js';
import { withOutputFolder, type OutputFolder } from '../io/output-folder.js';
import { UsageError } from '../util/errors.js';
import { formatBytes } from '../util/numbers.js';
import { parseCommandArgs, parseDevArg, requireFile } from './args.js';
import { ProgressBar } from './progress.js';

export const help = `usage: iolineage ingest FILE... -o DIR [options]

Reads block-layer traces and strace logs into Arrow tables in DIR:
  block traces  -> block_events.arrow (one row per event), block_requests.arrow (one row per
                   request, rebuilt from the events), block_bios.arrow (one row per queued bio)
  strace logs   -> app_io.arrow
Formats are recognised from the content (.gz/.xz/.zst are read transparently):
  tracefs     the tracefs "trace" or "trace_pipe" text with block tracepoints (Linux 4.x-6.x)
  trace-cmd   "trace-cmd report" text (also -t, -l, -R, instance buffers)
  blkparse    blkparse default text output
  blktrace    binary blktrace files (the per-CPU files of one capture are merged by time)
  strace      strace -f -tt/-ttt [-T -y] logs (per-task files of strace -ff too)
Several block trace files are appended in the order given (binary blktrace files together, at the
place of the first one): give files of one capture, whose timestamps share a clock.

options:
  -o, --out DIR       output directory (created if missing)
  --format FORMAT     auto (default) | tracefs | trace-cmd | blkparse | blktrace | strace
  --dev MAJ:MIN       keep only block events of this device. block_plug/block_unplug of tracefs
                      and trace-cmd text carry no device: a plug is kept when the same task's next
                      event is on this device, its unplug when that plug was kept
  --clock NAME        the trace clock of tracefs/trace-cmd text (default "local", the tracefs
                      default; the text does not record it), stored in the table metadata
  --date YYYY-MM-DD   date of strace -tt time-of-day timestamps
  --parquet           also write each table as <table>.parquet (as \`iolineage export\` does)
Exit status: 0 on success, 1 when an input is unusable or an error was counted, 2 on usage errors.
`;

/** Clock of ts_ns per format, for the table metadata. */
function clockOf(format: InputFormat, textClock: string): string {
  switch (format) {
    case 'tracefs':
    case 'trace-cmd':
      return `${textClock} (tracefs trace_clock)`;
    case 'blkparse':
      return 'blkparse relative time (ns since the first event blkparse printed; blktrace ktime_get clock)';
    default:
      return 'blktrace time (ktime_get, ns)';
  }
}

interface Input {
  path: string;
  format: InputFormat;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('ingest', argv, {
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    dev: { type: 'string' },
    clock: { type: 'string' },
    date: { type: 'string' },
    parquet: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('ingest: no input files (see --help)');
  if (typeof values.out !== 'string' || !values.out) throw new UsageError('ingest: missing -o DIR (the output directory)');
  const outDir = values.out;
  const format = typeof values.format === 'string' ? values.format : 'auto';
  if (format !== 'auto' && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`ingest: --format ${format}: expected auto, ${INPUT_FORMATS.join(', ')}`);
  }
  const dev = typeof values.dev === 'string' ? parseDevArg(values.dev) : undefined;
  const textClock = typeof values.clock === 'string' ? values.clock : 'local';
  if (typeof values.date === 'string' && !/^\d{4}-\d{2}-\d{2}$/.test(values.date))
    throw new UsageError(`ingest: --date ${values.date}: expected YYYY-MM-DD`);

  const inputs: Input[] = [];
  for (const path of positionals) {
    requireFile(path);
    inputs.push({ path, format: format === 'auto' ? await detectInputFormat(path) : (format as InputFormat) });
  }
  const block = inputs.filter((i) => i.format !== 'strace');
  const strace = inputs.filter((i) => i.format === 'strace');
  const stats = new IngestStats();
  const out: string[] = [];

  const { notes } = await withOutputFolder(outDir, 'ingest', async (folder) => {
    if (block.length) out.push(...(await ingestBlock(block, folder, stats, dev, textClock)));
    if (strace.length) {
      const sizes = strace.map((i) => {
        try {
          return statSync(i.path).size;
        } catch {
          return 0;
        }
      });
      const bar = new ProgressBar(
        'ingest strace',
        sizes.reduce((a, b) => a + b, 0),
      );
      // loaded only when there is a log to read (as the Parquet writer below): a block-trace
      // ingest does not pay for their modules
      const { ingestStrace } = await import('../ingest/app/ingest-strace.js');
      const r = await ingestStrace(
        strace.map((i) => i.path),
        {
          outDir,
          folder,
          stats,
          onProgress: (read) => bar.update(read),
          ...(typeof values.date === 'string' ? { date: values.date } : {}),
        },
      );
      bar.done();
      if (out.length) out.push('');
      out.push(...r.summary);
    } else {
      const problems = stats.format();
      out.push(problems.length ? 'skipped lines and other counts:' : 'skipped lines: none');
      for (const p of problems) out.push(`  ${p.trim()}`);
    }
  });
  // Parquet copies of the committed tables (written by src/export, after the Arrow set is in place)
  if (values.parquet) {
    const written = new Set([
      ...(block.length ? ['block_events', 'block_requests', 'block_bios'] : []),
      ...(strace.length ? ['app_io'] : []),
    ]);
    const { exportTables, arrowTablesOf } = await import('../export/export-tables.js');
    const inputs = arrowTablesOf(outDir).filter((t) => written.has(t.name));
    const parquet = await withOutputFolder(outDir, 'ingest --parquet', (folder) =>
      exportTables(inputs, undefined, folder, { format: 'parquet' }),
    );
    notes.push(...parquet.notes);
    out.push('', `parquet: ${parquet.result.map((f) => `${f.table}.parquet`).join(', ')}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  if (stats.failed) {
    process.stderr.write(`iolineage ingest: ${stats.total('error')} error(s) counted (see above)\n`);
    return 1;
  }
  return 0;
}

async function ingestBlock(
  inputs: Input[],
  folder: OutputFolder,
  stats: IngestStats,
  dev: string | undefined,
  textClock: string,
): Promise<string[]> {
  const builder = new BlockEventsBuilder(dev ? { dev } : {});
  // block_events is streamed: each full chunk of rows is counted for the summary, swept into
  // requests and bios, and moved to a scratch file (written out as block_events.arrow at the end),
  // so the events are never whole in memory. The sweep's notes are kept apart and merged after
  // the readers' counts, in the order a sweep of the finished table would have made them.
  const sizes = inputs.map((i) => {
    try {
      return statSync(i.path).size;
    } catch {
      return 0;
    }
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const sweep = requestSweepFor(total, folder.scratchPath('block_requests.arrow'));
  const totals = new EventTotals();
  builder.streamTo(folder.scratchPath('block_events.arrow'), (chunk, rows, firstRow) => {
    totals.add(chunk, rows);
    sweep.chunk(chunk, rows, firstRow);
  });
  try {
    return await readAndWrite();
  } finally {
    builder.table.close();
    sweep.close();
  }

  async function readAndWrite(): Promise<string[]> {
    const files: BlockTextFileSummary[] = [];
    const bar = new ProgressBar('ingest', total);
    let doneBefore = 0;
    const binary = inputs.filter((i) => i.format === 'blktrace').map((i) => i.path);
    let binaryDone = false;
    const formats = new Set<InputFormat>();
    let wall: string | undefined;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k]!;
      formats.add(input.format);
      const before = builder.length;
      if (input.format === 'blktrace') {
        if (binaryDone) continue;
        binaryDone = true;
        const base = doneBefore;
        const r = await readBlktraceBinary(binary, builder, stats, {
          ...(dev ? { dev } : {}),
          onProgress: (read) => bar.update(base + read),
        });
        if (r.wallClockNs !== undefined) wall = `${r.wallClockNs} ns since the epoch at trace time ${r.wallClockAtTraceNs} ns`;
        files.push({ file: binary.join(' '), format: 'blktrace', lines: 0, events: builder.length - before, bad: 0, ignored: 0 });
        for (let j = 0; j < inputs.length; j++) if (inputs[j]!.format === 'blktrace') doneBefore += sizes[j]!;
        continue;
      }
      const base = doneBefore;
      const progress = (s: { fileBytesRead: number }) => bar.update(base + s.fileBytesRead);
      const read = input.format === 'tracefs' ? readTracefsText : input.format === 'trace-cmd' ? readTraceCmdText : readBlkparseText;
      files.push(await read(input.path, builder, stats, progress));
      doneBefore += sizes[k]!;
    }
    bar.done();
    builder.finishStream();
    const clocks = [...new Set([...formats].map((f) => clockOf(f, textClock)))];
    const metadata: Record<string, string> = {
      clock: clocks.join(' | '),
      source: inputs.map((i) => `${i.format}:${i.path}`).join(','),
    };
    if (dev) metadata.dev_filter = dev;
    if (wall) metadata.wall_clock = wall;
    // block_events.arrow from the scratch file a record batch at a time (the bytes of the table
    // builder.finish would make), then the request tables a batch at a time
    let eventsFile = '';
    const { requestsFile, requests, byOp } = await sweep.finishAndStage(builder.names(), metadata, folder, stats, () => {
      eventsFile = folder.stage('block_events.arrow', tableBuilderWriter(builder.table, metadata));
      builder.table.close();
    });
    const eventRows = builder.length;
    return summaryLines(inputs.length, dev, files, clocks, {
      eventRows,
      eventsFile,
      eventLines: totals.lines(),
      filteredOut: builder.filteredOut,
      requests,
      requestsFile,
      byOp,
    });
  }
}

/** The summary of a block ingest (what ingestBlock prints). */
function summaryLines(
  inputCount: number,
  dev: string | undefined,
  files: BlockTextFileSummary[],
  clocks: string[],
  t: {
    eventRows: number;
    eventsFile: string;
    eventLines: string[];
    filteredOut: number;
    requests: number;
    requestsFile: string;
    byOp: { count: Float64Array; bytes: Float64Array };
  },
): string[] {
  const { eventRows, eventsFile, eventLines, filteredOut, requests, requestsFile, byOp } = t;
  const lines: string[] = [];
  lines.push(`inputs (${inputCount}${inputCount > 1 ? ', events appended in this order' : ''}):`);
  for (const f of files) {
    const detail = f.format === 'blktrace' ? '' : `${f.lines} lines, `;
    lines.push(
      `  ${f.format.padEnd(9)} ${f.file}: ${detail}${f.events} events${f.bad ? `, ${f.bad} unusable lines` : ''}${f.ignored ? `, ${f.ignored} other records skipped` : ''}`,
    );
  }
  if (clocks.length > 1)
    lines.push(`  note: these inputs use different clocks (${clocks.join('; ')}): times are not comparable across them`);
  lines.push(
    `block_events: ${eventRows} events -> ${eventsFile}${dev ? ` (device ${dev}; ${filteredOut} events dropped: other devices, and plugs/unplugs of tasks with no I/O on it)` : ''}`,
  );
  lines.push(...eventLines);
  lines.push(`block_requests: ${requests} requests -> ${requestsFile}`);
  lines.push(...requestSummary(byOp));
  return lines;
}

function secs(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  return `${neg ? '-' : ''}${a / 1000000000n}.${(a % 1000000000n).toString().padStart(9, '0')}`;
}

/** Time span, events and bytes by action of block_events, counted chunk by chunk as the rows are built. */
class EventTotals {
  private rows = 0;
  private readonly count = new Float64Array(BLOCK_ACTIONS.length);
  private readonly bytes = new Float64Array(BLOCK_ACTIONS.length);
  private min = 0n;
  private max = 0n;
  private first = true;

  /** Rows [0, len) of a chunk. */
  add(c: EventChunk, len: number): void {
    this.rows += len;
    const a = c.action;
    const y = c.bytes;
    const count = this.count;
    const bytes = this.bytes;
    for (let i = 0; i < len; i++) {
      count[a[i]!]!++;
      bytes[a[i]!]! += y[i]!;
    }
    if (len === 0) return;
    // the time span from the int64 words (no BigInt per row); a chunk with a time past 2^53 in
    // magnitude takes the BigInt comparison
    const t = c.ts.subarray(0, len);
    const { hi, lo } = int64Words(t);
    let lowNum = Infinity,
      highNum = -Infinity,
      exact = true;
    for (let i = 0; i < len; i++) {
      const h = hi[2 * i + 1]!;
      if (h >= 0x200000 || h < -0x200000) {
        exact = false;
        break;
      }
      const v = h * 4294967296 + lo[2 * i]!;
      if (v < lowNum) lowNum = v;
      if (v > highNum) highNum = v;
    }
    if (exact) {
      this.extend(BigInt(lowNum), BigInt(highNum));
      return;
    }
    for (let i = 0; i < len; i++) this.extend(t[i]!, t[i]!);
  }

  private extend(low: bigint, high: bigint): void {
    if (this.first) {
      this.min = low;
      this.max = high;
      this.first = false;
      return;
    }
    if (low < this.min) this.min = low;
    if (high > this.max) this.max = high;
  }

  lines(): string[] {
    if (this.rows === 0) return ['  (no events)'];
    const { min, max } = this;
    const lines = [`  time span: ${secs(min)} s .. ${secs(max)} s (${secs(max - min)} s)`];
    lines.push('  by action:      events        bytes');
    BLOCK_ACTIONS.forEach((a, k) => {
      if (this.count[k])
        lines.push(
          `    ${a.padEnd(3)} ${ACTION_NAMES[a].padEnd(9)} ${String(this.count[k]).padStart(9)}  ${this.bytes[k] ? formatBytes(this.bytes[k]!).padStart(11) : ''}`.trimEnd(),
        );
    });
    return lines;
  }
}

const ACTION_NAMES: Record<(typeof BLOCK_ACTIONS)[number], string> = {
  Q: 'queue',
  G: 'getrq',
  I: 'insert',
  D: 'issue',
  C: 'complete',
  M: 'backmerge',
  F: 'frontmrg',
  X: 'split',
  A: 'remap',
  R: 'requeue',
  P: 'plug',
  U: 'unplug',
  UT: 'unplug-t',
  S: 'sleep',
  B: 'bounce',
  T: 'rq-merge',
  m: 'message',
};

/** Requests and bytes by op (counts in BLOCK_OPS order). */
function requestSummary({ count, bytes }: { count: Float64Array; bytes: Float64Array }): string[] {
  const lines = ['  by op:        requests        bytes'];
  BLOCK_OPS.forEach((op, k) => {
    if (count[k]) lines.push(`    ${op.padEnd(9)} ${String(count[k]).padStart(11)}  ${formatBytes(bytes[k]!).padStart(11)}`);
  });
  if (lines.length === 1) lines.push('    (none)');
  return lines;
}
