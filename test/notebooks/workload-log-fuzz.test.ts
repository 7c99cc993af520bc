/**
 * The workload-log reader of the throughput grid (src/notebook/capture-set.ts) on a real log
 * excerpt (test/fixtures/notebooks/README.md): the figures equal a plain recount, and seeded
 * mutations (truncation, flipped bytes, spliced lines) give either figures or an InputError that
 * names the file and the line; never another exception, never a hang.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { workloadThroughput } from '../../src/notebook/capture-set.js';
import { InputError } from '../../src/util/errors.js';
import { mulberry32 } from '../../src/util/seeded-random.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'notebooks', 'ffsb-lite-excerpt.workload.log.gz');
const text = gunzipSync(readFileSync(fixture)).toString('utf8');
const work = mkdtempSync(join(tmpdir(), 'iol-wlog-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


describe('workloadThroughput', () => {
  it('equals a recount of the run phase of the real log', async () => {
    let bytes = 0, ops = 0, first = Infinity, last = -Infinity;
    for (const line of text.split('\n')) {
      const f = line.split('\t');
      if (f.length !== 9 || f[1] !== 'run' || (f[2] !== 'read' && f[2] !== 'write')) continue;
      first = Math.min(first, Number(f[7])); last = Math.max(last, Number(f[8]));
      if (Number(f[6]) > 0) { bytes += Number(f[6]); ops++; }
    }
    const t = await workloadThroughput(fixture);
    expect(ops).toBeGreaterThan(1000);
    expect(t.ops).toBe(ops);
    expect(t.bytes).toBe(bytes);
    expect(t.span_ns).toBe(last - first);
    // the create phase of the same excerpt
    const c = await workloadThroughput(fixture, 'create');
    expect(c.ops).toBeGreaterThan(0);
  });

  it('names file and line for a file that is not a workload log', async () => {
    const p = join(work, 'other.log');
    writeFileSync(p, 'seq phase op\n1 2 3\n');
    await expect(workloadThroughput(p)).rejects.toThrow(/other\.log:line 1: expected the header "# ffsb-lite v1"/);
    const q = join(work, 'short.log');
    writeFileSync(q, '# ffsb-lite v1\n0\trun\tread\t/f\t0\t4096\n');
    await expect(workloadThroughput(q)).rejects.toThrow(/short\.log:line 2: expected 9 tab-separated fields/);
  });

  it('seeded mutations: figures or an InputError naming file and line, nothing else', async () => {
    const rnd = mulberry32(0x10ad);
    const bytes = Buffer.from(text, 'utf8');
    const lines = text.split('\n');
    let errors = 0;
    for (let k = 0; k < 120; k++) {
      let data: Buffer;
      const kind = k % 3;
      if (kind === 0) data = bytes.subarray(0, Math.floor(rnd() * bytes.length));
      else if (kind === 1) {
        data = Buffer.from(bytes);
        for (let f = 0; f < 1 + Math.floor(rnd() * 8); f++) data[Math.floor(rnd() * data.length)] ^= 1 << Math.floor(rnd() * 8);
      } else {
        const out = [...lines];
        for (let s = 0; s < 5; s++) {
          const a = Math.floor(rnd() * out.length);
          const cut = out[a]!.slice(0, Math.floor(rnd() * out[a]!.length)) + (out[Math.floor(rnd() * out.length)] ?? '');
          out.splice(a, 1, cut);
        }
        data = Buffer.from(out.join('\n'), 'utf8');
      }
      const p = join(work, `m${k}.log${k % 2 ? '.gz' : ''}`);
      writeFileSync(p, k % 2 ? gzipSync(data) : data);
      try {
        const t = await workloadThroughput(p);
        expect(Number.isFinite(t.mb_per_s) && t.ops >= 0 && t.bytes >= 0).toBe(true);
      } catch (e) {
        errors++;
        expect(e, String(e)).toBeInstanceOf(InputError);
        expect((e as Error).message).toMatch(new RegExp(`m${k}\\.log(\\.gz)?:line \\d+: `));
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});
