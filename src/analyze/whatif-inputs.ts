/**
 * What the memory model needs from one capture: the application's page accesses, the measured
 * guest-disk bytes and the captured run's VM memory and host cache mode. Taken either from a
 * capture bundle (analysed here) or from an `iolineage analyze` output directory.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Table } from '@uwdata/flechette';
import { readManifest } from '../capture/manifest.js';
import { readSummaryJson } from '../metrics/summary-json.js';
import { analyzeCapture } from './analyze-capture.js';
import { IngestStats } from '../util/ingest-stats.js';
import { readArrowFile } from '../table/arrow-file.js';
import { stringColumn } from '../table/column-arrays.js';
import { InputError, UsageError } from '../util/errors.js';
import {
  appPageAccesses,
  type AppPageAccesses,
  boundedColumn,
  checkRequestRanges,
  MAX_REQUEST_BYTES,
  PAGE_SIZE,
} from '../whatif/page-accesses.js';
import { MemoryModel } from '../whatif/memory-model.js';
import { dropCallRows, readDropValues } from '../whatif/cache-drops.js';
import type { Measured } from '../whatif/memory-model.js';

/** What the model of a capture may be told instead of what the capture says. */
export interface MemoryModelOptions {
  /** VM memory of the captured run, bytes (default: what the capture recorded). */
  capturedGuestMem?: number;
  /** writeback or none (default: what the capture recorded, else writeback). */
  hostCacheMode?: string;
  /** Guest memory not available to the page cache, bytes (default: calibrated on the capture). */
  overheadBytes?: number;
}

/**
 * The memory model of one capture (the `iolineage whatif` model, for the CLI and for notebooks):
 * the application's page accesses, the measured guest-disk bytes, the captured VM memory and host
 * cache mode. A capture that does not record its VM memory, with none given, is a UsageError
 * ("the captured VM memory is unknown").
 */
export function memoryModelFor(
  inp: WhatifInputs,
  opts: MemoryModelOptions = {},
): { model: MemoryModel; app: AppPageAccesses; measured: Measured; capturedGuestMem: number; hostCacheMode: 'writeback' | 'none' } {
  const capturedGuestMem = opts.capturedGuestMem ?? inp.capturedGuestMem;
  if (!capturedGuestMem || capturedGuestMem <= 0)
    throw new UsageError('whatif: the captured VM memory is unknown: pass --captured-mem SIZE');
  const mode = opts.hostCacheMode ?? inp.hostCacheMode ?? 'writeback';
  if (mode !== 'writeback' && mode !== 'none') throw new UsageError(`whatif: --host-cache-mode: expected writeback or none, got ${mode}`);
  const app = appPageAccesses(inp.appIo, PAGE_SIZE, inp.tableNames?.appIo);
  const measured = measuredGuestBytes(inp);
  const model = new MemoryModel({
    app,
    capturedGuestMem,
    measured,
    hostCacheMode: mode,
    capturedMemTotal: inp.capturedMemTotal,
    ...(opts.overheadBytes !== undefined ? { overheadBytes: opts.overheadBytes } : {}),
    dropValues: inp.dropValues,
  });
  return { model, app, measured, capturedGuestMem, hostCacheMode: mode };
}

export interface WhatifInputs {
  appIo: Table;
  guestRequests: Table;
  attribution: Table | null;
  /** VM memory of the captured run (null when the source does not say). */
  capturedGuestMem: number | null;
  hostCacheMode: 'writeback' | 'none' | null;
  /** MemTotal of the captured guest (what its kernel manages), bytes; null when the source does not say. */
  capturedMemTotal: number | null;
  /** Values the workload wrote to /proc/sys/vm/drop_caches, by app_io row, read from the strace log (empty without one). */
  dropValues: ReadonlyMap<number, string>;
  /** Where the inputs came from, for reports. */
  source: string;
  /** The files of the tables, for errors (default: the table names). */
  tableNames?: { appIo: string; guestRequests: string; attribution?: string };
}

const REQUEST_BYTES_WHY = `is more than one block request can hold (${MAX_REQUEST_BYTES} bytes: its byte count is an unsigned int)`;

/** Sum of `bytes` over the rows whose `op` is `op` (null bytes count 0). */
function sumBytes(t: Table, op: string, tableName: string): number {
  const ops = stringColumn(t, 'op');
  const want = ops.labels.indexOf(op);
  const bytes = boundedColumn(t, 'bytes', tableName, MAX_REQUEST_BYTES, REQUEST_BYTES_WHY);
  let s = 0;
  for (let i = 0; i < bytes.length; i++) if (ops.codes[i] === want && want >= 0) s += bytes[i]! || 0;
  return s;
}

/**
 * Measured guest-disk bytes. Reads attributed to file-system metadata or the journal are kept
 * apart (they do not depend on the page cache size in the model); data reads attributed to
 * readahead are counted (they give the readahead factor, calibration.ts).
 * @throws InputError naming the table, row and column of a byte count or row number out of bounds
 */
export function measuredGuestBytes(inp: Pick<WhatifInputs, 'guestRequests' | 'attribution' | 'tableNames'>): Measured {
  const guest = inp.guestRequests;
  const guestName = inp.tableNames?.guestRequests ?? 'guest_requests';
  let other = 0,
    readahead = 0;
  const a = inp.attribution;
  if (a) {
    const aName = inp.tableNames?.attribution ?? 'attribution';
    const layer = stringColumn(a, 'layer'),
      cause = stringColumn(a, 'cause'),
      lower = boundedColumn(a, 'lower_id', aName, 2 ** 31 - 1, 'is past any row of guest_requests'),
      bytes = boundedColumn(a, 'bytes', aName, MAX_REQUEST_BYTES, REQUEST_BYTES_WHY);
    const op = stringColumn(guest, 'op');
    const guestLayer = layer.labels.indexOf('guest');
    const readOp = op.labels.indexOf('read');
    // per cause label: 1 metadata or journal, 2 readahead, 0 neither
    const kind = cause.labels.map((c) => (c === 'journal' || c.startsWith('fs_metadata') ? 1 : c === 'readahead' ? 2 : 0));
    for (let i = 0; i < lower.length; i++) {
      if (layer.codes[i] !== guestLayer || guestLayer < 0) continue;
      if (op.codes[lower[i]!] !== readOp || readOp < 0) continue;
      const k = cause.codes[i]! < 0 ? 0 : kind[cause.codes[i]!]!;
      if (k === 1) other += bytes[i]! || 0;
      else if (k === 2) readahead += bytes[i]! || 0;
    }
  }
  return {
    guestReadBytes: sumBytes(guest, 'read', guestName) - other,
    guestWriteBytes: sumBytes(guest, 'write', guestName),
    guestOtherReadBytes: other,
    guestReadaheadBytes: readahead,
  };
}

/** Load from a capture bundle (a directory with manifest.json; analysed now) or an analyze output directory. */
export async function loadWhatifInputs(dir: string, log: (s: string) => void = () => {}): Promise<WhatifInputs> {
  if (existsSync(join(dir, 'manifest.json'))) {
    const manifest = readManifest(dir);
    if (manifest.guests.length !== 1) throw new InputError(dir, `whatif models one VM; this capture has ${manifest.guests.length}`);
    const res = await analyzeCapture(
      { kind: 'bundle', dir, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
      new IngestStats(),
      log,
    );
    const t = res.tables;
    if (!t.app_io) throw new InputError(dir, 'the capture has no application trace (strace): the guest page cache cannot be modelled');
    if (!t.guest_requests) throw new InputError(dir, 'the capture has no guest block trace');
    const g = manifest.guests[0]!;
    const strace = g.strace ? join(dir, g.strace.path) : null;
    return {
      appIo: t.app_io,
      guestRequests: t.guest_requests,
      attribution: t.attribution ?? null,
      dropValues: strace ? await readDropValues(dropCallRows(t.app_io), new Map([[basename(strace), strace]])) : new Map(),
      capturedGuestMem: manifest.lab?.vm_mem_bytes ?? g.mem_bytes ?? null,
      capturedMemTotal: g.mem_bytes ?? null,
      hostCacheMode: manifest.lab?.host_cache ?? g.image?.host_cache ?? null,
      source: dir,
      tableNames: { appIo: `${dir} (app_io)`, guestRequests: `${dir} (guest_requests)`, attribution: `${dir} (attribution)` },
    };
  }
  const load = (name: string) => {
    const p = join(dir, `${name}.arrow`);
    if (!existsSync(p)) throw new InputError(dir, `neither a capture bundle (manifest.json) nor an analyze output (${name}.arrow missing)`);
    return readArrowFile(p);
  };
  let capturedGuestMem: number | null = null;
  let hostCacheMode: 'writeback' | 'none' | null = null;
  const sp = join(dir, 'summary.json');
  if (existsSync(sp)) {
    const s = readSummaryJson(sp);
    capturedGuestMem = s.capture?.vm_mem_bytes ?? null;
    hostCacheMode = s.capture?.host_cache ?? null;
  }
  const guestRequests = load('guest_requests');
  const tableNames = {
    appIo: join(dir, 'app_io.arrow'),
    guestRequests: join(dir, 'guest_requests.arrow'),
    attribution: join(dir, 'attribution.arrow'),
  };
  // sizes from a file are checked before they drive the page streams (a damaged table: an error, not a memory blow-up)
  checkRequestRanges(guestRequests, tableNames.guestRequests);
  return {
    appIo: load('app_io'),
    guestRequests,
    tableNames,
    attribution: existsSync(join(dir, 'attribution.arrow')) ? readArrowFile(join(dir, 'attribution.arrow')) : null,
    dropValues: new Map(),
    capturedMemTotal: null,
    capturedGuestMem,
    hostCacheMode,
    source: dir,
  };
}
