/**
 * Reader of blkparse's default text output (blktrace 1.2.0, blkparse_fmt.c). Event lines are
 * read by the fast path (blkparse-fast-path.ts) when they have one of the common shapes, else by
 * the general parser (blkparse-event-parser.ts, which describes the format). After the events
 * blkparse prints per-CPU and total statistics; those lines (and its "Input file ... added"
 * notes) are skipped here. Times are relative to the first event, so the table metadata says so.
 */
import type { IngestStats } from '../../util/ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
import { InputError } from '../../util/errors.js';
import { textOf } from '../text/byte-scanner.js';
import type { BlockEventsBuilder } from './block-events-builder.js';
import {
  BlockTextContext,
  parseTextLines,
  readTextLines,
  type BlockTextFileSummary,
  type BlockTextLineParser,
  type BlockTextOptions,
} from './block-text-context.js';
import { BlkparseEventParser } from './blkparse-event-parser.js';
import { BlkparseFastPath } from './blkparse-fast-path.js';

/** Parses blkparse default-format lines into a BlockEventsBuilder. */
export class BlkparseTextParser implements BlockTextLineParser {
  readonly ctx: BlockTextContext;
  private readonly events: BlkparseEventParser;
  /** The fast path, or null when the options turn it off. */
  private readonly fast: BlkparseFastPath | null;
  private inSummary = false;
  private firstBad = '';
  private firstBadLine = 0;
  constructor(builder: BlockEventsBuilder, stats: IngestStats, file: string, options: BlockTextOptions = {}) {
    this.ctx = new BlockTextContext(builder, stats, file);
    this.events = new BlkparseEventParser(this.ctx);
    this.fast = options.fastPath === false ? null : new BlkparseFastPath(this.ctx);
  }

  line(t: Uint8Array, s: number, e: number, lineNo: number): void {
    const ctx = this.ctx;
    ctx.lines++;
    while (e > s && t[e - 1] === 32) e--;
    if (e === s) return;
    if (!this.inSummary && this.fast !== null && this.fast.line(t, s, e)) {
      ctx.events++;
      return;
    }
    if (this.inSummary || !this.events.add(t, s, e)) {
      if (this.summaryLine(t, s, e)) {
        ctx.ignored++;
        return;
      }
      if (!this.firstBad) {
        this.firstBad = textOf(t, s, Math.min(e, s + 120));
        this.firstBadLine = lineNo;
      }
      ctx.problem('blkparse_text.unparsable_line', 'line is not a blkparse event line', t, s, e, lineNo);
      return;
    }
    ctx.events++;
  }

  /** blkparse's statistics after the events (output_stats in blkparse.c), and its notes; true when the line is one. */
  private summaryLine(t: Uint8Array, s: number, e: number): boolean {
    const line = textOf(t, s, Math.min(e, s + 160));
    if (/^(CPU\d+|Total) \(.*\):$/.test(line)) {
      this.inSummary = true;
      return true;
    }
    if (!this.inSummary) return /^Input file .* added$/.test(line);
    return /^ [A-Z][A-Za-z ()/]+:/.test(line) || /^(Throughput|Events|Skips)\b/.test(line) || /^Input file .* added$/.test(line);
  }

  finish(): BlockTextFileSummary {
    const ctx = this.ctx;
    if (ctx.events === 0 && ctx.bad > 0) {
      throw new InputError(
        ctx.file,
        `not blkparse text: no line is an event line of the form "MAJ,MIN CPU SEQ SECONDS.NANOS PID ACTION RWBS ..." (${ctx.bad} lines tried; first: "${this.firstBad}")`,
        { line: this.firstBadLine },
      );
    }
    return { file: ctx.file, format: 'blkparse', lines: ctx.lines, events: ctx.events, bad: ctx.bad, ignored: ctx.ignored };
  }
}

/** Read blkparse default text output into `builder`. */
export function readBlkparseText(
  path: string,
  builder: BlockEventsBuilder,
  stats: IngestStats,
  onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  return readTextLines(path, new BlkparseTextParser(builder, stats, path), onProgress);
}

/** Parse blkparse text held in memory; `file` names it in messages. */
export function parseBlkparseText(
  text: string | Uint8Array,
  file: string,
  builder: BlockEventsBuilder,
  stats: IngestStats,
  options?: BlockTextOptions,
): BlockTextFileSummary {
  return parseTextLines(text, file, new BlkparseTextParser(builder, stats, file, options));
}
