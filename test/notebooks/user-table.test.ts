/**
 * The tables notebooks get (Capture.table: apache-arrow Tables of exact numbers, times since the
 * capture's start) against the files themselves read twice: by apache-arrow's own reader (the
 * reference implementation) and by flechette (the core's reader). Every table `iolineage analyze`
 * writes, for a one-VM and a two-VM bundle: same rows, same columns, and every value equal to the
 * 64-bit integer in the file (minus the column's base for times, checked with BigInt arithmetic).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { openCapture, timeColumnsStart } from '../../src/notebook/open-capture.js';
import { captureTimeBases, toLowerClock, toUpperClock } from '../../src/notebook/capture-timeline.js';
import { clockDomainOf, toUserTable } from '../../src/notebook/user-table.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

function analyze(bundle: string, out: string): void {
  const r = spawnSync(process.execPath, [cli, 'analyze', join(root, 'data', bundle), '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`analyze ${bundle}: ${r.stderr.slice(-1500)}`);
}

describe.each(['m128-buffered', 'm96-2vms'])('Capture.table on the analysis of data/%s', (bundle) => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'iol-user-table-'));
    analyze(bundle, out);
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('hands out every table with the values of the file, exactly', () => {
    const bad: string[] = [];
    const check = (got: unknown, want: unknown, what: string) => { if (!(got === want || (got == null && want == null)) && bad.length < 5) bad.push(`${what}: ${String(got)} != ${String(want)}`); };
    for (const vm of openCapture(out).vms) {
      const capture = openCapture(out, { vm });
      expect(capture.files.size).toBeGreaterThan(8);
      for (const [stem, file] of capture.files) {
        // per-VM tables of another VM are reached through that VM's capture
        if (capture.vms.some((v) => v !== vm && stem.endsWith(`_${v}`))) continue;
        const name = capture.vms.reduce((s, v) => s.replace(new RegExp(`_${v}$`), ''), stem);
        const user = capture.table(name);
        const reference = arrow.tableFromIPC(readFileSync(file));
        const core = readArrowFile(file);
        expect(user.numRows, stem).toBe(reference.numRows);
        expect(user.numRows, stem).toBe(core.numRows);
        expect(user.schema.fields.map((f) => f.name), stem).toEqual(reference.schema.fields.map((f) => f.name));
        const vmColumn = reference.getChild('vm');
        for (const field of reference.schema.fields) {
          const got = user.getChild(field.name)!;
          const want = reference.getChild(field.name)!;
          const flech = core.getChild(field.name)!;
          const isInt64 = arrow.DataType.isInt(field.type) && field.type.bitWidth === 64;
          const isTime = isInt64 && field.metadata.get('clock') !== undefined && field.metadata.get('unit') === 'ns';
          const baseText = user.schema.fields.find((f) => f.name === field.name)!.metadata.get('iolineage.time_base_ns');
          const anchors = new Map<string, { raw: bigint; user: number }>();
          for (let i = 0; i < reference.numRows; i++) {
            const w = want.get(i);
            check(flech.at(i), w, `${stem}.${field.name}[${i}] flechette`);
            const g = got.get(i);
            if (!isInt64) {
              check(g, w, `${stem}.${field.name}[${i}]`);
              continue;
            }
            if (w === null) { expect(g, `${stem}.${field.name}[${i}]`).toBeNull(); continue; }
            check(typeof g, 'number', `${stem}.${field.name} is a number`);
            if (!isTime) {
              check(BigInt(g as number), w, `${stem}.${field.name}[${i}]`);
              continue;
            }
            if (baseText !== undefined) check(BigInt(g as number) + BigInt(baseText), w, `${stem}.${field.name}[${i}]`);
            // with one clock per VM: differences within a VM are the file's, exactly
            const rowVm = vmColumn ? String(vmColumn.get(i)) : '';
            const anchor = anchors.get(rowVm);
            if (!anchor) anchors.set(rowVm, { raw: w as bigint, user: g as number });
            else check(BigInt((g as number) - anchor.user), (w as bigint) - anchor.raw, `${stem}.${field.name}[${i}]`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  }, 300_000);

  it('passes to aq.fromArrow, and Arquero sums equal the file\'s int64 sums', () => {
    const capture = openCapture(out);
    const lineage = aq.fromArrow(capture.table('lineage'));
    const ref = arrow.tableFromIPC(readFileSync(capture.fileOf('lineage')));
    let host = 0n, guest = 0n;
    for (const v of ref.getChild('host_bytes')!) host += v as bigint;
    for (const v of ref.getChild('guest_bytes')!) guest += v as bigint;
    const sums = lineage.rollup({ host: aq.op.sum('host_bytes'), guest: aq.op.sum('guest_bytes') }).object() as { host: number; guest: number };
    expect(BigInt(sums.host)).toBe(host);
    expect(BigInt(sums.guest)).toBe(guest);
    expect(capture.timeOrigin).toMatch(/host clock/);
  });

  it('finds each layer table\'s first time from its time columns alone, as a scan of the whole table gives', () => {
    const capture = openCapture(out);
    let checked = 0;
    for (const stem of ['app_io', 'guest_requests', 'host_requests', 'lineage', 'attribution']) {
      const path = capture.fileOf(stem);
      const ref = arrow.tableFromIPC(readFileSync(path));
      for (const domain of ['app', 'guest', 'host', 'trace'] as const) {
        const isDomain = (clock: string) => clockDomainOf(clock, stem) === domain;
        let min: bigint | null = null;
        for (const f of ref.schema.fields) {
          const clock = f.metadata.get('clock');
          if (!clock || f.metadata.get('unit') !== 'ns' || !isDomain(clock)) continue;
          for (const v of ref.getChild(f.name)!) if (v !== null && (min === null || (v as bigint) < min)) min = v as bigint;
        }
        expect(timeColumnsStart(path, isDomain), `${stem} ${domain}`).toBe(min);
        if (min !== null) checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('puts the three clocks on one timeline: each layer\'s first time since the start is >= 0 and one of them is 0', () => {
    const capture = openCapture(out);
    const mins: number[] = [];
    for (const [table, column] of [['app_io', 'ts_ns'], ['guest_requests', 'queue_ns'], ['host_requests', 'queue_ns']] as const) {
      const t = aq.fromArrow(capture.table(table));
      mins.push(t.rollup({ m: aq.op.min(column) }).get('m') as number);
    }
    for (const m of mins) expect(m).toBeGreaterThanOrEqual(0);
    expect(Math.min(...mins)).toBe(0);
    // application calls happen before their guest requests' completions (within the offsets' uncertainty)
    const uncertaintyMs = 50;
    const lin = aq.fromArrow(capture.table('lineage')).filter((d) => d.guest_last_ns !== null && d.op === 'read');
    const late = lin.filter((d) => d.guest_first_ns < d.app_start_ns - 50e6).numRows();
    expect(late / Math.max(1, lin.numRows()), `reads whose guest request starts more than ${uncertaintyMs} ms before the call`).toBeLessThan(0.01);
  });
});

describe('Capture.table on what ingest and map write', () => {
  let out: string;
  const fx = (p: string) => join(root, 'test', 'fixtures', p);
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'iol-user-table-ingest-'));
    const runs: string[][] = [
      ['ingest', fx('block/ext3.blkparse.txt.gz'), '-o', join(out, 'block')],
      ['ingest', fx('strace/dd.strace.gz'), '-o', join(out, 'app')],
      ['map', 'fs', fx('ext/ext2-1k.e2image-r.img.gz'), '-o', join(out, 'fs')],
      ['map', 'image', fx('image/c4k.qcow2.gz'), '-o', join(out, 'image')],
    ];
    for (const args of runs) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.slice(-1500)}`);
    }
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('hands out every table with the values of the file (times from each trace\'s own first event)', () => {
    let tables = 0;
    for (const sub of ['block', 'app', 'fs', 'image']) {
      const capture = openCapture(join(out, sub));
      for (const [stem, file] of capture.files) {
        tables++;
        const user = capture.table(stem);
        const reference = arrow.tableFromIPC(readFileSync(file));
        expect(user.numRows, stem).toBe(reference.numRows);
        for (const field of reference.schema.fields) {
          const want = reference.getChild(field.name)!;
          const got = user.getChild(field.name)!;
          const isInt64 = arrow.DataType.isInt(field.type) && field.type.bitWidth === 64;
          const base = user.schema.fields.find((f) => f.name === field.name)!.metadata.get('iolineage.time_base_ns');
          let bad = 0;
          for (let i = 0; i < reference.numRows; i++) {
            const w = want.get(i), g = got.at(i);
            const ok = !isInt64 || w === null ? (g === w || (g == null && w == null)) : BigInt(g as number) + BigInt(base ?? '0') === w;
            if (!ok) bad++;
          }
          expect(bad, `${sub}/${stem}.${field.name}`).toBe(0);
          if (field.metadata.get('clock') && isInt64) expect(base, `${stem}.${field.name} has a base`).toMatch(/^-?\d+$/);
        }
      }
    }
    expect(tables).toBeGreaterThanOrEqual(6);
  });
});

describe('time bases', () => {
  it('maps clocks through an offset with drift and back', () => {
    const o = { offset_ns: '3721567345740', drift_ppm: -0.73, ref_ns: '29168815000' };
    for (const t of [0n, 29168815000n, 120000000000n]) {
      expect(toUpperClock(toLowerClock(t, o), o) - t).toBeLessThanOrEqual(1n);
    }
  });

  it('takes the earliest event of any layer as 0, and says when a clock is not aligned', () => {
    const starts = { app: new Map([['vm0', 1000n]]), guest: new Map([['vm0', 50n]]), host: 500n, trace: null };
    const aligned = captureTimeBases(starts, { vm0: { app_to_guest: { offset_ns: '-990' }, guest_to_host: { offset_ns: '400' } } });
    // app 1000 -> guest 10 -> host 410: earlier than the host's first event (500) and the guest's (50 -> 450)
    expect(aligned.base('host', null)).toBe(410n);
    expect(aligned.base('guest', 'vm0')).toBe(10n);
    expect(aligned.base('app', 'vm0')).toBe(1000n);
    const loose = captureTimeBases(starts, null);
    expect(loose.base('app', 'vm0')).toBe(1000n);
    expect(loose.base('guest', 'vm0')).toBe(50n);
    expect(loose.origin).toMatch(/not aligned/);
  });

  it('keeps an int64 column past 2^53 as BigInt and says so in its metadata', () => {
    const big = 2n ** 60n + 1n;
    const t = arrow.tableFromArrays({ sector: BigInt64Array.from([1n, big]), bytes: BigInt64Array.from([4096n, 8192n]) });
    const u = toUserTable(t, { file: 'x.arrow' });
    expect(u.getChild('sector')!.get(1)).toBe(big);
    expect(u.schema.fields[0]!.metadata.get('iolineage.bigint')).toMatch(/2\^53/);
    expect(u.getChild('bytes')!.get(1)).toBe(8192);
  });
});
