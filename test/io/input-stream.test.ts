import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCompression, openInputStream, readInputBytes } from '../../src/io/input-stream.js';
import { InputError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'iol-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
// 3 MiB of varied text so that decompressors emit several chunks
const text = Array.from({ length: 60000 }, (_, i) => `line ${i} ${'x'.repeat(i % 80)}`).join('\n') + '\n';
const plain = join(dir, 'plain.txt');
writeFileSync(plain, text);

async function decoded(path: string): Promise<string> {
  return Buffer.from(await readInputBytes(path)).toString('utf8');
}

describe('openInputStream', () => {
  it('reads plain files unchanged', async () => {
    expect(await decoded(plain)).toBe(text);
    expect(openInputStream(plain).compression).toBe('none');
  });

  it('decompresses gzip, including several concatenated members (as `cat a.gz b.gz` makes)', async () => {
    const p = join(dir, 'two.gz');
    writeFileSync(p, Buffer.concat([gzipSync(text), gzipSync('tail\n')]));
    expect(await decoded(p)).toBe(text + 'tail\n');
  });

  it.skipIf(!has('xz'))('decompresses files written by the xz tool', async () => {
    execFileSync('xz', ['-k', '-f', plain]);
    expect(openInputStream(plain + '.xz').compression).toBe('xz');
    expect(await decoded(plain + '.xz')).toBe(text);
  });

  it.skipIf(!has('zstd'))('decompresses files written by the zstd tool', async () => {
    execFileSync('zstd', ['-q', '-f', plain, '-o', plain + '.zst']);
    expect(openInputStream(plain + '.zst').compression).toBe('zstd');
    expect(await decoded(plain + '.zst')).toBe(text);
  });

  it('names the file and offset when a gzip stream is truncated', async () => {
    const p = join(dir, 'cut.gz');
    const gz = gzipSync(text);
    writeFileSync(p, gz.subarray(0, gz.length >> 1));
    await expect(readInputBytes(p)).rejects.toThrow(InputError);
    await expect(readInputBytes(p)).rejects.toThrow(/cut\.gz.*gzip stream/);
  });

  it('lets a consumer stop after the first chunk of a gzip file without a stray stream error', async () => {
    // A format probe reads the head and breaks out; the file stream is destroyed while the
    // gunzip side may still be reading. Vitest fails the run on any unhandled 'error' event.
    const p = join(dir, 'probe.gz');
    writeFileSync(p, gzipSync(text.repeat(2)));
    // openInputStream's iterator returns only once the file is closed, so no stream is left to emit
    for (let i = 0; i < 200; i++) {
      for await (const chunk of openInputStream(p)) {
        expect(chunk.length).toBeGreaterThan(0);
        break;
      }
    }
  });

  it('names the file when it cannot be opened', () => {
    expect(() => openInputStream(join(dir, 'missing'))).toThrow(/missing: cannot open: ENOENT/);
  });

  it('detects compression from magic bytes only', () => {
    expect(detectCompression(new Uint8Array([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe('xz');
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(new Uint8Array([0x1f]))).toBe('none');
  });
});

describe('openInputStream on damaged xz', () => {
  it.skipIf(!has('xz'))('names the file when an xz stream is truncated', async () => {
    const p = join(dir, 'cut.xz');
    const xz = execFileSync('xz', ['-c'], { input: text });
    writeFileSync(p, xz.subarray(0, xz.length >> 1));
    await expect(readInputBytes(p)).rejects.toThrow(/cut\.xz: xz could not decompress it/);
  });
});
