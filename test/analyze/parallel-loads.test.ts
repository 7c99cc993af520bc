/**
 * The traces and strace logs parsed in worker threads (the compiled package, as the CLI runs it)
 * give the same tables, byte for byte, and the same counters as parsing them in this thread, also
 * through scratch files with the input and output tables released early (as the CLI runs it); a
 * broken input still fails with the error that names the file.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tableToIPC } from '@uwdata/flechette';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture } from '../../src/analyze/analyze-capture.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import type { tableBuilderWriter } from '../../src/table/arrow-file.js';
import type { ParallelLoads } from '../../src/analyze/parallel-loads.js';

const DIST = resolve('dist/analyze/analyze-capture.js');
const DIR = 'data/m96-2vms';
const work = mkdtempSync(join(tmpdir(), 'iol-parallel-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Analyze = typeof analyzeCapture;
type Stats = typeof IngestStats;
type BuilderWriter = typeof tableBuilderWriter;
async function built(): Promise<{ analyze: Analyze; Stats: Stats; builderWriter: BuilderWriter }> {
  const a = (await import(pathToFileURL(DIST).href)) as { analyzeCapture: Analyze };
  const s = (await import(pathToFileURL(resolve('dist/util/ingest-stats.js')).href)) as { IngestStats: Stats };
  const w = (await import(pathToFileURL(resolve('dist/table/arrow-file.js')).href)) as { tableBuilderWriter: BuilderWriter };
  return { analyze: a.analyzeCapture, Stats: s.IngestStats, builderWriter: w.tableBuilderWriter };
}

/** analyze's input for a capture bundle, with every option left to the bundle. */
const bundleInput = (dir: string) => ({
  kind: 'bundle' as const,
  dir,
  manifest: readManifest(dir),
  appClockOffsetNs: undefined,
  clockOffsetNs: undefined,
  guestMount: undefined,
});

describe.skipIf(!existsSync(DIST) || !existsSync(DIR))('parallel input loads', () => {
  it('worker threads give the tables and counters of the in-thread loaders (two VMs, host, strace)', async () => {
    const inp = bundleInput(DIR);
    const { analyze, Stats } = await built();
    const sW = new Stats();
    const w = await analyze(inp, sW, () => {}, { jobs: 3 });
    const s1 = new IngestStats();
    const one = await analyzeCapture(inp, s1, () => {}, { jobs: 1 });
    expect(Object.keys(w.tables).sort()).toEqual(Object.keys(one.tables).sort());
    for (const name of Object.keys(one.tables)) {
      expect(
        Buffer.from(tableToIPC(w.tables[name]!, { format: 'file' })!).equals(
          Buffer.from(tableToIPC(one.tables[name]!, { format: 'file' })!),
        ),
        name,
      ).toBe(true);
    }
    expect(JSON.stringify(sW.list())).toBe(JSON.stringify(s1.list()));
    expect(w.summary).toEqual(one.summary);
  });

  it('with scratch files and early release, as the CLI runs it: the same tables, each once, and the same summary', async () => {
    const inp = bundleInput(DIR);
    const { analyze, Stats, builderWriter } = await built();
    const scratchDir = mkdtempSync(join(work, 'scratch-'));
    const released: Record<string, Uint8Array> = {};
    const w = await analyze(inp, new Stats(), () => {}, {
      jobs: 3,
      scratch: (name) => join(scratchDir, `.${name}.scratch`),
      release: (name, table) => {
        expect(released[name], name).toBeUndefined();
        if ('spillTo' in table) {
          // a table the correlation made: a builder with its record batches in a scratch file
          expect(table.spilling, name).toBe(true);
          const file = join(work, `${name}.arrow`);
          const fd = openSync(file, 'w');
          try {
            builderWriter(table)(fd);
          } finally {
            closeSync(fd);
            table.close();
          }
          released[name] = readFileSync(file);
        } else released[name] = tableToIPC(table, { format: 'file' })!;
      },
    });
    const one = await analyzeCapture(inp, new IngestStats(), () => {}, { jobs: 1 });
    // the inputs of both VMs and the host are released, and the correlation's tables as they are
    // built; the rest (fs and image maps) come back as before
    expect(Object.keys(released).sort()).toEqual([
      'app_io_vm0',
      'app_io_vm1',
      'attribution',
      'guest_requests_vm0',
      'guest_requests_vm1',
      'host_requests',
      'lineage',
      'links_app_guest',
      'links_guest_host',
    ]);
    expect([...Object.keys(released), ...Object.keys(w.tables)].sort()).toEqual(Object.keys(one.tables).sort());
    for (const name of Object.keys(one.tables)) {
      const got = released[name] ?? tableToIPC(w.tables[name]!, { format: 'file' })!;
      expect(Buffer.from(got).equals(Buffer.from(tableToIPC(one.tables[name]!, { format: 'file' })!)), name).toBe(true);
    }
    expect(w.summary).toEqual(one.summary);
    expect(readdirSync(scratchDir)).toEqual([]);
  });

  it('a table never taken: close() ends its worker, and the scratch file it waited in is closed with it (Node closes the descriptors a worker opened when it ends)', async () => {
    const { ParallelLoads: Loads } = (await import(pathToFileURL(resolve('dist/analyze/parallel-loads.js')).href)) as {
      ParallelLoads: typeof ParallelLoads;
    };
    const scratchDir = mkdtempSync(join(work, 'untaken-'));
    // descriptors of this process (every thread's) open on a file made in scratchDir (unlinked since)
    const openScratch = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(scratchDir);
        } catch {
          return false;
        }
      }).length;
    const loads = new Loads({ jobs: 2 });
    expect(loads.usesWorkers).toBe(true);
    const host = readManifest(DIR).host!;
    const job = loads.start({
      kind: 'block_requests',
      path: join(DIR, host.block_trace.path),
      dev: host.disk.dev,
      scratch: { pages: join(scratchDir, 'pages'), table: join(scratchDir, 'table') },
    });
    await job.done;
    // the table waits in its scratch file, held by the worker
    expect(openScratch()).toBe(1);
    await loads.close();
    expect(openScratch()).toBe(0);
    expect(readdirSync(scratchDir)).toEqual([]);
  });

  it('an unreadable trace in a worker fails with the error naming the file; the other workers stop', async () => {
    const dir = join(work, 'broken');
    mkdirSync(dir);
    for (const sub of ['', 'host', 'vm0', 'vm1']) mkdirSync(join(dir, sub), { recursive: true });
    const copy = (rel: string) => copyFileSync(join(DIR, rel), join(dir, rel));
    for (const sub of ['host', 'vm0', 'vm1']) for (const f of readdirSync(join(DIR, sub))) copy(join(sub, f));
    copy('manifest.json');
    const manifest = readManifest(dir);
    const trace = join(dir, manifest.guests[1]!.block_trace.path);
    writeFileSync(trace, 'this is not a block trace\n'.repeat(3));
    const { analyze, Stats } = await built();
    const inp = bundleInput(dir);
    const err = await analyze(inp, new Stats(), () => {}, { jobs: 3 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).not.toBeNull();
    expect(err!.name).toBe('InputError');
    expect(err!.message).toContain(trace);
  });
});
