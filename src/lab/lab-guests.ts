/**
 * The recording phase of a lab run (lab.ts): the host records the block tracepoints of its loop
 * disk while the guests (VMs, or the loop stand-in) run the workload under strace.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childExit, sh } from './exec.js';
import { attachLoop, mountFs } from './host.js';
import { clocksNow, GUEST_TRACE_KB, type GuestRun, HOST_TRACE_KB, type HostDisk, type HostRecording, type LabRun } from './lab-context.js';
import { formatSize, type LabOptions } from './options.js';
import { BlockRecorder, type TraceResult } from './tracefs.js';
import { type Accel, runVm } from './vm.js';

/** The workload command line for a guest (paths as the guest sees them). */
function workloadArgs(o: LabOptions, k: number, bin: string, dir: string, log: string, dropCaches: boolean): string[] {
  const a = [
    bin,
    '-d',
    dir,
    '-n',
    String(o.files),
    '-s',
    String(Math.floor(o.data / o.files / o.ioSize) * o.ioSize),
    '-b',
    String(o.ioSize),
    '-o',
    String(o.ops),
    '-r',
    String(o.readFraction),
    '-S',
    String(o.seed + k),
  ];
  if (o.direct) a.push('-D');
  if (o.duration > 0) a.push('-t', String(o.duration));
  if (dropCaches) a.push('-c');
  a.push('-l', log);
  return a;
}

/** Start the host's block trace of its loop disk (its tracefs instance recorded for cleanup). */
export function startHostRecording({ cleanup, traceRoot, ffsb }: LabRun, disk: HostDisk): HostRecording {
  const traceFile = join(disk.work, 'host.trace');
  const recorder = new BlockRecorder(traceRoot, `iolineage-host-${process.pid}`, disk.loop.dev, traceFile, HOST_TRACE_KB, cleanup);
  const stopGuard = cleanup.acquire({ kind: 'tracefs', dir: recorder.dir }, () => recorder.closeHandles());
  recorder.start('mono');
  const start = clocksNow(ffsb);
  return { recorder, traceFile, stopGuard, start };
}

/**
 * The loop stand-in for vm0: its image on a loop device mounted on the host, the workload run by
 * guest-capture.sh on this machine. Returns the loop device, still attached.
 */
export async function runLoopGuest(
  { o, log, cleanup, capture, traceRoot, notes, ffsb }: LabRun,
  disk: HostDisk,
  rec: HostRecording,
  g: GuestRun,
): Promise<{ path: string; detach: () => void }> {
  const gl = attachLoop(g.image, o.hostCache === 'none', cleanup);
  g.diskBacking = `loop device over the image file ${g.imageRel} on the host ext3 (direct I/O ${o.hostCache === 'none' ? 'on' : 'off'})`;
  const mnt = join(disk.mnts, 'vm0');
  const umountGuest = mountFs(gl.path, mnt, 'ext3', cleanup);
  g.mount = mnt;
  const wl = workloadArgs(o, 0, ffsb, mnt, join(g.capDir, 'workload.log'), false);
  g.workloadCmd = wl.join(' ');
  log(`lab: vm0 (loop stand-in on ${gl.name}): running the workload under strace`);
  await cleanup.checkpoint();
  // in a process group of its own: a stop signal reaches the script, strace and the workload together
  const script = cleanup.spawn(
    'sh',
    [
      join(capture, 'guest-capture.sh'),
      '-o',
      g.capDir,
      '-d',
      gl.name,
      '-b',
      String(GUEST_TRACE_KB),
      '-k',
      ffsb,
      '-M',
      join(rec.recorder.dir, 'trace_marker'),
      '--',
      ...wl,
    ],
    { what: 'guest-capture.sh and the workload', group: true },
  );
  // the script names its tracefs instance after its pid; recorded in case it cannot remove it
  const guestInstance = cleanup.acquire({ kind: 'tracefs', dir: join(traceRoot, 'instances', `iolineage-guest-${script.pid}`) });
  const st = await childExit(script, (s) => log(s.trimEnd()));
  cleanup.check();
  if (st !== 0) throw new Error(`guest-capture.sh exited ${st}`);
  guestInstance();
  umountGuest();
  notes.push('loop backend: guest and host layers share the host kernel and its CLOCK_MONOTONIC; no guest page cache of its own');
  return gl;
}

/** Stage /out for one VM (scripts, workload, lab.sh) as a second disk, boot it, and copy its capture back. */
async function runVmGuest(run: LabRun, disk: HostDisk, rec: HostRecording, accel: Accel, g: GuestRun, k: number): Promise<void> {
  const { o, log, cleanup, capture, ffsb } = run;
  const { work } = disk;
  const stage = join(work, g.id, 'stage');
  mkdirSync(stage, { recursive: true });
  copyFileSync(join(capture, 'guest-capture.sh'), join(stage, 'guest-capture.sh'));
  copyFileSync(ffsb, join(stage, 'ffsb-lite'));
  sh('chmod', ['755', join(stage, 'ffsb-lite')]);
  const wl = workloadArgs(o, k, '/out/ffsb-lite', '/mnt/data', '/out/cap/workload.log', o.dropCaches);
  g.workloadCmd = wl.join(' ');
  writeFileSync(
    join(stage, 'lab.sh'),
    [
      '# written by iolineage lab; run by the guest /init from /out',
      `mount -t ext3 /dev/${o.guestPartition === 'none' ? 'vda' : 'vda1'} /mnt/data || exit 10`,
      `sh /out/guest-capture.sh -o /out/cap -d vda -b ${GUEST_TRACE_KB} -k /out/ffsb-lite -M /dev/ttyS0 -- ${g.workloadCmd}`,
      'st=$?',
      'umount /mnt/data',
      'exit $st',
      '',
    ].join('\n'),
  );
  const outDisk = join(work, `${g.id}.out`);
  sh('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-d', stage, outDisk, '2G']);
  g.console = join(work, g.id, 'console.log');
  log(`lab: ${g.id}: booting (${accel}, ${formatSize(o.vmMem)})`);
  const r = await runVm(
    {
      id: g.id,
      accel,
      memBytes: o.vmMem,
      vcpus: o.vcpus,
      kernel: run.kernel!,
      image: g.image,
      imageFormat: o.imageFormat,
      hostCache: o.hostCache,
      outDisk,
      console: g.console,
      timeoutS: o.timeout,
    },
    (n) => rec.recorder.mark(`iolineage-mark ${g.id} ${n}`),
    cleanup,
  );
  cleanup.check();
  log(`lab: ${g.id}: guest finished in ${r.elapsedS.toFixed(0)} s (status ${r.guestStatus}, ${r.marks} marks)`);
  if (r.guestStatus !== '0') {
    throw new Error(
      `${g.id}: the guest run failed (status ${r.guestStatus ?? 'none'}, qemu exit ${r.exitCode}); console log: ${g.console}`,
    );
  }
  rmSync(g.capDir, { recursive: true, force: true });
  sh('debugfs', ['-R', `rdump /cap ${join(work, g.id)}`, outDisk], { stdio: ['ignore', 'pipe', 'ignore'] });
  sh('debugfs', ['-R', `dump /lab-guest.log ${join(work, g.id, 'lab-guest.log')}`, outDisk], { stdio: ['ignore', 'pipe', 'ignore'] });
  rmSync(outDisk);
}

/** Run every guest as a VM, all at once. */
export async function runVmGuests(run: LabRun, disk: HostDisk, rec: HostRecording, accel: Accel, guests: GuestRun[]): Promise<void> {
  await Promise.all(guests.map((g, k) => runVmGuest(run, disk, rec, accel, g, k)));
}

/** Stop the host trace once the guests are done; detaches the loop stand-in's device. */
export async function stopHostRecording(
  { log, cleanup, ffsb }: LabRun,
  rec: HostRecording,
  loopGuest: { detach: () => void } | null,
): Promise<{ trace: TraceResult; end: { realtime_ns: string; monotonic_ns: string } }> {
  cleanup.check();
  const end = clocksNow(ffsb);
  const trace = await rec.recorder.stop();
  cleanup.check();
  rec.stopGuard();
  loopGuest?.detach();
  log(`lab: host trace: ${trace.lines} lines, ${trace.lost_events} lost events`);
  return { trace, end };
}
