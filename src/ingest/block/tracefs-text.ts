/**
 * Reader of block tracepoints in ftrace text: the tracefs `trace` / `trace_pipe` files. A line is
 * read by the fast path (tracefs-fast-path.ts) when it has one of the common shapes, else by the
 * prefix tokenizer (ftrace-prefix.ts: kernel/trace/trace_output.c) and the event-body parser
 * (tracefs-event-parser.ts: include/trace/events/block.h); header, comment and lost-event lines
 * are counted here. The trace-cmd report reader extends this parser.
 */
import { InputError } from '../../util/errors.js';
import type { IngestStats } from '../../util/ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
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
import { BlockTracepoint, SKIPPED_COUNTER, SKIPPED_TRACEPOINT, TracepointNames } from './block-tracepoints.js';
import { FtracePrefix } from './ftrace-prefix.js';
import { TracefsEventParser } from './tracefs-event-parser.js';
import { TracefsFastPath } from './tracefs-fast-path.js';

/** Parses tracefs `trace` / `trace_pipe` lines into a BlockEventsBuilder. */
export class TracefsTextParser implements BlockTextLineParser {
  readonly ctx: BlockTextContext;
  /** The prefix tokenizer of the general path; its fields describe the line being parsed. */
  protected readonly prefix = new FtracePrefix();
  protected readonly names = new TracepointNames();
  protected readonly events: TracefsEventParser;
  /** The fast path, or null when the options turn it off. */
  private readonly fast: TracefsFastPath | null;
  private firstBad = '';
  private firstBadLine = 0;
  constructor(
    builder: BlockEventsBuilder,
    stats: IngestStats,
    file: string,
    private readonly traceCmd = false,
    options: BlockTextOptions = {},
  ) {
    this.ctx = new BlockTextContext(builder, stats, file);
    this.events = new TracefsEventParser(this.ctx, this.prefix);
    this.fast = options.fastPath === false ? null : new TracefsFastPath(this.ctx, this.names, this.prefix, traceCmd);
  }

  line(t: Uint8Array, s: number, e: number, lineNo: number): void {
    const ctx = this.ctx;
    ctx.lines++;
    while (e > s && t[e - 1]! === 32) e--;
    if (e === s) return;
    if (this.fast !== null && this.fast.line(t, s, e)) {
      ctx.events++;
      return;
    }
    const pre = this.prefix;
    const body = pre.parse(t, s, e, this.traceCmd);
    if (body < 0) {
      if (this.headerLine(t, s, e, lineNo)) return;
      if (!this.firstBad) {
        this.firstBad = textOf(t, s, Math.min(e, s + 120));
        this.firstBadLine = lineNo;
      }
      ctx.problem('block_text.unparsable_line', 'line is not an ftrace event line', t, s, e, lineNo);
      return;
    }
    const tp = this.names.id(t, pre.evS, pre.evE);
    if (tp === BlockTracepoint.unknown) {
      ctx.problem('block_text.other_tracepoint', 'event is not a block I/O tracepoint (skipped)', t, s, e, lineNo, 'info');
      return;
    }
    const skipped = SKIPPED_TRACEPOINT[tp];
    if (skipped !== undefined) {
      ctx.problem(SKIPPED_COUNTER[tp]!, skipped + ': skipped', t, s, e, lineNo, 'info');
      return;
    }
    if (pre.rawTs) {
      const name = 'block_text.counter_clock_timestamps';
      ctx.stats.count(
        name,
        'info',
        'timestamps without a decimal point (a counter trace clock such as x86-tsc or counter): stored as printed, not nanoseconds',
        ctx.stats.get(name) < 5 ? { file: ctx.file, line: lineNo, text: textOf(t, s, Math.min(e, s + 200)) } : undefined,
      );
    }
    if (this.body(tp, t, body, e)) ctx.events++;
    else ctx.problem('block_text.bad_event_fields', 'block event text does not match the tracepoint format', t, s, e, lineNo);
  }

  /** Parse an event body; trace-cmd overrides it for raw (-R) fields. */
  protected body(tp: number, t: Uint8Array, p: number, e: number): boolean {
    return this.events.add(tp, t, p, e);
  }

  /** Header, comment and marker lines of the ftrace output; true when the line was one. */
  protected headerLine(t: Uint8Array, s: number, e: number, lineNo: number): boolean {
    const ctx = this.ctx;
    let i = s;
    while (i < e && t[i]! === 32) i++;
    if (t[i]! === 35 /* # */) {
      // "# entries-in-buffer/entries-written: 1089/1089   #P:2": written > in buffer = overwritten
      const m = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)/.exec(textOf(t, i, e));
      if (m) {
        const lost = Number(m[2]) - Number(m[1]);
        if (lost > 0)
          ctx.stats.count(
            'block_text.overwritten_events',
            'data_loss',
            'events overwritten in the ring buffer before it was read (trace header entries-written minus entries-in-buffer)',
            { file: ctx.file, line: lineNo, text: textOf(t, i, e) },
            lost,
          );
      }
      return true;
    }
    const line = textOf(t, i, Math.min(e, i + 200));
    // "CPU:1 [LOST 120 EVENTS]" (tracefs), "CPU:1 [120 EVENTS DROPPED]" (trace-cmd)
    const lost = /^CPU:\s*\d+\s*\[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED)\]/.exec(line);
    if (lost) {
      ctx.stats.count(
        'block_text.lost_events',
        'data_loss',
        'events the kernel dropped (ring buffer full) as reported in the trace',
        { file: ctx.file, line: lineNo, text: line },
        Number(lost[1] ?? lost[2]),
      );
      ctx.ignored++;
      return true;
    }
    if (
      /^#{5} CPU \d+ buffer started #{4}/.test(line) ||
      /^cpus=\d+$/.test(line) ||
      /^CPU \d+ is empty$/.test(line) ||
      /^version = \d+/.test(line)
    ) {
      ctx.ignored++;
      return true;
    }
    return false;
  }

  finish(): BlockTextFileSummary {
    const ctx = this.ctx;
    if (ctx.events === 0 && ctx.bad > 0 && ctx.ignored === 0) {
      throw new InputError(
        ctx.file,
        `not ${this.traceCmd ? 'trace-cmd report' : 'tracefs'} text: no line is an event line of the form "<comm>-<pid> [<cpu>] <seconds>.<micros>: <event>: ..." (${ctx.bad} lines tried; first: "${this.firstBad}")`,
        { line: this.firstBadLine },
      );
    }
    return {
      file: ctx.file,
      format: this.traceCmd ? 'trace-cmd' : 'tracefs',
      lines: ctx.lines,
      events: ctx.events,
      bad: ctx.bad,
      ignored: ctx.ignored,
    };
  }
}

/** Read a tracefs `trace` / `trace_pipe` text file into `builder`. */
export function readTracefsText(
  path: string,
  builder: BlockEventsBuilder,
  stats: IngestStats,
  onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  return readTextLines(path, new TracefsTextParser(builder, stats, path), onProgress);
}

/** Parse tracefs text held in memory (tests, notebooks); `file` names it in messages. */
export function parseTracefsText(
  text: string | Uint8Array,
  file: string,
  builder: BlockEventsBuilder,
  stats: IngestStats,
  options?: BlockTextOptions,
): BlockTextFileSummary {
  return parseTextLines(text, file, new TracefsTextParser(builder, stats, file, false, options));
}
