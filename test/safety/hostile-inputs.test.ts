/**
 * Inputs that used to end in an internal error or worse (issue 16): values of 2^53 and more in
 * every block reader and btt, an ext superblock whose block count sizes nothing before it is
 * checked against the source, compression bombs; each gets a one-line message naming the file
 * and the place, and -o never holds a partial set of tables.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readArrowFile } from '../../src/table/arrow-file.js';
import { fixture, iolineage } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The first `n` lines of a gzipped text fixture. */
function headLines(path: string, n: number): string[] {
  return gunzipSync(readFileSync(path)).toString('utf8').split('\n').slice(0, n);
}

/** Lines with the first "SECTOR + N" of line `at` (0-based) replaced; returns the text. */
function withSector(lines: string[], at: number, sector: string): string {
  const copy = [...lines];
  copy[at] = copy[at]!.replace(/\b\d+ \+ (\d+)/, `${sector} + $1`);
  expect(copy[at]).toContain(`${sector} + `);
  return copy.join('\n') + '\n';
}

const events = (dir: string) => readArrowFile(join(dir, 'block_events.arrow')).numRows;

describe('values of 2^53 and more in the block readers', () => {
  const texts = [
    { format: 'tracefs', file: fixture('block', 'ext4.trace.gz'), line: 12 },
    { format: 'trace-cmd', file: fixture('block', 'ext4.trace-cmd.txt.gz'), line: 1 },
    { format: 'blkparse', file: fixture('block', 'ext4.blkparse.txt.gz'), line: 0 },
  ];
  for (const t of texts) {
    it(`${t.format}: a sector of 2^53 + 1 is a counted unusable line naming file:line; the other events are kept`, () => {
      const lines = headLines(t.file, 40);
      const clean = join(work, `${t.format}.clean.txt`);
      const bad = join(work, `${t.format}.big-sector.txt`);
      writeFileSync(clean, lines.join('\n') + '\n');
      writeFileSync(bad, withSector(lines, t.line, '9007199254740993'));
      const outClean = join(work, `${t.format}-clean`);
      const outBad = join(work, `${t.format}-bad`);
      expect(iolineage(['ingest', clean, '-o', outClean, '--format', t.format]).status).toBe(0);
      const r = iolineage(['ingest', bad, '-o', outBad, '--format', t.format]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(
          `block_text\\.value_out_of_range \\[data_loss\\] event not stored: sector 9007199254740993: expected a sector below 2\\^53.*first at ${bad.replaceAll('.', '\\.')}:${t.line + 1}:`,
        ),
      );
      expect(events(outBad)).toBe(events(outClean) - 1);
    });
  }

  it('tracefs: a time that stretches the trace over 2^53 ns is a counted unusable line', () => {
    const lines = headLines(fixture('block', 'ext4.trace.gz'), 40);
    lines[20] = lines[20]!.replace(/ 997\.(\d{6}):/, ' 90071992.$1:');
    const bad = join(work, 'late.trace');
    writeFileSync(bad, lines.join('\n') + '\n');
    const r = iolineage(['ingest', bad, '-o', join(work, 'late')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `value_out_of_range .*time 90071992\\d+ ns: expected times within 2\\^53 ns \\(104 days\\) of the trace's other events .*first at ${bad.replaceAll('.', '\\.')}:21:`,
      ),
    );
  });

  /** The nosplit capture's two per-CPU files, the first with a record time of 2^62 at byte 72. */
  function binaryWithHugeTime(): string[] {
    const dir = join(work, 'binary');
    mkdirSync(dir, { recursive: true });
    const paths = [0, 1].map((cpu) => {
      const bytes = new Uint8Array(gunzipSync(readFileSync(fixture('blktrace', `nosplit.blktrace.${cpu}.gz`))));
      // struct blk_io_trace: u32 magic, u32 sequence, u64 time at byte 8 (little-endian here)
      if (cpu === 0) new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(72, 1n << 62n, true);
      const p = join(dir, `n.blktrace.${cpu}`);
      writeFileSync(p, bytes);
      return p;
    });
    return paths;
  }

  it('binary blktrace: a record time of 2^62 stops ingest with the file and byte offset, and -o holds no table (the folder it made is gone)', () => {
    const out = join(work, 'binary-out');
    const r = iolineage(['ingest', ...binaryWithHugeTime(), '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /n\.blktrace\.0:byte offset 64 \(0x40\) \(blk_io_trace record\): time 4611686018427387904 ns: expected times within 2\^53 ns/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('btt: the same record is the same one-line error, and btt -o writes nothing', () => {
    const out = join(work, 'btt-out');
    const r = iolineage(['btt', ...binaryWithHugeTime(), '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/n\.blktrace\.0:byte offset 64 \(0x40\) \(blk_io_trace record\): time 4611686018427387904 ns/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

describe('ext superblock counts are checked against the source before they size anything', () => {
  /** ext4-inline-metabg (64bit) with s_blocks_count_hi (superblock byte 0x150, disk byte 1360) set. */
  function imageWithBlocksHi(hi: number): string {
    const bytes = new Uint8Array(gunzipSync(readFileSync(fixture('ext', 'ext4-inline-metabg.e2image-r.img.gz'))));
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(1360, hi, true);
    const p = join(work, `blocks-hi-${hi.toString(16)}.img`);
    writeFileSync(p, bytes);
    return p;
  }

  it('map fs and lookup: s_blocks_count_hi 0x40000000 is an error at byte 1360, not an array of 2^47 entries', () => {
    const img = imageWithBlocksHi(0x40000000);
    for (const args of [
      ['map', 'fs', img, '-o', join(work, 'hi-out')],
      ['lookup', img, '--sector', '10'],
    ]) {
      const r = iolineage(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /blocks-hi-40000000\.img:byte offset 1360 \(0x550\) \(superblock s_blocks_count_hi\): s_blocks_count × block size: expected at most 2\^53 - 1 bytes, got 4611686018427\d+ × 4096/,
      );
    }
  });

  it('a block count whose group descriptors cannot fit in the image is refused with the numbers', () => {
    const img = imageWithBlocksHi(0x100);
    const r = iolineage(['map', 'fs', img, '-o', join(work, 'hi-out2')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /\(superblock s_blocks_count_hi\): s_blocks_count 1099511\d+ makes \d+ block groups, whose 64-byte descriptors \(\d+ bytes\) cannot fit in the source: expected at most \d+ groups for its 67108864 bytes/,
    );
  });
});

describe('compressed images', () => {
  it('a gzip of one letter is refused from its first decompressed bytes (no superblock magic)', () => {
    const bomb = join(work, 'bomb.gz');
    writeFileSync(bomb, gzipSync(Buffer.alloc(8 << 20, 'a')));
    const r = iolineage(['map', 'fs', bomb, '-o', join(work, 'bomb-out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /bomb\.gz:byte offset 0 \(0x0\) \(decompressed data\): decompressed gzip stream: expected an ext2\/3\/4 superblock \(s_magic 0xef53 at byte 1080\), a qcow2 image or a partitioned disk, got 0x6161/,
    );
  });

  it('a decompressed copy stops at --max-decompressed and the message says how to raise it', () => {
    const r = iolineage([
      'map',
      'fs',
      fixture('ext', 'ext3-1k.e2image-r.img.gz'),
      '-o',
      join(work, 'cap-out'),
      '--max-decompressed',
      '64k',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /ext3-1k\.e2image-r\.img\.gz \(gzip stream\): the decompressed copy would store more than 64\.0 KiB of non-zero data in a temporary file .*raise the limit \(map fs, lookup: --max-decompressed SIZE\)/,
    );
    expect(
      iolineage(['map', 'fs', fixture('ext', 'ext3-1k.e2image-r.img.gz'), '-o', join(work, 'cap-out'), '--max-decompressed', '64M']).status,
    ).toBe(0);
  });
});
