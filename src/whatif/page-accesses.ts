/**
 * Page-access streams for cache what-ifs.
 * - From app_io: every buffered read or write touches the guest page cache once per 4 KiB page
 *   of [offset, offset + bytes_done) of its file. O_DIRECT calls bypass the guest cache and are
 *   counted apart. Page keys are (file id << 32) + page index, exact below 2^53.
 * - From block requests of the guest disk: every request touches the host page cache (the image
 *   file's pages) once per 4 KiB page of its sector range; with a raw image, image page = guest
 *   disk page.
 */
import type { Table } from '@uwdata/flechette';

export const PAGE_SIZE = 4096;
const TWO32 = 4294967296;

export interface PageAccesses {
  /** Page key per access, in trace order. */
  pages: Float64Array;
  /** 1 when the access is a write (dirties the page), else 0. */
  isWrite: Uint8Array;
  /** Index (row) of the table row each access came from. */
  row: Int32Array;
}

export interface AppPageAccesses extends PageAccesses {
  /** Bytes of O_DIRECT reads and writes (they bypass the guest cache). */
  directReadBytes: number;
  directWriteBytes: number;
  /** Bytes of buffered reads and writes (bytes_done). */
  bufferedReadBytes: number;
  bufferedWriteBytes: number;
  /** Files by id (index = file id in the page keys). */
  files: string[];
  /** Buffered calls skipped because their offset or size is unknown. */
  skippedUncertain: number;
}

class Growable {
  pages = new Float64Array(1024);
  isWrite = new Uint8Array(1024);
  row = new Int32Array(1024);
  n = 0;
  push(page: number, w: number, r: number): void {
    if (this.n === this.pages.length) {
      const m = this.n * 2;
      const p = new Float64Array(m); p.set(this.pages); this.pages = p;
      const q = new Uint8Array(m); q.set(this.isWrite); this.isWrite = q;
      const s = new Int32Array(m); s.set(this.row); this.row = s;
    }
    this.pages[this.n] = page; this.isWrite[this.n] = w; this.row[this.n] = r; this.n++;
  }
  done(): PageAccesses {
    return { pages: this.pages.subarray(0, this.n), isWrite: this.isWrite.subarray(0, this.n), row: this.row.subarray(0, this.n) };
  }
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** Page accesses of the guest page cache, from an app_io table (src/table/schemas/app-io.ts). */
export function appPageAccesses(appIo: Table, pageSize = PAGE_SIZE): AppPageAccesses {
  const op = appIo.getChild('op');
  const path = appIo.getChild('path');
  const offset = appIo.getChild('offset');
  const bytes = appIo.getChild('bytes_done');
  const direct = appIo.getChild('direct');
  const out = new Growable();
  const fileIds = new Map<string, number>();
  const files: string[] = [];
  let directReadBytes = 0, directWriteBytes = 0, bufferedReadBytes = 0, bufferedWriteBytes = 0, skippedUncertain = 0;
  for (let i = 0; i < appIo.numRows; i++) {
    const o = op.at(i) as string;
    if (o !== 'read' && o !== 'write') continue;
    const b = num(bytes.at(i));
    if (!b) continue;
    const isW = o === 'write' ? 1 : 0;
    if (direct.at(i)) { if (isW) directWriteBytes += b; else directReadBytes += b; continue; }
    if (isW) bufferedWriteBytes += b; else bufferedReadBytes += b;
    const off = num(offset.at(i));
    const p = path.at(i) as string | null;
    if (off === null || p === null) { skippedUncertain++; continue; }
    let id = fileIds.get(p);
    if (id === undefined) { id = files.length; files.push(p); fileIds.set(p, id); }
    const first = Math.floor(off / pageSize);
    const last = Math.floor((off + b - 1) / pageSize);
    for (let pg = first; pg <= last; pg++) out.push(id * TWO32 + pg, isW, i);
  }
  return { ...out.done(), directReadBytes, directWriteBytes, bufferedReadBytes, bufferedWriteBytes, files, skippedUncertain };
}

/**
 * Page accesses of the host page cache, from a block_requests table of the guest disk: one per
 * page of each request's sector range (reads and writes; flushes and discards are skipped).
 */
export function blockPageAccesses(requests: Table, pageSize = PAGE_SIZE): PageAccesses {
  const op = requests.getChild('op');
  const sector = requests.getChild('sector');
  const nr = requests.getChild('nr_sectors');
  const out = new Growable();
  for (let i = 0; i < requests.numRows; i++) {
    const o = op.at(i) as string;
    if (o !== 'read' && o !== 'write') continue;
    const s = num(sector.at(i));
    const n = num(nr.at(i));
    if (s === null || !n) continue;
    const first = Math.floor((s * 512) / pageSize);
    const last = Math.floor(((s + n) * 512 - 1) / pageSize);
    for (let pg = first; pg <= last; pg++) out.push(pg, o === 'write' ? 1 : 0, i);
  }
  return out.done();
}
