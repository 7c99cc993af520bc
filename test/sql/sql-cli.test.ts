/**
 * iolineage sql (aligned table, CSV, JSON with exact 64-bit integers, --tables, errors) and the
 * notebook entry points sql (Arquero) and sqlArrow (apache-arrow).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as aq from 'arquero';
import type { Column } from '@uwdata/flechette';
import { run as sqlCommand } from '../../src/cli/sql.js';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { sql, sqlArrow } from '../../src/notebook/sql.js';
import { UsageError } from '../../src/util/errors.js';
import { analyseBundle, scratchDir } from './analysed.js';

async function captured(argv: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => {
    chunks.push(String(s));
    return true;
  }) as typeof process.stdout.write;
  try {
    expect(await sqlCommand(argv)).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

describe('iolineage sql', () => {
  const scratch = scratchDir('iol-sql-cli-');
  let out = '';
  beforeAll(async () => {
    out = await analyseBundle('m128-direct', scratch.dir);
  });
  afterAll(() => scratch.remove());

  it('prints an aligned table with numbers on the right', async () => {
    const text = await captured([
      out,
      "SELECT op, count(*) AS ios FROM lineage WHERE op IN ('read', 'write') GROUP BY op ORDER BY op",
      '--threads',
      '1',
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^op\s+ios$/);
    expect(lines[1]).toMatch(/^-+ +-+$/);
    expect(lines[2]).toMatch(/^read\s+\d+$/);
    expect(lines[2]!.length).toBe(lines[3]!.length);
    expect(lines.at(-1)).toBe('(2 rows)');
  });

  it('prints 64-bit integers exactly in CSV and JSON', async () => {
    const lineage = readArrowFile(join(out, 'lineage.arrow'));
    const starts = Array.from(lineage.getChild('app_start_ns') as Column<bigint>)
      .slice(0, 5)
      .map(String);
    expect(BigInt(starts[0]!) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    const csv = await captured([
      out,
      'SELECT app_id, app_start_ns, guest_first_ns FROM lineage ORDER BY app_id LIMIT 5',
      '--format',
      'csv',
    ]);
    const csvLines = csv.trimEnd().split('\n');
    expect(csvLines[0]).toBe('app_id,app_start_ns,guest_first_ns');
    expect(csvLines.slice(1).map((l) => l.split(',')[1])).toEqual(starts);
    const json = await captured([out, 'SELECT app_id, app_start_ns FROM lineage ORDER BY app_id LIMIT 5', '--format', 'json']);
    expect([...json.matchAll(/"app_start_ns":(\d+)/g)].map((m) => m[1])).toEqual(starts);
    expect(JSON.parse(json)).toHaveLength(5);
  });

  it('lists every table with its columns, summary.json included', async () => {
    const text = await captured([out, '--tables', '--max-rows', '50']);
    for (const t of ['app_io', 'attribution', 'guest_requests', 'host_requests', 'lineage', 'links_app_guest', 'summary'])
      expect(text).toMatch(new RegExp(`^${t} `, 'm'));
    expect(text).toMatch(/^summary\s+key VARCHAR, number DOUBLE, text VARCHAR$/m);
  });

  it('refuses a missing query, a bad format and a folder without tables', async () => {
    await expect(sqlCommand([out])).rejects.toThrow(/expected OUT folder\(s\) and a query/);
    await expect(sqlCommand([out, 'SELECT 1', '--format', 'xml'])).rejects.toThrow(UsageError);
    await expect(sqlCommand([scratch.dir, 'SELECT 1'])).rejects.toThrow(/no tables/);
    await expect(sqlCommand([out, 'SELEKT 1'])).rejects.toThrow(/SQL: Parser Error/);
  });

  it('sql gives an Arquero table: exact-double 64-bit columns as numbers, others as BigInt', async () => {
    const t = await sql('SELECT op, sum(app_bytes) AS bytes, min(app_start_ns) AS first_ns FROM lineage GROUP BY op ORDER BY op', {
      dir: out,
      threads: 1,
    });
    const rows = t.objects() as { op: string; bytes: unknown; first_ns: unknown }[];
    expect(typeof rows[0]!.bytes).toBe('number');
    expect(typeof rows[0]!.first_ns).toBe('bigint');
    const doubled = t.derive({ twice: (d: { bytes: number }) => d.bytes * 2 }).objects() as { bytes: number; twice: number }[];
    expect(doubled.every((r) => r.twice === r.bytes * 2)).toBe(true);
    const big = await sql('SELECT app_bytes FROM lineage LIMIT 1', { dir: out, int64: 'bigint' });
    expect(typeof big.get('app_bytes', 0)).toBe('bigint');
  });

  it('sqlArrow gives an apache-arrow Table with Int64 columns that aq.fromArrow takes, and refuses a value beyond Int64', async () => {
    const a = await sqlArrow('SELECT op, count(*) AS ios, sum(app_bytes) AS bytes FROM lineage GROUP BY op ORDER BY op', { dir: out });
    expect(a.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['op:Utf8', 'ios:Int64', 'bytes:Int64']);
    const t = aq.fromArrow(a);
    expect(t.numRows()).toBe(a.numRows);
    expect(t.array('op')).toEqual(a.getChild('op')!.toArray());
    await expect(sqlArrow('SELECT CAST(9223372036854775807 AS HUGEINT) * 2 AS too_big', { dir: out })).rejects.toThrow(
      /too_big \(HUGEINT\) holds 18446744073709551614, outside Int64/,
    );
  });
});
