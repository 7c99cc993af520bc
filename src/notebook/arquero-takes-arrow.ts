/**
 * arquero's `fromArrow` runs on an apache-arrow Table (it reads `schema.fields` and `getChild`),
 * but its declared `ArrowTable` interface says `getChild` never returns null where apache-arrow says
 * it may, so strict type checks (tslab checks every cell) refuse `aq.fromArrow(table)`. This
 * overload declares what runs: a notebook that imports iolineage may hand any apache-arrow Table to
 * `aq.fromArrow` with no cast.
 */
import type { Table } from 'apache-arrow';
import type { ColumnTable } from 'arquero';

declare module 'arquero' {
  export function fromArrow(
    input: Table,
    options?: { columns?: unknown; useDate?: boolean; useBigInt?: boolean; useDecimalInt?: boolean; useMap?: boolean; useProxy?: boolean },
  ): ColumnTable;
}

export {};
