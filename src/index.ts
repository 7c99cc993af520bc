/**
 * iolineage public API. Notebooks and other programs import only from here (built: dist/index.js).
 * Grouped by pipeline stage; each group is added by the module that owns it.
 */

// errors and numbers
export { InputError, UsageError, isUserError, formatOffset } from './util/errors.js';
export { toSafeNumber, parseSize, formatBytes } from './util/numbers.js';

// byte streams and lines
export { openInputStream, readInputBytes, detectCompression, type InputStream, type Compression } from './io/input-stream.js';
export { LineSplitter, forEachLineOfText, forEachLineOfStream, type LineHandler } from './io/line-splitter.js';
export { ByteLineFramer, MAX_LINE_BYTES, type ByteLineHandler } from './io/byte-line-framer.js';

// tables
export { defineTable, type TableSpec, type ColumnSpec, type ColumnType } from './table/table-spec.js';
export { TableBuilder } from './table/table-builder.js';
export { CHUNK_ROWS } from './table/column-builders.js';
export { writeArrowFile, readArrowFile, tableMetadata, arrowFileWriter } from './table/arrow-file.js';
export {
  OutputFolder,
  withOutputFolder,
  writeFileAtomically,
  readOutputsManifest,
  checkOutputFolder,
  OUTPUTS_MANIFEST,
  type OutputsManifest,
  type OutputEntry,
} from './io/output-folder.js';
export { IngestStats, type Counter, type Severity } from './util/ingest-stats.js';

// notebooks and charts (src/charts: Vega-Lite specs + headless SVG; src/notebook: helpers notebooks use)
export { renderSvg, chartTitle, type ChartSpec } from './charts/render-svg.js';
export { show, showHtml, chartBundle, VEGA_LITE_MIME, type MimeBundle } from './charts/show.js';
export {
  OP_DOMAIN,
  LAYER_DOMAIN,
  CAUSE_DOMAIN,
  CHART_CONFIG as chartConfig,
  opScale,
  layerScale,
  causeScale,
  scaleOf,
  causeGroup,
  sizeLabel,
} from './charts/chart-style.js';
export { showTable, type ShowTableOptions } from './notebook/show-table.js';
export { groupReordering, type GroupReorderingOptions } from './notebook/group-reordering.js';
export { antijoin, lookup, rank, runningSum, semijoin, type RankOptions, type RunningSumOptions } from './notebook/big-table.js';
export { openCapture, captureDir, type Capture, type OpenCaptureOptions } from './notebook/open-capture.js';
export { readUserTable, toUserTable, type UserTable, type TimeBases, type ClockDomain } from './notebook/user-table.js';
export { captureTimeBases, toLowerClock, toUpperClock, type SummaryClocks, type ClockStarts } from './notebook/capture-timeline.js';
export { readSummaryJson, type Summary, type SummaryClock, type SummaryLayer, type SummaryCapture } from './metrics/summary-json.js';
export { tableInventory, type TableInventoryRow } from './notebook/overview.js';
export { tableSpecs } from './notebook/table-docs.js';
export { captureSetRuns, captureSetDir, workloadThroughput, type CaptureSetRun, type WorkloadThroughput } from './notebook/capture-set.js';
export {
  memoryWhatif,
  memoryWhatifReport,
  tryMemoryWhatif,
  type WhatifRow,
  type WhatifOptions,
  type WhatifAttempt,
  type WhatifReport,
} from './notebook/memory-whatif.js';

// what-if: miss-ratio curves and the VM memory model
export { stackDistances, COLD } from './whatif/stack-distance.js';
export { exactCurve, shardsCurve, maxCurveError } from './whatif/shards.js';
export { curveFromHistogram, distanceHistogram, evenSizes, type MissRatioCurve } from './whatif/miss-ratio-curve.js';
export { appPageAccesses, blockPageAccesses, PAGE_SIZE, type PageAccesses, type AppPageAccesses } from './whatif/page-accesses.js';
export { MemoryModel, type Prediction, type Calibration, type ModelInput, type Measured } from './whatif/memory-model.js';
export { loadWhatifInputs, measuredGuestBytes, type WhatifInputs } from './analyze/whatif-inputs.js';

// disk images: raw + MBR/GPT partitions, qcow2 v2/v3 -> image_map, openDisk, filefrag
export { imageMapTable, IMAGE_EXTENT_STATES, type ImageExtentState } from './table/schemas/image-map.js';
export {
  mapImage,
  buildImageMap,
  describeChain,
  type ImageMapSummary,
  type ImageChainInfo,
  type MapImageOptions,
} from './image/image-map.js';
export { ImageMap, type ImagePiece, type PieceCallback } from './image/image-map-lookup.js';
export { ImageChain, detectImageFormat, type ImageLayer, type OpenChainOptions } from './image/image-chain.js';
export { Qcow2BlockSource } from './image/qcow2-source.js';
export { readQcow2Header, isQcow2Magic, type Qcow2Header } from './image/qcow2-header.js';
export { qcow2MetadataExtents, QCOW2_METADATA_KINDS, type Qcow2MetadataKind, type Qcow2MetadataExtents } from './image/qcow2-metadata.js';
export { readPartitionTable, findPartition, type Partition, type PartitionTable } from './image/partitions.js';
export { openDisk, openDiskAsync, openPartition, type OpenDiskOptions } from './image/open-disk.js';
export { parseFilefrag, readFilefrag, type FilefragResult, type FilefragFile, type FilefragOptions } from './image/filefrag.js';

// binary blktrace, block requests, btt-style metrics
export { readBlktraceBinary, type BlktraceReadOptions, type BlktraceReadResult } from './ingest/block/blktrace-binary.js';
export { writeBlktraceBinary, type BlktraceWriteOptions } from './ingest/block/blktrace-writer.js';
export { buildBlockRequests, buildBlockRequestTables, type BlockRequestTables } from './ingest/block/block-requests.js';
export { blockRequestsTable } from './table/schemas/block-requests.js';
export { blockBiosTable } from './table/schemas/block-bios.js';
export { bttMetrics, BTT_STAGES, type BttDeviceMetrics, type BttStage, type StageStats } from './metrics/btt.js';
export { SeekAccumulator, type SeekStats } from './metrics/seek-distance.js';
export { iostatSeries, type IostatSeries } from './metrics/iostat-series.js';

// fs (ext2/3/4 reader → fs_map, lookups)
export { buildFsMap, type BuildFsMapOptions, type BuildFsMapResult } from './fs/ext/fs-map-builder.js';
export { FsMap, type FsMapColumns, type SectorOwner, type FilePiece } from './fs/ext/fs-map.js';
export { FsPaths } from './fs/ext/fs-paths.js';
export { ExtFileSystem } from './fs/ext/ext-fs.js';
export { parseSuperblock, featureNames, type Superblock } from './fs/ext/superblock.js';
export { type FsGeometry } from './fs/ext/fs-geometry.js';
export { openFsSource, type FsSource, type OpenFsSourceOptions } from './fs/open-fs-source.js';
export {
  openDecompressedSource,
  withDecompressedFile,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type DecompressOptions,
} from './io/decompressed-source.js';
export { fsMapTable, FS_MAP_KINDS, type FsMapKind } from './table/schemas/fs-map.js';
export { fsPathsTable } from './table/schemas/fs-paths.js';

// correlate: cross-layer lineage (app → guest → host links), attribution, clock alignment; metrics: amplification, split/merge, reordering, caches, summary.json
export { analyzeCapture, type AnalyzeInputs, type AnalyzeOutput } from './analyze/analyze-capture.js';
export {
  analyzeLayers,
  type VmInput,
  type HostInput,
  type VmResult,
  type AnalysisResult,
  type AnalysisOptions,
  type ClockHint,
} from './correlate/analysis.js';
export {
  linkLayer,
  Op as LinkOp,
  LinkHow,
  type Segments,
  type UpperTiming,
  type LowerRequests,
  type LinkOptions,
  type LinkPieces,
} from './correlate/layer-link.js';
export { RangeMap } from './correlate/range-map.js';
export { RegionIndex } from './correlate/region-index.js';
export {
  offsetFromMarks,
  offsetFromPairBounds,
  type ClockOffset,
  type ClockMarkPair,
  type ClockSource,
} from './correlate/clock-alignment.js';
export { inferMountPrefix, stripMountPrefix, type MountPrefixResult } from './correlate/mount-prefix.js';
export { appLayerFromTable, blockLayerFromTable } from './correlate/layer-tables.js';
export type { AppLayer, BlockLayer } from './correlate/layers.js';
export { reorderingStats, countInversions, type ReorderingStats } from './metrics/reordering.js';
export { amplification, type Amplification } from './metrics/amplification.js';
export { splitMerge, type SplitMerge } from './metrics/split-merge.js';
export { cacheRatios, type CacheRatios } from './metrics/cache.js';
export { buildSummary } from './metrics/summary.js';
export { linksAppGuestTable, LINK_HOWS } from './table/schemas/links-app-guest.js';
export { linksGuestHostTable } from './table/schemas/links-guest-host.js';
export { lineageTable, LINEAGE_OUTCOMES } from './table/schemas/lineage.js';
export { attributionTable, ATTRIBUTION_CAUSES } from './table/schemas/attribution.js';

// app layer: strace logs -> app_io (open file descriptions tracked for exact offsets)
export {
  ingestStrace,
  parseStrace,
  parseStraceText,
  summarizeAppIo,
  groupStraceInputs,
  type StraceIngestOptions,
  type StraceParseResult,
} from './ingest/app/ingest-strace.js';
export {
  StraceParser,
  parseAnchorDate,
  type AppIoBuilder,
  type AppIoCounts,
  type StraceParserOptions,
} from './ingest/app/strace-parser.js';
export { appIoTable, APP_OPS, AppIoFlag, APP_IO_UNCERTAIN, type AppOp } from './table/schemas/app-io.js';

// block-trace text readers (tracefs, trace-cmd report, blkparse), format detection, block_events builder
export {
  BlockEventsBuilder,
  BlockAction,
  NONE as BLOCK_NONE,
  IOPRIO_CLASS_NAMES,
  type BlockEventsBuilderOptions,
  type BlockEventRow,
} from './ingest/block/block-events-builder.js';
export { RangeInterner, ByteRangeInterner } from './ingest/block/range-interners.js';
export { parseRwbs, rwbsOp, rwbsFlags, rwbsFromCategories, BlockOp, BlockFlag, type BlockOpCode } from './ingest/block/rwbs.js';
export { readTracefsText, parseTracefsText, TracefsTextParser } from './ingest/block/tracefs-text.js';
export { BlockTracepoint } from './ingest/block/block-tracepoints.js';
export type { BlockTextFileSummary, BlockTextOptions } from './ingest/block/block-text-context.js';
export { readTraceCmdText, parseTraceCmdText, TraceCmdTextParser } from './ingest/block/trace-cmd-text.js';
export { readBlkparseText, parseBlkparseText, BlkparseTextParser } from './ingest/block/blkparse-text.js';
export { detectInputFormat, detectFormatOfBytes, INPUT_FORMATS, type InputFormat } from './ingest/detect-format.js';
export { blockEventsTable, BLOCK_ACTIONS, BLOCK_OPS } from './table/schemas/block-events.js';
import './notebook/arquero-takes-arrow.js';

// SQL and Parquet: embedded DuckDB over output folders (sql → Arquero table, sqlArrow → apache-arrow Table), Parquet/CSV export, many runs as one Hive-partitioned dataset
export { sql, sqlArrow, sqlColumns, type SqlOptions } from './notebook/sql.js';
export { SqlSession, type SqlSessionOptions, type TableSource } from './sql/sql-session.js';
export { type ResultColumn, type ResultKind } from './sql/result-columns.js';
export { formatResult, OUTPUT_FORMATS, type OutputFormat } from './sql/format-result.js';
export {
  exportDir,
  exportTables,
  tableInputs,
  arrowTablesOf,
  type ExportOptions,
  type ExportedFile,
  type TableInput,
} from './export/export-tables.js';
export { exportDataset, partitionFile, NULL_PARTITION, type DatasetRun } from './export/dataset.js';
export {
  EXPORT_FORMATS,
  PARQUET_COMPRESSIONS,
  ROW_GROUP_ROWS,
  type ExportFormat,
  type ParquetCompression,
} from './export/export-options.js';
export {
  readManifest,
  validateManifest,
  bundleFiles,
  manifestSchema,
  type CaptureManifest,
  type GuestCapture,
  type HostCapture,
  type ImageFormat,
  type HostCacheMode,
} from './capture/manifest.js';
