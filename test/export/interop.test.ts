/**
 * Interop: DuckDB's row counts and sums over the exported Parquet files (and over the Arrow files
 * themselves) equal those of the Arrow tables; the Rust Parquet reader of the Apache Arrow project
 * (arrow-rs, as parquet-wasm) reads every file back equal to the Arrow tables value by value,
 * schema included; where Python has pyarrow (or pandas with a Parquet
 * engine), it reads every exported file and gives the same counts and sums (skipped, and said so
 * in the test name, where it has not); where Python has pandas, it reads every exported CSV file
 * (the integer columns as pandas' nullable Int64) with the same counts and sums.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column, Table } from '@uwdata/flechette';
import { arrowTablesOf, exportDir } from '../../src/export/export-tables.js';
import { SqlSession } from '../../src/sql/sql-session.js';
import { resultColumns } from '../../src/sql/result-columns.js';
import { analyseBundle, arrowColumnText, scratchDir, valueText } from '../sql/analysed.js';

/** Row count, and per integer column the count of non-null values and their sum, from Arrow. */
function arrowFigures(table: Table): Record<string, string> {
  const figures: Record<string, string> = { rows: String(table.numRows) };
  for (const f of table.schema.fields) {
    if ((f.type as { typeId: number }).typeId !== 2) continue; // Arrow Int
    let sum = 0n;
    let n = 0;
    for (const v of table.getChild(f.name) as Column<unknown>)
      if (v !== null) {
        sum += BigInt(v as number | bigint);
        n++;
      }
    figures[`count(${f.name})`] = String(n);
    figures[`sum(${f.name})`] = String(sum);
  }
  return figures;
}

async function duckFigures(session: SqlSession, from: string, keys: string[]): Promise<Record<string, string>> {
  const exprs = keys.map((k) => (k === 'rows' ? 'count(*)' : k.replace(/\((\w+)\)/, '("$1")')));
  const cols = await resultColumns(await session.query(`SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')} FROM ${from}`));
  return Object.fromEntries(keys.map((k, i) => [k, cols[i]!.values[0] === null ? '0' : String(cols[i]!.values[0])]));
}

const PYTHON_FIGURES = `
import json, numbers, sys
def figures_of(columns, rows):
    fig = {"rows": str(rows)}
    for name, values in columns:
        present = [v for v in values if v is not None and v == v]
        if present and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and type(v).__name__ != "bool_" for v in present):
            fig["count(%s)" % name] = str(len(present))
            fig["sum(%s)" % name] = str(sum(int(v) for v in present))
    return fig
try:
    import pyarrow.parquet as pq
    def read(path):
        t = pq.read_table(path)
        return figures_of([(n, t.column(n).to_pylist()) for n in t.column_names], t.num_rows)
except ImportError:
    import pandas
    def read(path):
        df = pandas.read_parquet(path)
        return figures_of([(n, list(df[n])) for n in df.columns], len(df))
print(json.dumps({name: read(path) for name, path in json.loads(sys.argv[1]).items()}))
`;

/** pandas.read_csv of each file, the named integer columns as nullable Int64 (exact 64-bit, nulls kept). */
const PANDAS_CSV_FIGURES = `
import json, sys
import pandas
out = {}
for name, (path, ints) in json.loads(sys.argv[1]).items():
    df = pandas.read_csv(path, dtype={c: "Int64" for c in ints}, keep_default_na=False, na_values=[""])
    fig = {"rows": str(len(df))}
    for c in ints:
        col = df[c].dropna()
        fig["count(%s)" % c] = str(len(col))
        fig["sum(%s)" % c] = str(sum(int(v) for v in col))
    out[name] = fig
print(json.dumps(out))
`;

/** A Python that imports pandas, or undefined. */
function pandasPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3'])
    if (spawnSync(py, ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0) return py;
  return undefined;
}
const pandasPy = pandasPython();

function pythonReader(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import pyarrow.parquet'], { encoding: 'utf8' });
    if (r.status === 0) return py;
    const p = spawnSync(py, ['-c', 'import pandas; pandas.io.parquet.get_engine("auto")'], { encoding: 'utf8' });
    if (p.status === 0) return py;
  }
  return undefined;
}
const python = pythonReader();

describe('interop: DuckDB, arrow-rs and Python read the same numbers as the Arrow tables', () => {
  const scratch = scratchDir('iol-interop-');
  let out = '';
  let parquetDir = '';
  beforeAll(async () => {
    out = await analyseBundle('m128-direct', scratch.dir);
    parquetDir = join(scratch.dir, 'parquet');
    await exportDir(out, parquetDir, { format: 'parquet', threads: 1 });
    await exportDir(out, join(scratch.dir, 'csv'), { format: 'csv', threads: 1 });
  });
  afterAll(() => scratch.remove());

  it("DuckDB counts and sums over the Parquet files and over the Arrow files equal the Arrow tables'", async () => {
    const session = await SqlSession.open({ threads: 1 });
    try {
      await session.addDir(out);
      for (const t of arrowTablesOf(out)) {
        const expected = arrowFigures(t.read());
        const keys = Object.keys(expected);
        expect(await duckFigures(session, `read_parquet('${join(parquetDir, `${t.name}.parquet`)}')`, keys), `${t.name}.parquet`).toEqual(
          expected,
        );
        expect(await duckFigures(session, `"${t.name}"`, keys), `${t.name}.arrow`).toEqual(expected);
      }
    } finally {
      session.close();
    }
  });

  it('arrow-rs (parquet-wasm) reads every exported file back equal to the Arrow tables, value by value', () => {
    for (const t of arrowTablesOf(out)) {
      const arrow = t.read();
      const rs = tableFromIPC(readParquet(new Uint8Array(readFileSync(join(parquetDir, `${t.name}.parquet`)))).intoIPCStream());
      expect(rs.numRows, t.name).toBe(arrow.numRows);
      expect(
        rs.schema.fields.map((f) => f.name),
        t.name,
      ).toEqual(arrow.schema.fields.map((f) => f.name));
      for (const f of arrow.schema.fields) {
        const col = rs.getChild(f.name)!;
        const got = Array.from({ length: rs.numRows }, (_, i) => valueText(col.get(i)));
        expect(got, `${t.name}.${f.name}`).toEqual(arrowColumnText(arrow, f.name));
      }
    }
  });

  it.skipIf(!python)(
    `pyarrow or pandas reads every exported file with the same counts and sums${python ? '' : ' (skipped: no Python with pyarrow, or pandas with a Parquet engine, on this machine)'}`,
    () => {
      const tables = arrowTablesOf(out);
      const paths = Object.fromEntries(tables.map((t) => [t.name, join(parquetDir, `${t.name}.parquet`)]));
      const r = spawnSync(python!, ['-c', PYTHON_FIGURES, JSON.stringify(paths)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as Record<string, Record<string, string>>;
      for (const t of tables) {
        const expected = arrowFigures(t.read());
        for (const [k, v] of Object.entries(got[t.name]!)) expect(v, `${t.name} ${k}`).toBe(expected[k]);
        expect(got[t.name]!.rows).toBe(expected.rows);
        // pyarrow gives every integer column exactly (pandas without nulls too)
        if (Object.keys(expected).length > 1)
          expect(Object.keys(got[t.name]!).length, `${t.name}: integer columns read`).toBeGreaterThan(1);
      }
    },
  );

  it.skipIf(!pandasPy)(
    `pandas reads every exported CSV file with the same counts and sums${pandasPy ? '' : ' (skipped: no Python with pandas on this machine)'}`,
    () => {
      const tables = arrowTablesOf(out);
      const files: Record<string, [string, string[]]> = {};
      const expected: Record<string, Record<string, string>> = {};
      for (const t of tables) {
        expected[t.name] = arrowFigures(t.read());
        const ints = Object.keys(expected[t.name]!)
          .filter((k) => k.startsWith('sum('))
          .map((k) => k.slice(4, -1));
        files[t.name] = [join(scratch.dir, 'csv', `${t.name}.csv`), ints];
      }
      const r = spawnSync(pandasPy!, ['-c', PANDAS_CSV_FIGURES, JSON.stringify(files)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(expected);
    },
  );
});
