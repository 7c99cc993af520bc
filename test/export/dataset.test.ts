/**
 * Many runs, one dataset: every bundled capture of data/ analysed and exported into one
 * Hive-partitioned dataset; the per-run totals query of docs/sql.md over it gives each run's
 * summary.json figures; the layout, the partition columns inside the files and the NULL
 * partition of host-level rows are what Spark and Trino read.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDataset, NULL_PARTITION, partitionFile } from '../../src/export/dataset.js';
import { OUTPUTS_MANIFEST, readOutputsManifest } from '../../src/io/output-folder.js';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { sqlColumns } from '../../src/notebook/sql.js';
import { UsageError } from '../../src/util/errors.js';
import { analyseBundle, BUNDLES, scratchDir } from '../sql/analysed.js';
import { docQuery } from '../sql/doc-queries.js';
import { readParquetMetadata, readParquetRows } from './parquet-read.js';

describe('a dataset of every bundled capture', () => {
  const scratch = scratchDir('iol-dataset-');
  const dataset = join(scratch.dir, 'dataset');
  const outs = new Map<string, string>();
  let exported: Awaited<ReturnType<typeof exportDataset>>;
  beforeAll(async () => {
    for (const b of BUNDLES) outs.set(b, await analyseBundle(b, scratch.dir));
    exported = await exportDataset(
      [...outs].map(([run, dir]) => ({ dir, host: 'lab-host', run })),
      dataset,
      { format: 'parquet', threads: 1 },
    );
  });
  afterAll(() => scratch.remove());

  it("one query gives per-run totals equal to each run's summary.json", async () => {
    const cols = await sqlColumns(docQuery('per-run-totals'), { dir: dataset, threads: 1 });
    const at = (name: string, i: number) => cols.find((c) => c.name === name)!.values[i];
    expect(cols[0]!.values.length).toBe(BUNDLES.length);
    expect(cols.find((c) => c.name === 'run')!.values).toEqual([...BUNDLES].sort());
    [...BUNDLES].sort().forEach((run, i) => {
      const s = JSON.parse(readFileSync(join(outs.get(run)!, 'summary.json'), 'utf8'));
      expect(at('host', i)).toBe('lab-host');
      expect(Number(at('app_read_bytes', i)), run).toBe(s.layers.app.read_bytes);
      expect(Number(at('app_write_bytes', i)), run).toBe(s.layers.app.write_bytes);
      expect(Number(at('app_ios', i)), run).toBe(s.layers.app.requests);
      expect(Number(at('guest_bytes', i)), run).toBe(s.attribution.guest.total);
      expect(Number(at('host_bytes', i)), run).toBe(s.attribution.host.total);
      expect(s.attribution.guest.total).toBe(s.layers.guest.read_bytes + s.layers.guest.write_bytes + s.layers.guest.other_bytes);
    });
  });

  it('joins lineage with app_io across runs on the partition columns and the id (top files by host bytes)', async () => {
    // expected: every run's lineage rows matched with its app_io rows (per VM) in JavaScript
    const byPath = new Map<string | null, { ios: bigint; hostBytes: bigint }>();
    for (const dir of outs.values()) {
      const paths = new Map<string, unknown>();
      const lineage = readArrowFile(join(dir, 'lineage.arrow'));
      const vms = [...new Set(Array.from(lineage.getChild('vm') as Iterable<unknown>))];
      for (const vm of vms) {
        const file = existsSync(join(dir, `app_io_${vm}.arrow`)) ? `app_io_${vm}.arrow` : 'app_io.arrow';
        const app = readArrowFile(join(dir, file));
        const ids = Array.from(app.getChild('id') as Iterable<unknown>);
        const p = Array.from(app.getChild('path') as Iterable<unknown>);
        ids.forEach((id, i) => paths.set(`${vm}/${id}`, p[i]));
      }
      const vm = Array.from(lineage.getChild('vm') as Iterable<unknown>);
      const appId = Array.from(lineage.getChild('app_id') as Iterable<unknown>);
      const hostBytes = Array.from(lineage.getChild('host_bytes') as Iterable<bigint | null>);
      appId.forEach((id, i) => {
        const key = `${vm[i]}/${id}`;
        if (!paths.has(key)) return;
        const path = (paths.get(key) ?? null) as string | null;
        const acc = byPath.get(path) ?? { ios: 0n, hostBytes: 0n };
        acc.ios += 1n;
        acc.hostBytes += hostBytes[i] ?? 0n;
        byPath.set(path, acc);
      });
    }
    const expected = [...byPath]
      .sort(([pa, a], [pb, b]) =>
        a.hostBytes !== b.hostBytes
          ? b.hostBytes > a.hostBytes
            ? 1
            : -1
          : pa === pb
            ? 0
            : pa === null
              ? 1
              : pb === null
                ? -1
                : pa < pb
                  ? -1
                  : 1,
      )
      .slice(0, 10);
    const cols = await sqlColumns(docQuery('top-files-across-runs'), { dir: dataset, threads: 1 });
    const col = (name: string) => cols.find((c) => c.name === name)!.values;
    expect(col('path')).toEqual(expected.map(([p]) => p));
    expect(col('ios').map((v) => BigInt(v as bigint))).toEqual(expected.map(([, v]) => v.ios));
    expect(col('host_bytes').map((v) => BigInt(v as bigint))).toEqual(expected.map(([, v]) => v.hostBytes));
    // the partition columns are ENUMs of the folder names' values, shown and compared as strings
    const types = await sqlColumns(
      "SELECT any_value(typeof(host)) AS host, any_value(typeof(run)) AS run, min(run) AS first FROM lineage WHERE run > 'm1'",
      {
        dir: dataset,
        threads: 1,
      },
    );
    expect(String(types[0]!.values[0])).toBe("ENUM('lab-host')");
    expect(String(types[1]!.values[0])).toMatch(/^ENUM\('m128-buffered'/);
    expect(types[2]!.values[0]).toBe([...BUNDLES].sort().find((b) => b > 'm1'));
  });

  it('keeps host, vm and run as columns of each file, splits tables by VM, and puts host-level rows in the NULL partition', async () => {
    // two VMs: app_io_vm1 is the table app_io in vm=vm1; lineage is split by its vm column
    const two = outs.get('m96-2vms')!;
    for (const vm of ['vm0', 'vm1']) {
      const rows = await readParquetRows(partitionFile(dataset, 'app_io', 'lab-host', vm, 'm96-2vms', 'parquet'));
      expect(rows.length).toBe(readArrowFile(join(two, `app_io_${vm}.arrow`)).numRows);
      expect(new Set(rows.map((r) => `${r.host}/${r.vm}/${r.run}`))).toEqual(new Set([`lab-host/${vm}/m96-2vms`]));
      const lineage = await readParquetRows(partitionFile(dataset, 'lineage', 'lab-host', vm, 'm96-2vms', 'parquet'));
      const all = readArrowFile(join(two, 'lineage.arrow'));
      expect(lineage.length).toBe(Array.from(all.getChild('vm') as Iterable<unknown>).filter((v) => v === vm).length);
    }
    const host = partitionFile(dataset, 'host_requests', 'lab-host', null, 'm128-buffered', 'parquet');
    expect(host).toContain(`vm=${NULL_PARTITION}`);
    const hostRows = await readParquetRows(host);
    expect(hostRows.every((r) => r.vm === null && r.run === 'm128-buffered')).toBe(true);
    // DuckDB reads the NULL partition as NULL: host requests have no VM
    const byVm = await sqlColumns("SELECT vm, count(*) AS n FROM host_requests WHERE run = 'm128-buffered' GROUP BY vm", {
      dir: dataset,
      threads: 1,
    });
    expect(byVm[0]!.values).toEqual([null]);
    expect(byVm[1]!.values).toEqual([BigInt(readArrowFile(join(outs.get('m128-buffered')!, 'host_requests.arrow')).numRows)]);
    // single-VM run: its per-VM tables are in the lineage's one VM
    expect(existsSync(partitionFile(dataset, 'guest_requests', 'lab-host', 'vm0', 'm512-direct', 'parquet'))).toBe(true);
  });

  it('writes only types Spark and Trino read (no unsigned or DuckDB-only types)', () => {
    for (const table of ['app_io', 'guest_requests', 'lineage', 'attribution', 'guest_fs_map', 'image_map', 'summary']) {
      const vm = table === 'summary' ? null : 'vm0';
      const meta = readParquetMetadata(partitionFile(dataset, table, 'lab-host', vm, 'm128-buffered', 'parquet'));
      for (const s of meta.schema.slice(1)) {
        expect(['INT32', 'INT64', 'DOUBLE', 'BOOLEAN', 'BYTE_ARRAY'], `${table}.${s.name}`).toContain(s.type);
        expect(s.converted_type ?? 'none', `${table}.${s.name}`).not.toMatch(/^UINT/);
      }
    }
  });

  it('is one set: every partition file in the manifest with its size, and a failed export changes nothing', async () => {
    const manifest = readOutputsManifest(dataset);
    const names = exported.files.map((f) => relative(dataset, f.path).split(sep).join('/'));
    expect(Object.keys(manifest.files).sort()).toEqual([...names].sort());
    for (const name of names) {
      expect(manifest.files[name]!.command).toBe('export --dataset');
      expect(statSync(join(dataset, name)).size, name).toBe(manifest.files[name]!.bytes);
    }
    expect(exported.notes).toEqual([]);
    // a run whose lineage table is damaged fails the export: no new partition folder, the manifest as it was
    const damaged = join(scratch.dir, 'damaged');
    mkdirSync(damaged);
    const one = outs.get('m128-direct')!;
    for (const name of readdirSync(one)) if (name.endsWith('.arrow')) writeFileSync(join(damaged, name), readFileSync(join(one, name)));
    const lineage = readFileSync(join(damaged, 'lineage.arrow'));
    writeFileSync(join(damaged, 'lineage.arrow'), lineage.subarray(0, lineage.length >> 1));
    const before = readFileSync(join(dataset, OUTPUTS_MANIFEST));
    await expect(
      exportDataset([{ dir: damaged, host: 'other-host', run: 'r' }], dataset, { format: 'parquet', threads: 1 }),
    ).rejects.toThrow(/lineage\.arrow/);
    expect(readFileSync(join(dataset, OUTPUTS_MANIFEST)).equals(before)).toBe(true);
    expect(readdirSync(join(dataset, 'app_io')).filter((d) => d.includes('other-host'))).toEqual([]);
    expect(existsSync(join(dataset, 'lineage', 'host=other-host'))).toBe(false);
  });

  it('refuses partition values engines would have to unescape, and a run given twice', async () => {
    const one = outs.get('m128-direct')!;
    await expect(exportDataset([{ dir: one, host: 'a/b', run: 'r' }], dataset, { format: 'parquet' })).rejects.toThrow(UsageError);
    await expect(exportDataset([{ dir: one, host: 'h', run: 'x=y' }], dataset, { format: 'parquet' })).rejects.toThrow(/dataset run "x=y"/);
    await expect(
      exportDataset(
        [
          { dir: one, host: 'h', run: 'r' },
          { dir: one, host: 'h', run: 'r' },
        ],
        dataset,
        { format: 'parquet' },
      ),
    ).rejects.toThrow(/given twice/);
  });
});
