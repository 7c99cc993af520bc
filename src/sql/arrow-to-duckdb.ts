/**
 * Load an Arrow table (flechette, as src/table/arrow-file.ts reads it) into an embedded DuckDB
 * database without a value-by-value conversion: fixed-width columns and validity bitmaps are
 * copied into DuckDB's vectors as bytes (duckdb_vector data is the same little-endian layout as
 * an Arrow values buffer; a DuckDB validity mask is a bitmap of uint64 words whose bit i is row i,
 * as in Arrow), and dictionary-encoded strings are loaded as ENUMs whose keys are the Arrow
 * dictionary keys. DuckDB's embedded build reads no Arrow IPC file without an extension from the
 * network, so this is how the tables reach it.
 *
 * Two ways in. loadArrowTable (iolineage sql): the rows land in a raw table (`iol_raw.<name>`)
 * through an appender; the user sees a view (`<name>`) that turns ENUMs into VARCHAR and unsigned
 * integers into the next wider signed type, so that queries use only types Spark and Trino read.
 * openArrowScan (export): a table function hands the same chunks to the query that reads them,
 * with no table in between; appending into a table was a third of the export's CPU (DuckDB keeps
 * HyperLogLog distinct counts as it appends, and copies each chunk twice). Export reads with only
 * the unsigned integers cast (exportColumns): DuckDB writes an ENUM column to Parquet as a plain
 * UTF8 string column with a dictionary built from the ENUM, about twice as fast as from VARCHAR.
 */
import type { Column, Table } from '@uwdata/flechette';
import { DuckDBDataChunk, DuckDBTableFunction, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { quoteIdent, quoteString } from './sql-quote.js';

export { quoteIdent, quoteString } from './sql-quote.js';

/** Rows per DuckDB data chunk (DuckDB's STANDARD_VECTOR_SIZE). */
const CHUNK_ROWS = 2048;
/** Schema holding the raw loaded tables; views in the main schema present them. */
export const RAW_SCHEMA = 'iol_raw';

/** flechette type ids (Arrow Type enum values). */
const TypeId = { Dictionary: -1, Int: 2, Float: 3, Utf8: 5, Bool: 6, LargeUtf8: 20 } as const;

interface BatchLike {
  length: number;
  nullCount: number;
  values: ArrayLike<number | bigint> & ArrayBufferView;
  validity?: Uint8Array;
  dictionary?: Column<unknown>;
  at(i: number): unknown;
}

/** How one Arrow column is stored in DuckDB and shown in the view. */
interface ColumnPlan {
  name: string;
  /** DuckDB type of the raw column. */
  rawType: string;
  /** SQL expression of the view column (over the raw column). */
  viewExpr: string;
  /** SQL expression of the column as exported (ENUMs kept: they are written as UTF8 strings). */
  exportExpr: string;
  /** How rows are moved: bytes copied, bit-unpacked booleans, dictionary keys, or values one by one. */
  kind: 'bytes' | 'bool' | 'enum' | 'values';
  /** Bytes per value of the raw DuckDB column (bytes, bool, enum). */
  width: number;
  /** enum: the ENUM members; each batch's keys are remapped to these. */
  members?: string[];
}

function batchesOf(column: Column<unknown>): BatchLike[] {
  return column.data as unknown as BatchLike[];
}

const INT_TYPES: Record<string, [string, string]> = {
  // arrow "bits,signed" -> [raw DuckDB type, view expression template]
  '8,true': ['TINYINT', '$'],
  '16,true': ['SMALLINT', '$'],
  '32,true': ['INTEGER', '$'],
  '64,true': ['BIGINT', '$'],
  '8,false': ['UTINYINT', 'CAST($ AS SMALLINT)'],
  '16,false': ['USMALLINT', 'CAST($ AS INTEGER)'],
  '32,false': ['UINTEGER', 'CAST($ AS BIGINT)'],
  '64,false': ['UBIGINT', 'CAST($ AS DECIMAL(20, 0))'],
};

function planColumn(
  name: string,
  type: { typeId: number; bitWidth?: number; signed?: boolean; precision?: number },
  column: Column<unknown>,
  table: string,
): ColumnPlan {
  const q = quoteIdent(name);
  switch (type.typeId) {
    case TypeId.Int: {
      const key = `${type.bitWidth},${type.signed}`;
      const t = INT_TYPES[key];
      if (!t)
        throw new Error(
          `table ${table}, column ${name}: Arrow integer of ${type.bitWidth} bits (signed ${type.signed}) is not one DuckDB stores`,
        );
      const expr = `${t[1].replace('$', q)} AS ${q}`;
      return { name, rawType: t[0], viewExpr: expr, exportExpr: expr, kind: 'bytes', width: type.bitWidth! / 8 };
    }
    case TypeId.Float:
      // precision: 0 half, 1 single, 2 double (Arrow Precision enum)
      if (type.precision === 2) return { name, rawType: 'DOUBLE', viewExpr: q, exportExpr: q, kind: 'bytes', width: 8 };
      if (type.precision === 1) return { name, rawType: 'FLOAT', viewExpr: q, exportExpr: q, kind: 'bytes', width: 4 };
      return { name, rawType: 'FLOAT', viewExpr: q, exportExpr: q, kind: 'values', width: 4 };
    case TypeId.Bool:
      return { name, rawType: 'BOOLEAN', viewExpr: q, exportExpr: q, kind: 'bool', width: 1 };
    case TypeId.Dictionary: {
      const members = dictionaryMembers(column, table, name);
      const width = members.length <= 0xff ? 1 : members.length <= 0xffff ? 2 : 4;
      // an ENUM needs at least one member; an empty column still gets a valid type
      const list = members.length ? members : [''];
      return {
        name,
        rawType: `ENUM(${list.map(quoteString).join(', ')})`,
        viewExpr: `CAST(${q} AS VARCHAR) AS ${q}`,
        exportExpr: q,
        kind: 'enum',
        width,
        members,
      };
    }
    case TypeId.Utf8:
    case TypeId.LargeUtf8:
      return { name, rawType: 'VARCHAR', viewExpr: q, exportExpr: q, kind: 'values', width: 0 };
    default:
      throw new Error(
        `table ${table}, column ${name}: Arrow type id ${type.typeId} is not loaded into DuckDB (expected integers, floats, booleans or strings)`,
      );
  }
}

/** The union of every batch's dictionary, in first-seen order (ENUM members are unique). */
function dictionaryMembers(column: Column<unknown>, table: string, name: string): string[] {
  const members: string[] = [];
  const index = new Map<string, number>();
  const seen = new Set<unknown>();
  for (const b of batchesOf(column)) {
    if (!b.dictionary || seen.has(b.dictionary)) continue;
    seen.add(b.dictionary);
    for (const v of b.dictionary.toArray() as Iterable<unknown>) {
      if (typeof v !== 'string') throw new Error(`table ${table}, column ${name}: dictionary value ${String(v)} is not a string`);
      if (!index.has(v)) {
        index.set(v, members.length);
        members.push(v);
      }
    }
  }
  return members;
}

/** Keys of one batch translated to ENUM member indexes (identity when the batch's dictionary is the members' prefix). */
function enumKeys(b: BatchLike, members: string[], memberIndex: Map<string, number>): ArrayLike<number> {
  const dict = b.dictionary!.toArray() as ArrayLike<string>;
  let identity = true;
  for (let i = 0; i < dict.length; i++)
    if (members[i] !== dict[i]) {
      identity = false;
      break;
    }
  const keys = b.values as ArrayLike<number>;
  if (identity) return keys;
  const map = Int32Array.from({ length: dict.length }, (_, i) => memberIndex.get(dict[i]!)!);
  const out = new Int32Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = map[keys[i]!]!;
  return out;
}

function typedOfWidth(width: number, n: number): Uint8Array | Uint16Array | Uint32Array {
  return width === 1 ? new Uint8Array(n) : width === 2 ? new Uint16Array(n) : new Uint32Array(n);
}

function copyValues(
  vector: duckdb.Vector,
  p: ColumnPlan,
  source: ArrayLike<number | bigint>,
  b: BatchLike,
  start: number,
  n: number,
): void {
  if (p.kind === 'bytes') {
    const v = source as unknown as ArrayBufferView;
    duckdb.copy_data_to_vector(vector, 0, v.buffer as ArrayBuffer, v.byteOffset + start * p.width, n * p.width);
    return;
  }
  if (p.kind === 'bool') {
    const bits = b.values as unknown as Uint8Array;
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = start + i;
      bytes[i] = (bits[k >> 3]! >> (k & 7)) & 1;
    }
    duckdb.copy_data_to_vector(vector, 0, bytes.buffer, 0, n);
    return;
  }
  // enum: keys narrowed (or widened) to the ENUM's physical width; a null row's key (any value
  // in Arrow) becomes 0 so that DuckDB never sees an index outside the ENUM
  const keys = typedOfWidth(p.width, n);
  const src = source as ArrayLike<number>;
  const count = p.members!.length;
  for (let i = 0; i < n; i++) {
    const k = src[start + i]!;
    keys[i] = k >= 0 && k < count ? k : 0;
  }
  duckdb.copy_data_to_vector(vector, 0, keys.buffer, 0, n * p.width);
}

/** A table's columns as DuckDB sees them: how each is stored, and its DuckDB type. */
interface TablePlan {
  plans: ColumnPlan[];
  types: DuckDBType[];
  /** Per column, its Arrow batches. */
  columns: BatchLike[][];
  /** Per enum column, member → ENUM index. */
  memberIndex: (Map<string, number> | undefined)[];
  rows: number;
}

async function planTable(connection: DuckDBConnection, name: string, table: Table): Promise<TablePlan> {
  const fields = table.schema.fields;
  const cols = fields.map((_, i) => table.getChildAt(i) as Column<unknown>);
  const plans = fields.map((f, i) => planColumn(f.name, f.type as never, cols[i]!, name));
  const types = plans.length
    ? (
        await connection.runAndReadAll(
          `SELECT ${plans.map((p) => `CAST(NULL AS ${p.rawType}) AS ${quoteIdent(p.name)}`).join(', ')} LIMIT 0`,
        )
      ).columnTypes()
    : [];
  return {
    plans,
    types,
    columns: cols.map(batchesOf),
    memberIndex: plans.map((p) => (p.members ? new Map(p.members.map((m, k) => [m, k])) : undefined)),
    rows: table.numRows,
  };
}

/**
 * Reads a planned table chunk by chunk (at most CHUNK_ROWS rows, never across an Arrow batch) into
 * DuckDB data chunks: column buffers and validity bitmaps copied as bytes, booleans unpacked,
 * dictionary keys narrowed to their ENUM's width.
 */
class ChunkReader {
  private batch = 0;
  private start = 0;
  /** Per column, the current batch's values in the form their raw column takes. */
  private sources: ArrayLike<number | bigint>[] = [];

  constructor(
    private readonly t: TablePlan,
    /** Plan index of each output column (all columns, or those a scan projects). */
    private readonly projection: readonly number[] = t.plans.map((_, i) => i),
  ) {}

  /** Fill the chunk with the next rows; the number written (0: no rows left). */
  next(chunk: DuckDBDataChunk): number {
    const first = this.t.columns[0];
    if (!first) return 0;
    while (this.batch < first.length && this.start >= first[this.batch]!.length) {
      this.batch++;
      this.start = 0;
    }
    if (this.batch >= first.length) return 0;
    if (this.start === 0) this.sources = [];
    const start = this.start;
    const n = Math.min(CHUNK_ROWS, first[this.batch]!.length - start);
    duckdb.data_chunk_reset(chunk.chunk);
    duckdb.data_chunk_set_size(chunk.chunk, n);
    this.projection.forEach((c, out) => {
      const p = this.t.plans[c]!;
      const b = this.t.columns[c]![this.batch]!;
      if (p.kind === 'values') {
        const values: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) values[i] = b.at(start + i) ?? null;
        chunk.setColumnValues(out, values as never);
        return;
      }
      this.sources[c] ??= p.kind === 'enum' ? enumKeys(b, p.members!, this.t.memberIndex[c]!) : b.values;
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, out);
      copyValues(vector, p, this.sources[c]!, b, start, n);
      if (b.nullCount > 0 && b.validity) {
        // start is a multiple of CHUNK_ROWS, so the batch's bitmap is byte-aligned at it
        duckdb.vector_ensure_validity_writable(vector);
        const v = b.validity;
        duckdb.copy_data_to_vector_validity(vector, 0, v.buffer as ArrayBuffer, v.byteOffset + start / 8, Math.ceil(n / 8));
      }
    });
    duckdb.data_chunk_set_size(chunk.chunk, n);
    this.start += n;
    return n;
  }
}

/** A table loadArrowTable made. */
export interface LoadedTable {
  rows: number;
  /** The raw table, schema-qualified and quoted. */
  raw: string;
  /** Column list to export from `raw` (the view's columns, ENUMs kept as ENUMs). */
  exportColumns: string;
}

/**
 * Create `iol_raw.<name>` holding the table's rows and the view `<name>` over it.
 */
export async function loadArrowTable(connection: DuckDBConnection, name: string, table: Table): Promise<LoadedTable> {
  const t = await planTable(connection, name, table);
  const raw = `${RAW_SCHEMA}.${quoteIdent(name)}`;
  await connection.run(`CREATE SCHEMA IF NOT EXISTS ${RAW_SCHEMA}`);
  await connection.run(`CREATE OR REPLACE TABLE ${raw} (${t.plans.map((p) => `${quoteIdent(p.name)} ${p.rawType}`).join(', ')})`);
  await connection.run(
    `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS SELECT ${t.plans.map((p) => p.viewExpr).join(', ') || '*'} FROM ${raw}`,
  );
  const loaded = { rows: 0, raw, exportColumns: t.plans.map((p) => p.exportExpr).join(', ') || '*' };
  if (t.plans.length === 0 || table.numRows === 0) return loaded;

  const chunk = DuckDBDataChunk.create(t.types);
  const reader = new ChunkReader(t);
  const appender = await connection.createAppender(name, RAW_SCHEMA);
  let rows = 0;
  try {
    for (let n = reader.next(chunk); n > 0; n = reader.next(chunk)) {
      appender.appendDataChunk(chunk);
      rows += n;
    }
  } finally {
    appender.closeSync();
  }
  return { ...loaded, rows };
}

/** Name of the table function that scans Arrow tables registered with openArrowScan. */
const SCAN_FUNCTION = 'iol_arrow_scan';
/** Tables open for scanning, by scan id. */
const scans = new Map<string, TablePlan>();
/** Connections the scan function is registered with. */
const scanConnections = new WeakSet<DuckDBConnection>();
let scanCount = 0;

function scanFunction(): DuckDBTableFunction {
  return DuckDBTableFunction.create({
    name: SCAN_FUNCTION,
    parameterTypes: [VARCHAR],
    supportsProjectionPushdown: true,
    bindFunction: (info) => {
      const id = String(info.getParameter(0));
      const t = scans.get(id);
      if (!t) return info.setError(`${SCAN_FUNCTION}: no open Arrow table "${id}"`);
      t.plans.forEach((p, i) => info.addResultColumn(p.name, t.types[i]!));
      info.setCardinality(t.rows, true);
      info.setBindData(t);
    },
    initFunction: (info) => {
      // one thread: the rows come out in order, and the JavaScript side is one thread anyway
      info.setMaxThreads(1);
      info.setInitData(new ChunkReader(info.bindData as TablePlan, info.getColumnIndexes()));
    },
    mainFunction: (info, output) => {
      try {
        (info.initData as ChunkReader).next(output);
      } catch (e) {
        info.setError(e instanceof Error ? e.message : String(e));
      }
    },
  });
}

/** An Arrow table open for scanning in SQL without copying it into a DuckDB table first. */
export interface ArrowScan {
  /** Table expression for a FROM clause: `iol_arrow_scan('<id>')`. */
  from: string;
  /** Column list to export from `from` (unsigned integers widened, ENUMs kept as ENUMs). */
  exportColumns: string;
  rows: number;
  /** Forget the table (the SQL text in `from` no longer binds). */
  close(): void;
}

/**
 * Open a table for scanning: `SELECT ... FROM <scan.from>` reads the Arrow buffers straight into
 * DuckDB's vectors, chunk by chunk, in row order (a single-threaded scan; the rest of the query
 * runs on DuckDB's threads). Cheaper than loadArrowTable when the rows are read once, as by
 * COPY ... TO: no table storage, statistics or second copy.
 */
export async function openArrowScan(connection: DuckDBConnection, name: string, table: Table): Promise<ArrowScan> {
  if (!scanConnections.has(connection)) {
    connection.registerTableFunction(scanFunction());
    scanConnections.add(connection);
  }
  const t = await planTable(connection, name, table);
  const id = `${name}#${++scanCount}`;
  scans.set(id, t);
  return {
    from: `${SCAN_FUNCTION}(${quoteString(id)})`,
    exportColumns: t.plans.map((p) => p.exportExpr).join(', ') || '*',
    rows: t.rows,
    close: () => scans.delete(id),
  };
}

/** Drop a table loadArrowTable made (its view and its raw rows). */
export async function dropLoadedTable(connection: DuckDBConnection, name: string): Promise<void> {
  await connection.run(`DROP VIEW IF EXISTS ${quoteIdent(name)}`);
  await connection.run(`DROP TABLE IF EXISTS ${RAW_SCHEMA}.${quoteIdent(name)}`);
}
