import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchSpill } from '../../src/table/batch-spill.js';
import { PAGE_ROWS, PageStore, PagedF64, PagedI32 } from '../../src/ingest/block/paged-columns.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-paged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('paged columns', () => {
  it('read and write every row as one array would, with most pages in the scratch file', () => {
    const spill = new BatchSpill(join(dir, 'pages.scratch'));
    // a window of 2 pages: rows older than that leave memory and are read back on access
    const store = new PageStore(spill, 2);
    const f = new PagedF64(store);
    const k = new PagedI32(store);
    const rows = PAGE_ROWS * 9 + 17;
    const wantF = new Float64Array(rows);
    const wantK = new Int32Array(rows);
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let r = 0; r < rows; r++) {
      expect(store.addRow()).toBe(r);
      f.set(r, r * 1.5);
      k.set(r, -r);
      wantF[r] = r * 1.5;
      wantK[r] = -r;
      // now and then a row far back (a request still in flight): read back, changed, kept
      if (r % 1000 === 999) {
        const old = rnd(r);
        f.add(old, 2);
        k.set(old, k.get(old) + 3);
        wantF[old]! += 2;
        wantK[old]! += 3;
      }
    }
    expect(f.pages.filter((p) => p !== null).length).toBeLessThan(f.pages.length);
    for (let r = 0; r < rows; r += 97) {
      expect(f.get(r)).toBe(wantF[r]);
      expect(k.get(r)).toBe(wantK[r]);
    }
    // a row outside the pages reads as NaN (where a typed-array read out of range gives undefined)
    expect(f.get(-1)).toBeNaN();
    expect(k.get(rows + PAGE_ROWS)).toBeNaN();
    for (let from = 0; from < rows; from += 5000) {
      const len = Math.min(5000, rows - from);
      expect(f.copyTo(new Float64Array(len), from, len)).toEqual(wantF.subarray(from, from + len));
      expect(k.copyTo(new Int32Array(len), from, len)).toEqual(wantK.subarray(from, from + len));
    }
    spill.close();
  });

  it('keeps pages of one value out of the scratch file, bit for bit (-0, NaN), also once changed', () => {
    const spill = new BatchSpill(join(dir, 'same.scratch'));
    const store = new PageStore(spill, 1);
    const f = new PagedF64(store);
    const k = new PagedI32(store);
    const rows = PAGE_ROWS * 6;
    // pages of one value (-0, NaN, -1, 0) and one page of varied values, in both columns
    const fv = (r: number) => [-0, NaN, -1, 0, r * 0.5, NaN][r >> 12]!;
    const kv = (r: number) => [-1, 0, 7, -1, r, 2][r >> 12]!;
    for (let r = 0; r < rows; r++) {
      store.addRow();
      f.set(r, fv(r));
      k.set(r, kv(r));
    }
    // only the varied pages (and the newest, in memory) are in the file
    expect(spill.size).toBe(PAGE_ROWS * (8 + 4));
    const gotF = f.copyTo(new Float64Array(rows), 0, rows);
    const gotK = k.copyTo(new Int32Array(rows), 0, rows);
    for (let r = 0; r < rows; r += 61) {
      expect(Object.is(gotF[r], fv(r))).toBe(true);
      expect(gotK[r]).toBe(kv(r));
    }
    // a page of one value read back, changed and evicted again is written out with its change
    f.set(5, 3);
    k.add(PAGE_ROWS + 1, 4);
    for (let r = 0; r < PAGE_ROWS * 520; r++) store.addRow();
    // more pages read back than are kept: the two changed pages leave memory again
    for (let p = 6; p < 6 + 520; p++) expect(f.get(p * PAGE_ROWS)).toBe(0);
    expect(f.pages[0]).toBeNull();
    expect(k.pages[1]).toBeNull();
    expect(f.get(5)).toBe(3);
    expect(Object.is(f.get(6), -0)).toBe(true);
    expect(k.get(PAGE_ROWS + 1)).toBe(4);
    expect(k.get(PAGE_ROWS + 2)).toBe(0);
    spill.close();
  });
});
