/**
 * A compressed image decompressed into a sparse temporary file: the bytes read back equal the
 * stream's, whatever the chunk boundaries; zero granules become holes (the file's allocated blocks
 * stay near its non-zero data); the stored-bytes cap stops a stream with too much non-zero data.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { withDecompressedFile } from '../../src/io/decompressed-source.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-decompressed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('withDecompressedFile', () => {
  it('reads back the stream byte for byte and leaves its zero granules as holes', async () => {
    const rand = mulberry32(3);
    const size = 24 << 20;
    const data = new Uint8Array(size);
    // non-zero runs at unaligned places, single bytes among zeros, and a non-zero tail
    for (let k = 0; k < 40; k++) {
      const at = Math.floor(rand() * (size - 70000));
      const len = 1 + Math.floor(rand() * 65536);
      for (let j = 0; j < len; j++) data[at + j] = 1 + Math.floor(rand() * 255);
    }
    for (let k = 0; k < 200; k++) data[Math.floor(rand() * size)] = 7;
    data.fill(9, size - 100);
    const gz = join(dir, 'image.gz');
    writeFileSync(gz, gzipSync(data));
    const nonZeroGranules = new Set<number>();
    for (let i = 0; i < size; i++) if (data[i] !== 0) nonZeroGranules.add(Math.floor(i / 4096));
    const { bytes, blocks } = await withDecompressedFile(gz, (tmp, n) => {
      expect(n).toBe(size);
      return { bytes: readFileSync(tmp), blocks: statSync(tmp).blocks };
    });
    expect(Buffer.compare(bytes, data)).toBe(0);
    // allocated 512-byte blocks: the non-zero granules, with slack for the file system's own blocks
    expect(blocks * 512).toBeLessThanOrEqual(nonZeroGranules.size * 4096 * 2 + (1 << 20));
    expect(blocks * 512).toBeLessThan(size / 4);
  });

  it('stops a stream that would store more non-zero bytes than the cap', async () => {
    const gz = join(dir, 'full.gz');
    writeFileSync(gz, gzipSync(new Uint8Array(4 << 20).fill(1)));
    await expect(withDecompressedFile(gz, () => 0, { maxStoredBytes: 1 << 20 })).rejects.toThrow(/more than 1\.00 MiB of non-zero data/);
  });
});
