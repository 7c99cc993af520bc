/**
 * The bundled captures in data/: every manifest validates, every file it names is there, and the
 * layers agree with the workload's own log. Runs everywhere (no root needed).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleFiles, readManifest } from '../../src/capture/manifest.js';

const dataDir = join(import.meta.dirname, '../../data');
const bundles = existsSync(dataDir)
  ? readdirSync(dataDir)
      .filter((d) => existsSync(join(dataDir, d, 'manifest.json')))
      .sort()
  : [];

const gz = (p: string) => gunzipSync(readFileSync(p)).toString();

describe('data/', () => {
  it('holds the study grid: two VM memory sizes x buffered/O_DIRECT, data larger than the smaller memory', () => {
    const ms = bundles.map((b) => readManifest(join(dataDir, b)));
    const grid = new Set(
      ms
        .filter((m) => m.lab?.host_cache === 'writeback' && m.lab.image_format === 'raw')
        .map((m) => `${m.lab!.vm_mem_bytes}/${m.lab!.direct}`),
    );
    const mems = [...new Set(ms.map((m) => m.lab!.vm_mem_bytes!))]
      .filter((mem) => grid.has(`${mem}/false`) && grid.has(`${mem}/true`))
      .sort((a, b) => a - b);
    expect(mems.length).toBeGreaterThanOrEqual(2);
    for (const m of ms.filter((x) => x.lab!.vm_mem_bytes === mems[0])) expect(m.lab!.data_bytes).toBeGreaterThan(mems[0]!);
  });

  for (const b of bundles) {
    describe(b, () => {
      const dir = join(dataDir, b);
      const m = readManifest(dir);
      const g = m.guests[0]!;

      it('names only files that exist, with no lost events', () => {
        expect(bundleFiles(m).length).toBeGreaterThanOrEqual(9);
        expect(g.block_trace.lost_events).toBe(0);
        expect(m.host!.block_trace.lost_events).toBe(0);
      });

      it('has the workload log agreeing with the strace, op for op', () => {
        const log = gz(join(dir, g.workload_log!.path))
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .map((l) => l.split('\t'))
          .filter((f) => f[2] === 'read' || f[2] === 'write')
          .map((f) => `${f[2]} ${f[3]} ${f[4]} ${f[5]} ${f[6]}`);
        const re = /^(?:\d+\s+)?\d+\.\d+ (pread64|pwrite64)\(\d+<([^>]+)>, .*, (\d+), (\d+)\) = (-?\d+)/;
        const st: string[] = [];
        for (const l of gz(join(dir, g.strace!.path)).split('\n')) {
          const x = re.exec(l);
          if (x) st.push(`${x[1] === 'pread64' ? 'read' : 'write'} ${x[2]} ${x[4]} ${x[3]} ${x[5]}`);
        }
        expect(log.length).toBe(m.lab!.data_bytes / (1 << 20) + m.lab!.workload.ops);
        expect(st).toEqual(log);
        for (const other of m.guests.slice(1)) expect(other.workload_log).not.toBeNull();
      });

      it('has guest events on the guest disk and host events on the host disk, with paired marks', () => {
        expect(gz(join(dir, g.block_trace.path))).toContain(`block_rq_complete: ${g.disk.dev.replace(':', ',')} `);
        expect(gz(join(dir, m.host!.block_trace.path))).toContain(`block_rq_complete: ${m.host!.disk.dev.replace(':', ',')} `);
        const pairs = g.clock_marks.filter((x) => x.guest_ns && x.host_ns);
        // the guest marks once a second (its mark loop may wait behind the workload a little):
        // about one pair per second of the workload's run, which lasts 5 to 77 s in data/
        const times = gz(join(dir, g.workload_log!.path))
          .split('\n')
          .map((l) => l.split('\t'))
          .filter((f) => /^\d+$/.test(f[0] ?? '') && /^\d+$/.test(f[7] ?? ''))
          .flatMap((f) => [Number(f[7]), Number(f[8])]);
        const runS = (Math.max(...times) - Math.min(...times)) / 1e9;
        expect(runS).toBeGreaterThan(1);
        expect(pairs.length).toBeGreaterThanOrEqual(Math.max(3, Math.floor(runS) - 5));
        for (let i = 1; i < pairs.length; i++) {
          expect(BigInt(pairs[i]!.guest_ns!) > BigInt(pairs[i - 1]!.guest_ns!)).toBe(true);
          expect(BigInt(pairs[i]!.host_ns!) > BigInt(pairs[i - 1]!.host_ns!)).toBe(true);
        }
      });
    });
  }
});
