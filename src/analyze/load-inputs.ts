/**
 * Loading the correlation's inputs with the readers of the other stages: block traces (any format
 * of ingest/block-trace-readers) → block_requests, strace → app_io, ext metadata → FsMap.
 */
import type { Table } from '@uwdata/flechette';
import { BlockEventsBuilder } from '../ingest/block/block-events-builder.js';
import { BLOCK_TRACE_READERS, detectBlockTraceFormat } from '../ingest/block-trace-readers.js';
import { StreamedRequestSweep } from '../ingest/block/block-requests.js';
import { requestsTableOf } from '../ingest/block/block-request-tables.js';
import { IngestStats } from '../util/ingest-stats.js';
import { parseStrace } from '../ingest/app/ingest-strace.js';
import { TableBuilder } from '../table/table-builder.js';
import { appIoTable } from '../table/schemas/app-io.js';
import { buildFsMap } from '../fs/ext/fs-map-builder.js';
import type { FsMap } from '../fs/ext/fs-map.js';
import { openFsSource } from '../fs/open-fs-source.js';
import { RemapTally, REMAPS_METADATA } from '../correlate/fs-offset.js';

/**
 * A block trace of one device (any format ingest reads) → its block_requests table. The events
 * are swept into requests chunk by chunk as they are read and not kept (BlockEventsBuilder.streamTo
 * with no scratch file), as ingest sweeps them; the sweep's notes follow the readers' counts in
 * `stats`, where a sweep of the finished table would have put them.
 */
export async function loadBlockRequests(path: string, dev: string | undefined, stats: IngestStats): Promise<Table> {
  const builder = new BlockEventsBuilder(dev ? { dev } : {});
  const sweepStats = new IngestStats();
  const sweep = new StreamedRequestSweep(sweepStats);
  // block_requests keeps no remap event: their offsets (where partitions start) ride in its metadata
  const remaps = new RemapTally();
  builder.streamTo(null, (chunk, rows, firstRow) => {
    remaps.add(chunk, rows);
    sweep.chunk(chunk, rows, firstRow);
  });
  await BLOCK_TRACE_READERS[await detectBlockTraceFormat(path)].read([path], builder, stats);
  builder.finishStream();
  const names = builder.names();
  const rebuilt = sweep.finish(names, {});
  stats.merge(sweepStats);
  const requests = requestsTableOf(rebuilt.rec, rebuilt.names, rebuilt.base, {});
  const offsets = remaps.offsets(names.dev);
  if (offsets.length > 0) {
    const md = new Map(requests.schema.metadata ?? []);
    md.set(REMAPS_METADATA, JSON.stringify(offsets));
    requests.schema.metadata = md;
  }
  return requests;
}

/** strace log(s) → app_io table. */
export async function loadAppIo(paths: string[], date: string | undefined, stats: IngestStats): Promise<Table> {
  const builder = new TableBuilder(appIoTable);
  const r = await parseStrace(paths, builder, stats, date !== undefined ? { date } : {});
  return builder.finish(r.metadata);
}

/**
 * ext2/3/4 metadata → FsMap. `path` is the file system itself (device, image, e2image dump, .gz
 * ok) starting `diskOffset` bytes into the traced disk, or with `partition` a whole-disk image whose
 * partition table gives the offset.
 */
export async function loadFsMap(path: string, opts: { diskOffset?: number; partition?: number }, stats: IngestStats): Promise<FsMap> {
  const fs = await openFsSource(path, opts.partition !== undefined ? { partition: opts.partition } : {});
  try {
    const partitionOffset = opts.partition !== undefined ? fs.partitionOffset : (opts.diskOffset ?? 0);
    const r = buildFsMap(fs.source, { partitionOffset });
    stats.merge(r.stats);
    return r.map;
  } finally {
    fs.source.close();
  }
}
