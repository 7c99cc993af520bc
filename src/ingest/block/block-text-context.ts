/**
 * What the block text readers (tracefs, trace-cmd report, blkparse) share: the per-file tracker
 * of dictionaries, devices and counters (BlockTextContext), the line-parser interface, and the
 * driver that runs a parser over a file or an in-memory text into a BlockEventsBuilder.
 */
import { availableParallelism } from 'node:os';
import type { IngestStats } from '../../util/ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
import { ByteScanner, textOf } from '../text/byte-scanner.js';
import { driveFileLines, driveTextLines } from '../text/line-driver.js';
import { PrefaultPool } from './prefault-pool.js';
import { IOPRIO_CLASS_NAMES, type BlockEventRow, type BlockEventsBuilder } from './block-events-builder.js';
import { EVENT_CHUNK_BYTES } from './block-event-chunk.js';
import { ByteRangeInterner } from './range-interners.js';

/** Interners, counters and the field scanner of one reader run over one file. */
export class BlockTextContext {
  readonly comm: ByteRangeInterner;
  readonly rwbs: ByteRangeInterner;
  readonly ioprio: ByteRangeInterner;
  /** The field scanner of this reader's lines. */
  readonly scan = new ByteScanner();
  /** The builder's row cursor (filled by name, then builder.commit()). */
  readonly row: BlockEventRow;
  private lastMajor = -1;
  private lastMinor = -1;
  private lastDevKey = -1;
  /** Lines read, events written, lines that could not be used, lines skipped as known non-I/O records. */
  lines = 0;
  events = 0;
  bad = 0;
  ignored = 0;
  constructor(
    readonly builder: BlockEventsBuilder,
    readonly stats: IngestStats,
    readonly file: string,
  ) {
    this.comm = builder.commByteInterner();
    this.rwbs = builder.rwbsByteInterner();
    this.ioprio = new ByteRangeInterner((raw) => builder.internIoprio(normaliseIoprio(raw)), 4096);
    this.row = builder.row;
  }

  devKey(major: number, minor: number): number {
    if (major === this.lastMajor && minor === this.lastMinor) return this.lastDevKey;
    this.lastMajor = major;
    this.lastMinor = minor;
    this.lastDevKey = this.builder.internDev(major, minor);
    return this.lastDevKey;
  }

  /** Count a line that could not be used, with its file:line and text. */
  problem(
    name: string,
    description: string,
    t: Uint8Array,
    s: number,
    e: number,
    lineNo: number,
    severity: 'info' | 'data_loss' = 'data_loss',
  ): void {
    if (severity === 'data_loss') this.bad++;
    else this.ignored++;
    this.stats.count(name, severity, description, { file: this.file, line: lineNo, text: textOf(t, s, Math.min(e, s + 200)) });
  }
}

/**
 * An ioprio as `class,hint,level` with the class as a name, as block.h prints it on 6.11+
 * (__print_symbolic of IOPRIO_PRIO_CLASS); trace-cmd prints the class number in hex (0x2,0,4)
 * and its raw fields the 16-bit IOPRIO_PRIO_VALUE.
 */
export function normaliseIoprio(raw: string): string {
  if (/^\d+$/.test(raw)) {
    // IOPRIO_PRIO_VALUE (include/uapi/linux/ioprio.h): class in bits 13-15, hint 3-12, level 0-2
    const v = Number(raw);
    if (v > 0xffff) return 'invalid';
    return `${IOPRIO_CLASS_NAMES[v >> 13]!},${(v >> 3) & 0x3ff},${v & 7}`;
  }
  if (raw.startsWith('0x')) {
    const comma = raw.indexOf(',');
    const cls = Number.parseInt(raw.slice(2, comma < 0 ? raw.length : comma), 16);
    const name = Number.isInteger(cls) && cls >= 0 && cls < 8 ? IOPRIO_CLASS_NAMES[cls]! : 'invalid';
    return comma < 0 ? name : name + raw.slice(comma);
  }
  return raw;
}

/** Options of the block text readers. */
export interface BlockTextOptions {
  /**
   * Read the common event lines through the format's fast path first (default true). Off, every
   * line goes through the general path: the differential tests compare the two.
   */
  fastPath?: boolean;
}

/** What one file contributed. */
export interface BlockTextFileSummary {
  file: string;
  format: string;
  lines: number;
  events: number;
  /** Lines that could not be used (counted in IngestStats with their reasons). */
  bad: number;
  /** Records skipped on purpose (other tracepoints, header lines). */
  ignored: number;
}

/** A line handler that also reports the end of the input. */
export interface BlockTextLineParser {
  readonly ctx: BlockTextContext;
  line(t: Uint8Array, s: number, e: number, lineNo: number): void;
  /** Called after the last line: throws InputError when the file had nothing usable. */
  finish(): BlockTextFileSummary;
}

/**
 * The parser's line handler, followed by the builder's range check: an event the builder refused
 * (BlockEventsBuilder.refused: a sector or time past what request reconstruction holds exactly)
 * is counted as an unusable line with its file:line instead of an event.
 */
function checkedLines(parser: BlockTextLineParser): (t: Uint8Array, s: number, e: number, lineNo: number) => void {
  const ctx = parser.ctx;
  const builder = ctx.builder;
  return (t, s, e, lineNo) => {
    parser.line(t, s, e, lineNo);
    if (builder.refused === null) return;
    ctx.events--;
    ctx.problem('block_text.value_out_of_range', `event not stored: ${builder.refused}`, t, s, e, lineNo);
    builder.refused = null;
  };
}

/** Inputs from this size on (bytes on disk) take their table chunks from a PrefaultPool. */
const PREFAULT_MIN_BYTES = 32 << 20;

/** Drive a line parser over a (possibly compressed) file. */
export async function readTextLines(
  path: string,
  parser: BlockTextLineParser,
  onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  const builder = parser.ctx.builder;
  await driveFileLines(path, checkedLines(parser), onProgress, (fileSize) => {
    // a large input fills many table chunks: their first-touch page faults go to another core
    if (fileSize < PREFAULT_MIN_BYTES || availableParallelism() < 2) return null;
    const pool = new PrefaultPool([EVENT_CHUNK_BYTES]);
    builder.useChunkMemory((bytes) => pool.take(bytes));
    return async () => {
      builder.useChunkMemory(null);
      await pool.close();
    };
  });
  return parser.finish();
}

/** Run a line parser over text held in memory (tests, notebooks). */
export function parseTextLines(text: string | Uint8Array, file: string, parser: BlockTextLineParser): BlockTextFileSummary {
  driveTextLines(text, file, checkedLines(parser));
  return parser.finish();
}
