/**
 * The notebooks' questions of docs/sql.md, run on a real analysis, give the answers that the
 * Arrow tables (summed here in JavaScript) and summary.json give.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Column } from '@uwdata/flechette';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { sqlColumns } from '../../src/notebook/sql.js';
import type { ResultColumn } from '../../src/sql/result-columns.js';
import { analyseBundle, scratchDir } from './analysed.js';
import { docQueries, docQuery } from './doc-queries.js';

function rows(columns: ResultColumn[]): Record<string, unknown>[] {
  return (columns[0]?.values ?? []).map((_, i) => Object.fromEntries(columns.map((c) => [c.name, c.values[i]])));
}

function values(dir: string, table: string, column: string): unknown[] {
  return Array.from(readArrowFile(join(dir, `${table}.arrow`)).getChild(column) as Column<unknown>);
}

describe("docs/sql.md: the notebooks' questions in SQL", () => {
  const scratch = scratchDir('iol-sql-docs-');
  let out = '';
  let summary: any;
  beforeAll(async () => {
    out = await analyseBundle('m128-buffered', scratch.dir);
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  });
  afterAll(() => scratch.remove());

  it('names six queries, each checked below or by the dataset test', () => {
    expect([...docQueries().keys()]).toEqual([
      'bytes-per-cause',
      'amplification-per-operation',
      'top-files-by-host-bytes',
      'requests-per-app-io',
      'per-run-totals',
      'top-files-across-runs',
    ]);
  });

  it('bytes per cause per layer equal summary.json attribution.<layer>.by_cause', async () => {
    const got = rows(await sqlColumns(docQuery('bytes-per-cause'), { dir: out, threads: 1 }));
    for (const layer of ['guest', 'host']) {
      const mine = Object.fromEntries(got.filter((r) => r.layer === layer).map((r) => [r.cause, Number(r.bytes)]));
      expect(mine, layer).toEqual(summary.attribution[layer].by_cause);
    }
    expect(new Set(got.map((r) => r.layer))).toEqual(new Set(['guest', 'host']));
  });

  it('amplification per operation equals summary.json amplification and the lineage sums', async () => {
    const got = rows(await sqlColumns(docQuery('amplification-per-operation'), { dir: out, threads: 1 }));
    expect(got.map((r) => r.op)).toEqual(['read', 'write']);
    const ops = values(out, 'lineage', 'op');
    const appBytes = values(out, 'lineage', 'app_bytes') as bigint[];
    for (const r of got) {
      let sum = 0n;
      ops.forEach((op, i) => {
        if (op === r.op) sum += appBytes[i]!;
      });
      expect(r.app_bytes, `${r.op} app bytes`).toBe(sum);
      expect(r.guest_amplification as number).toBeCloseTo(summary.amplification.guest[r.op as string], 12);
      expect(r.host_amplification as number).toBeCloseTo(summary.amplification.host[r.op as string], 12);
    }
  });

  it('top files by host bytes equal the lineage joined with app_io by hand', async () => {
    const got = rows(await sqlColumns(docQuery('top-files-by-host-bytes'), { dir: out, threads: 1 }));
    const ids = values(out, 'app_io', 'id') as number[];
    const paths = values(out, 'app_io', 'path') as (string | null)[];
    const pathOf = new Map(ids.map((id, i) => [id, paths[i]!]));
    const appIds = values(out, 'lineage', 'app_id') as number[];
    const cols = ['app_bytes', 'guest_bytes', 'host_bytes'].map((c) => values(out, 'lineage', c) as bigint[]);
    const byPath = new Map<string, { ios: bigint; sums: bigint[] }>();
    appIds.forEach((id, i) => {
      const p = pathOf.get(id);
      if (p === null || p === undefined) return;
      const e = byPath.get(p) ?? { ios: 0n, sums: [0n, 0n, 0n] };
      e.ios++;
      cols.forEach((c, k) => {
        e.sums[k]! += c[i]!;
      });
      byPath.set(p, e);
    });
    const expected = [...byPath]
      .sort((a, b) => (b[1].sums[2]! > a[1].sums[2]! ? 1 : b[1].sums[2]! < a[1].sums[2]! ? -1 : a[0] < b[0] ? -1 : 1))
      .slice(0, 10)
      .map(([path, e]) => ({ path, ios: e.ios, app_bytes: e.sums[0], guest_bytes: e.sums[1], host_bytes: e.sums[2] }));
    expect(got).toEqual(expected);
    expect(got.length).toBeGreaterThan(1);
  });

  it('requests per application I/O equal summary.json split_merge', async () => {
    const [r] = rows(await sqlColumns(docQuery('requests-per-app-io'), { dir: out, threads: 1 }));
    expect(Number(r!.ios_reaching_guest)).toBe(summary.split_merge.app_guest.app_ios);
    expect(r!.guest_requests_per_io as number).toBeCloseTo(summary.split_merge.app_guest.split_factor, 12);
    expect(Number(r!.ios_reaching_host)).toBe(summary.split_merge.app_host.app_ios);
    expect(r!.host_requests_per_io as number).toBeCloseTo(summary.split_merge.app_host.split_factor, 12);
    expect(r!.most_guest_requests).toBe(Math.max(...(values(out, 'lineage', 'guest_requests') as number[])));
  });
});
