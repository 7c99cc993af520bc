/**
 * The memory what-if on workloads that drop the guest page cache (issue 13, point 7), against the
 * bundled real captures (data/*-dropcache*): ffsb-lite creates its files, syncs, writes 3 to
 * /proc/sys/vm/drop_caches, then reads and writes at random. Oracles: the guest-disk reads
 * measured in the capture at the other memory size (guest block trace), and the workload's own log
 * (workload.log, written by the workload itself, not by strace).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryModel } from '../../src/whatif/memory-model.js';
import { appPageAccesses, PAGE_SIZE } from '../../src/whatif/page-accesses.js';
import { loadWhatifInputs, measuredGuestBytes, memoryModelFor, type WhatifInputs } from '../../src/analyze/whatif-inputs.js';
import { memoryWhatifReport } from '../../src/notebook/memory-whatif.js';

const pairs = [
  ['m128-dropcache', 'm512-dropcache'],
  ['m128-dropcache', 'm1g-dropcache'],
] as const;
const bundles = [...new Set(pairs.flat())];
const haveData = bundles.every((r) => existsSync(`data/${r}/manifest.json`));
const MiB = 2 ** 20;

const loaded = new Map<string, WhatifInputs>();
async function capture(name: string): Promise<WhatifInputs> {
  if (!loaded.has(name)) loaded.set(name, await loadWhatifInputs(`data/${name}`));
  return loaded.get(name)!;
}
const totalGuestReads = (inp: WhatifInputs) => {
  const m = measuredGuestBytes(inp);
  return m.guestReadBytes + (m.guestOtherReadBytes ?? 0);
};

/** Pages of the workload's file set, from the manifest's workload parameters. */
function fileSetPages(name: string): number {
  const w = (JSON.parse(readFileSync(`data/${name}/manifest.json`, 'utf8')) as { lab: { workload: { files: number; file_bytes: number } } })
    .lab.workload;
  return (w.files * w.file_bytes) / PAGE_SIZE;
}

/**
 * From the workload's own log (`seq phase op file offset size ret start_ns end_ns`): reads, after
 * its drop_caches, of 4 KiB pages not read or written since the drop.
 */
function readsOfPagesUntouchedSinceDrop(name: string): { reads: number; drops: number } {
  const text = gunzipSync(readFileSync(`data/${name}/vm0/workload.log.gz`)).toString('utf8');
  let dropped = false,
    reads = 0,
    drops = 0;
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [, , op, file, offset, size] = line.split('\t');
    if (op === 'drop_caches') {
      dropped = true;
      drops++;
      seen.clear();
      continue;
    }
    if (op !== 'read' && op !== 'write') continue;
    for (let p = Math.floor(Number(offset) / PAGE_SIZE); p <= Math.floor((Number(offset) + Number(size) - 1) / PAGE_SIZE); p++) {
      const key = `${file}:${p}`;
      if (dropped && op === 'read' && !seen.has(key)) reads++;
      seen.add(key);
    }
  }
  return { reads, drops };
}

describe.skipIf(!haveData)('memory what-if with a cache drop in the trace', () => {
  for (const [small, large] of pairs) {
    it(`predicts ${large} from ${small} and the reverse within 20%`, async () => {
      const s = await capture(small),
        l = await capture(large);
      for (const [from, to] of [
        [s, l],
        [l, s],
      ] as const) {
        const { model } = memoryModelFor(from);
        const p = model.predict([to.capturedGuestMem!], [0])[0]!;
        const measured = totalGuestReads(to);
        expect(
          Math.abs(p.predicted.guest_read_bytes - measured) / measured,
          `${from.source} -> ${to.source}: predicted ${p.predicted.guest_read_bytes}, measured ${measured}`,
        ).toBeLessThanOrEqual(0.2);
        // the drop is in the trace: nothing about the cache at the start is assumed
        expect(model.cache.start_basis).toBe('none');
        expect(p.unchecked).toEqual([]);
      }
    }, 300_000);
  }

  it('finds the drop, its value and its effect as the workload log and the manifest state them', async () => {
    for (const name of bundles) {
      const inp = await capture(name);
      const { model } = memoryModelFor(inp);
      const manifest = JSON.parse(readFileSync(`data/${name}/manifest.json`, 'utf8')) as { lab: { workload: { drop_caches: boolean } } };
      expect(manifest.lab.workload.drop_caches).toBe(true);
      const fromLog = readsOfPagesUntouchedSinceDrop(name);
      expect(model.cache.drops.length).toBe(fromLog.drops);
      const d = model.cache.drops[0]!;
      expect(d.value).toBe('3');
      expect(d.frees_page_cache).toBe(true);
      // ffsb-lite fsyncs every file and calls sync() before the drop: every page it wrote is clean and freed
      expect(d.dirty_pages_kept).toBe(0);
      expect(d.pages_dropped).toBe(fileSetPages(name));
      expect(model.cache.read_pages_after_drop).toBe(fromLog.reads);
    }
  }, 300_000);

  it('without the drop the model makes the error of the issue (reads served by a cache that was dropped), and says the trace does not explain the reads', async () => {
    const blindModel = (inp: WhatifInputs) => {
      const app = appPageAccesses(inp.appIo);
      return new MemoryModel({
        app: { ...app, drops: [] },
        capturedGuestMem: inp.capturedGuestMem!,
        measured: measuredGuestBytes(inp),
        hostCacheMode: 'writeback',
        capturedMemTotal: inp.capturedMemTotal,
      });
    };
    for (const [small, large] of pairs) {
      const s = await capture(small),
        l = await capture(large);
      const p = blindModel(s).predict([l.capturedGuestMem!], [0])[0]!.predicted.guest_read_bytes;
      expect(p).toBeLessThan(0.5 * totalGuestReads(l));
    }
    // from the large run the hidden drop shows: the reads need a cache far smaller than the guest's
    const fromLarge = blindModel(await capture('m512-dropcache'));
    expect(fromLarge.calibration.method).toBe('fitted');
    expect(fromLarge.cache.summary).toMatch(/read more than the trace explains/);
    expect(fromLarge.predict([128 * MiB], [0])[0]!.unchecked).toContain('cache_outside_trace');
  }, 300_000);

  it('flags the predictions that rest on what the trace cannot check', async () => {
    const inp = await capture('m128-dropcache');
    const app = appPageAccesses(inp.appIo);
    const base = {
      capturedGuestMem: inp.capturedGuestMem!,
      measured: measuredGuestBytes(inp),
      hostCacheMode: 'writeback' as const,
      capturedMemTotal: inp.capturedMemTotal,
    };
    const sizes = [128 * MiB, 1024 * MiB];
    // the drop's value not read (an analysis without the strace log): taken to free the cache, and said so
    const noValue = new MemoryModel({ app, ...base });
    expect(noValue.cache.drops[0]!.value).toBeNull();
    for (const p of noValue.predict(sizes, [0])) expect(p.unchecked).toContain('drop_value_unknown');
    // a drop of slab objects only ("2") leaves the page cache: the reads after it hit in a large cache
    const slabOnly = new MemoryModel({ app, ...base, dropValues: new Map([[app.drops[0]!.row, '2']]) });
    expect(slabOnly.cache.drops[0]!.frees_page_cache).toBe(false);
    expect(slabOnly.cache.read_pages_after_drop).toBe(0);
    // no syncs in the trace: the created pages are still dirty at the drop, kept, and flagged
    const unsynced = new MemoryModel({ app: { ...app, syncs: [] }, ...base, dropValues: inp.dropValues });
    expect(unsynced.cache.drops[0]!.dirty_pages_kept).toBe(fileSetPages('m128-dropcache'));
    expect(unsynced.cache.drops[0]!.pages_dropped).toBe(0);
    expect(unsynced.predict([1024 * MiB], [0])[0]!.unchecked).toContain('dirty_at_drop');
    // the trace from the drop on, without the drop: its reads touch pages it did not write: cold start assumed, flagged
    const at = app.drops[0]!.at;
    const tail = {
      ...app,
      pages: app.pages.subarray(at),
      isWrite: app.isWrite.subarray(at),
      row: app.row.subarray(at),
      drops: [],
      syncs: [],
    };
    const coldStart = new MemoryModel({ app: tail, ...base });
    expect(coldStart.cache.start_basis).toBe('assumed');
    expect(coldStart.cache.start_dependent_read_pages).toBe(readsOfPagesUntouchedSinceDrop('m128-dropcache').reads);
    expect(coldStart.cache.summary).toMatch(/assumed cold/);
    for (const p of coldStart.predict(sizes, [0])) expect(p.unchecked).toContain('cold_start');
  }, 300_000);

  it('says what it assumed in the command output, the JSON and the notebook helper', async () => {
    const text = execFileSync(
      process.execPath,
      ['dist/cli/main.js', 'whatif', 'data/m128-dropcache', '--guest-mem', '128M,512M', '--host-cache', '0'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(text).toMatch(
      new RegExp(
        `^cache: cache at the trace's start: does not matter .*dropped the page cache at \\+[0-9.]+ s \\(drop_caches, value 3\\): ${fileSetPages('m128-dropcache')} clean pages freed, 0 dirty kept`,
        'm',
      ),
    );
    const json = JSON.parse(
      execFileSync(
        process.execPath,
        ['dist/cli/main.js', 'whatif', 'data/m128-dropcache', '--guest-mem', '128M,512M', '--host-cache', '0', '--json'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      ),
    ) as {
      cache: { start: string; start_basis: string; drops: { value: string }[]; summary: string };
      predictions: { guest_mem: number; unchecked: string[]; predicted: { guest_read_bytes: number } }[];
    };
    expect(json.cache.start).toBe('cold');
    expect(json.cache.start_basis).toBe('none');
    expect(json.cache.drops.map((d) => d.value)).toEqual(['3']);
    const report = await memoryWhatifReport('data/m128-dropcache', { guestMem: ['128M', '512M'], hostCache: ['0'] });
    expect(report.cache.summary).toBe(json.cache.summary);
    const guestReads = report.rows.filter((r) => r.layer === 'guest' && r.direction === 'read');
    expect(guestReads.map((r) => [r.guest_mem_mib, r.bytes, r.unchecked])).toEqual(
      json.predictions.map((p) => [p.guest_mem / MiB, p.predicted.guest_read_bytes, p.unchecked.join(',')]),
    );
  }, 300_000);

  it('reads the drop value from --strace when given an analyze output, which does not keep the log', () => {
    const out = mkdtempSync(join(tmpdir(), 'whatif-drop-'));
    try {
      execFileSync(process.execPath, ['dist/cli/main.js', 'analyze', 'data/m128-dropcache', '-o', out], { stdio: 'ignore' });
      const whatif = (...extra: string[]) =>
        JSON.parse(
          execFileSync(
            process.execPath,
            ['dist/cli/main.js', 'whatif', out, '--guest-mem', '512M', '--host-cache', '0', '--json', ...extra],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
          ),
        ) as {
          cache: { drops: { value: string | null }[] };
          predictions: { unchecked: string[] }[];
        };
      const blind = whatif();
      expect(blind.cache.drops.map((d) => d.value)).toEqual([null]);
      expect(blind.predictions[0]!.unchecked).toEqual(['drop_value_unknown']);
      const told = whatif('--strace', 'data/m128-dropcache/vm0/app.strace.gz');
      expect(told.cache.drops.map((d) => d.value)).toEqual(['3']);
      expect(told.predictions[0]!.unchecked).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
