/**
 * A table's schema, declared once: every column with its type, one sentence of documentation
 * and its unit or clock domain. The Arrow files carry these as field metadata, and
 * docs/tables.md is generated from them (scripts/gen-table-docs.mjs).
 */

/** Column storage types. Strings are always dictionary-encoded (Arrow Dictionary<Utf8, Int32>). */
export type ColumnType = 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32' | 'int64' | 'float64' | 'bool' | 'string';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** One sentence: what the value is, with its unit. */
  readonly doc: string;
  /** Whether the column can hold nulls. */
  readonly nullable?: boolean;
  /** Unit of the value (ns, bytes, sectors of 512 bytes, ...). */
  readonly unit?: string;
  /** Clock domain of a timestamp column (e.g. "guest trace clock", "host trace clock"). */
  readonly clock?: string;
  /**
   * Key width of a string column's dictionary (default int32). Low-cardinality columns (action
   * letters, op names) use int8 or int16 to keep rows small; overflowing it throws.
   */
  readonly index?: 'int8' | 'int16' | 'int32';
  /** Allowed values of a categorical column. */
  readonly values?: readonly string[];
}

export interface TableSpec {
  /** File stem: the table is written as `<name>.arrow`. */
  readonly name: string;
  /** What one row is, and what the table is for. */
  readonly doc: string;
  readonly columns: readonly ColumnSpec[];
}

/** Declare a table; checks that column names are unique. */
export function defineTable<const T extends TableSpec>(spec: T): T {
  const seen = new Set<string>();
  for (const c of spec.columns) {
    if (seen.has(c.name)) throw new Error(`table ${spec.name}: column ${c.name} declared twice`);
    seen.add(c.name);
  }
  return spec;
}

/** Names of the columns of a table spec, as a union type. */
export type ColumnName<T extends TableSpec> = T['columns'][number]['name'];
