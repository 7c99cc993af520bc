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

// tables
export { defineTable, type TableSpec, type ColumnSpec, type ColumnType } from './table/table-spec.js';
export { TableBuilder } from './table/table-builder.js';
export { CHUNK_ROWS } from './table/column-builders.js';
export { writeArrowFile, readArrowFile, tableMetadata } from './table/arrow-file.js';
export { IngestStats, type Counter, type Severity } from './ingest/ingest-stats.js';

// notebooks and charts (src/charts: Vega-Lite specs + headless SVG; src/notebook: helpers notebooks use)
export { renderSvg, chartTitle, type ChartSpec } from './charts/render-svg.js';
export { show, showHtml, chartBundle, VEGA_LITE_MIME, type MimeBundle } from './charts/show.js';
