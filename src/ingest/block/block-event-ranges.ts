/**
 * The value ranges request reconstruction relies on, checked on a block_events table read from a
 * file (btt FILE.arrow): the rule BlockEventsBuilder applies to every event it takes (its
 * `refused`), for a table that may have been changed since it was written. Times must lie within
 * 2^53 ns of each other and sectors below 2^53 (they become float64 times relative to the first
 * event and float64 sectors).
 */
import type { Table } from '@uwdata/flechette';
import { InputError } from '../../util/errors.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

interface Int64Batch { length: number; nullCount: number; validity: Uint8Array | null; values: BigInt64Array }

function batchesOf(table: Table, name: string): Int64Batch[] {
  return (table.getChild(name)?.data ?? []) as unknown as Int64Batch[];
}

const isValid = (b: Int64Batch, i: number) => !b.nullCount || !b.validity || b.validity.length === 0 || (b.validity[i >> 3]! & (1 << (i & 7))) !== 0;

/** Throws an InputError naming `file` and the first row whose time or sector request reconstruction cannot hold exactly. */
export function checkBlockEventRanges(table: Table, file: string): void {
  let low: bigint | undefined;
  let high: bigint | undefined;
  let row = 0;
  for (const b of batchesOf(table, 'ts_ns')) {
    for (let i = 0; i < b.length; i++, row++) {
      const t = b.values[i]!;
      if (low === undefined || t < low) low = t;
      if (high === undefined || t > high) high = t;
      if (high - low > MAX_SAFE) throw new InputError(file, `block_events row ${row}: time ${t} ns: expected times within 2^53 ns (104 days) of the table's other events (${low} .. ${high} ns)`, { what: 'block_events rows' });
    }
  }
  for (const name of ['sector', 'new_sector']) {
    row = 0;
    for (const b of batchesOf(table, name)) {
      for (let i = 0; i < b.length; i++, row++) {
        const v = b.values[i]!;
        if ((v > MAX_SAFE || v < -MAX_SAFE) && isValid(b, i)) throw new InputError(file, `block_events row ${row}: ${name} ${v}: expected a sector below 2^53`, { what: 'block_events rows' });
      }
    }
  }
}
