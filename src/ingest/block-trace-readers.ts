/**
 * The block-trace readers, one per format, behind one interface: what `ingest`, `analyze` and `btt`
 * call after detect-format.ts has named the format from the content. Adding a trace format means a
 * reader module under ingest/block/, a line in detect-format.ts and an entry here.
 */
import { statSync } from 'node:fs';
import type { BlockEventsBuilder } from './block/block-events-builder.js';
import { readBlktraceBinary } from './block/blktrace-binary.js';
import { readTracefsText } from './block/tracefs-text.js';
import type { BlockTextFileSummary } from './block/block-text-context.js';
import { readTraceCmdText } from './block/trace-cmd-text.js';
import { readBlkparseText } from './block/blkparse-text.js';
import { detectInputFormat, type InputFormat } from './detect-format.js';
import type { IngestStats } from '../util/ingest-stats.js';
import { InputError } from '../util/errors.js';

export type BlockTraceFormat = Exclude<InputFormat, 'strace'>;

export interface BlockTraceReadOptions {
  /** Keep only this device ("MAJ:MIN"); applied by the binary reader itself, by the builder otherwise. */
  dev?: string;
  /** Bytes of the files on disk consumed so far (all the paths of this call together). */
  onProgress?: (bytesRead: number) => void;
}

export interface BlockTraceReadResult {
  /** What each file gave (binary blktrace: one entry for the per-CPU files together). */
  files: BlockTextFileSummary[];
  /** Wall clock at a trace time, when the trace records one (blktrace's TIMESTAMP notify). */
  wallClock?: { ns: bigint; atTraceNs: bigint };
}

export interface BlockTraceReader {
  /** The clock of ts_ns in this format, as stored in block_events' metadata. */
  clock(textClock: string): string;
  /**
   * Read `paths` into `builder`. Text formats read the files one after the other; binary blktrace
   * takes the per-CPU files of one capture together and merges them by record time.
   */
  read(paths: string[], builder: BlockEventsBuilder, stats: IngestStats, opts?: BlockTraceReadOptions): Promise<BlockTraceReadResult>;
}

type TextRead = typeof readTracefsText;

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function textReader(read: TextRead, clock: (textClock: string) => string): BlockTraceReader {
  return {
    clock,
    async read(paths, builder, stats, opts = {}) {
      const files: BlockTextFileSummary[] = [];
      let before = 0;
      for (const path of paths) {
        const base = before;
        const summary = await read(path, builder, stats, opts.onProgress ? (s) => opts.onProgress!(base + s.fileBytesRead) : undefined);
        files.push(summary);
        before = base + fileSize(path);
      }
      return { files };
    },
  };
}

const tracefsClock = (textClock: string) => `${textClock} (tracefs trace_clock)`;

export const BLOCK_TRACE_READERS: Readonly<Record<BlockTraceFormat, BlockTraceReader>> = {
  blktrace: {
    clock: () => 'blktrace time (ktime_get, ns)',
    async read(paths, builder, stats, opts = {}) {
      const before = builder.length;
      const r = await readBlktraceBinary(paths, builder, stats, {
        ...(opts.dev ? { dev: opts.dev } : {}),
        ...(opts.onProgress ? { onProgress: (read: number) => opts.onProgress!(read) } : {}),
      });
      const files: BlockTextFileSummary[] = [
        { file: paths.join(' '), format: 'blktrace', lines: 0, events: builder.length - before, bad: 0, ignored: 0 },
      ];
      return r.wallClockNs !== undefined && r.wallClockAtTraceNs !== undefined
        ? { files, wallClock: { ns: r.wallClockNs, atTraceNs: r.wallClockAtTraceNs } }
        : { files };
    },
  },
  tracefs: textReader(readTracefsText, tracefsClock),
  'trace-cmd': textReader(readTraceCmdText, tracefsClock),
  blkparse: textReader(
    readBlkparseText,
    () => 'blkparse relative time (ns since the first event blkparse printed; blktrace ktime_get clock)',
  ),
};

/** The block-trace format of a file, from its content; a strace log or an unknown format is an InputError. */
export async function detectBlockTraceFormat(path: string): Promise<BlockTraceFormat> {
  const format = await detectInputFormat(path);
  if (format === 'strace')
    throw new InputError(
      path,
      'this is a strace log, expected a block trace (tracefs or trace-cmd text, blkparse text or binary blktrace)',
      { offset: 0 },
    );
  return format;
}
