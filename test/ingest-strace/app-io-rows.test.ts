/**
 * The lock-step chunk sink (app-io-rows.ts) against the column builders' own push API: a log of
 * more than one chunk of rows, with nulls, int64 values beyond 2^53 and task ids rewritten in
 * rows of an earlier chunk, gives the same values and the same batches (lengths, null counts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestStrace } from '../../src/ingest/app/ingest-strace.js';
import { writeArrowFile } from '../../src/table/arrow-file.js';
import type { Table } from '@uwdata/flechette';
import { TableBuilder } from '../../src/table/table-builder.js';
import { appIoTable } from '../../src/table/schemas/app-io.js';
import {
  CHUNK_ROWS,
  BoolColumnBuilder,
  Int64ColumnBuilder,
  NumberColumnBuilder,
  StringColumnBuilder,
} from '../../src/table/column-builders.js';
import { parseFiles, parseText, rowsOf } from './helpers.js';

/** The same rows pushed one value at a time through the builders (the reference path). */
function viaPush(rows: Record<string, unknown>[]): Table {
  const b = new TableBuilder(appIoTable);
  for (const c of appIoTable.columns) {
    const col =
      c.type === 'int64' ? b.int64(c.name) : c.type === 'bool' ? b.bool(c.name) : c.type === 'string' ? b.string(c.name) : b.number(c.name);
    for (const r of rows) {
      const v = r[c.name];
      if (v === null) col.pushNull();
      else if (col instanceof Int64ColumnBuilder) col.push(v as bigint);
      else if (col instanceof BoolColumnBuilder) col.push(v as boolean);
      else if (col instanceof StringColumnBuilder) col.push(v as string);
      else (col as NumberColumnBuilder<Int32Array>).push(v as number);
    }
  }
  return b.finish();
}

/** n calls without a pid column, then one with "[pid 500]" (strace -f to stderr, before the first clone). */
function lateNamedLog(n: number): string[] {
  const lines: string[] = ['1795697843.000001 openat(AT_FDCWD, "/x/a", O_RDONLY|O_DIRECT) = 3 <0.000010>'];
  for (let i = 0; i < n; i++) {
    const us = String(2 + (i % 999990)).padStart(6, '0');
    if (i % 97 === 0) lines.push(`1795697844.${us} read(99, 0x7ffd, 2) = -1 EBADF (Bad file descriptor) <0.000001>`);
    else if (i % 89 === 0) lines.push(`1795697844.${us} pread64(3</x/a>, "", 10, 18014398509481985) = 0`);
    else lines.push(`1795697844.${us} read(3</x/a>, "ab", 2) = 2 <0.000002>`);
  }
  // the first prefixed line names the task of all rows before it (strace -f to stderr)
  lines.push('[pid   500] 1795697845.000001 read(3</x/a>, "ab", 2) = 2 <0.000003>');
  return lines;
}

describe('AppIoRows', () => {
  it('matches the push path across chunk boundaries (nulls, bigints, a task id learnt late)', () => {
    const n = CHUNK_ROWS + 5000;
    const lines = lateNamedLog(n);
    const { table, rows, stats } = parseText(lines.join('\n') + '\n');
    expect(rows.length).toBe(n + 2);
    expect(stats.format().filter((l) => /data_loss|error/.test(l))).toEqual([]);
    expect(new Set(rows.map((r) => r.tid))).toEqual(new Set([500]));
    expect(new Set(rows.map((r) => r.pid))).toEqual(new Set([500]));
    expect(rows.find((r) => r.offset === 18014398509481985n)).toBeDefined();
    expect(rows.filter((r) => r.path === null).length).toBe(Math.ceil(n / 97));
    const ref = viaPush(rows as unknown as Record<string, unknown>[]);
    expect(rowsOf(ref)).toEqual(rows);
    for (const f of table.schema.fields) {
      const a = table.getChild(f.name).data;
      const b = ref.getChild(f.name).data;
      expect(a.map((x) => [x.length, x.nullCount])).toEqual(b.map((x) => [x.length, x.nullCount]));
      // the bitmap bytes themselves (they go into the Arrow file): bits past the rows clear
      const bits = (x: { validity?: Uint8Array | null; nullCount: number }): number[] | null =>
        x.nullCount > 0 && x.validity ? [...x.validity] : null;
      expect(a.map(bits), f.name).toEqual(b.map(bits));
    }
  });

  it('ingest writes the same file from its scratch file: chunks reused, a late task id rewritten on disk', async () => {
    // two full chunks leave memory before the task is named, the second filled in the first's arrays
    const n = 2 * CHUNK_ROWS + 5000;
    const dir = mkdtempSync(join(tmpdir(), 'iol-app-io-spill-'));
    try {
      const log = join(dir, 'late.strace');
      writeFileSync(log, lateNamedLog(n).join('\n') + '\n');
      const mem = await parseFiles([log]);
      expect(new Set(mem.rows.map((r) => r.tid))).toEqual(new Set([500]));
      writeArrowFile(join(dir, 'mem.arrow'), mem.table);
      const r = await ingestStrace([log], { outDir: join(dir, 'out') });
      expect(r.rows).toBe(n + 2);
      expect(readFileSync(r.file).equals(readFileSync(join(dir, 'mem.arrow')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
