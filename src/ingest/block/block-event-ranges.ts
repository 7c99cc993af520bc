/**
 * The value ranges request reconstruction relies on (block-event-batches.ts turns times into
 * float64 ns relative to the first event and sectors into float64, exact below 2^53): times
 * within 2^53 ns (104 days) of each other, sectors and new sectors below 2^53. One rule for the
 * events a reader adds (BlockEventsBuilder refuses the others, and the reader reports them with
 * their line or byte offset) and for a block_events table read from a file (btt FILE.arrow).
 */
import type { Table } from '@uwdata/flechette';
import { InputError } from '../../util/errors.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MAX = 0x7fffffffffffffffn;

/** Times and sectors seen so far, and whether the next event keeps them within the ranges. */
export class EventRanges {
  /** Smallest and largest time taken so far. */
  private low: number | bigint = Infinity;
  private high: number | bigint = -Infinity;

  /**
   * Take an event's time, sector and new sector (-1 or a value past 2^63 for none: the kernel's
   * (sector_t)-1 becomes null in the table). Returns null and widens the time span when they are
   * within the ranges, else why not (and changes nothing).
   */
  take(tsNs: number | bigint, sector: number | bigint, newSector: number | bigint): string | null {
    // numbers first (what every reader gives nearly always); a negative bigint sector only comes
    // from a table (readers give unsigned values, -1 for none)
    if (typeof sector === 'number' ? sector > Number.MAX_SAFE_INTEGER : (sector > MAX_SAFE && sector <= INT64_MAX) || sector < -MAX_SAFE) {
      return `sector ${sector}: expected a sector below 2^53 (or (sector_t)-1), got one no disk has`;
    }
    if (
      typeof newSector === 'number'
        ? newSector > Number.MAX_SAFE_INTEGER
        : (newSector > MAX_SAFE && newSector <= INT64_MAX) || newSector < -MAX_SAFE
    ) {
      return `new sector ${newSector}: expected a sector below 2^53, got one no disk has`;
    }
    const low0 = this.low,
      high0 = this.high;
    const low = tsNs < low0 ? tsNs : low0;
    const high = tsNs > high0 ? tsNs : high0;
    // safe-integer times (the common case) are compared as numbers
    if (typeof low === 'number' && typeof high === 'number') {
      if (high - low > Number.MAX_SAFE_INTEGER) return this.spanTooLong(tsNs);
    } else {
      if (typeof tsNs === 'bigint' && (tsNs > INT64_MAX || tsNs < -INT64_MAX))
        return `time ${tsNs} ns: expected a time that fits a signed 64-bit column`;
      if (BigInt(high) - BigInt(low) > MAX_SAFE) return this.spanTooLong(tsNs);
    }
    // the span is stored only when it widens
    if (low !== low0) this.low = low;
    if (high !== high0) this.high = high;
    return null;
  }

  private spanTooLong(tsNs: number | bigint): string {
    return `time ${tsNs} ns: expected times within 2^53 ns (104 days) of the trace's other events (${this.low} .. ${this.high} ns so far)`;
  }
}

interface Int64Batch {
  length: number;
  nullCount: number;
  validity: Uint8Array | null;
  values: BigInt64Array;
}

function batchesOf(table: Table, name: string): Int64Batch[] {
  return (table.getChild(name)?.data ?? []) as unknown as Int64Batch[];
}

const isValid = (b: Int64Batch, i: number) =>
  !b.nullCount || !b.validity || b.validity.length === 0 || (b.validity[i >> 3]! & (1 << (i & 7))) !== 0;

/** Throws an InputError naming `file` and the first row of a block_events table outside the ranges. */
export function checkBlockEventRanges(table: Table, file: string): void {
  const ts = batchesOf(table, 'ts_ns');
  const sector = batchesOf(table, 'sector');
  const newSector = batchesOf(table, 'new_sector');
  const ranges = new EventRanges();
  let row = 0;
  for (let k = 0; k < ts.length; k++) {
    const t = ts[k]!;
    const s = sector[k];
    const n = newSector[k];
    for (let i = 0; i < t.length; i++, row++) {
      const refused = ranges.take(t.values[i]!, s && isValid(s, i) ? s.values[i]! : -1, n && isValid(n, i) ? n.values[i]! : -1);
      if (refused) throw new InputError(file, `block_events row ${row}: ${refused}`, { what: 'block_events rows' });
    }
  }
}
