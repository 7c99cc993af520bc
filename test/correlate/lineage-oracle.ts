/**
 * An independent page-by-page oracle for the app → guest lineage of a lab capture, built from the
 * workload's own log (every I/O with file, offset, size and its start/end on the guest's
 * CLOCK_MONOTONIC, the clock of the guest block trace) and debugfs block maps of the guest fs.
 * It uses neither strace nor the analysis' clock alignment.
 *
 * For each page (file-system block) of a guest request that lies in a workload file:
 * - read: the workload read of that page whose [start, end] holds the request's [issue, complete]
 *   (a synchronous or O_DIRECT read), else the earliest read of the page starting after the
 *   request's issue (readahead consumed later), else no call (readahead never consumed);
 * - write: the O_DIRECT write whose [start, end] holds the request, else the latest write of the
 *   page that ended before the issue (writeback); a write of the page in flight at the issue
 *   makes the page ambiguous (left out).
 * The analysis' links (app_io row → workload I/O by occurrence of (op, file, offset, size)) are
 * then scored per page: right (the oracle's call), wrong (another call), missed (the oracle has a
 * call, the analysis none).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Table } from '@uwdata/flechette';
import { debugfsFileMap, num, rows, workloadLog } from './ground-truth.js';

export interface WorkloadIo {
  op: 'read' | 'write';
  file: string;
  offset: number;
  size: number;
  start: number;
  end: number;
}

export function readWorkloadLog(bundle: string, vm = 'vm0'): WorkloadIo[] {
  const text = gunzipSync(readFileSync(join(bundle, vm, 'workload.log.gz'))).toString();
  return workloadLog(text)
    .filter((f) => (f[2] === 'read' || f[2] === 'write') && Number(f[6]) > 0)
    .map((f) => ({
      op: f[2] as 'read' | 'write',
      file: f[3]!,
      offset: Number(f[4]),
      size: Number(f[6]),
      start: Number(f[7]),
      end: Number(f[8]),
    }));
}

export interface LineageScore {
  /** Bytes of guest requests on workload-file blocks. */
  dataBytes: number;
  /** Of those, bytes the oracle gives a call. */
  oracleBytes: number;
  /** Bytes the analysis linked to a call. */
  linkedBytes: number;
  right: number;
  wrong: number;
  missed: number;
  /** Bytes left out as ambiguous (a write of the page in flight at the request's issue). */
  ambiguous: number;
  /** O_DIRECT reads and the outcomes the analysis gave them. */
  directReads: number;
  directReadOutcomes: Record<string, number>;
  /** Examples of wrong or missed pages, for the failure message. */
  examples: string[];
}

/**
 * Score the analysis of one guest against the oracle.
 * @param fsImage the guest fs (decompressed e2image -r) for debugfs
 * @param fsOffset where the fs starts on the traced disk, bytes (from an independent source: sfdisk)
 */
export function scoreLineage(
  tables: Record<string, Table>,
  log: WorkloadIo[],
  fsImage: string,
  fsOffset: number,
  mount: string,
  blockSize: number,
  vm: string,
  sfx: string,
): LineageScore {
  const files = [...new Set(log.map((w) => w.file))];
  // disk block → (file, file block)
  const owner = new Map<number, [string, number]>();
  for (const f of files) {
    for (const r of debugfsFileMap(fsImage, f.slice(mount.length))) {
      for (let k = 0; k < r.count; k++) owner.set(fsOffset / blockSize + r.physical + k, [f, r.logical + k]);
    }
  }
  // per (file, block): workload I/O indexes touching it, in log order (= start order: one thread)
  const touching = new Map<string, number[]>();
  log.forEach((w, i) => {
    for (let b = Math.floor(w.offset / blockSize); b * blockSize < w.offset + w.size; b++) {
      const key = `${w.file}#${b}`;
      const l = touching.get(key);
      if (l) l.push(i);
      else touching.set(key, [i]);
    }
  });
  // app_io row → workload I/O by occurrence of (op, file, offset, size)
  const app = rows(tables[`app_io${sfx}`]!);
  const occurrences = new Map<string, number[]>();
  log.forEach((w, i) => {
    const k = `${w.op} ${w.file} ${w.offset} ${w.size}`;
    const l = occurrences.get(k);
    if (l) l.push(i);
    else occurrences.set(k, [i]);
  });
  const appToLog = new Map<number, number>();
  const used = new Map<string, number>();
  app.forEach((a, i) => {
    if (a['op'] !== 'read' && a['op'] !== 'write') return;
    const k = `${a['op']} ${String(a['path'])} ${num(a['offset'])} ${num(a['bytes_done'])}`;
    const l = occurrences.get(k);
    if (!l) return;
    const n = used.get(k) ?? 0;
    if (n < l.length) {
      appToLog.set(i, l[n]!);
      used.set(k, n + 1);
    }
  });

  const guest = rows(tables[`guest_requests${sfx}`]!);
  // analysis: per guest request, the linked calls (as workload indexes) with their bytes
  const linksOf = new Map<number, { w: number; bytes: number }[]>();
  let linkedBytes = 0;
  for (const l of rows(tables['links_app_guest']!)) {
    if (l['vm'] !== vm) continue;
    const w = appToLog.get(l['upper_id'] as number);
    const L = l['lower_id'] as number;
    linkedBytes += num(l['bytes']);
    const list = linksOf.get(L) ?? [];
    list.push({ w: w ?? -1, bytes: num(l['bytes']) });
    linksOf.set(L, list);
  }

  const s: LineageScore = {
    dataBytes: 0,
    oracleBytes: 0,
    linkedBytes,
    right: 0,
    wrong: 0,
    missed: 0,
    ambiguous: 0,
    directReads: 0,
    directReadOutcomes: {},
    examples: [],
  };
  for (const [L, g] of guest.entries()) {
    if (g['issue_ns'] === null || g['complete_ns'] === null || g['sector'] === null) continue;
    const op = g['op'];
    if (op !== 'read' && op !== 'write') continue;
    const issue = num(g['issue_ns']),
      complete = num(g['complete_ns']);
    const a = num(g['sector']) * 512,
      b = a + num(g['bytes']);
    // oracle bytes per call for this request
    const want = new Map<number, number>();
    let oracleHere = 0,
      ambiguousHere = 0;
    for (let blk = Math.floor(a / blockSize); blk * blockSize < b; blk++) {
      const o = owner.get(blk);
      if (!o) continue;
      const bytes = Math.min(b, (blk + 1) * blockSize) - Math.max(a, blk * blockSize);
      s.dataBytes += bytes;
      const ios = touching.get(`${o[0]}#${o[1]}`) ?? [];
      let cause = -1;
      if (op === 'read') {
        for (const i of ios)
          if (log[i]!.op === 'read' && log[i]!.start <= issue && complete <= log[i]!.end) {
            cause = i;
            break;
          }
        if (cause < 0)
          for (const i of ios)
            if (log[i]!.op === 'read' && log[i]!.start >= issue) {
              cause = i;
              break;
            }
      } else {
        let inFlight = false;
        for (const i of ios) {
          const w = log[i]!;
          if (w.op !== 'write') continue;
          if (w.start <= issue && complete <= w.end) {
            cause = i;
            inFlight = false;
            break;
          }
          if (w.end <= issue && (cause < 0 || w.end >= log[cause]!.end)) cause = i;
          else if (w.start < issue && w.end > issue) inFlight = true;
        }
        if (inFlight) {
          s.ambiguous += bytes;
          ambiguousHere += bytes;
          continue;
        }
      }
      if (cause < 0) continue;
      oracleHere += bytes;
      want.set(cause, (want.get(cause) ?? 0) + bytes);
    }
    s.oracleBytes += oracleHere;
    let rightHere = 0,
      linkedHere = 0;
    for (const { w, bytes } of linksOf.get(L) ?? []) {
      linkedHere += bytes;
      const r = Math.min(bytes, want.get(w) ?? 0);
      rightHere += r;
      if (r < bytes && ambiguousHere === 0 && s.examples.length < 8)
        s.examples.push(
          `guest request ${L} (${op} at byte ${a}, issue ${issue}): ${bytes - r} bytes linked to workload I/O ${w}, oracle ${JSON.stringify([...want])}`,
        );
    }
    s.right += rightHere;
    // links on ambiguous pages are neither right nor wrong
    s.wrong += Math.max(0, linkedHere - rightHere - ambiguousHere);
    const missed = Math.max(0, oracleHere - linkedHere);
    s.missed += missed;
    if (missed > 0 && s.examples.length < 8)
      s.examples.push(
        `guest request ${L} (${op} at byte ${a}, issue ${issue}): ${missed} bytes of calls ${JSON.stringify([...want])} not linked`,
      );
  }

  const lineage = rows(tables['lineage']!).filter((r) => r['vm'] === vm);
  for (const [i, a] of app.entries()) {
    if (a['op'] !== 'read' || !a['direct'] || !(num(a['bytes_done']) > 0)) continue;
    s.directReads++;
    const o = String(lineage[i]!['outcome']);
    s.directReadOutcomes[o] = (s.directReadOutcomes[o] ?? 0) + 1;
  }
  return s;
}
