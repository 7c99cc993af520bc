/**
 * iolineage export: every table of a real analysis as Parquet, read back by an independent
 * reader (hyparquet) equal to the Arrow tables value by value (Int64 exact, nulls kept), with
 * snappy pages, dictionary-encoded strings, row groups of at most ROW_GROUP_ROWS rows and the
 * column docs in the key-value metadata; the built command (worker threads) writes the same
 * bytes; CSV the same values as text; files replaced through a temporary name.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as exportCommand } from '../../src/cli/export.js';
import { arrowTablesOf, exportDir, exportTables, type TableInput } from '../../src/export/export-tables.js';
import { ROW_GROUP_ROWS } from '../../src/export/export-options.js';
import { checkOutputFolder, OUTPUTS_MANIFEST, readOutputsManifest, withOutputFolder } from '../../src/io/output-folder.js';
import { Column, Table } from '@uwdata/flechette';
import { spawnSync } from 'node:child_process';
import { UsageError } from '../../src/util/errors.js';
import { analyseBundle, arrowColumnText, scratchDir, valueText } from '../sql/analysed.js';
import { keyValueMetadata, readParquetMetadata, readParquetRows } from './parquet-read.js';

/** Split one CSV text into rows of fields (RFC 4180 quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  return rows;
}

/** Run a command with its report to stdout kept off the test output. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await f();
  } finally {
    process.stdout.write = write;
  }
}

/** A table whose last column has lost its values: encoding it fails part way. */
function withoutLastValues(table: Table): Table {
  return new Table(table.schema, [
    ...table.children.slice(0, -1),
    new Column(table.children.at(-1)!.data.map((b) => Object.assign(Object.create(Object.getPrototypeOf(b)), b, { values: null }))),
  ]);
}

describe('iolineage export', () => {
  const scratch = scratchDir('iol-export-');
  let out = '';
  beforeAll(async () => {
    out = await analyseBundle('m128-buffered', scratch.dir);
  });
  afterAll(() => scratch.remove());

  it('writes every table as Parquet that an independent reader reads back equal to the Arrow tables', async () => {
    const dest = join(scratch.dir, 'parquet');
    const { files } = await exportDir(out, dest, { format: 'parquet', threads: 1 });
    const tables = arrowTablesOf(out);
    expect(files.map((f) => f.table)).toEqual([...tables.map((t) => t.name), 'summary']);
    for (const t of tables) {
      const arrow = t.read();
      const path = join(dest, `${t.name}.parquet`);
      const rows = await readParquetRows(path);
      expect(rows.length, t.name).toBe(arrow.numRows);
      for (const f of arrow.schema.fields) {
        expect(
          rows.map((r) => valueText(r[f.name])),
          `${t.name}.${f.name}`,
        ).toEqual(arrowColumnText(arrow, f.name));
      }
      const meta = readParquetMetadata(path);
      const kv = keyValueMetadata(meta);
      expect(kv.get('iolineage.table'), t.name).toBe(arrow.schema.metadata?.get('iolineage.table'));
      for (const f of arrow.schema.fields) {
        if (!f.metadata?.size) continue;
        expect(JSON.parse(kv.get(`iolineage.column.${f.name}`) ?? 'null'), `${t.name}.${f.name} metadata`).toEqual(
          Object.fromEntries(f.metadata),
        );
      }
      const codecs = new Set<string>();
      for (const g of meta.row_groups) {
        expect(Number(g.num_rows)).toBeLessThanOrEqual(ROW_GROUP_ROWS);
        for (const c of g.columns) {
          codecs.add(c.meta_data!.codec);
          expect(['SNAPPY', 'UNCOMPRESSED']).toContain(c.meta_data!.codec);
          const leaf = meta.schema.find((s) => s.name === c.meta_data!.path_in_schema[0]);
          if (leaf?.type === 'INT64')
            expect(leaf.converted_type ?? 'INT_64', `${t.name}.${leaf.name} stays a plain 64-bit integer`).toBe('INT_64');
          // DuckDB keeps a dictionary where it pays: every low-cardinality string column of a real table
          const present = rows.map((r) => r[leaf?.name ?? '']).filter((v) => v !== null && v !== undefined);
          const lowCardinality = present.length >= 100 && new Set(present).size <= present.length / 10;
          if (leaf?.converted_type === 'UTF8' && lowCardinality)
            expect(
              c.meta_data!.encodings.some((e) => e.includes('DICTIONARY')),
              `${t.name}.${leaf.name} dictionary-encoded`,
            ).toBe(true);
        }
      }
      // snappy where it pays: the string columns' dictionary pages at least
      if (arrow.numRows >= 100) expect(codecs.has('SNAPPY'), `${t.name} has snappy pages`).toBe(true);
    }
    // the lineage doc of the column is the one docs/tables.md shows
    expect(readFileSync('docs/tables.md', 'utf8')).toContain('Bytes the system call transferred (app_io.bytes_done).');
  });

  it('the built command, which encodes each table on a worker thread, writes the same bytes as this thread', () => {
    const dest = join(scratch.dir, 'parquet-cli');
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'export', out, '-o', dest, '--threads', '2'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const t of arrowTablesOf(out)) {
      const here = readFileSync(join(scratch.dir, 'parquet', `${t.name}.parquet`));
      expect(readFileSync(join(dest, `${t.name}.parquet`)).equals(here), t.name).toBe(true);
    }
    expect(readdirSync(dest).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a damaged Arrow file read by a worker thread is a one-line error naming it, and the export leaves nothing (not even the folder it made)', () => {
    const src = join(scratch.dir, 'damaged');
    mkdirSync(src);
    for (const t of arrowTablesOf(out)) writeFileSync(join(src, `${t.name}.arrow`), readFileSync(join(out, `${t.name}.arrow`)));
    const bytes = readFileSync(join(src, 'lineage.arrow'));
    bytes.fill(0x7f, 0, 6); // the ARROW1 magic
    writeFileSync(join(src, 'lineage.arrow'), bytes);
    const dest = join(scratch.dir, 'damaged-out');
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'export', src, '-o', dest, '--threads', '2'], { encoding: 'utf8' });
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.status, r.stderr).not.toBe(70);
    expect(r.stderr).toContain('lineage.arrow');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // the other tables, written by then, do not take their final names either: the set is all or nothing
    expect(existsSync(dest)).toBe(false);
  });

  it('writes summary.json as key/number/text rows', async () => {
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const rows = await readParquetRows(join(scratch.dir, 'parquet', 'summary.parquet'));
    const byKey = new Map(rows.map((r) => [r.key as string, r]));
    expect(byKey.get('layers.guest.read_bytes')!.number).toBe(summary.layers.guest.read_bytes);
    expect(byKey.get('amplification.host.write')!.number).toBe(summary.amplification.host.write);
    expect(byKey.get('reordering.order')!.text).toBe(summary.reordering.order);
  });

  it('writes CSV whose fields are the Arrow values (empty for null, 64-bit exact)', async () => {
    const dest = join(scratch.dir, 'csv');
    await exportDir(out, dest, { format: 'csv', threads: 1 });
    for (const name of ['lineage', 'app_io']) {
      const arrow = arrowTablesOf(out)
        .find((t) => t.name === name)!
        .read();
      const [header, ...rows] = parseCsv(readFileSync(join(dest, `${name}.csv`), 'utf8'));
      expect(header).toEqual(arrow.schema.fields.map((f) => f.name));
      expect(rows.length).toBe(arrow.numRows);
      arrow.schema.fields.forEach((f, k) => {
        const expected = arrowColumnText(arrow, f.name).map((v) => (v === 'null' ? '' : v));
        expect(
          rows.map((r) => r[k]),
          `${name}.${f.name}`,
        ).toEqual(expected);
      });
    }
  });

  it('writes a file through a temporary name: a symlink at the destination is refused, not written through; a failed write leaves the old file', async () => {
    const dir = join(scratch.dir, 'atomic');
    mkdirSync(dir);
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(dir, 'lineage.parquet'));
    await expect(quietly(() => exportCommand([out, '-o', dir, '--threads', '1']))).rejects.toThrow(/symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(join(dir, 'lineage.parquet')).isSymbolicLink()).toBe(true);
    rmSync(join(dir, 'lineage.parquet'));
    await quietly(() => exportCommand([out, '-o', dir, '--threads', '1']));
    expect(lstatSync(join(dir, 'lineage.parquet')).isFile()).toBe(true);
    const before = readFileSync(join(dir, 'lineage.parquet'));
    // a write that fails half way (a column whose values are gone) leaves the old file
    const lineage = arrowTablesOf(out)
      .find((t) => t.name === 'lineage')!
      .read();
    const input: TableInput = { name: 'lineage', read: () => withoutLastValues(lineage) };
    await expect(
      withOutputFolder(dir, 'export', (folder) => exportTables([input], undefined, folder, { format: 'parquet', threads: 1 })),
    ).rejects.toThrow();
    expect(readFileSync(join(dir, 'lineage.parquet')).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes an export as one set: recorded in the folder manifest, and a failure at any table leaves none of its files', async () => {
    const dir = join(scratch.dir, 'set');
    const { files, notes } = await exportDir(out, dir, { format: 'parquet', threads: 1 });
    expect(notes).toEqual([]);
    const manifest = readOutputsManifest(dir);
    expect(Object.keys(manifest.files).sort()).toEqual(files.map((f) => `${f.table}.parquet`).sort());
    expect(Object.values(manifest.files).every((e) => e.command === 'export')).toBe(true);
    expect(checkOutputFolder(dir, true)).toBeNull();
    // a failure at the second table of a new folder: neither table, no manifest, no folder
    const lineage = arrowTablesOf(out).find((t) => t.name === 'lineage')!;
    const broken: TableInput = { name: 'broken', read: () => withoutLastValues(lineage.read()) };
    const fresh = join(scratch.dir, 'set-failed');
    await expect(
      withOutputFolder(fresh, 'export', (folder) => exportTables([lineage, broken], undefined, folder, { format: 'parquet', threads: 1 })),
    ).rejects.toThrow();
    expect(existsSync(fresh)).toBe(false);
    // ... and in a folder with an earlier export: the earlier set unchanged, manifest and all
    const before = readFileSync(join(dir, OUTPUTS_MANIFEST));
    const lineageBefore = readFileSync(join(dir, 'lineage.parquet'));
    await expect(
      withOutputFolder(dir, 'export', (folder) => exportTables([lineage, broken], undefined, folder, { format: 'parquet', threads: 1 })),
    ).rejects.toThrow();
    expect(readFileSync(join(dir, OUTPUTS_MANIFEST)).equals(before)).toBe(true);
    expect(readFileSync(join(dir, 'lineage.parquet')).equals(lineageBefore)).toBe(true);
    expect(existsSync(join(dir, 'broken.parquet'))).toBe(false);
    expect(checkOutputFolder(dir, true)).toBeNull();
  });

  it('notes Parquet files of an earlier export that this one did not rewrite, and says nothing of the Arrow tables beside them', async () => {
    const dir = join(scratch.dir, 'in-place');
    mkdirSync(dir);
    for (const name of readdirSync(out))
      if (name.endsWith('.arrow') || name === 'summary.json') writeFileSync(join(dir, name), readFileSync(join(out, name)));
    // an export into the analysis folder itself (the default): no note about its Arrow tables
    expect((await exportDir(dir, dir, { format: 'parquet', threads: 1 })).notes).toEqual([]);
    rmSync(join(dir, 'lineage.arrow'));
    const { notes } = await exportDir(dir, dir, { format: 'parquet', threads: 1 });
    expect(notes).toEqual([expect.stringMatching(/lineage\.parquet: left from an earlier run \(iolineage export, \d{4}-/)]);
  });

  it('refuses bad options with usage errors', async () => {
    await expect(exportCommand([out, '--format', 'xlsx'])).rejects.toThrow(/expected parquet or csv/);
    await expect(exportCommand([out, '--compression', 'lz4'])).rejects.toThrow(UsageError);
    await expect(exportCommand([out, '--compression', 'zstd'])).rejects.toThrow(/expected snappy, uncompressed/);
    await expect(exportCommand([out, '--host', 'h'])).rejects.toThrow(/go with --dataset/);
    await expect(exportCommand([out, '--dataset', join(scratch.dir, 'ds'), '--format', 'csv'])).rejects.toThrow(/--dataset writes Parquet/);
    await expect(exportCommand([join(scratch.dir, 'nothing-here')])).rejects.toThrow(/found nothing/);
    expect(existsSync(join(scratch.dir, 'nothing-here'))).toBe(false);
  });
});
