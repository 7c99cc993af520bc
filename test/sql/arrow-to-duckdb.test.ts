/**
 * Arrow tables copied into DuckDB as bytes (src/sql/arrow-to-duckdb.ts) read back equal, value by
 * value: every table of a real analysis, and a made table with several batches, dictionaries
 * that differ from batch to batch, nulls on both sides of the 2048-row chunk edges and every
 * column type the schemas use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Column,
  Table,
  bool,
  dictionary,
  float64,
  int16,
  int32,
  int64,
  int8,
  tableFromArrays,
  uint16,
  uint32,
  uint8,
  utf8,
} from '@uwdata/flechette';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { SqlSession } from '../../src/sql/sql-session.js';
import { resultColumns } from '../../src/sql/result-columns.js';
import { arrowTablesOf } from '../../src/export/export-tables.js';
import { analyseBundle, arrowColumnText, scratchDir, valueText } from './analysed.js';

async function duckColumnsText(session: SqlSession, name: string): Promise<Map<string, string[]>> {
  const cols = await resultColumns(await session.query(`SELECT * FROM "${name}"`));
  return new Map(cols.map((c) => [c.name, c.values.map(valueText)]));
}

function madeBatch(offset: number, words: string[]): Table {
  const n = 5000;
  const nth = <T>(f: (i: number) => T, nullEvery: number) =>
    Array.from({ length: n }, (_, i) => ((i + offset) % nullEvery === 0 ? null : f(i)));
  return tableFromArrays(
    {
      i8: nth((i) => (i % 200) - 100, 7),
      i16: nth((i) => i - 2500, 11),
      i32: nth((i) => i * 1000 - 7, 2047),
      i64: nth((i) => (BigInt(i) << 40n) + 1795708236043896123n + BigInt(offset), 2048),
      u8: nth((i) => i % 256, 13),
      u16: nth((i) => (i * 7) % 65536, 17),
      u32: nth((i) => 4294967295 - i, 19),
      f64: nth((i) => i / 3, 23),
      flag: nth((i) => i % 3 === 0, 2049),
      word: nth((i) => words[i % words.length]!, 2050),
      many: nth((i) => `path/${(i * 31) % 300}`, 29),
    },
    {
      types: {
        i8: int8(),
        i16: int16(),
        i32: int32(),
        i64: int64(),
        u8: uint8(),
        u16: uint16(),
        u32: uint32(),
        f64: float64(),
        flag: bool(),
        word: dictionary(utf8(), int8()),
        many: dictionary(utf8(), int32()),
      },
      useBigInt: true,
    },
  );
}

describe('Arrow tables into DuckDB', () => {
  const scratch = scratchDir('iol-sql-load-');
  let out = '';
  beforeAll(async () => {
    out = await analyseBundle('m128-buffered', scratch.dir);
  });
  afterAll(() => scratch.remove());

  it('gives back every value of every table of a real analysis', async () => {
    const session = await SqlSession.open({ threads: 1 });
    try {
      await session.addDir(out);
      const tables = arrowTablesOf(out);
      expect(tables.length).toBeGreaterThanOrEqual(10);
      for (const t of tables) {
        const arrow = t.read();
        const duck = await duckColumnsText(session, t.name);
        expect([...duck.keys()], t.name).toEqual(arrow.schema.fields.map((f) => f.name));
        for (const f of arrow.schema.fields) expect(duck.get(f.name), `${t.name}.${f.name}`).toEqual(arrowColumnText(arrow, f.name));
      }
    } finally {
      session.close();
    }
  });

  it('copies batches with their own dictionaries, nulls at chunk edges and every column type', async () => {
    const a = madeBatch(0, ['read', 'write', 'open']);
    const b = madeBatch(1, ['sync', "it's", 'read', 'fsync', 'write']);
    const table = new Table(
      a.schema,
      a.children.map((c, i) => new Column([...c.data, ...b.children[i]!.data])),
    );
    expect(table.numRows).toBe(10000);
    const session = await SqlSession.open({ threads: 1 });
    try {
      await session.addArrowTable('made', table);
      const duck = await duckColumnsText(session, 'made');
      for (const f of table.schema.fields) expect(duck.get(f.name), f.name).toEqual(arrowColumnText(table, f.name));
      const types = await resultColumns(
        await session.query(
          "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'made' AND table_schema = 'main'",
        ),
      );
      // the view shows only types Spark and Trino read: no ENUM, no unsigned integers
      expect(types[1]!.values).toEqual([
        'TINYINT',
        'SMALLINT',
        'INTEGER',
        'BIGINT',
        'SMALLINT',
        'INTEGER',
        'BIGINT',
        'DOUBLE',
        'BOOLEAN',
        'VARCHAR',
        'VARCHAR',
      ]);
    } finally {
      session.close();
    }
  });

  it('loads an .arrow table only when a query names it, and names the tables when one is missing', async () => {
    const session = await SqlSession.open({ threads: 1 });
    try {
      await session.addDir(out);
      expect(session.sources.get('lineage')!.loaded).toBe(false);
      const n = await resultColumns(await session.query('SELECT count(*) AS n FROM lineage'));
      expect(n[0]!.values[0]).toBe(BigInt(readArrowFile(`${out}/lineage.arrow`).numRows));
      expect(session.sources.get('lineage')!.loaded).toBe(true);
      expect(session.sources.get('app_io')!.loaded).toBe(false);
      await expect(session.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table[\s\S]*tables: app_io, attribution/);
    } finally {
      session.close();
    }
  });
});
