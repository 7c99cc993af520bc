/**
 * capture/host-capture.sh + capture/guest-capture.sh + `iolineage lab --assemble`, run on this
 * machine with loop devices standing in for the host disk and the guest disk (root and tracefs
 * needed; skipped elsewhere with the reason printed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleBundle } from '../../src/capture/assemble.js';
import { bundleFiles, readManifest, type CaptureManifest } from '../../src/capture/manifest.js';
import { Cleanup } from '../../src/lab/exec.js';
import { attachLoop, mkfsLoop, mountFs } from '../../src/lab/host.js';
import { buildWorkload, captureDir, labUnavailable } from '../../src/lab/lab.js';

const why = labUnavailable('loop');
if (why) console.log(`test/capture: skipping the capture scripts: ${why}`);

describe.skipIf(why !== null)('capture scripts on a stand-in host and guest', () => {
  const root = mkdtempSync(join(tmpdir(), 'iolineage-capture-'));
  const bundle = join(root, 'bundle');
  const cleanup = new Cleanup();
  let m: CaptureManifest;

  beforeAll(() => {
    const cap = captureDir();
    const ffsb = buildWorkload(join(root, 'cache'), cap);
    const hostFile = join(root, 'host.disk');
    execFileSync('truncate', ['-s', '160M', hostFile]);
    const hd = attachLoop(hostFile, true, cleanup);
    mkfsLoop(hd, 'test-host');
    const hm = join(root, 'host-mnt');
    mountFs(hd.path, hm, 'ext3', cleanup);
    const image = join(hm, 'vm.raw');
    execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=48', 'status=none']);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext3', '-E', 'nodiscard', image]);
    const gd = attachLoop(image, false, cleanup);
    const gm = join(root, 'guest-mnt');
    mountFs(gd.path, gm, 'ext3', cleanup);
    const gout = join(bundle, 'vm0');
    mkdirSync(gout, { recursive: true });
    execFileSync(
      'sh',
      [
        join(cap, 'host-capture.sh'),
        '-o',
        bundle,
        '-i',
        image,
        '-d',
        hd.name,
        '-m',
        '0',
        '--',
        'sh',
        join(cap, 'guest-capture.sh'),
        '-o',
        gout,
        '-d',
        gd.name,
        '-k',
        ffsb,
        '--',
        ffsb,
        '-d',
        gm,
        '-n',
        '2',
        '-s',
        '4194304',
        '-o',
        '200',
        '-l',
        join(gout, 'workload.log'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, IOLINEAGE_CLOCKS: ffsb } },
    );
    m = assembleBundle(bundle);
  });
  afterAll(() => {
    cleanup.runAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('produces a bundle whose manifest validates, with every file present', () => {
    const again = readManifest(bundle);
    expect(again.guests[0]!.fs.type).toBe('ext3');
    expect(again.host!.fs.type).toBe('ext3');
    expect(again.guests[0]!.image!.path_in_fs).toBe('/vm.raw');
    for (const f of bundleFiles(m)) expect(statSync(join(bundle, f.path)).size).toBeGreaterThan(0);
    expect(bundleFiles(m).map((f) => f.role)).toEqual(expect.arrayContaining(['guest:vm0:fs.metadata', 'guest:vm0:image.filefrag']));
  });

  it('traces each disk on its own device, marks included, nothing lost', () => {
    const g = gunzipSync(readFileSync(join(bundle, m.guests[0]!.block_trace.path))).toString();
    const h = gunzipSync(readFileSync(join(bundle, m.host!.block_trace.path))).toString();
    expect(g).toContain(`block_rq_issue: ${m.guests[0]!.disk.dev.replace(':', ',')} `);
    expect(h).toContain(`block_rq_issue: ${m.host!.disk.dev.replace(':', ',')} `);
    expect(g).toMatch(/tracing_mark_write: iolineage-mark 0/);
    expect(h).toMatch(/tracing_mark_write: iolineage-mark host 0 realtime_ns=\d+/);
    expect(m.guests[0]!.block_trace.lost_events + m.host!.block_trace.lost_events).toBe(0);
  });

  it('leaves no tracefs instance behind', () => {
    const names = [join(bundle, 'vm0/guest.env'), join(bundle, 'host/host.env')].map(
      (f) => /^instance=(\S+)$/m.exec(readFileSync(f, 'utf8'))?.[1],
    );
    expect(names.every((n) => n && /^iolineage-(guest|host)-\d+$/.test(n))).toBe(true);
    const inst = readdirSync('/sys/kernel/tracing/instances');
    for (const n of names) expect(inst).not.toContain(n);
  });
});
