/**
 * Loading the correlation's inputs with the readers of the other stages: block traces (any format
 * of ingest/block-trace-readers) → block_requests, strace → app_io, ext metadata → FsMap.
 */
import { closeSync, fstatSync } from 'node:fs';
import { tableFromIPC, type Table } from '@uwdata/flechette';
import { BlockEventsBuilder } from '../ingest/block/block-events-builder.js';
import { BLOCK_TRACE_READERS, detectBlockTraceFormat } from '../ingest/block-trace-readers.js';
import { StreamedRequestSweep, type RebuiltRequests } from '../ingest/block/block-requests.js';
import { requestsFileWriter, requestsTableOf } from '../ingest/block/block-request-tables.js';
import { openScratchFile, readWholeFd } from '../table/batch-spill.js';
import { IngestStats } from '../util/ingest-stats.js';
import { parseStrace } from '../ingest/app/ingest-strace.js';
import { TableBuilder } from '../table/table-builder.js';
import { tableBuilderWriter } from '../table/arrow-file.js';
import { appIoTable } from '../table/schemas/app-io.js';
import { buildFsMap } from '../fs/ext/fs-map-builder.js';
import type { FsMap } from '../fs/ext/fs-map.js';
import { openFsSource } from '../fs/open-fs-source.js';
import { RemapTally, REMAPS_METADATA } from '../correlate/fs-offset.js';

/**
 * Scratch files of one input's load (OutputFolder.scratchPath names; each unlinked once open):
 * `pages`, the rows that left memory while the input is read (a block trace's request and bio
 * pages; an strace log's full record batches), and `table`, the loaded table as it is written a
 * record batch at a time, then read back as its bytes.
 */
export interface LoadScratch {
  pages: string;
  table: string;
}

/**
 * A table written to an anonymous scratch file (its name is gone once created), to be read back
 * as Arrow IPC file bytes when its taker wants it: parallel-loads.ts reads one back at a time, so
 * the tables of loads that finish together do not all stand in memory at once.
 */
export interface ScratchTable {
  /** The file's bytes, in one array (the file is closed). */
  read(): Uint8Array;
  /** Close the file without reading it (a load whose table is not taken). */
  close(): void;
}

/** What `write` puts in a scratch file at `path`, kept there for ScratchTable.read. */
function tableThroughScratch(path: string, write: (fd: number) => void): ScratchTable {
  const fd = openScratchFile(path);
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  try {
    write(fd);
  } catch (e) {
    close();
    throw e;
  }
  return {
    read() {
      if (!open) throw new Error(`scratch table ${path}: already read or closed`);
      try {
        return readWholeFd(fd, fstatSync(fd).size, path);
      } finally {
        close();
      }
    },
    close,
  };
}

/**
 * The sweep of a block trace of one device (any format ingest reads): the events are swept into
 * requests chunk by chunk as they are read and not kept (BlockEventsBuilder.streamTo with no
 * scratch file), as ingest sweeps them; the sweep's notes follow the readers' counts in `stats`,
 * where a sweep of the finished table would have put them. Returns the requests and the schema
 * metadata of their table.
 */
async function sweepBlockTrace(
  path: string,
  dev: string | undefined,
  stats: IngestStats,
  pagesPath: string | undefined,
): Promise<{ rebuilt: RebuiltRequests; metadata: Record<string, string> }> {
  const builder = new BlockEventsBuilder(dev ? { dev } : {});
  const sweepStats = new IngestStats();
  const sweep = new StreamedRequestSweep(sweepStats, pagesPath);
  // block_requests keeps no remap event: their offsets (where partitions start) ride in its metadata
  const remaps = new RemapTally();
  builder.streamTo(null, (chunk, rows, firstRow) => {
    remaps.add(chunk, rows);
    sweep.chunk(chunk, rows, firstRow);
  });
  let rebuilt: RebuiltRequests;
  try {
    await BLOCK_TRACE_READERS[await detectBlockTraceFormat(path)].read([path], builder, stats);
    builder.finishStream();
    rebuilt = sweep.finish(builder.names(), {});
  } catch (e) {
    sweep.close();
    throw e;
  }
  stats.merge(sweepStats);
  const metadata = rebuilt.requestsMetadata;
  const offsets = remaps.offsets(rebuilt.names.dev);
  if (offsets.length > 0) metadata[REMAPS_METADATA] = JSON.stringify(offsets);
  return { rebuilt, metadata };
}

/**
 * A block trace of one device → its block_requests table in a scratch file (Arrow IPC file bytes,
 * written a record batch at a time): with the sweep's rows paged out to the other scratch file,
 * the requests are not in memory until the table is read back.
 */
export async function loadBlockRequestsScratch(
  path: string,
  dev: string | undefined,
  stats: IngestStats,
  scratch: LoadScratch,
): Promise<ScratchTable> {
  const { rebuilt, metadata } = await sweepBlockTrace(path, dev, stats, scratch.pages);
  try {
    return tableThroughScratch(scratch.table, requestsFileWriter(rebuilt.rec, rebuilt.names, rebuilt.base, metadata));
  } finally {
    rebuilt.rec.close();
  }
}

/** The table of a ScratchTable (read back, the file closed). */
function tableOfScratch(s: ScratchTable): Table {
  return tableFromIPC(s.read(), { useBigInt: true });
}

/** A block trace of one device → its block_requests table (with `scratch`, by way of loadBlockRequestsScratch). */
export async function loadBlockRequests(path: string, dev: string | undefined, stats: IngestStats, scratch?: LoadScratch): Promise<Table> {
  if (scratch) return tableOfScratch(await loadBlockRequestsScratch(path, dev, stats, scratch));
  const { rebuilt, metadata } = await sweepBlockTrace(path, dev, stats, undefined);
  const requests = requestsTableOf(rebuilt.rec, rebuilt.names, rebuilt.base, {});
  requests.schema.metadata = new Map([...(requests.schema.metadata ?? []), ...Object.entries(metadata)]);
  return requests;
}

/**
 * strace log(s) → app_io in a scratch file: full record batches wait in one scratch file while the
 * logs are read (as ingest does), then the table is written a batch at a time into the other.
 */
export async function loadAppIoScratch(
  paths: string[],
  date: string | undefined,
  stats: IngestStats,
  scratch: LoadScratch,
): Promise<ScratchTable> {
  const builder = new TableBuilder(appIoTable);
  builder.spillTo(scratch.pages);
  try {
    const r = await parseStrace(paths, builder, stats, date !== undefined ? { date } : {});
    return tableThroughScratch(scratch.table, tableBuilderWriter(builder, r.metadata));
  } finally {
    builder.close();
  }
}

/** strace log(s) → app_io table (with `scratch`, by way of loadAppIoScratch). */
export async function loadAppIo(paths: string[], date: string | undefined, stats: IngestStats, scratch?: LoadScratch): Promise<Table> {
  if (scratch) return tableOfScratch(await loadAppIoScratch(paths, date, stats, scratch));
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
