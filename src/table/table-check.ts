/**
 * A table read back from a file is checked against the schema it was written with before any
 * reader looks at it: a file changed or damaged after iolineage wrote it (a column renamed or
 * dropped, a type changed) is an InputError naming the file and the column, not an exception deep
 * inside request reconstruction or the what-if model.
 */
import { Type, type Table } from '@uwdata/flechette';
import { InputError } from '../util/errors.js';
import type { ColumnSpec, TableSpec } from './table-spec.js';
import { appIoTable } from './schemas/app-io.js';
import { attributionTable } from './schemas/attribution.js';
import { blockBiosTable } from './schemas/block-bios.js';
import { blockEventsTable } from './schemas/block-events.js';
import { blockRequestsTable } from './schemas/block-requests.js';
import { fsMapTable } from './schemas/fs-map.js';
import { fsPathsTable } from './schemas/fs-paths.js';
import { imageMapTable } from './schemas/image-map.js';
import { lineageTable } from './schemas/lineage.js';
import { linksAppGuestTable } from './schemas/links-app-guest.js';
import { linksGuestHostTable } from './schemas/links-guest-host.js';

/** The schemas iolineage writes, by the name in a file's "iolineage.table" metadata. */
const SCHEMAS = new Map<string, TableSpec>(
  [
    appIoTable,
    attributionTable,
    blockBiosTable,
    blockEventsTable,
    blockRequestsTable,
    fsMapTable,
    fsPathsTable,
    imageMapTable,
    lineageTable,
    linksAppGuestTable,
    linksGuestHostTable,
  ].map((t) => [t.name, t]),
);

/** Files analyze writes under other names than their schema's (a per-VM suffix "_<vm>" aside). */
const SCHEMA_OF_FILE: Record<string, string> = {
  guest_requests: 'block_requests',
  host_requests: 'block_requests',
  guest_fs_map: 'fs_map',
  host_fs_map: 'fs_map',
};

/** The schema a file's table was written with: from its metadata, else from the file name; undefined when neither names one. */
function schemaOf(table: Table, file: string): TableSpec | undefined {
  const named = table.schema.metadata?.get('iolineage.table');
  if (named !== undefined) return SCHEMAS.get(named);
  const stem = (file.split('/').pop() ?? '').replace(/\.arrow$/, '');
  for (const s of [stem, stem.replace(/_[^_]+$/, '')]) {
    const name = SCHEMA_OF_FILE[s] ?? s;
    if (SCHEMAS.has(name)) return SCHEMAS.get(name);
  }
  return undefined;
}

/** The Arrow type a column of this storage type is written with (table-builder.ts), as text; null when it matches. */
function typeMismatch(
  c: ColumnSpec,
  type: { typeId: number; bitWidth?: number; signed?: boolean; precision?: number; dictionary?: { typeId: number } },
): string | null {
  const int = (bits: number, signed: boolean) => type.typeId === Type.Int && type.bitWidth === bits && type.signed === signed;
  let ok: boolean;
  switch (c.type) {
    case 'int8':
      ok = int(8, true);
      break;
    case 'int16':
      ok = int(16, true);
      break;
    case 'int32':
      ok = int(32, true);
      break;
    case 'uint8':
      ok = int(8, false);
      break;
    case 'uint16':
      ok = int(16, false);
      break;
    case 'uint32':
      ok = int(32, false);
      break;
    case 'int64':
      ok = int(64, true);
      break;
    case 'float64':
      ok = type.typeId === Type.Float && type.precision === 2;
      break;
    case 'bool':
      ok = type.typeId === Type.Bool;
      break;
    case 'string':
      ok = type.typeId === Type.Dictionary && type.dictionary?.typeId === Type.Utf8;
      break;
  }
  if (ok) return null;
  const actual = type.typeId === Type.Int ? `${type.signed ? 'int' : 'uint'}${type.bitWidth}` : `Arrow type id ${type.typeId}`;
  return `column ${c.name}: expected ${c.type === 'string' ? 'a dictionary of utf8 strings' : c.type}, got ${actual}`;
}

/**
 * Check that `table`, read from `file`, holds every column of the schema it names, with the
 * declared type and the table's row count. Tables of no known schema pass unchecked.
 */
export function checkTableSchema(table: Table, file: string): void {
  const spec = schemaOf(table, file);
  if (!spec) return;
  const fail = (what: string) => new InputError(file, `not a readable ${spec.name} table: ${what}`, { what: 'Arrow schema' });
  for (const c of spec.columns) {
    const field = table.schema.fields.find((f) => f.name === c.name);
    if (!field) throw fail(`expected a column ${c.name}, found none`);
    const mismatch = typeMismatch(c, field.type as never);
    if (mismatch) throw fail(mismatch);
    const column = table.getChild(c.name);
    if (!column || column.length !== table.numRows)
      throw fail(`column ${c.name}: expected ${table.numRows} rows, got ${column?.length ?? 0}`);
    if (c.type === 'string') checkDictionaryKeys(column.data as unknown as DictionaryBatch[], (what) => fail(`column ${c.name}: ${what}`));
  }
}

interface DictionaryBatch {
  length: number;
  nullCount: number;
  validity: Uint8Array | null;
  values: ArrayLike<number>;
  dictionary?: { length: number };
}

/** Every key of a dictionary column (not null) indexes its dictionary: a key past it would read as undefined. */
function checkDictionaryKeys(batches: DictionaryBatch[], fail: (what: string) => InputError): void {
  let row = 0;
  for (const b of batches) {
    const size = b.dictionary?.length ?? 0;
    const nulls = b.nullCount > 0 && b.validity !== null && b.validity.length > 0;
    for (let i = 0; i < b.length; i++, row++) {
      if (nulls && (b.validity![i >> 3]! & (1 << (i & 7))) === 0) continue;
      const key = b.values[i]!;
      if (!(key >= 0 && key < size)) throw fail(`row ${row}: dictionary key ${key}, expected 0..${size - 1}`);
    }
  }
}
