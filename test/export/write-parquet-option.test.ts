/**
 * analyze --parquet and ingest --parquet write each table as Parquet next to its Arrow file,
 * with the same rows (read by hyparquet).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as ingest } from '../../src/cli/ingest.js';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { analyseBundle, scratchDir } from '../sql/analysed.js';
import { readParquetMetadata } from './parquet-read.js';

function parquetRows(path: string): number {
  return readParquetMetadata(path).row_groups.reduce((n, g) => n + Number(g.num_rows), 0);
}

describe('--parquet on analyze and ingest', () => {
  const scratch = scratchDir('iol-parquet-option-');
  afterAll(() => scratch.remove());

  it('analyze --parquet writes every table and the summary as Parquet too', async () => {
    const out = await analyseBundle('m512-direct', scratch.dir, ['--parquet']);
    for (const t of ['app_io', 'guest_requests', 'host_requests', 'lineage', 'attribution', 'links_app_guest', 'links_guest_host']) {
      expect(parquetRows(join(out, `${t}.parquet`)), t).toBe(readArrowFile(join(out, `${t}.arrow`)).numRows);
    }
    expect(existsSync(join(out, 'summary.parquet'))).toBe(true);
  });

  it('ingest --parquet writes the block and strace tables as Parquet too', async () => {
    const out = join(scratch.dir, 'ingest');
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let code: number;
    try {
      code = await ingest(['data/m512-direct/vm0/block.trace.gz', 'data/m512-direct/vm0/app.strace.gz', '-o', out, '--parquet']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    for (const t of ['block_events', 'block_requests', 'block_bios', 'app_io']) {
      expect(parquetRows(join(out, `${t}.parquet`)), t).toBe(readArrowFile(join(out, `${t}.arrow`)).numRows);
    }
  });
});
