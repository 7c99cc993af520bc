/**
 * The correlation's results as Arrow tables (links_app_guest, links_guest_host, lineage,
 * attribution), with the ids of the readers' tables (app_io.id, guest/host block_requests.id).
 *
 * Each function fills a TableBuilder of its table, row by row in every column at once, and hands
 * the builder back: `.finish()` makes the table in memory; a builder given spilling
 * (TableBuilder.spillTo) moves each full record batch to its scratch file as it fills
 * (spillFullBatches every SPILL_CHECK_ROWS rows), for tableBuilderWriter to write, so a table of
 * 100M rows never stands whole in memory. Both give the same bytes.
 */
import { TableBuilder } from '../table/table-builder.js';
import { CHUNK_ROWS } from '../table/column-builders.js';
import { linksAppGuestTable, LINK_HOWS } from '../table/schemas/links-app-guest.js';
import { linksGuestHostTable } from '../table/schemas/links-guest-host.js';
import { lineageTable } from '../table/schemas/lineage.js';
import { attributionTable } from '../table/schemas/attribution.js';
import { aggregateAttribution, type AttributedPieces } from './attribution.js';
import type { AnalysisResult, JoinLinks, VmInput, VmResult } from './analysis.js';
import type { LinkPieces } from './layer-link.js';
import { emptyLineage, lineageOutcome } from './lineage.js';
import type { TableSpec } from '../table/table-spec.js';
import type { BlockLayer } from './layers.js';

/** Rows between two calls of spillFullBatches (no more than a record batch is ever unspilled past a full one). */
const SPILL_CHECK_ROWS = Math.min(4096, CHUNK_ROWS);

/** Calls `b.spillFullBatches()` every SPILL_CHECK_ROWS rows (call once per row pushed to every column). */
function spillEvery(b: TableBuilder): () => void {
  let rows = 0;
  return () => {
    if (++rows === SPILL_CHECK_ROWS) {
      rows = 0;
      b.spillFullBatches();
    }
  };
}

/** Sum owned pieces per (lower, upper, how); calls emit for each link. */
function forEachLink(p: LinkPieces, emit: (L: number, u: number, how: number, bytes: number) => void): void {
  const us: number[] = [],
    hs: number[] = [],
    bs: number[] = [];
  for (let L = 0; L < p.first.length; L++) {
    us.length = 0;
    hs.length = 0;
    bs.length = 0;
    for (let k = p.first[L]!; k < p.first[L]! + p.count[L]!; k++) {
      const u = p.upper[k]!;
      if (u < 0) continue;
      const h = p.how[k]!;
      let r = 0;
      for (; r < us.length; r++) if (us[r] === u && hs[r] === h) break;
      if (r === us.length) {
        us.push(u);
        hs.push(h);
        bs.push(0);
      }
      bs[r] = bs[r]! + p.len[k]!;
    }
    for (let r = 0; r < us.length; r++) emit(L, us[r]!, hs[r]!, bs[r]!);
  }
}

/** A row writer of a links table (links_app_guest and links_guest_host have the same columns). */
function linkRowWriter(b: TableBuilder<typeof linksAppGuestTable> | TableBuilder<typeof linksGuestHostTable>) {
  const row = spillEvery(b);
  const up = b.number('upper_id'),
    low = b.number('lower_id'),
    vm = b.string('vm'),
    by = b.int64('bytes'),
    how = b.string('how');
  return (upperId: number, lowerId: number, vmName: string, bytes: number, h: number) => {
    up.push(upperId);
    low.push(lowerId);
    vm.push(vmName);
    by.pushSafeInteger(bytes);
    how.push(LINK_HOWS[h]!);
    row();
  };
}

/** links_app_guest: the app → guest pieces of each VM (`results[i].appGuest`, VmResult) summed per link. */
export function linksAppGuestRows(
  results: readonly VmResult[],
  vms: readonly VmInput[],
  b = new TableBuilder(linksAppGuestTable),
): TableBuilder<typeof linksAppGuestTable> {
  const push = linkRowWriter(b);
  results.forEach((v, vi) => {
    const app = vms[vi]!.app,
      g = vms[vi]!.guest;
    if (!v.appGuest || !app) return;
    forEachLink(v.appGuest, (L, u, h, n) => push(app.id[u]!, g.id[L]!, v.vm, n, h));
  });
  return b;
}

/** links_guest_host: the guest → host pieces (`guestOf`: global guest index → [vm, row]) summed per link. */
export function linksGuestHostRows(
  pieces: LinkPieces | null,
  guestOf: (u: number) => [number, number],
  vms: readonly VmInput[],
  host: BlockLayer,
  b = new TableBuilder(linksGuestHostTable),
): TableBuilder<typeof linksGuestHostTable> {
  const push = linkRowWriter(b);
  if (pieces)
    forEachLink(pieces, (L, u, h, n) => {
      const [vi, g] = guestOf(u);
      push(vms[vi]!.guest.id[g]!, host.id[L]!, vms[vi]!.vm, n, h);
    });
  return b;
}

export function attributionRows(
  r: AnalysisResult,
  vms: readonly VmInput[],
  host: BlockLayer | null,
  b = new TableBuilder(attributionTable),
): TableBuilder<typeof attributionTable> {
  const row = spillEvery(b);
  const layer = b.string('layer'),
    vm = b.string('vm'),
    low = b.number('lower_id'),
    cause = b.string('cause'),
    app = b.number('app_id'),
    by = b.int64('bytes');
  const add = (name: 'guest' | 'host', pieces: AttributedPieces, ids: Int32Array) => {
    const a = aggregateAttribution(pieces);
    for (let k = 0; k < a.length; k++) {
      layer.push(name);
      const v = a.vm[k]!;
      if (v >= 0) vm.push(vms[v]!.vm);
      else vm.pushNull();
      low.push(ids[a.lower[k]!]!);
      cause.push(r.names.list[a.cause[k]!]!);
      const g = a.app[k]!;
      if (g >= 0) {
        const [vi, row] = r.appOf(g);
        app.push(vms[vi]!.app!.id[row]!);
      } else app.pushNull();
      by.pushSafeInteger(a.bytes[k]!);
      row();
    }
  };
  r.vms.forEach((v, vi) => add('guest', v.guestPieces, vms[vi]!.guest.id));
  if (r.hostPieces && host) add('host', r.hostPieces, host.id);
  return b;
}

export function lineageRows(
  r: AnalysisResult,
  vms: readonly VmInput[],
  host: BlockLayer | null,
  b = new TableBuilder(lineageTable),
): TableBuilder<typeof lineageTable> {
  const row = spillEvery(b);
  const c = r.lineage;
  const col = {
    app_id: b.number('app_id'),
    vm: b.string('vm'),
    op: b.string('op'),
    app_bytes: b.int64('app_bytes'),
    mapped: b.int64('mapped_bytes'),
    gb: b.int64('guest_bytes'),
    gr: b.number('guest_requests'),
    hb: b.int64('host_bytes'),
    hr: b.number('host_requests'),
    outcome: b.string('outcome'),
    as: b.int64('app_start_ns'),
    ae: b.int64('app_end_ns'),
    gf: b.int64('guest_first_ns'),
    gl: b.int64('guest_last_ns'),
    hf: b.int64('host_first_ns'),
    hl: b.int64('host_last_ns'),
  };
  const time = (cb: typeof col.gf, base: bigint, t: number) => {
    if (Number.isNaN(t)) cb.pushNull();
    else cb.push(base + BigInt(Math.round(t)));
  };
  for (let a = 0; a < r.nApp; a++) {
    const [vi, i] = r.appOf(a);
    const v = vms[vi]!,
      app = v.app!;
    const bytes = app.bytes[i]!;
    col.app_id.push(app.id[i]!);
    col.vm.push(v.vm);
    col.op.push(app.opNames[app.opKey[i]!] ?? 'other');
    col.app_bytes.pushSafeInteger(Number.isNaN(bytes) ? 0 : bytes);
    const mapped = r.vms[vi]!.mapped[i] ?? 0;
    col.mapped.pushSafeInteger(mapped);
    col.gb.pushSafeInteger(c.guestBytes[a]!);
    col.gr.push(c.guestRequests[a]!);
    col.hb.pushSafeInteger(c.hostBytes[a]!);
    col.hr.push(c.hostRequests[a]!);
    col.outcome.push(lineageOutcome(c, a, app.op[i]!, bytes, v.fileMaps ? mapped : 0, app.direct[i] === 1, host !== null));
    time(col.as, app.baseNs, app.t0[i]!);
    time(col.ae, app.baseNs, app.t1[i]!);
    time(col.gf, v.guest.baseNs, c.guestFirst[a]!);
    time(col.gl, v.guest.baseNs, c.guestLast[a]!);
    time(col.hf, host?.baseNs ?? 0n, c.hostFirst[a]!);
    time(col.hl, host?.baseNs ?? 0n, c.hostLast[a]!);
    row();
  }
  return b;
}

/** Where emitResultTables puts the tables: a builder per table (spilling or not) and the taker of each one built. */
export interface ResultTableSink {
  builder<T extends TableSpec>(spec: T, name: string): TableBuilder<T>;
  done(name: string, built: TableBuilder): void;
}

function emit<T extends TableSpec>(sink: ResultTableSink, name: string, spec: T, fill: (b: TableBuilder<T>) => void): void {
  const b = sink.builder(spec, name);
  try {
    fill(b);
  } catch (e) {
    b.close();
    throw e;
  }
  sink.done(name, b);
}

/** The links table of one join as analyzeLayers hands it over (AnalysisOptions.onLinks): links_app_guest with an application layer, links_guest_host with a host layer. */
export function emitLinksTable(links: JoinLinks, vms: readonly VmInput[], host: BlockLayer | null, sink: ResultTableSink): void {
  if (links.name === 'links_app_guest') {
    if (vms.some((v) => v.app)) emit(sink, links.name, linksAppGuestTable, (b) => linksAppGuestRows(links.vms, vms, b));
  } else if (host) emit(sink, links.name, linksGuestHostTable, (b) => linksGuestHostRows(links.pieces, links.guestOf, vms, host, b));
}

/**
 * The tables made after the joins, one at a time, each handed to `sink.done` as soon as it is
 * built: lineage (with an application layer), then attribution; `r.lineage` is let go of once its
 * table is built. The links tables go out as each join ends (AnalysisOptions.onLinks with
 * emitLinksTable). A builder that fails is closed (its scratch file goes).
 */
export function emitResultTables(r: AnalysisResult, vms: readonly VmInput[], host: BlockLayer | null, sink: ResultTableSink): void {
  if (vms.some((v) => v.app)) {
    emit(sink, 'lineage', lineageTable, (b) => lineageRows(r, vms, host, b));
    r.lineage = emptyLineage();
  }
  emit(sink, 'attribution', attributionTable, (b) => attributionRows(r, vms, host, b));
}
