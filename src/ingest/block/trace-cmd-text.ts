/**
 * Reader of `trace-cmd report` text (trace-cmd 3.x, libtraceevent). Differences from tracefs
 * text (observed with trace-cmd 3.1.6 on Linux 6.18):
 *   - lines of an instance buffer start with `<instance>:`; no latency-flags column unless `-l`,
 *     which prints `<cpu><flags>` without brackets (`mount-21232   0.....   997.822092:`);
 *   - event names are padded (`block_bio_queue:      7,0 RA ...`);
 *   - the ioprio class is printed as a hex number (`0x2,0,4`), not a name: libtraceevent cannot
 *     resolve the kernel's __print_symbolic table for it;
 *   - `-t` prints nanosecond timestamps (9 decimals);
 *   - `-R` prints the raw fields of the event's format file instead of its print format
 *     (trace-cmd-raw-fields.ts).
 * Header lines (`cpus=2`, `version = 6`, `CPU 1 is empty`) and `[N EVENTS DROPPED]` are handled.
 */
import type { IngestStats } from '../../util/ingest-stats.js';
import type { InputStream } from '../../io/input-stream.js';
import type { BlockEventsBuilder } from './block-events-builder.js';
import { parseTextLines, readTextLines, type BlockTextFileSummary, type BlockTextOptions } from './block-text-context.js';
import { RawBlockEventParser } from './trace-cmd-raw-fields.js';
import { TracefsTextParser } from './tracefs-text.js';

/** Parses `trace-cmd report` lines (default, -t, -l, -R, instance prefixes). */
export class TraceCmdTextParser extends TracefsTextParser {
  private readonly raw: RawBlockEventParser;
  constructor(builder: BlockEventsBuilder, stats: IngestStats, file: string, options: BlockTextOptions = {}) {
    super(builder, stats, file, true, options);
    this.raw = new RawBlockEventParser(this.ctx, this.prefix);
  }

  protected override body(tp: number, t: Uint8Array, p: number, e: number): boolean {
    // raw fields start with a lowercase name and '=' (`dev=`, `comm=`, `nr_rq=`); formatted
    // bodies start with a digit (`7,0 ...`) or '[' (plug, unplug)
    const c = t[p]!;
    if (c >= 97 && c <= 122) return this.raw.add(tp, t, p, e);
    return this.events.add(tp, t, p, e);
  }
}

/** Read a `trace-cmd report` text file into `builder`. */
export function readTraceCmdText(
  path: string,
  builder: BlockEventsBuilder,
  stats: IngestStats,
  onProgress?: (input: InputStream) => void,
): Promise<BlockTextFileSummary> {
  return readTextLines(path, new TraceCmdTextParser(builder, stats, path), onProgress);
}

/** Parse `trace-cmd report` text held in memory; `file` names it in messages. */
export function parseTraceCmdText(
  text: string | Uint8Array,
  file: string,
  builder: BlockEventsBuilder,
  stats: IngestStats,
  options?: BlockTextOptions,
): BlockTextFileSummary {
  return parseTextLines(text, file, new TraceCmdTextParser(builder, stats, file, options));
}
