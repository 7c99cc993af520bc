import { BlockAction, NONE, type BlockEventsBuilder } from '../../src/ingest/block/block-events-builder.js';

/** Append one block_events row (as apache-arrow/flechette objects give it) to a builder, on device key `dev`. */
export function commitEventRow(b: BlockEventsBuilder, e: Record<string, unknown>, dev: number): void {
  const rk = b.internRwbs(e.rwbs as string);
  const p = b.rwbsOpFlags(rk);
  const r = b.row;
  r.ts = e.ts_ns as bigint;
  r.cpu = e.cpu as number;
  r.pid = (e.pid as number | null) ?? 0;
  r.dev = dev;
  r.action = BlockAction[e.action as keyof typeof BlockAction];
  r.rwbs = rk;
  r.op = p & 7;
  r.flags = p >> 3;
  r.sector = (e.sector as bigint | null) ?? NONE;
  r.nrSectors = e.nr_sectors as number;
  r.error = (e.error as number | null) ?? null;
  r.newSector = (e.new_sector as bigint | null) ?? NONE;
  b.commit();
}
