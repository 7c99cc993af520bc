/**
 * Builds one table of a declared schema (TableSpec) column by column, then assembles a flechette
 * Arrow table whose record batches are the builders' chunks (zero copy for numeric columns).
 */
import {
  Batch, Column, Table, Version, Endianness, batchType, bool, dictionary, field, float64,
  int16, int32, int64, int8, uint16, uint32, uint8, utf8, columnFromArray,
} from '@uwdata/flechette';
import {
  BoolColumnBuilder, Int64ColumnBuilder, NumberColumnBuilder, StringColumnBuilder,
  type AnyColumnBuilder,
} from './column-builders.js';
import type { ColumnSpec, ColumnType, TableSpec } from './table-spec.js';

function arrowType(c: ColumnSpec) {
  const t = c.type;
  switch (t) {
    case 'int8': return int8();
    case 'int16': return int16();
    case 'int32': return int32();
    case 'uint8': return uint8();
    case 'uint16': return uint16();
    case 'uint32': return uint32();
    case 'int64': return int64();
    case 'float64': return float64();
    case 'bool': return bool();
    case 'string': return dictionary(utf8(), c.index === 'int8' ? int8() : c.index === 'int16' ? int16() : int32());
  }
}

function makeBuilder(c: ColumnSpec): AnyColumnBuilder {
  switch (c.type) {
    case 'int8': return new NumberColumnBuilder(Int8Array);
    case 'int16': return new NumberColumnBuilder(Int16Array);
    case 'int32': return new NumberColumnBuilder(Int32Array);
    case 'uint8': return new NumberColumnBuilder(Uint8Array);
    case 'uint16': return new NumberColumnBuilder(Uint16Array);
    case 'uint32': return new NumberColumnBuilder(Uint32Array);
    case 'float64': return new NumberColumnBuilder(Float64Array);
    case 'int64': return new Int64ColumnBuilder();
    case 'bool': return new BoolColumnBuilder();
    case 'string': return new StringColumnBuilder(c.index, c.name);
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
  int64(name: T['columns'][number]['name']): Int64ColumnBuilder { return this.get(name, ['int64']) as Int64ColumnBuilder; }
  number(name: T['columns'][number]['name']): NumberColumnBuilder<Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array> {
    return this.get(name, ['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'float64']) as NumberColumnBuilder<Int32Array>;
  }
  bool(name: T['columns'][number]['name']): BoolColumnBuilder { return this.get(name, ['bool']) as BoolColumnBuilder; }
  string(name: T['columns'][number]['name']): StringColumnBuilder { return this.get(name, ['string']) as StringColumnBuilder; }

  /** Rows so far (of the first column). */
  get length(): number { return this.builders.values().next().value?.length ?? 0; }

  /**
   * Assemble the Arrow table. `metadata` goes into the schema (e.g. clock domain, device,
   * file-system geometry). Throws if the columns have different lengths (a reader bug).
   */
  finish(metadata?: Record<string, string>): Table {
    const n = this.length;
    const columns: Column<unknown>[] = [];
    const fields = [];
    for (const c of this.spec.columns) {
      const b = this.builders.get(c.name)!;
      if (b.length !== n) throw new Error(`table ${this.spec.name}: column ${c.name} has ${b.length} rows, expected ${n}`);
      const type = arrowType(c);
      const { values, validity, nullCounts } = b.finishChunks();
      let dict: Column<unknown> | null = null;
      // the dictionary column must carry the very type object named in the field's Dictionary
      // type: flechette's IPC encoder keys dictionary ids by that object
      if (b instanceof StringColumnBuilder) {
        const dictType = (type as { dictionary: ReturnType<typeof utf8> }).dictionary;
        // an empty dictionary (a column of nulls only) still needs one (empty) dictionary batch:
        // columnFromArray([]) has none, and the IPC writer then emits no dictionary message
        dict = b.dictionary.length
          ? columnFromArray(b.dictionary, dictType) as Column<unknown>
          : new Column([new (batchType(dictType) as unknown as new (o: object) => Batch<unknown>)({
            length: 0, nullCount: 0, type: dictType, validity: EMPTY, offsets: new Int32Array(1), values: EMPTY,
          })]);
      }
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
      fields.push(field(c.name, type, c.nullable ?? false, fieldMetadata(c)));
    }
    const meta = new Map<string, string>([['iolineage.table', this.spec.name]]);
    for (const [k, v] of Object.entries(metadata ?? {})) meta.set(k, v);
    const schema = { version: Version.V5, endianness: Endianness.Little, fields, metadata: meta };
    return new Table(schema as never, columns as never);
  }
}
