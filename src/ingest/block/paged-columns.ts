/**
 * Columns of numbers indexed by row, kept in pages of PAGE_ROWS rows, for the rows the request
 * reconstruction makes (block-request-rows.ts): one request or bio per row, rows appended in
 * order, any row read or written later by its number. With a scratch file (BatchSpill) only the
 * newest pages stay in memory: a page that leaves that window is written to the file and dropped,
 * and a later access to one of its rows (a request still in flight long after, the table writers'
 * passes) reads the page back into a bounded set of pages, written back when it leaves that set.
 * So memory does not grow with the rows, and every row still reads and writes as in one array.
 * Without a scratch file every page stays in memory.
 */
import type { BatchSpill } from '../../table/batch-spill.js';

export const PAGE_SHIFT = 12;
/** Rows per page. */
export const PAGE_ROWS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_ROWS - 1;

type Values = Float64Array | Int32Array;

/** One column: pages of values, null when the page is in the scratch file only. */
export abstract class PagedColumn<A extends Values = Values> {
  readonly pages: (A | null)[] = [];
  /** Byte offset of page p in the scratch file, -1 before it was first written there. */
  private readonly at: number[] = [];
  /**
   * Page p left memory holding one value in every row (most pages of some columns: -1, NaN,
   * zeros): then it is not written to the file, and its value's 32-bit words (lo, hi; one word
   * for int32) are kept here, bit for bit, to fill the page when it is read back.
   */
  private readonly same: boolean[] = [];
  private readonly sameLo: number[] = [];
  private readonly sameHi: number[] = [];
  constructor(private readonly store: PageStore) {
    store.columns.push(this as unknown as PagedColumn);
  }
  /** A page whose values are about to be overwritten (zeroed by addPage when it must be): a recycled one when there is one. */
  protected abstract newPage(): A;
  /** A page that left memory, for newPage to hand out again. */
  protected abstract recycle(page: A): void;

  /** The value at `row` (NaN for a row that does not exist, as an out-of-range read would give undefined). */
  get(row: number): number {
    const p = this.pages[row >> PAGE_SHIFT];
    if (p != null) return p[row & PAGE_MASK]!;
    return this.page(row) === null ? NaN : this.pages[row >> PAGE_SHIFT]![row & PAGE_MASK]!;
  }

  set(row: number, v: number): void {
    const p = this.pages[row >> PAGE_SHIFT];
    if (p != null) p[row & PAGE_MASK] = v;
    else this.page(row)?.set([v], row & PAGE_MASK);
  }

  add(row: number, v: number): void {
    const p = this.pages[row >> PAGE_SHIFT];
    if (p != null) p[row & PAGE_MASK]! += v;
    else {
      const q = this.page(row);
      if (q !== null) q[row & PAGE_MASK]! += v;
    }
  }

  /** The page of `row` in memory (read back from the scratch file when needed), or null for a row that does not exist. */
  private page(row: number): A | null {
    if (row < 0 || row >= this.store.rows || row !== Math.floor(row)) return null;
    const p = row >> PAGE_SHIFT;
    const page = this.newPage();
    if (this.same[p] === true) this.fillSame(page, p);
    else this.store.read(this.at[p]!, page);
    this.pages[p] = page;
    this.store.faulted(this as unknown as PagedColumn, p);
    return page;
  }

  /** Append page p (zeros). */
  addPage(p: number): void {
    this.pages[p] = this.newPage().fill(0) as A;
    this.at[p] = -1;
    this.same[p] = false;
  }

  /** Write page p to the scratch file (unless it holds one value) and drop it from memory (no-op when it is not in memory). */
  evict(p: number, spill: BatchSpill): void {
    const page = this.pages[p];
    if (page == null) return;
    const w = new Int32Array(page.buffer, page.byteOffset, page.byteLength >> 2);
    const s = page.BYTES_PER_ELEMENT >> 2;
    const lo = w[0]!;
    const hi = w[s - 1]!;
    let same = true;
    for (let i = 0; i < w.length; i += s) {
      if (w[i] !== lo || w[i + s - 1] !== hi) {
        same = false;
        break;
      }
    }
    this.same[p] = same;
    if (same) {
      this.sameLo[p] = lo;
      this.sameHi[p] = hi;
    } else if (this.at[p]! < 0) this.at[p] = spill.append(page);
    else spill.rewrite(this.at[p]!, page);
    this.pages[p] = null;
    this.recycle(page);
  }

  /** Copy rows [from, from + len) into dst[0, len) (pages in the file are read without being kept). */
  copyTo(dst: A, from: number, len: number): A {
    let k = 0;
    while (k < len) {
      const row = from + k;
      const p = row >> PAGE_SHIFT;
      const off = row & PAGE_MASK;
      const n = Math.min(PAGE_ROWS - off, len - k);
      const page = this.pages[p];
      if (page != null) dst.set(page.subarray(off, off + n), k);
      else if (this.same[p] === true) this.fillSame(dst.subarray(k, k + n) as A, p);
      else this.store.read(this.at[p]! + off * dst.BYTES_PER_ELEMENT, dst.subarray(k, k + n));
      k += n;
    }
    return dst;
  }

  /** Fill `dst` with the one value of page p (a page that left memory with one value). */
  private fillSame(dst: A, p: number): void {
    const w = new Int32Array(dst.buffer, dst.byteOffset, dst.byteLength >> 2);
    const lo = this.sameLo[p]!;
    if (dst.BYTES_PER_ELEMENT === 4) w.fill(lo);
    else {
      const hi = this.sameHi[p]!;
      for (let i = 0; i < w.length; i += 2) {
        w[i] = lo;
        w[i + 1] = hi;
      }
    }
  }
}

/**
 * Pages that left memory, handed out again for new or read-back pages: a page is written to the
 * scratch file before it is recycled, and nothing else holds it (copyTo copies out of pages), so
 * the sweep does not allocate (and the collector free) a page for every page of rows.
 */
const MAX_FREE = 256;
const freeF64: Float64Array[] = [];
const freeI32: Int32Array[] = [];

export class PagedF64 extends PagedColumn<Float64Array> {
  protected newPage(): Float64Array {
    return freeF64.pop() ?? new Float64Array(PAGE_ROWS);
  }
  protected recycle(page: Float64Array): void {
    if (freeF64.length < MAX_FREE) freeF64.push(page);
  }
}

export class PagedI32 extends PagedColumn<Int32Array> {
  protected newPage(): Int32Array {
    return freeI32.pop() ?? new Int32Array(PAGE_ROWS);
  }
  protected recycle(page: Int32Array): void {
    if (freeI32.length < MAX_FREE) freeI32.push(page);
  }
}

/** Pages in memory besides the window, read back for an access to an older row (column pages). */
const MAX_FAULTED = 512;

/** The rows of a set of columns that grow together, and which of their pages stay in memory. */
export class PageStore {
  readonly columns: PagedColumn[] = [];
  /** Rows so far. */
  rows = 0;
  /** Pages read back, oldest first (column, page). */
  private readonly back: [PagedColumn, number][] = [];
  private backHead = 0;

  /** `window`: the newest pages kept in memory when there is a scratch file. */
  constructor(
    private spill: BatchSpill | null = null,
    private readonly window = 32,
  ) {}

  /** Where pages that leave memory go from now on (before the first row). */
  useSpill(spill: BatchSpill | null): void {
    if (this.rows > 0) throw new Error('paged columns: useSpill after rows were added');
    this.spill = spill;
  }

  /** A new row (zeros in every column); returns its number. */
  addRow(): number {
    const r = this.rows++;
    if ((r & PAGE_MASK) === 0) {
      const p = r >> PAGE_SHIFT;
      for (const c of this.columns) c.addPage(p);
      const old = p - this.window;
      if (this.spill !== null && old >= 0) for (const c of this.columns) c.evict(old, this.spill);
    }
    return r;
  }

  read(at: number, into: Values): void {
    if (this.spill === null || at < 0) throw new Error('paged columns: a page is neither in memory nor in the scratch file');
    this.spill.read(at, into);
  }

  /** Page p of c was read back: keep at most MAX_FAULTED such pages, writing the oldest back. */
  faulted(c: PagedColumn, p: number): void {
    this.back.push([c, p]);
    if (this.back.length - this.backHead <= MAX_FAULTED) return;
    const [oc, op] = this.back[this.backHead]!;
    this.back[this.backHead++] = undefined as never;
    // a page back in the window cannot be: pages leave it only once, in order
    oc.evict(op, this.spill!);
    if (this.backHead > 4096) {
      this.back.splice(0, this.backHead);
      this.backHead = 0;
    }
  }
}
