/**
 * Seeded fuzzing of `analyze` on the real fixture: one input of the bundle is truncated, has bytes
 * flipped, or has lines spliced; the run must either finish with exact attribution sums or stop
 * with an InputError/UsageError that names the damaged file — never an uncaught exception or a hang.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/capture/manifest.js';
import { analyzeCapture } from '../../src/analyze/analyze-capture.js';
import { IngestStats } from '../../src/util/ingest-stats.js';
import { isUserError } from '../../src/util/errors.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

const SRC = 'test/fixtures/correlate/loop-direct';
const TARGETS = ['vm0/block.trace.gz', 'host/block.trace.gz', 'vm0/app.strace.gz', 'vm0/image.map.json', 'manifest.json'];

const rng = mulberry32;

function corrupt(bytes: Uint8Array, r: () => number): { bytes: Uint8Array; how: string } {
  const mode = Math.floor(r() * 3);
  if (mode === 0) {
    const at = Math.floor(r() * bytes.length);
    return { bytes: bytes.subarray(0, at), how: `truncated at ${at}` };
  }
  if (mode === 1) {
    const out = bytes.slice();
    const n = 1 + Math.floor(r() * 20);
    for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
    return { bytes: out, how: `${n} bytes flipped` };
  }
  // splice: move a run of lines elsewhere
  const lines = Buffer.from(bytes).toString('latin1').split('\n');
  const a = Math.floor(r() * lines.length),
    len = Math.floor(r() * 200),
    to = Math.floor(r() * lines.length);
  const cut = lines.splice(a, len);
  lines.splice(Math.min(to, lines.length), 0, ...cut);
  return { bytes: Buffer.from(lines.join('\n'), 'latin1'), how: `${cut.length} lines moved from ${a} to ${to}` };
}

describe('analyze on damaged inputs (seeded)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (let seed = 1; seed <= 8; seed++) {
    it(`seed ${seed}: finishes with exact sums or names the damaged file`, async () => {
      const r = rng(seed * 7919);
      const dir = mkdtempSync(join(tmpdir(), 'iol-analyze-fuzz-'));
      dirs.push(dir);
      cpSync(SRC, dir, { recursive: true });
      const target = TARGETS[(seed - 1) % TARGETS.length]!;
      const file = join(dir, target);
      const raw = readFileSync(file);
      const gz = target.endsWith('.gz');
      // damage the compressed bytes themselves on odd seeds, the text on even ones
      const plain = gz && seed % 2 === 0 ? gunzipSync(raw) : raw;
      const { bytes, how } = corrupt(plain, r);
      writeFileSync(file, gz && seed % 2 === 0 ? gzipSync(bytes) : bytes);
      try {
        const manifest = readManifest(dir);
        const res = await analyzeCapture(
          { kind: 'bundle', dir, manifest, appClockOffsetNs: undefined, clockOffsetNs: undefined, guestMount: undefined },
          new IngestStats(),
        );
        const att = (res.summary as { attribution: Record<string, { total: number; layer_total: number }> }).attribution;
        for (const layer of Object.values(att)) expect(layer.total).toBe(layer.layer_total);
      } catch (e) {
        if (!isUserError(e))
          throw new Error(`seed ${seed} (${target}, ${how}): not a user error: ${e instanceof Error ? e.stack : String(e)}`, { cause: e });
        expect(e.message).toContain(target.split('/').pop()!);
      }
    });
  }
});
