/**
 * Builds one table of a declared schema (TableSpec) column by column, then assembles a flechette
 * Arrow table whose record batches are the builders' chunks (zero copy for numeric columns).
 */
import {
  Batch,
  Column,
  Table,
  Version,
  Endianness,
  batchType,
  bool,
  dictionary,
  field,
  float64,
  int16,
  int32,
  int64,
  int8,
  uint16,
  uint32,
  uint8,
  utf8,
  columnFromArray,
} from '@uwdata/flechette';
import {
  BoolColumnBuilder,
  Int64ColumnBuilder,
  NumberColumnBuilder,
  StringColumnBuilder,
  type AnyColumnBuilder,
} from './column-builders.js';
import type { ColumnSpec, ColumnType, TableSpec } from './table-spec.js';
import { BatchSpill } from './batch-spill.js';

function arrowType(c: ColumnSpec) {
  const t = c.type;
  switch (t) {
    case 'int8':
      return int8();
    case 'int16':
      return int16();
    case 'int32':
      return int32();
    case 'uint8':
      return uint8();
    case 'uint16':
      return uint16();
    case 'uint32':
      return uint32();
    case 'int64':
      return int64();
    case 'float64':
      return float64();
    case 'bool':
      return bool();
    case 'string':
      return dictionary(utf8(), c.index === 'int8' ? int8() : c.index === 'int16' ? int16() : int32());
  }
}

function makeBuilder(c: ColumnSpec): AnyColumnBuilder {
  switch (c.type) {
    case 'int8':
      return new NumberColumnBuilder(Int8Array);
    case 'int16':
      return new NumberColumnBuilder(Int16Array);
    case 'int32':
      return new NumberColumnBuilder(Int32Array);
    case 'uint8':
      return new NumberColumnBuilder(Uint8Array);
    case 'uint16':
      return new NumberColumnBuilder(Uint16Array);
    case 'uint32':
      return new NumberColumnBuilder(Uint32Array);
    case 'float64':
      return new NumberColumnBuilder(Float64Array);
    case 'int64':
      return new Int64ColumnBuilder();
    case 'bool':
      return new BoolColumnBuilder();
    case 'string':
      return new StringColumnBuilder(c.index, c.name);
  }
}

const EMPTY = new Uint8Array(0);

function packBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array((bytes.length + 7) >> 3);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** Field metadata written into the Arrow schema: the column's doc, unit and clock. */
function fieldMetadata(c: ColumnSpec): Map<string, string> {
  const m = new Map<string, string>([['doc', c.doc]]);
  if (c.unit) m.set('unit', c.unit);
  if (c.clock) m.set('clock', c.clock);
  return m;
}

export class TableBuilder<T extends TableSpec = TableSpec> {
  private readonly builders = new Map<string, AnyColumnBuilder>();
  constructor(readonly spec: T) {
    for (const c of spec.columns) this.builders.set(c.name, makeBuilder(c));
  }

  private get(name: string, types: readonly ColumnType[]): AnyColumnBuilder {
    const spec = this.spec.columns.find((c) => c.name === name);
    if (!spec) throw new Error(`table ${this.spec.name} has no column ${name}`);
    if (!types.includes(spec.type)) throw new Error(`table ${this.spec.name}: column ${name} is ${spec.type}, not ${types.join('|')}`);
    return this.builders.get(name)!;
  }
  int64(name: T['columns'][number]['name']): Int64ColumnBuilder {
    return this.get(name, ['int64']) as Int64ColumnBuilder;
  }
  number(
    name: T['columns'][number]['name'],
  ): NumberColumnBuilder<Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array> {
    return this.get(name, ['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'float64']) as NumberColumnBuilder<Int32Array>;
  }
  bool(name: T['columns'][number]['name']): BoolColumnBuilder {
    return this.get(name, ['bool']) as BoolColumnBuilder;
  }
  string(name: T['columns'][number]['name']): StringColumnBuilder {
    return this.get(name, ['string']) as StringColumnBuilder;
  }

  /** Rows so far (of the first column). */
  get length(): number {
    return this.builders.values().next().value?.length ?? 0;
  }

  private spill: BatchSpill | null = null;
  private spilledBatches = 0;

  /**
   * Keep full record batches in a scratch file at `path` (BatchSpill) instead of memory: a
   * builder fed in lock-step (every column gains a full chunk before spillFullBatches) then holds
   * one batch in memory, and is written with writeTableBuilder. finish() refuses it.
   */
  spillTo(path: string): void {
    if (this.spill) throw new Error(`table ${this.spec.name}: already spilling to ${this.spill.path}`);
    this.spill = new BatchSpill(path);
  }

  /** Move the full batches that every column has completed to the scratch file (no-op without spillTo). */
  spillFullBatches(): void {
    if (!this.spill) return;
    let full = Infinity;
    for (const b of this.builders.values()) full = Math.min(full, b.chunks.length);
    for (; this.spilledBatches < full; this.spilledBatches++) {
      for (const b of this.builders.values()) b.spillChunk(this.spilledBatches, this.spill);
    }
  }

  /** Whether full batches go to a scratch file (spillTo). */
  get spilling(): boolean {
    return this.spill !== null;
  }

  /** Bytes in the scratch file (0 without spillTo). */
  get spilledBytes(): number {
    return this.spill?.size ?? 0;
  }

  /** Release the scratch file. */
  close(): void {
    this.spill?.close();
    this.spill = null;
  }

  /** The Arrow pieces of the table: the schema, and per column its builder, Arrow type and dictionary (string columns). */
  private parts(metadata: Record<string, string> | undefined) {
    const n = this.length;
    const fields = [];
    const columns: { spec: ColumnSpec; builder: AnyColumnBuilder; type: ReturnType<typeof arrowType>; dict: Column<unknown> | null }[] = [];
    for (const c of this.spec.columns) {
      const b = this.builders.get(c.name)!;
      if (b.length !== n) throw new Error(`table ${this.spec.name}: column ${c.name} has ${b.length} rows, expected ${n}`);
      const type = arrowType(c);
      let dict: Column<unknown> | null = null;
      // the dictionary column must carry the very type object named in the field's Dictionary
      // type: flechette's IPC encoder keys dictionary ids by that object
      if (b instanceof StringColumnBuilder) {
        const dictType = (type as { dictionary: ReturnType<typeof utf8> }).dictionary;
        // an empty dictionary (a column of nulls only) still needs one (empty) dictionary batch:
        // columnFromArray([]) has none, and the IPC writer then emits no dictionary message
        dict = b.dictionary.length
          ? (columnFromArray(b.dictionary, dictType) as Column<unknown>)
          : new Column([
              new (batchType(dictType) as unknown as new (o: object) => Batch<unknown>)({
                length: 0,
                nullCount: 0,
                type: dictType,
                validity: EMPTY,
                offsets: new Int32Array(1),
                values: EMPTY,
              }),
            ]);
      }
      columns.push({ spec: c, builder: b, type, dict });
      fields.push(field(c.name, type, c.nullable ?? false, fieldMetadata(c)));
    }
    const meta = new Map<string, string>([['iolineage.table', this.spec.name]]);
    for (const [k, v] of Object.entries(metadata ?? {})) meta.set(k, v);
    const schema = { version: Version.V5, endianness: Endianness.Little, fields, metadata: meta };
    return { schema, columns };
  }

  /**
   * Assemble the Arrow table. `metadata` goes into the schema (e.g. clock domain, device,
   * file-system geometry). Throws if the columns have different lengths (a reader bug).
   */
  finish(metadata?: Record<string, string>): Table {
    const { schema, columns: cols } = this.parts(metadata);
    const columns: Column<unknown>[] = [];
    for (const { spec: c, builder: b, type, dict } of cols) {
      const { values, validity, nullCounts } = b.finishChunks();
      const BatchClass = batchType(type, { useBigInt: true }) as unknown as new (o: object) => Batch<unknown>;
      const batches = values.map((v, k) => {
        const batch = new BatchClass({
          length: v.length,
          nullCount: nullCounts[k]!,
          type,
          validity: validity[k] ?? EMPTY,
          values: c.type === 'bool' ? packBits(v as Uint8Array) : v,
        });
        if (dict) (batch as unknown as { setDictionary(d: Column<unknown>): void }).setDictionary(dict);
        return batch;
      });
      columns.push(new Column(batches));
    }
    return new Table(schema as never, columns as never);
  }

  /**
   * What an Arrow IPC encoder needs to write this table one record batch at a time, in the shape
   * flechette's encoder takes (schema with dictionary ids; dictionary and record batches as field
   * nodes, buffer regions and buffers; Arrow columnar format, "Buffer alignment and padding"): the
   * record batches come from a generator that reads spilled chunks back one batch at a time, so
   * only one batch is in memory while the file is written.
   */
  ipcParts(metadata?: Record<string, string>): { schema: object; dictionaries: IpcDictionaryBatch[]; records: Iterable<IpcRecordBatch> } {
    const { schema, columns } = this.parts(metadata);
    // dictionary ids as flechette's tableToIPC assigns them: in column order, from 0
    const dicts: IpcDictionaryBatch[] = [];
    let id = 0;
    for (const { type, dict } of columns) {
      if (!dict) continue;
      (type as { id: number }).id = id;
      dict.data.forEach((batch, k) => {
        const b = batch as unknown as { length: number; nullCount: number; validity?: Uint8Array; offsets: Int32Array; values: Uint8Array };
        dicts.push({ id, isDelta: k > 0, data: assembleBatch([[b.length, b.nullCount, [b.validity ?? EMPTY, b.offsets, b.values]]]) });
      });
      id++;
    }
    const batchCount = columns[0]?.builder.chunkCount ?? 0;
    function* records(): Generator<IpcRecordBatch> {
      for (let k = 0; k < batchCount; k++) {
        const nodes: [number, number, ArrayBufferView[]][] = [];
        for (const { spec: c, builder: b } of columns) {
          const v = b.chunkView(k);
          nodes.push([
            v.values.length,
            v.nullCount,
            [v.validity ?? EMPTY, c.type === 'bool' ? packBits(v.values as Uint8Array) : v.values],
          ]);
        }
        yield assembleBatch(nodes);
      }
    }
    return { schema, dictionaries: dicts, records: records() };
  }
}

/** A record batch body as flechette's IPC encoder takes it. */
export interface IpcRecordBatch {
  byteLength: number;
  nodes: { length: number; nullCount: number }[];
  regions: { offset: number; length: number }[];
  variadic: number[];
  buffers: Uint8Array[];
}
export interface IpcDictionaryBatch {
  id: number;
  isDelta: boolean;
  data: IpcRecordBatch;
}

/** Field nodes and buffers of flat columns ([length, nullCount, buffers] each) as one batch body; each buffer padded to 8 bytes. */
export function assembleBatch(columns: [number, number, ArrayBufferView[]][]): IpcRecordBatch {
  let byteLength = 0;
  const nodes = [];
  const regions = [];
  const buffers = [];
  for (const [length, nullCount, bufs] of columns) {
    nodes.push({ length, nullCount });
    for (const b of bufs) {
      const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      regions.push({ offset: byteLength, length: bytes.byteLength });
      buffers.push(bytes);
      byteLength += (bytes.byteLength + 7) & ~7;
    }
  }
  return { byteLength, nodes, regions, variadic: [], buffers };
}
