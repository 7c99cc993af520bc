/**
 * whatif on damaged analyze outputs: sizes and offsets read from app_io and guest_requests are
 * checked against physical bounds before they drive the page streams. The values are those of the
 * fuzz campaign's memory findings (`npm run fuzz -- --kind tables`, seed 1), each of which made
 * whatif loop or allocate until it ran out of memory; now each is a one-line error naming the
 * file, the row and the column.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tableFromArrays, type DataType, type Table } from '@uwdata/flechette';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArrowFile, writeArrowFile } from '../../src/table/arrow-file.js';
import {
  appPageAccesses,
  blockPageAccesses,
  MAX_REQUEST_BYTES,
  MAX_REQUEST_SECTORS,
  MAX_RW_BYTES,
  PAGE_SIZE,
} from '../../src/whatif/page-accesses.js';
import { loadWhatifInputs, memoryModelFor } from '../../src/analyze/whatif-inputs.js';

const CLI = resolve('dist/cli/main.js');
const haveData = existsSync('data/m128-buffered/manifest.json') && existsSync(CLI);
const root = mkdtempSync(join(tmpdir(), 'iolineage-whatif-damaged-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const base = join(root, 'analysis');
beforeAll(() => {
  // the analysis the fuzz campaign mutates (scripts/fuzz/kinds.mjs, kind "tables")
  if (haveData) execFileSync(process.execPath, [CLI, 'analyze', 'data/m128-buffered', '-o', base, '--jobs', '1'], { stdio: 'ignore' });
}, 120_000);

/** A copy of a table with one value changed (same column types). */
function withValue(t: Table, column: string, row: number, value: unknown): Table {
  const cols: Record<string, unknown[]> = {};
  const types: Record<string, DataType> = {};
  for (const f of t.schema.fields) {
    const c = t.getChild(f.name);
    cols[f.name] = Array.from({ length: t.numRows }, (_, i) => c.at(i));
    types[f.name] = f.type;
  }
  cols[column]![row] = value;
  return tableFromArrays(cols as never, { types, useBigInt: true });
}

let n = 0;
/** The analysis with one value of one table changed: what whatif reads (app_io, guest_requests, attribution, summary.json). */
function damaged(table: 'app_io' | 'guest_requests' | 'attribution', column: string, row: number, value: unknown): string {
  const d = join(root, `damaged-${n++}`);
  mkdirSync(d);
  for (const f of ['app_io.arrow', 'guest_requests.arrow', 'attribution.arrow', 'summary.json']) copyFileSync(join(base, f), join(d, f));
  writeArrowFile(join(d, `${table}.arrow`), withValue(readArrowFile(join(base, `${table}.arrow`)), column, row, value));
  return d;
}

describe.skipIf(!haveData)('whatif on damaged tables', () => {
  it('accepts the tables as analyze wrote them (rewritten with the value they had)', async () => {
    const d = damaged('app_io', 'bytes_done', 8242, 4096n);
    const inp = await loadWhatifInputs(d);
    expect(memoryModelFor(inp).model.predict([64 * 2 ** 20], [0])).toHaveLength(1);
    expect(blockPageAccesses(inp.guestRequests).pages.length).toBeGreaterThan(0);
  });

  // app_io.bytes_done of the findings tables-seed1-529, -1054 and -1110 (rows and values as found)
  it.each([
    [8242, 562949953425408n, 'write'],
    [7873, 40532396646338560n, 'read'],
    [9862, 7381153934259261440n, 'read'],
  ] as const)('app_io row %i, bytes_done %s: an error naming file, row and column', async (row, v, op) => {
    const d = damaged('app_io', 'bytes_done', row, v);
    const inp = await loadWhatifInputs(d);
    expect(() => memoryModelFor(inp)).toThrow(
      `${join(d, 'app_io.arrow')}: row ${row}, column bytes_done: ${v} is more than one ${op} can transfer (${MAX_RW_BYTES} bytes, Linux MAX_RW_COUNT)`,
    );
  });

  // guest_requests.sector of the findings tables-seed1-936, -1720, -2189, -2375 and -3398
  it.each([
    [6209, 864706521785696256n],
    [3670, 3377734080266252n],
    [3574, 9223372032559939912n],
    [9077, 144115188143292416n],
    [1067, 2305843009214062320n],
  ] as const)('guest_requests row %i, sector %s: an error naming file, row and column', async (row, v) => {
    const d = damaged('guest_requests', 'sector', row, v);
    await expect(loadWhatifInputs(d)).rejects.toThrow(
      `${join(d, 'guest_requests.arrow')}: row ${row}, column sector: ${v} is past 8 PiB (2^44 sectors), beyond any disk`,
    );
  });

  // guest_requests.bytes of the findings tables-seed6-10117, -3884 and -3557 (fuzz seed 6: a RangeError, exit 70)
  it.each([
    [9455, 14073748835536896n, `is more than one block request can hold (${MAX_REQUEST_BYTES} bytes: its byte count is an unsigned int)`],
    [8428, -2882303727761358848n, 'is negative'],
    [4527, 9007199254745088n, `is more than one block request can hold (${MAX_REQUEST_BYTES} bytes: its byte count is an unsigned int)`],
  ] as const)('guest_requests row %i, bytes %s: an error naming file, row and column', async (row, v, why) => {
    const d = damaged('guest_requests', 'bytes', row, v);
    const inp = await loadWhatifInputs(d);
    expect(() => memoryModelFor(inp)).toThrow(`${join(d, 'guest_requests.arrow')}: row ${row}, column bytes: ${v} ${why}`);
  });

  it('attribution: a byte count or a request row out of bounds is an error naming them; the largest request is accepted', async () => {
    const guestRow = (a: Table) => Array.from(a.getChild('layer').toArray() as ArrayLike<string>).indexOf('guest');
    const a = readArrowFile(join(base, 'attribution.arrow'));
    const row = guestRow(a);
    const d1 = damaged('attribution', 'bytes', row, 2n ** 40n);
    const i1 = await loadWhatifInputs(d1);
    expect(() => memoryModelFor(i1)).toThrow(
      `${join(d1, 'attribution.arrow')}: row ${row}, column bytes: ${2n ** 40n} is more than one block request can hold`,
    );
    const d2 = damaged('attribution', 'lower_id', row, -5);
    const i2 = await loadWhatifInputs(d2);
    expect(() => memoryModelFor(i2)).toThrow(`${join(d2, 'attribution.arrow')}: row ${row}, column lower_id: -5 is negative`);
    const d3 = damaged('guest_requests', 'bytes', 0, BigInt(MAX_REQUEST_BYTES));
    const i3 = await loadWhatifInputs(d3);
    expect(() => memoryModelFor(i3)).not.toThrow();
  });

  it('app_io: bytes_done above bytes_req, a negative size, an offset past 16 TiB', () => {
    const app = readArrowFile(join(base, 'app_io.arrow'));
    const ops = Array.from(app.getChild('op').toArray() as ArrayLike<string>);
    const row = ops.findIndex((o, i) => o === 'read' && app.getChild('bytes_req').at(i) === 4096n);
    expect(() => appPageAccesses(withValue(app, 'bytes_done', row, 8192n))).toThrow(
      `app_io: row ${row}, column bytes_done: 8192 is more than the 4096 bytes the call asked for (bytes_req)`,
    );
    expect(() => appPageAccesses(withValue(app, 'bytes_done', row, -4096n))).toThrow(
      `app_io: row ${row}, column bytes_done: -4096 is negative`,
    );
    expect(() => appPageAccesses(withValue(app, 'offset', row, 2n ** 62n))).toThrow(
      new RegExp(`^app_io: row ${row}, column offset: ${2n ** 62n} is past 16 TiB`),
    );
    expect(() => appPageAccesses(withValue(app, 'offset', row, -1n))).toThrow(`app_io: row ${row}, column offset: -1 is negative`);
    // the last page the keys hold is accepted
    expect(() => appPageAccesses(withValue(app, 'offset', row, 2n ** 44n - 4096n))).not.toThrow();
  });

  it('guest_requests: a request larger than a request can be, and a negative sector', () => {
    const g = readArrowFile(join(base, 'guest_requests.arrow'));
    const row = Array.from(g.getChild('op').toArray() as ArrayLike<string>).indexOf('read');
    expect(() => blockPageAccesses(withValue(g, 'nr_sectors', row, 4294967295))).toThrow(
      `guest_requests: row ${row}, column nr_sectors: 4294967295 is more than one block request can hold (${MAX_REQUEST_SECTORS} sectors`,
    );
    expect(() => blockPageAccesses(withValue(g, 'sector', row, -8n))).toThrow(`guest_requests: row ${row}, column sector: -8 is negative`);
    const before = blockPageAccesses(g).pages.length;
    const big = blockPageAccesses(withValue(g, 'nr_sectors', row, MAX_REQUEST_SECTORS)).pages.length;
    expect(big - before).toBeGreaterThan((MAX_REQUEST_SECTORS * 512) / PAGE_SIZE - 10);
  });

  it('the command prints the error on one line and exits 1, within a small heap', () => {
    const d = damaged('app_io', 'bytes_done', 9862, 7381153934259261440n);
    let r: { status: number; stderr: string } = { status: 0, stderr: '' };
    try {
      execFileSync(process.execPath, ['--max-old-space-size=256', CLI, 'whatif', d, '--guest-mem', '64M,256M'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
    } catch (e) {
      r = e as { status: number; stderr: string };
    }
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `iolineage: ${join(d, 'app_io.arrow')}: row 9862, column bytes_done: 7381153934259261440 is more than one read can transfer (${MAX_RW_BYTES} bytes, Linux MAX_RW_COUNT)`,
    ]);
  });
});
