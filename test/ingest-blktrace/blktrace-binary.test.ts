import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeBlktraceBinary } from '../../src/ingest/block/blktrace-writer.js';
import { InputError } from '../../src/util/errors.js';
import { blkparseLines, eventsAsBlkparse, fixture, has, perCpu, readBinary, unpackPerCpu } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-blktrace-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveBlkparse = has('blkparse');

/**
 * The worked example of the reference notes (block-traces.md 7.6): records built field by field,
 * with blkparse 1.2.0's output for them. One entry: [time ns, sector, bytes, action, error, payload].
 */
const DEV_8_16 = (8 << 20) | 16;
const HAND: [number, number, number, number, number, number[]][] = [
  [0, 2048, 4096, 0x011a0001, 0, []], // Q WS: QUEUE|WRITE|SYNC|FS, code 1
  [1000, 2056, 4096, 0x011a0002, 0, []], // M WS
  [1500, 2040, 4096, 0x011a0003, 0, []], // F WS
  [2000, 2040, 12288, 0x011a0004, 0, []], // G WS 2040 + 24
  [2500, 0, 0, 0x00100009, 0, []], // P
  [3000, 2040, 12288, 0x011a000c, 0, []], // I
  [3500, 0, 0, 0x0010000a, 0, [0, 0, 0, 0, 0, 0, 0, 3]], // U, big-endian u64 3
  [3600, 0, 0, 0x0010000b, 0, [0, 0, 0, 0, 0, 0, 0, 1]], // UT 1
  [4000, 2040, 12288, 0x014a0007, 0, []], // D: ISSUE|WRITE|SYNC|FS
  [5000, 2040, 12288, 0x012a0006, 0, []], // R: REQUEUE|...
  [6000, 2040, 12288, 0x018a0008, 0, []], // C: COMPLETE|...
  [7000, 100000, 1048576, 0x1901000d, 0, [0, 0, 0, 0, 0, 0x01, 0x87, 0xa0]], // X RAM 100000 / 100256
  [8000, 206848, 8192, 0x0111000f, 0, [0, 0x80, 0, 0x11, 0, 0x80, 0, 0x10, 0, 0, 0, 0, 0, 0, 0x12, 0xc0]], // A <- (8,17) 4800
  [8500, 5000, 65536, 0x21120001, 0, []], // Q D (discard)
  [8600, 7000, 4096, 0x911e0001, 0, []], // Q FWFSM
  [8700, 0, 0, 0x00450007, 0, []], // D FN: flush request
  [8800, 0, 0, 0x00800008, 5, []], // C N 0 [5]
];
const HAND_BLKPARSE = `  8,16   0        1     0.000000000  4242  Q  WS 2048 + 8 [writer]
  8,16   0        2     0.000001000  4242  M  WS 2056 + 8 [writer]
  8,16   0        3     0.000001500  4242  F  WS 2040 + 8 [writer]
  8,16   0        4     0.000002000  4242  G  WS 2040 + 24 [writer]
  8,16   0        5     0.000002500  4242  P   N [writer]
  8,16   0        6     0.000003000  4242  I  WS 2040 + 24 [writer]
  8,16   0        7     0.000003500  4242  U   N [writer] 3
  8,16   0        8     0.000003600  4242 UT   N [writer] 1
  8,16   0        9     0.000004000  4242  D  WS 2040 + 24 [writer]
  8,16   0       10     0.000005000  4242  R  WS 2040 + 24 [0]
  8,16   0       11     0.000006000  4242  C  WS 2040 + 24 [0]
  8,16   0       12     0.000007000  4242  X RAM 100000 / 100256 [writer]
  8,16   0       13     0.000008000  4242  A   R 206848 + 16 <- (8,17) 4800
  8,16   0       14     0.000008500  4242  Q   D 5000 + 128 [writer]
  8,16   0       15     0.000008600  4242  Q FWFSM 7000 + 8 [writer]
  8,16   0       16     0.000008700  4242  D  FN [writer]
  8,16   0       17     0.000008800  4242  C   N 0 [5]
`;

/** Hand-made blk_io_trace records (48-byte v7, or 64-byte v8 when `v8`) in either byte order. */
function handFile(le: boolean, v8 = false, base = 1_000_000_000n): Uint8Array {
  const H = v8 ? 64 : 48;
  const parts: Uint8Array[] = [];
  const rec = (seq: number, time: bigint, sector: number, bytes: number, action: number, pid: number, error: number, payload: number[]) => {
    const b = new Uint8Array(H + payload.length);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0x65617400 | (v8 ? 8 : 7), le); // magic | version
    v.setUint32(4, seq, le); // sequence
    v.setBigUint64(8, time, le); // time, ns
    v.setBigUint64(16, BigInt(sector), le); // sector
    v.setUint32(24, bytes, le); // bytes
    if (!v8) {
      v.setUint32(28, action, le); // action
      v.setUint32(32, pid, le); // pid
      v.setUint32(36, DEV_8_16, le); // device
      v.setUint32(40, 0, le); // cpu
      v.setUint16(44, error, le); // error
      v.setUint16(46, payload.length, le); // pdu_len
    } else {
      v.setUint32(28, pid, le); // pid
      v.setBigUint64(32, BigInt(action), le); // action (u64)
      v.setUint32(40, DEV_8_16, le); // device
      v.setUint32(44, 0, le); // cpu
      v.setUint16(48, error, le); // error
      v.setUint16(50, payload.length, le); // pdu_len
    }
    b.set(payload, H);
    parts.push(b);
  };
  // PROCESS notify for pid 4242: comm "writer", 16 bytes NUL padded; time before the first I/O
  rec(0, base - 10n, 0, 0, 0x04000000, 4242, 0, [...Buffer.from('writer'), ...new Array(10).fill(0)]);
  // TIMESTAMP notify: wall clock 1700000000 s + 5 ns, as two u32 in the header's byte order
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setUint32(0, 1700000000, le);
  new DataView(ts.buffer).setUint32(4, 5, le);
  rec(0, base - 5n, 0, 0, 0x04000001, 0, 0, [...ts]);
  HAND.forEach(([t, sector, bytes, action, error, payload], k) =>
    rec(k + 1, base + BigInt(t), sector, bytes, action, 4242, error, payload),
  );
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('readBlktraceBinary: hand-made records (reference 7.6)', () => {
  for (const le of [true, false]) {
    it(`decodes every field, ${le ? 'little' : 'big'}-endian, as blkparse prints them`, async () => {
      const p = join(dir, `hand-${le ? 'le' : 'be'}.blktrace.0`);
      writeFileSync(p, handFile(le));
      const { table, stats, result } = await readBinary([p]);
      expect(result.byteOrder).toBe(le ? 'little' : 'big');
      expect(result.wallClockNs).toBe(1700000000_000000005n);
      expect(result.wallClockAtTraceNs).toBe(1_000_000_000n - 5n);
      expect(stats.list()).toEqual([]);
      expect(eventsAsBlkparse(table)).toEqual(blkparseLines(HAND_BLKPARSE));
      const rows = table.toArray() as Record<string, unknown>[];
      expect(rows[0]).toMatchObject({
        ts_ns: 1_000_000_000n,
        pid: 4242,
        comm: 'writer',
        dev: '8:16',
        action: 'Q',
        op: 'write',
        sync: true,
        sector: 2048n,
        nr_sectors: 8,
      });
      expect(rows.find((r) => r.action === 'X')).toMatchObject({ sector: 100000n, new_sector: 100256n, readahead: true, meta: true });
      expect(rows.find((r) => r.action === 'A')).toMatchObject({ old_dev: '8:17', new_sector: 4800n, nr_sectors: 16 });
      expect(rows.find((r) => r.action === 'U')).toMatchObject({ count: 3 });
      expect(rows.find((r) => r.rwbs === 'FN')).toMatchObject({ op: 'flush', sector: null });
      expect(rows.at(-1)).toMatchObject({ action: 'C', error: 5 });
    });
  }

  it.skipIf(!haveBlkparse)('blkparse prints the hand-made file as the reference says (live)', () => {
    const p = join(dir, 'handlive.blktrace.0');
    writeFileSync(p, handFile(true));
    const out = execFileSync('blkparse', ['-i', join(dir, 'handlive')], { encoding: 'utf8' });
    expect(blkparseLines(out)).toEqual(blkparseLines(HAND_BLKPARSE));
  });

  it('accepts the 64-byte version 8 layout (struct blk_io_trace2) with the same meaning', async () => {
    const p7 = join(dir, 'v7.bin');
    const p8 = join(dir, 'v8.bin');
    writeFileSync(p7, handFile(true));
    writeFileSync(p8, handFile(true, true));
    const a = await readBinary([p7]);
    const b = await readBinary([p8]);
    expect(b.result.version).toBe(8);
    expect(eventsAsBlkparse(b.table)).toEqual(eventsAsBlkparse(a.table));
    expect(b.stats.list()).toEqual([]);
  });
});

describe('readBlktraceBinary: real captures written as blktrace files', () => {
  for (const name of ['nosplit', 'deadline']) {
    it(`${name}: every event equals blkparse's decoding of the same files (golden)`, async () => {
      const { table, stats, result } = await readBinary(perCpu(name));
      const golden = blkparseLines(gunzipSync(readFileSync(fixture(`${name}.blkparse.txt.gz`))).toString('utf8'));
      expect(stats.list()).toEqual([]);
      expect(result.events).toBe(golden.length);
      expect(eventsAsBlkparse(table)).toEqual(golden);
      // merged by time across the two CPU files
      const ts = table.getChild('ts_ns')!.toArray() as BigInt64Array;
      for (let i = 1; i < ts.length; i++) expect(ts[i]! >= ts[i - 1]!).toBe(true);
    });

    it.skipIf(!haveBlkparse)(`${name}: blkparse still decodes the fixture to the golden text (live)`, () => {
      const prefix = unpackPerCpu(name);
      const out = execFileSync('blkparse', ['-i', prefix], { encoding: 'utf8', maxBuffer: 1 << 28 });
      rmSync(dirname(prefix), { recursive: true, force: true });
      expect(blkparseLines(out)).toEqual(blkparseLines(gunzipSync(readFileSync(fixture(`${name}.blkparse.txt.gz`))).toString('utf8')));
    });
  }

  it.skipIf(!haveBlkparse)('reads a `blkparse -d` dump to the same events as the per-CPU files (live)', async () => {
    const prefix = unpackPerCpu('deadline');
    const dump = `${prefix}.dump`;
    execFileSync('blkparse', ['-i', prefix, '-d', dump, '-o', '/dev/null']);
    const a = await readBinary(perCpu('deadline'));
    const b = await readBinary([dump]);
    rmSync(dirname(prefix), { recursive: true, force: true });
    expect(b.stats.list()).toEqual([]);
    expect(eventsAsBlkparse(b.table)).toEqual(eventsAsBlkparse(a.table));
  });

  it('real tracefs capture -> block_events -> writer -> the events blkparse decoded (golden)', async () => {
    const { BlockEventsBuilder } = await import('../../src/ingest/block/block-events-builder.js');
    const { IngestStats } = await import('../../src/util/ingest-stats.js');
    const { parseTracefsText } = await import('../../src/ingest/block/tracefs-text.js');
    for (const name of ['nosplit', 'deadline']) {
      const b = new BlockEventsBuilder();
      parseTracefsText(gunzipSync(readFileSync(fixture(`${name}.trace.gz`))).toString('utf8'), `${name}.trace`, b, new IngestStats());
      const paths = writeBlktraceBinary(b.finish(), join(dir, `fromtext-${name}`));
      const { table } = await readBinary(paths);
      expect(eventsAsBlkparse(table)).toEqual(blkparseLines(gunzipSync(readFileSync(fixture(`${name}.blkparse.txt.gz`))).toString('utf8')));
    }
  });

  it('writes back the same bytes it read (reader and writer are inverse on a real capture)', async () => {
    const { table } = await readBinary(perCpu('nosplit'));
    const paths = writeBlktraceBinary(table, join(dir, 'again'));
    expect(paths.length).toBe(2);
    for (const [i, p] of paths.entries()) {
      const want = gunzipSync(readFileSync(perCpu('nosplit')[i]!));
      expect(Buffer.compare(readFileSync(p), want)).toBe(0);
    }
  });

  it('writes big-endian files that read back to the same events, and a merged single file', async () => {
    const { table } = await readBinary(perCpu('deadline'));
    const be = writeBlktraceBinary(table, join(dir, 'be'), { byteOrder: 'big' });
    const merged = writeBlktraceBinary(table, join(dir, 'merged.bin'), { layout: 'merged', wallClockNs: 1_700_000_000_000_000_000n });
    const a = await readBinary(be);
    const m = await readBinary(merged);
    expect(a.result.byteOrder).toBe('big');
    expect(eventsAsBlkparse(a.table)).toEqual(eventsAsBlkparse(table));
    expect(eventsAsBlkparse(m.table)).toEqual(eventsAsBlkparse(table));
    expect(m.result.wallClockNs).toBe(1_700_000_000_000_000_000n);
  });

  it('reports progress over the files on disk', async () => {
    const { BlockEventsBuilder } = await import('../../src/ingest/block/block-events-builder.js');
    const { IngestStats } = await import('../../src/util/ingest-stats.js');
    const { readBlktraceBinary } = await import('../../src/ingest/block/blktrace-binary.js');
    const seen: [number, number][] = [];
    await readBlktraceBinary(perCpu('nosplit'), new BlockEventsBuilder(), new IngestStats(), { onProgress: (r, t) => seen.push([r, t]) });
    const total = perCpu('nosplit').reduce((s, p) => s + readFileSync(p).length, 0);
    expect(seen.at(-1)).toEqual([total, total]);
  });

  it('takes a blkparse-style NAME for NAME.blktrace.0, NAME.blktrace.1', async () => {
    const prefix = unpackPerCpu('nosplit');
    const a = await readBinary([prefix]);
    rmSync(dirname(prefix), { recursive: true, force: true });
    const b = await readBinary(perCpu('nosplit'));
    expect(a.table.numRows).toBe(b.table.numRows);
  });

  it('names a missing file', async () => {
    await expect(readBinary([join(dir, 'nope.blktrace.0')])).rejects.toThrow(/nope\.blktrace\.0: cannot open/);
  });

  it('keeps one device with opts.dev', async () => {
    const all = await readBinary(perCpu('nosplit'));
    const one = await readBinary(perCpu('nosplit'), '7:1');
    const none = await readBinary(perCpu('nosplit'), '8:0');
    expect(one.table.numRows).toBe(all.table.numRows);
    expect(none.table.numRows).toBe(0);
  });
});

describe('readBlktraceBinary: records across chunk boundaries', () => {
  it('reads files of several MiB (1 MiB read chunks) in both byte orders, plain and gzip', async () => {
    const { gzipSync } = await import('node:zlib');
    const one = await readBinary([perCpu('nosplit')[0]!]);
    const le = new Uint8Array(gunzipSync(readFileSync(perCpu('nosplit')[0]!)));
    const beFile = writeBlktraceBinary(one.table, join(dir, 'be-one.bin'), { layout: 'merged', byteOrder: 'big' })[0]!;
    const be = new Uint8Array(readFileSync(beFile));
    for (const [name, unit] of [
      ['le', le],
      ['be', be],
    ] as const) {
      const copies = Math.ceil((5 << 20) / unit.length);
      const big = new Uint8Array(unit.length * copies);
      for (let k = 0; k < copies; k++) big.set(unit, k * unit.length);
      const p = join(dir, `big-${name}.bin`);
      writeFileSync(p, big);
      writeFileSync(`${p}.gz`, gzipSync(big));
      for (const path of [p, `${p}.gz`]) {
        const { table, stats } = await readBinary([path]);
        expect(stats.list()).toEqual([]);
        expect(table.numRows).toBe(one.table.numRows * copies);
      }
      // a corrupted magic and a cut exactly around the first 1 MiB boundary
      const bad = big.slice(0, (1 << 20) + 30);
      let off = 0;
      while (off + 48 < (1 << 20) - 10) off += 48 + new DataView(bad.buffer).getUint16(off + 46, name === 'le');
      bad[off + 1] ^= 0xff;
      writeFileSync(join(dir, `cut-${name}.bin`), bad);
      const cut = await readBinary([join(dir, `cut-${name}.bin`)]);
      expect(cut.stats.get('blktrace_bad_magic')).toBeGreaterThan(0);
      expect(cut.stats.list().find((c) => c.name === 'blktrace_bad_magic')!.examples[0]!.offset).toBe(off);
    }
  });
});

describe('readBlktraceBinary: bad input', () => {
  const real = () => new Uint8Array(gunzipSync(readFileSync(perCpu('nosplit')[0]!)));

  it('rejects a file that is not blktrace, naming the file, the offset and the magic found', async () => {
    const p = join(dir, 'text.bin');
    writeFileSync(p, 'this is not a trace at all, just some text that is long enough\n');
    const e = await readBinary([p]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toContain(p);
    expect((e as Error).message).toContain('byte offset 0');
    expect((e as Error).message).toMatch(/expected magic 0x656174xx .*got 0x/);
  });

  it('rejects an unsupported version and an empty file', async () => {
    const b = real();
    new DataView(b.buffer).setUint32(0, 0x65617409, true);
    const p = join(dir, 'v9.bin');
    writeFileSync(p, b);
    await expect(readBinary([p])).rejects.toThrow(/unsupported blktrace version 0x09: expected 0x07/);
    const e = join(dir, 'empty.bin');
    writeFileSync(e, '');
    await expect(readBinary([e])).rejects.toThrow(/empty file/);
  });

  it('counts a truncated last record with its byte offset and keeps the records before it', async () => {
    const b = real();
    const p = join(dir, 'trunc.bin');
    writeFileSync(p, b.subarray(0, b.length - 20));
    const full = await readBinary([perCpu('nosplit')[0]!]);
    const { table, stats } = await readBinary([p]);
    expect(table.numRows).toBe(full.table.numRows - 1);
    const c = stats.list().find((x) => x.name === 'blktrace_truncated_record')!;
    expect(c.count).toBe(1);
    expect(c.examples[0]!.offset).toBeGreaterThan(b.length - 20 - 200);
  });

  it('skips a corrupted record magic, counts it with its offset, and reads on', async () => {
    const b = real();
    // corrupt the magic of the record at offset 48 * 10 + payloads: find the 10th record
    let off = 0;
    for (let k = 0; k < 10; k++) off += 48 + new DataView(b.buffer).getUint16(off + 46, true);
    b[off] = 0x00;
    const p = join(dir, 'badmagic.bin');
    writeFileSync(p, b);
    const full = await readBinary([perCpu('nosplit')[0]!]);
    const { table, stats } = await readBinary([p]);
    const c = stats.list().find((x) => x.name === 'blktrace_bad_magic')!;
    expect(c.examples[0]!.offset).toBe(off);
    expect(table.numRows).toBeGreaterThanOrEqual(full.table.numRows - 1);
  });
});

describe('readBlktraceBinary: seeded fuzz on a real capture', () => {
  it('truncations, byte flips and splices give events or an InputError naming the file, never a crash or a hang', async () => {
    const base = new Uint8Array(gunzipSync(readFileSync(perCpu('deadline')[0]!)));
    let seed = 0x1234567;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const heap0 = process.memoryUsage().heapUsed;
    let errors = 0,
      ok = 0;
    for (let k = 0; k < 60; k++) {
      let b: Uint8Array = base.slice();
      const kind = k % 3;
      if (kind === 0) b = b.subarray(0, rnd(b.length));
      else if (kind === 1) {
        for (let j = 0; j < 1 + rnd(40); j++) b[rnd(b.length)] = rnd(256);
      } else {
        const a = rnd(b.length),
          l = rnd(4096),
          at = rnd(b.length);
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(a, a + l), ...b.subarray(at)]);
      }
      const p = join(dir, `fuzz-${k}.bin`);
      writeFileSync(p, b);
      try {
        const { table } = await readBinary([p]);
        // never more events than records could fit
        expect(table.numRows).toBeLessThanOrEqual(Math.ceil(b.length / 48));
        ok++;
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toContain(p);
        errors++;
      }
    }
    expect(ok + errors).toBe(60);
    expect(ok).toBeGreaterThan(30);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(256 * 1024 * 1024);
  });
});
