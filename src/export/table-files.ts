/**
 * What Parquet files one table becomes: itself (`iolineage export`), or in a dataset one file per
 * VM of its rows with the partition values host, vm and run as columns (dataset.ts). A plan is
 * plain data, so that a worker thread that reads the table's Arrow file makes the same files as
 * the main thread does from a table in memory.
 */
import { join } from 'node:path';
import { batchType, Column, columnFromArray, dictionary, field, float64, int8, Table, utf8, type Batch } from '@uwdata/flechette';
import { UsageError } from '../util/errors.js';
import { takeRows } from '../table/take-rows.js';
import { summaryRows } from '../sql/summary-rows.js';
import { ROW_GROUP_ROWS, tableKeyValueMetadata } from './export-options.js';
import type { ParquetWriteOptions } from './parquet/parquet-file.js';

/** Hive's name for a NULL partition value. */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
const PARTITION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const PARTITION_DOCS: Record<string, string> = {
  host: 'Host the run was captured and analysed on (dataset partition).',
  vm: 'Guest (VM) the rows belong to; null for host-level rows (dataset partition).',
  run: 'Name of the run: one capture analysed (dataset partition).',
};

export function checkPartitionValue(what: string, value: string): string {
  if (!PARTITION_VALUE.test(value) || value === NULL_PARTITION) {
    throw new UsageError(
      `dataset ${what} "${value}": expected letters, digits, ".", "_" or "-" (starting with a letter or digit), so that every engine reads the partition folder as it is`,
    );
  }
  return value;
}

/** Where one table of one run goes in a dataset. */
export function partitionFile(datasetDir: string, table: string, host: string, vm: string | null, run: string, format: string): string {
  return join(datasetDir, table, `host=${host}`, `vm=${vm ?? NULL_PARTITION}`, `run=${run}`, `${table}.${format}`);
}

/** How one table is written. */
export interface TableFilesPlan {
  /** Table name: the file stem, or the dataset table. */
  table: string;
  /** Plain export: the file to write. */
  path?: string;
  /** Dataset export: where, and the partition values (vm: null = rows of no VM). */
  dataset?: { dir: string; host: string; run: string; vm: string | null };
  compress: boolean;
  rowGroupRows?: number;
}

/** One file to write: its path, table and footer. */
export interface PlannedFile {
  table: string;
  path: string;
  contents: Table;
  options: ParquetWriteOptions;
}

const CREATED_BY = 'iolineage';

/** A string column of n rows that all hold `value` (null: n nulls): one dictionary entry, 1-byte keys. */
export function constantColumn(n: number, value: string | null): Column<string | null> {
  const type = dictionary(utf8(), int8());
  const Ctor = batchType(type);
  const batch = new Ctor({
    length: n,
    nullCount: value === null ? n : 0,
    type,
    validity: value === null ? new Uint8Array(Math.ceil(n / 8)) : null,
    values: new Int8Array(n),
  }) as Batch<string | null> & { setDictionary: (d: Column<string>) => unknown };
  batch.setDictionary(columnFromArray([value ?? ''], utf8()) as Column<string>);
  return new Column([batch], type) as Column<string | null>;
}

/** The table with string columns added, each one value (partition columns). */
function withConstants(table: Table, values: [string, string | null][]): Table {
  const n = table.numRows;
  const fields = [...table.schema.fields];
  const children = [...table.children];
  for (const [name, value] of values) {
    fields.push(field(name, dictionary(utf8(), int8()), true));
    children.push(constantColumn(n, value) as Column<unknown>);
  }
  return new Table({ ...table.schema, fields }, children);
}

const doc = (text: string) => new Map([['doc', text]]);
const SUMMARY_DOCS = {
  key: doc('Dotted path of the value in summary.json (array items by index), e.g. layers.guest.read_bytes.'),
  number: doc('The value when it is a number (booleans as 0/1), as summary.json holds it.'),
  text: doc('The value when it is a string or a boolean.'),
};

/** summary.json's values as a table: key, number, text (sql/summary-rows.ts). */
export function summaryTable(json: unknown): Table {
  const rows = summaryRows(json);
  const schema = {
    version: 5,
    endianness: 0,
    fields: [
      field('key', utf8(), false, SUMMARY_DOCS.key),
      field('number', float64(), true, SUMMARY_DOCS.number),
      field('text', utf8(), true, SUMMARY_DOCS.text),
    ],
    metadata: new Map([['iolineage.table', 'summary']]),
  };
  return new Table(
    schema as Table['schema'],
    [
      columnFromArray(
        rows.map((r) => r.key),
        utf8(),
      ),
      columnFromArray(
        rows.map((r) => r.number),
        float64(),
      ),
      columnFromArray(
        rows.map((r) => r.text),
        utf8(),
      ),
    ] as Column<unknown>[],
  );
}

/**
 * The rows (ascending) of each value of a string column (null: the null rows), values in order,
 * null last. A dictionary column is read through its keys: two passes over typed arrays, no value
 * per row.
 */
export function valueRows(table: Table, name: string): Map<string | null, Int32Array> {
  const batches = (table.getChild(name) as Column<unknown>).data as (Batch<unknown> & { dictionary?: Column<unknown> })[];
  // each row's group: the index of its value in `values` (-1 while unknown)
  const values: (string | null)[] = [];
  const index = new Map<string | null, number>();
  const groupOf = (v: unknown): number => {
    const key = v === null || v === undefined ? null : String(v);
    let g = index.get(key);
    if (g === undefined) {
      g = values.length;
      index.set(key, g);
      values.push(key);
    }
    return g;
  };
  const groups = new Int32Array(table.numRows);
  let row = 0;
  for (const batch of batches) {
    const keys = batch.dictionary ? (batch.values as Int8Array | Int16Array | Int32Array) : null;
    const byKey = keys ? Array.from(batch.dictionary as Iterable<unknown>, groupOf) : [];
    const nullGroup = batch.nullCount > 0 ? groupOf(null) : -1;
    for (let i = 0; i < batch.length; i++, row++) {
      if (nullGroup >= 0 && !batch.isValid(i)) groups[row] = nullGroup;
      else groups[row] = keys ? byKey[keys[i]!]! : groupOf(batch.at(i));
    }
  }
  const counts = new Int32Array(values.length);
  for (let r = 0; r < groups.length; r++) counts[groups[r]!]!++;
  const rows = values.map((_, g) => new Int32Array(counts[g]!));
  const filled = new Int32Array(values.length);
  for (let r = 0; r < groups.length; r++) {
    const g = groups[r]!;
    rows[g]![filled[g]!++] = r;
  }
  const order = values
    .map((_, g) => g)
    .sort((a, b) => {
      const x = values[a] as string | null;
      const y = values[b] as string | null;
      return x === null ? 1 : y === null ? -1 : x < y ? -1 : x > y ? 1 : 0;
    });
  return new Map(order.filter((g) => counts[g]! > 0).map((g) => [values[g] as string | null, rows[g]!]));
}

function partitionMetadata(base: Map<string, string>, host: string, vm: string | null, run: string): Map<string, string> {
  const kv = new Map(base);
  for (const [k, doc] of Object.entries(PARTITION_DOCS)) kv.set(`iolineage.column.${k}`, JSON.stringify({ doc }));
  kv.set('iolineage.partition', `host=${host}/vm=${vm ?? NULL_PARTITION}/run=${run}`);
  return kv;
}

/** The files a plan makes of a table. */
export function planTableFiles(table: Table, plan: TableFilesPlan): PlannedFile[] {
  const options = (kv: Map<string, string>): ParquetWriteOptions => ({
    rowGroupRows: plan.rowGroupRows ?? ROW_GROUP_ROWS,
    compress: plan.compress,
    keyValue: kv,
    createdBy: CREATED_BY,
  });
  const own = tableKeyValueMetadata(table);
  if (!plan.dataset) return [{ table: plan.table, path: plan.path!, contents: table, options: options(own) }];
  const { dir, host, run } = plan.dataset;
  const file = (vm: string | null) => partitionFile(dir, plan.table, host, vm, run, 'parquet');
  if (!table.schema.fields.some((f) => f.name === 'vm')) {
    const vm = plan.dataset.vm;
    const contents = withConstants(table, [
      ['host', host],
      ['vm', vm],
      ['run', run],
    ]);
    return [{ table: plan.table, path: file(vm), contents, options: options(partitionMetadata(own, host, vm, run)) }];
  }
  // a table with a vm column is split by it
  const files: PlannedFile[] = [];
  for (const [vm, rows] of valueRows(table, 'vm')) {
    if (vm !== null) checkPartitionValue('vm', vm);
    const part = rows.length === table.numRows ? table : takeRows(table, rows, plan.table);
    const contents = withConstants(part, [
      ['host', host],
      ['run', run],
    ]);
    files.push({ table: plan.table, path: file(vm), contents, options: options(partitionMetadata(own, host, vm, run)) });
  }
  return files;
}
