/**
 * The time base of a strace log. strace prints wall-clock timestamps (strace(1) "-t", "-tt",
 * "-ttt"): -t/-tt the local time of day (no date: a day passes when it drops at midnight), -ttt
 * seconds since the Unix epoch. ts_ns is kept relative to the first timestamp of the log (a safe
 * integer per row); the row sink adds the base as it hands each chunk over.
 */
import type { IngestStats } from '../../util/ingest-stats.js';
import { UsageError } from '../../util/errors.js';
import { TimeFormat } from './strace-line.js';

const NULL = Number.NaN;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Where the parser is in its input (for the file:line of counted problems). */
export class InputPosition {
  /** Index of the current source (beginSource order). */
  fileIdx = 0;
  fileName = '';
  /** 1-based line number in the current source. */
  lineNo = 0;
}

/** Parse a "YYYY-MM-DD" date to the epoch second of its UTC midnight. */
export function parseAnchorDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(m[3]) || new Date(ms).getUTCMonth() !== Number(m[2]) - 1) {
    throw new UsageError(`--date "${date}": expected a calendar date YYYY-MM-DD (the day the -tt log was recorded)`);
  }
  return ms / 1000;
}

export class StraceClock {
  /** The format of the first timestamp of the log; None until one is seen. */
  timeFormat: TimeFormat = TimeFormat.None;
  /** ts_ns of the time base (epoch ns of the first -ttt second, or of the --date midnight). */
  baseNs = 0n;
  private baseSec = -1;
  private lastDaySec = -1;
  private dayOffset = 0;
  private mixedTimeWarned = false;

  /** `dateSec`: epoch second of the UTC midnight that anchors -t/-tt times (--date). */
  constructor(
    private readonly stats: IngestStats,
    private readonly at: InputPosition,
    readonly dateSec: number | undefined,
  ) {}

  /**
   * A line's timestamp format: the first one sets the base (returns true then); a later other one
   * is counted once.
   */
  check(format: TimeFormat, sec: number): boolean {
    if (this.timeFormat === TimeFormat.None) {
      this.timeFormat = format;
      this.baseSec = sec;
      if (format === TimeFormat.Epoch) this.baseNs = BigInt(sec) * 1_000_000_000n;
      else this.baseNs = this.dateSec !== undefined ? BigInt(this.dateSec) * 1_000_000_000n : 0n;
      if (format === TimeFormat.TimeOfDay) this.baseSec = 0;
      return true;
    }
    if (format !== this.timeFormat && !this.mixedTimeWarned) {
      this.mixedTimeWarned = true;
      this.stats.count(
        'strace_mixed_time_formats',
        'error',
        'the log mixes -tt (time of day) and -ttt (epoch) timestamps; ts_ns of the other format is wrong',
        { file: this.at.fileName, line: this.at.lineNo, text: '' },
      );
    }
    return false;
  }

  /**
   * ts_ns of a line's timestamp, relative to the time base: a safe integer (exact up to 104 days
   * from the first timestamp). NaN when the line has none.
   */
  tsNs(format: TimeFormat, sec: number, frac: number): number {
    if (format === TimeFormat.None) return NULL;
    if (format === TimeFormat.TimeOfDay && this.timeFormat === TimeFormat.TimeOfDay) {
      // midnight: the time of day drops by more than 12 h
      if (this.lastDaySec >= 0 && sec + 43200 < this.lastDaySec) this.dayOffset += 86400;
      this.lastDaySec = sec;
      return (this.dayOffset + sec) * 1e9 + frac;
    }
    const d = sec - this.baseSec;
    // (d + 1.5) * 1e9 + frac - 1.5e9 is d * 1e9 + frac, exact while |d| < 9e6, written so that no
    // operation starts out on small integers: the JIT then compiles float arithmetic from the
    // first line instead of 31-bit integer arithmetic that overflows a second into the trace (a
    // bailout and a recompile of the whole hot path)
    const v = d < 9e6 && d > -9e6 ? (d + 1.5) * 1e9 + frac - 1.5e9 : d * 1e9 + frac;
    if (v > MAX_SAFE || v < -MAX_SAFE) {
      this.stats.count(
        'strace_time_out_of_range',
        'data_loss',
        'timestamp more than 104 days from the first one of the log (ts_ns left null)',
        { file: this.at.fileName, line: this.at.lineNo, text: `${sec}.${frac}` },
      );
      return NULL;
    }
    return v;
  }

  /** The table metadata: the clock and time base, then `more`, then the date of a time-of-day log. */
  metadata(more: Record<string, string>): Record<string, string> {
    const meta: Record<string, string> = {
      clock: 'strace wall clock',
      time_base: this.timeFormat === TimeFormat.Epoch ? 'epoch' : this.timeFormat === TimeFormat.TimeOfDay ? 'time_of_day' : 'none',
      ...more,
    };
    if (this.timeFormat === TimeFormat.TimeOfDay)
      meta.date =
        this.dateSec !== undefined
          ? new Date(this.dateSec * 1000).toISOString().slice(0, 10)
          : 'unknown (ts_ns counts from midnight of the first day)';
    return meta;
  }
}
