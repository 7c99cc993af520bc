/**
 * The correlation's tables written from a spilling builder (record batches moved to a scratch file
 * as they fill, as `analyze` writes them) are the bytes of the same table built in memory, for
 * tables of more than one record batch; and releaseBuffers frees only what it is given.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeLayers, type VmInput } from '../../src/correlate/analysis.js';
import { Op } from '../../src/correlate/layer-link.js';
import type { BlockLayer } from '../../src/correlate/layers.js';
import { RangeMap } from '../../src/correlate/range-map.js';
import { attributionRows, emitLinksTable, lineageRows, linksAppGuestRows, linksGuestHostRows } from '../../src/correlate/result-tables.js';
import { CHUNK_ROWS } from '../../src/table/column-builders.js';
import { TableBuilder } from '../../src/table/table-builder.js';
import { arrowFileWriter, tableBuilderWriter } from '../../src/table/arrow-file.js';
import { linksAppGuestTable } from '../../src/table/schemas/links-app-guest.js';
import { linksGuestHostTable } from '../../src/table/schemas/links-guest-host.js';
import { lineageTable } from '../../src/table/schemas/lineage.js';
import { attributionTable } from '../../src/table/schemas/attribution.js';
import { releaseArrays } from '../../src/util/release-memory.js';
import { writeFileAtomically } from '../../src/io/output-folder.js';
import { growFloat64, growInt32 } from '../../src/util/growable.js';

const work = mkdtempSync(join(tmpdir(), 'iol-result-tables-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const K = 4096;
const US = 1000;
/** More application reads than a record batch holds, so every table spills at least one batch. */
const N = CHUNK_ROWS + 20_000;

function block(n: number, startOf: (i: number) => number, t0: (i: number) => number, t1: (i: number) => number): BlockLayer {
  return {
    length: n,
    id: Int32Array.from({ length: n }, (_, i) => i),
    start: Float64Array.from({ length: n }, (_, i) => startOf(i)),
    end: Float64Array.from({ length: n }, (_, i) => startOf(i) + K),
    op: new Uint8Array(n).fill(Op.Read),
    issue: Float64Array.from({ length: n }, (_, i) => t0(i)),
    complete: Float64Array.from({ length: n }, (_, i) => t1(i)),
    readahead: new Uint8Array(n),
    meta: new Uint8Array(n),
    baseNs: 1_000_000_000n,
  };
}

/** N reads of 4 KiB, each going to its own guest request and that one's own host request (cache=none). */
function stack(): { vm: VmInput; host: BlockLayer } {
  const vm: VmInput = {
    vm: 'vm0',
    app: {
      vm: 'vm0',
      length: N,
      id: Int32Array.from({ length: N }, (_, i) => 10 + i),
      op: new Uint8Array(N).fill(Op.Read),
      opKey: new Uint8Array(N),
      opNames: ['read'],
      file: new Int32Array(N),
      files: ['/mnt/data/f'],
      offset: Float64Array.from({ length: N }, (_, i) => i * K),
      bytes: new Float64Array(N).fill(K),
      t0: Float64Array.from({ length: N }, (_, i) => i * 100 * US),
      t1: Float64Array.from({ length: N }, (_, i) => i * 100 * US + 50 * US),
      direct: new Uint8Array(N),
      baseNs: 1_000_000_000n,
    },
    guest: block(
      N,
      (i) => (1 << 20) + i * K,
      (i) => i * 100 * US + 10 * US,
      (i) => i * 100 * US + 40 * US,
    ),
    fileMaps: [new RangeMap([0], [1 << 20], [N * K])],
    guestRegions: null,
    appClock: { userNs: 0n },
    guestToHost: new RangeMap([0], [64 << 20], [(1 << 20) + N * K]),
    hostClock: { userNs: 0n },
    hostDirect: true,
  };
  const host = block(
    N,
    (i) => (64 << 20) + (1 << 20) + i * K,
    (i) => i * 100 * US + 15 * US,
    (i) => i * 100 * US + 35 * US,
  );
  return { vm, host };
}

/** The bytes a file writer gives, through the project's own file writing. */
function bytesOf(write: (fd: number) => void, name: string): Buffer {
  const file = join(work, name);
  writeFileAtomically(file, write);
  return readFileSync(file);
}

describe('result tables from a spilling builder', () => {
  const { vm, host } = stack();
  const r = analyzeLayers([vm], { host, regions: null });
  const cases = [
    { name: 'links_app_guest', spec: linksAppGuestTable, rows: (b: TableBuilder) => linksAppGuestRows(r.vms, [vm], b as never) },
    {
      name: 'links_guest_host',
      spec: linksGuestHostTable,
      rows: (b: TableBuilder) => linksGuestHostRows(r.guestHost, r.guestOf, [vm], host, b as never),
    },
    { name: 'lineage', spec: lineageTable, rows: (b: TableBuilder) => lineageRows(r, [vm], host, b as never) },
    { name: 'attribution', spec: attributionTable, rows: (b: TableBuilder) => attributionRows(r, [vm], host, b as never) },
  ];
  for (const c of cases) {
    it(`${c.name}: the same bytes as the table built in memory`, () => {
      const inMemory = c.rows(new TableBuilder(c.spec));
      const table = inMemory.finish();
      expect(table.numRows).toBeGreaterThan(CHUNK_ROWS);
      const spilling = new TableBuilder(c.spec);
      spilling.spillTo(join(work, `${c.name}.scratch`));
      try {
        c.rows(spilling);
        // more than one record batch went to the scratch file while the rows were pushed
        expect(spilling.spilledBytes).toBeGreaterThan(0);
        const a = bytesOf(arrowFileWriter(table), `${c.name}.memory.arrow`);
        const b = bytesOf(tableBuilderWriter(spilling), `${c.name}.spilled.arrow`);
        expect(b.length).toBe(a.length);
        expect(b.equals(a)).toBe(true);
      } finally {
        spilling.close();
      }
    });
  }
  it('onLinks: the links table of each join as it comes, the same bytes, and the pieces let go of after it', () => {
    const got: Record<string, Buffer> = {};
    const r2 = analyzeLayers(
      [vm],
      { host, regions: null },
      {
        onLinks: (links) => {
          // the pieces are still there while the callback runs
          if (links.name === 'links_app_guest') expect(links.vms[0]!.appGuest?.length).toBeGreaterThan(0);
          else expect(links.pieces.length).toBeGreaterThan(0);
          emitLinksTable(links, [vm], host, {
            builder: (spec) => new TableBuilder(spec),
            done: (name, b) => {
              got[name] = bytesOf(arrowFileWriter(b.finish()), `${name}.onlinks.arrow`);
            },
          });
        },
      },
    );
    expect(Object.keys(got).sort()).toEqual(['links_app_guest', 'links_guest_host']);
    expect(got['links_app_guest']!.equals(bytesOf(arrowFileWriter(linksAppGuestRows(r.vms, [vm]).finish()), 'a.arrow'))).toBe(true);
    const gh = linksGuestHostRows(r.guestHost, r.guestOf, [vm], host).finish();
    expect(got['links_guest_host']!.equals(bytesOf(arrowFileWriter(gh), 'b.arrow'))).toBe(true);
    expect(r2.vms[0]!.appGuest).toBeNull();
    expect(r2.guestHost).toBeNull();
    // the figures the summary reads were taken before
    expect(r2.links).toEqual(r.links);
    expect(r.links.hostCache).toEqual({ hostReadFromGuestReads: N * K, guestReadsOnHost: N, guestReadHostHits: 0 });
  });
  it('links every read through both layers (the stack is what the tables above describe)', () => {
    expect(r.lineage.guestBytes.every((x) => x === K)).toBe(true);
    expect(r.lineage.hostBytes.every((x) => x === K)).toBe(true);
  });
});

describe('releaseArrays', () => {
  it('empties the arrays it is given (their memory is handed back) and leaves others and small ones alone', () => {
    const big = new Float64Array(1 << 16);
    const view = new Float64Array(big.buffer, 8, 10);
    const other = new Float64Array(1 << 16).fill(1);
    const small = new Int32Array(16).fill(7);
    releaseArrays(big, small, null, undefined);
    expect(big.length).toBe(0);
    expect(view.length).toBe(0);
    expect(big.buffer.byteLength).toBe(0);
    expect(other.length).toBe(1 << 16);
    expect(small.length).toBe(16);
    expect(small[3]).toBe(7);
  });
  it('GrowableArray.take: the values in an array of their own, the grown storage handed back', () => {
    const g = growFloat64(16);
    for (let i = 0; i < 10_000; i++) g.push(i * 1.5);
    const storage = g.data;
    expect(storage.length).toBeGreaterThan(10_000);
    const out = g.take();
    expect(out.length).toBe(10_000);
    expect(out[9_999]).toBe(9_999 * 1.5);
    expect(storage.length).toBe(0);
    // full storage is the result itself: nothing to hand back
    const full = growInt32(16);
    for (let i = 0; i < 16; i++) full.push(i);
    const data = full.data;
    expect(full.take()).toBe(data);
    expect(data.length).toBe(16);
  });
  it('leaves a buffer it cannot detach (shared memory) as it is', () => {
    const shared = new Int32Array(new SharedArrayBuffer(1 << 20));
    releaseArrays(shared);
    expect(shared.length).toBe(1 << 18);
  });
});
