import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_ROWS, NumberColumnBuilder } from '../../src/table/column-builders.js';
import { defineTable } from '../../src/table/table-spec.js';
import { TableBuilder } from '../../src/table/table-builder.js';
import { readArrowFile, writeArrowFile, writeTableBuilder } from '../../src/table/arrow-file.js';
import { isUserError } from '../../src/util/errors.js';

const spec = defineTable({
  name: 'spill_demo',
  doc: 'test table',
  columns: [
    { name: 'ts_ns', type: 'int64', doc: 'time', unit: 'ns' },
    { name: 'tid', type: 'int32', doc: 'task' },
    { name: 'name', type: 'string', doc: 'name', nullable: true },
    { name: 'code', type: 'string', index: 'int8', doc: 'a column of nulls only', nullable: true },
    { name: 'ok', type: 'bool', doc: 'flag' },
    { name: 'end', type: 'int64', doc: 'maybe null', nullable: true },
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'iol-spill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n rows with nulls, 64-bit values beyond 2^53, a string column and an all-null one. */
function fill(tb: TableBuilder<typeof spec>, n: number, spill: boolean): void {
  for (let i = 0; i < n; i++) {
    tb.int64('ts_ns').push(i === 1 ? 2n ** 62n + 5n : i * 1000);
    tb.number('tid').push(i % 4 === 0 ? -1 : i % 9);
    if (i % 5 === 0) tb.string('name').pushNull();
    else tb.string('name').push(`n${i % 7}-${Math.floor(i / CHUNK_ROWS)}`);
    tb.string('code').pushNull();
    tb.bool('ok').push(i % 3 === 0);
    if (i % 11 === 0) tb.int64('end').pushNull();
    else tb.int64('end').push(-i);
    if (spill) tb.spillFullBatches();
  }
}

describe('TableBuilder scratch file (spillTo) and writeTableBuilder', () => {
  const n = CHUNK_ROWS * 3 + 1234;

  it('writes the bytes writeArrowFile writes for finish(), from memory and from the scratch file', () => {
    const mem = new TableBuilder(spec);
    fill(mem, n, false);
    const a = join(dir, 'a.arrow');
    const b = join(dir, 'b.arrow');
    const c = join(dir, 'c.arrow');
    writeArrowFile(a, mem.finish({ clock: 'test' }));
    writeTableBuilder(b, mem, { clock: 'test' });

    const spilled = new TableBuilder(spec);
    spilled.spillTo(join(dir, 'scratch'));
    // the scratch file is unlinked at once: nothing is left behind, even by a crash
    expect(existsSync(join(dir, 'scratch'))).toBe(false);
    fill(spilled, n, true);
    // three full batches left memory; the fourth (short) one is still being filled
    expect(spilled.spilledBytes).toBeGreaterThan(3 * CHUNK_ROWS * (8 + 4 + 4 + 1 + 1 + 8));
    writeTableBuilder(c, spilled, { clock: 'test' });
    spilled.close();

    const bytes = readFileSync(a);
    expect(readFileSync(b).equals(bytes)).toBe(true);
    expect(readFileSync(c).equals(bytes)).toBe(true);
    const t = readArrowFile(c);
    expect(t.numRows).toBe(n);
    expect(t.getChild('ts_ns').at(1)).toBe(2n ** 62n + 5n);
    expect(t.getChild('name').at(CHUNK_ROWS * 2 + 2)).toBe(`n${(CHUNK_ROWS * 2 + 2) % 7}-2`);
    expect(t.getChild('code').at(7)).toBe(null);
    expect(t.getChild('end').at(11 * 30000)).toBe(null);
    expect(readdirSync(dir).filter((f) => f.startsWith('scratch'))).toEqual([]);
  });

  it('reads and rewrites rows whose chunk is in the scratch file', () => {
    const tb = new TableBuilder(spec);
    tb.spillTo(join(dir, 'scratch2'));
    fill(tb, n, true);
    const tid = tb.number('tid') as NumberColumnBuilder<Int32Array>;
    expect(tid.isSpilled(0)).toBe(true);
    expect(tid.isSpilled(3)).toBe(false);
    expect(tid.get(CHUNK_ROWS + 5)).toBe((CHUNK_ROWS + 5) % 9);
    tid.set(CHUNK_ROWS + 5, 77);
    expect(tid.get(CHUNK_ROWS + 5)).toBe(77);
    expect(tb.string('name').get(CHUNK_ROWS + 6)).toBe(`n${(CHUNK_ROWS + 6) % 7}-1`);
    expect(tb.string('name').get(CHUNK_ROWS * 2 + 6)).toBe(null); // a multiple of 5
    // -1 -> 500 over a range that spans two spilled chunks and the one in memory
    const from = CHUNK_ROWS - 8;
    const to = CHUNK_ROWS * 3 + 100;
    let expected = 0;
    for (let i = from; i < to; i++) if (i % 4 === 0) expected++;
    expect(tid.replaceInRange(from, to, -1, 500)).toBe(expected);
    expect(() => tb.finish()).toThrow(/scratch file/);
    const file = join(dir, 'd.arrow');
    writeTableBuilder(file, tb);
    tb.close();
    const col = readArrowFile(file).getChild('tid');
    for (const i of [0, from - 4, from, CHUNK_ROWS, CHUNK_ROWS * 2 + 4, CHUNK_ROWS * 3 + 96, CHUNK_ROWS * 3 + 100, n - 2]) {
      const want = i % 4 === 0 ? (i >= from && i < to ? 500 : -1) : i % 9;
      expect([i, col.at(i)]).toEqual([i, want]);
    }
    expect(col.at(CHUNK_ROWS + 5)).toBe(77);
  });

  it('says which file it cannot create', () => {
    const tb = new TableBuilder(spec);
    expect(() => tb.spillTo(join(dir, 'no', 'such', 'dir', 'scratch'))).toThrow(/no\/such\/dir\/scratch.*ENOENT/);
  });

  it('a full disk under the scratch file is an error naming it (a 256 KiB tmpfs, when this runs as root)', (ctx) => {
    const mnt = join(dir, 'tiny');
    mkdirSync(mnt);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status !== 0) ctx.skip();
    try {
      const tb = new TableBuilder(spec);
      tb.spillTo(join(mnt, 'scratch'));
      let err: unknown;
      try {
        fill(tb, CHUNK_ROWS * 2, true);
      } catch (e) {
        err = e;
      }
      tb.close();
      expect(isUserError(err)).toBe(true);
      expect((err as Error).message).toMatch(/tiny\/scratch: cannot write the scratch file .*ENOSPC/);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
