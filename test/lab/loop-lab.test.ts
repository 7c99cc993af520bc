/**
 * The loop-device fallback of the lab, end to end: needs root, tracefs, loop devices, gcc and
 * e2fsprogs (present in CI). Elsewhere the tests are skipped with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFiles, readManifest, type CaptureManifest } from '../../src/capture/manifest.js';
import { labUnavailable, runLab } from '../../src/lab/lab.js';
import { assertSafeToFormat, attachLoop, mountFs } from '../../src/lab/host.js';
import { Cleanup } from '../../src/lab/exec.js';
import { parseLabArgs } from '../../src/cli/lab.js';

const why = labUnavailable('loop');
if (why) console.log(`test/lab: skipping the loop lab: ${why}`);

const root = mkdtempSync(join(tmpdir(), 'iolineage-lab-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface LogOp {
  op: string;
  file: string;
  offset: number;
  size: number;
  ret: number;
}

function workloadLog(text: string): LogOp[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const f = l.split('\t');
      return { op: f[2]!, file: f[3]!, offset: Number(f[4]), size: Number(f[5]), ret: Number(f[6]) };
    });
}

/** pread64/pwrite64 lines of `strace -f -ttt -T -y`:
 * `12345 1795705341.817515 pwrite64(3</mnt/f000>, "\x01"..., 1048576, 0) = 1048576 <0.000300>` */
function straceIo(text: string): LogOp[] {
  const re = /^(?:\d+\s+)?\d+\.\d+ (pread64|pwrite64)\(\d+<([^>]+)>, .*, (\d+), (\d+)\) = (-?\d+)/;
  const out: LogOp[] = [];
  for (const l of text.split('\n')) {
    const m = re.exec(l);
    if (m)
      out.push({ op: m[1] === 'pread64' ? 'read' : 'write', file: m[2]!, size: Number(m[3]), offset: Number(m[4]), ret: Number(m[5]) });
  }
  return out;
}

const key = (o: LogOp) => `${o.op} ${o.file.replace(/.*\//, '')} ${o.offset} ${o.size} ${o.ret}`;

describe.skipIf(why !== null)('iolineage lab --backend loop', () => {
  let m: CaptureManifest;
  const out = join(root, 'bundle');
  const cache = join(root, 'cache');

  beforeAll(async () => {
    const o = parseLabArgs([
      '--backend',
      'loop',
      '--data',
      '8M',
      '--files',
      '2',
      '--ops',
      '300',
      '--seed',
      '7',
      '--cache',
      cache,
      '-o',
      out,
    ]);
    await runLab(o, 'iolineage lab (test)', () => {});
    m = readManifest(out);
  });

  it('writes a bundle whose manifest validates and whose files exist and are non-empty', () => {
    expect(m.lab?.backend).toBe('loop');
    expect(m.guests).toHaveLength(1);
    const files = bundleFiles(m);
    expect(files.map((f) => f.role)).toEqual(
      expect.arrayContaining([
        'host:block_trace',
        'host:fs.metadata',
        'guest:vm0:block_trace',
        'guest:vm0:strace',
        'guest:vm0:workload_log',
        'guest:vm0:fs.metadata',
        'guest:vm0:image.filefrag',
      ]),
    );
    for (const f of files) expect(statSync(join(out, f.path)).size).toBeGreaterThan(0);
  });

  it('records block events of both layers on their own devices, with no losses', () => {
    const g = m.guests[0]!;
    const h = m.host!;
    expect(g.disk.dev).not.toBe(h.disk.dev);
    const gt = gunzipSync(readFileSync(join(out, g.block_trace.path))).toString();
    const ht = gunzipSync(readFileSync(join(out, h.block_trace.path))).toString();
    const [gmaj, gmin] = g.disk.dev.split(':');
    const [hmaj, hmin] = h.disk.dev.split(':');
    expect(gt).toContain(`block_rq_issue: ${gmaj},${gmin} `);
    expect(ht).toContain(`block_rq_issue: ${hmaj},${hmin} `);
    expect(gt).not.toContain(`block_rq_issue: ${hmaj},${hmin} `);
    expect(g.block_trace.lost_events + h.block_trace.lost_events).toBe(0);
    expect(gt).toMatch(/tracing_mark_write: iolineage-workload run/);
  });

  it('pairs clock marks from both traces', () => {
    const marks = m.guests[0]!.clock_marks.filter((x) => x.guest_ns !== null && x.host_ns !== null);
    expect(marks.length).toBeGreaterThan(0);
    // the loop backend has one clock: the host mark follows the guest mark within a second
    for (const x of marks) {
      const d = BigInt(x.host_ns!) - BigInt(x.guest_ns!);
      expect(d >= 0n && d < 1_000_000_000n).toBe(true);
    }
  });

  it('has a workload log that agrees with the strace, op for op', () => {
    const g = m.guests[0]!;
    const log = workloadLog(gunzipSync(readFileSync(join(out, g.workload_log!.path))).toString()).filter(
      (o) => o.op === 'read' || o.op === 'write',
    );
    const st = straceIo(gunzipSync(readFileSync(join(out, g.strace!.path))).toString());
    expect(log.length).toBe(2 * 4 + 300); // 2 files x 4 MiB in 1 MiB writes, then the random ops
    expect(st.map(key)).toEqual(log.map(key));
  });
});

describe.skipIf(why !== null)('lab safety', () => {
  it('refuses to format a mounted device, or one it did not create', () => {
    const cleanup = new Cleanup();
    try {
      const f = join(root, 'safety.img');
      execFileSync('truncate', ['-s', '16M', f]);
      execFileSync('mke2fs', ['-q', '-F', '-t', 'ext2', f]);
      const d = attachLoop(f, false, cleanup);
      expect(() => assertSafeToFormat(d.path, join(root, 'other.img'))).toThrow(/backed by .*not by the lab's file/);
      mountFs(d.path, join(root, 'safety-mnt'), 'ext2', cleanup);
      expect(() => assertSafeToFormat(d.path, f)).toThrow(/refusing to format .*: it is mounted on/);
      expect(() => assertSafeToFormat('/dev/vda', f)).toThrow(/refusing to format/);
    } finally {
      cleanup.runAll();
    }
  });

  it('refuses a non-empty output directory', async () => {
    const out = join(root, 'full');
    mkdirSync(out);
    writeFileSync(join(out, 'x'), 'x');
    const o = parseLabArgs(['--backend', 'loop', '--data', '8M', '--files', '2', '-o', out]);
    await expect(runLab(o, 'x', () => {})).rejects.toThrow(/output directory .* is not empty/);
  });
});

describe('lab options', () => {
  it('reject impossible combinations before touching anything', async () => {
    const o = parseLabArgs(['--backend', 'loop', '--image-format', 'qcow2', '-o', join(root, 'q')]);
    await expect(runLab(o, 'x', () => {})).rejects.toThrow(/--backend loop needs --image-format raw/);
    expect(() => parseLabArgs(['--vm-mem', 'lots', '-o', 'x'])).toThrow(/--vm-mem: "[^"]*" is not a size/);
    expect(() => parseLabArgs(['--backend', 'xen', '-o', 'x'])).toThrow(/--backend: expected one of auto, kvm, tcg, loop/);
    expect(() => parseLabArgs([])).toThrow(/-o DIR is required/);
  });
});
