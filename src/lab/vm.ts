/**
 * Running the lab guest in QEMU: the KVM probe, and one VM run that streams the serial console,
 * turns the guest's alignment marks into host trace marks, and ends when the guest powers off.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostCacheMode, ImageFormat } from '../capture/manifest.js';
import type { Cleanup } from './exec.js';
import type { GuestKernel } from './guest-kernel.js';

export type Accel = 'kvm' | 'tcg';

export interface VmSpec {
  id: string;
  accel: Accel;
  memBytes: number;
  vcpus: number;
  kernel: GuestKernel;
  image: string;
  imageFormat: ImageFormat;
  hostCache: HostCacheMode;
  /** The second disk (ext2) carrying lab.sh in, and the capture out. */
  outDisk: string;
  /** Console log file. */
  console: string;
  timeoutS: number;
}

function accelArgs(accel: Accel): string[] {
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg'];
}

const APPEND = 'console=ttyS0 quiet panic=-1 loglevel=4';

/** QEMU arguments of a lab VM. */
export function qemuArgs(s: VmSpec): string[] {
  return [
    ...accelArgs(s.accel),
    '-m',
    String(Math.floor(s.memBytes / 1024 ** 2)),
    '-smp',
    String(s.vcpus),
    '-kernel',
    s.kernel.vmlinuz,
    '-initrd',
    s.kernel.initramfs,
    '-append',
    APPEND,
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-no-reboot',
    '-nodefaults',
    '-drive',
    `file=${s.image},format=${s.imageFormat},if=virtio,cache=${s.hostCache},aio=threads`,
    '-drive',
    `file=${s.outDisk},format=raw,if=virtio,cache=unsafe`,
  ];
}

/**
 * Does this accelerator boot the guest? Boots it with `iolineage.probe` (the init reports and
 * powers off). KVM on some hosts aborts ("failed to set MSR") or hangs in early boot: both are a no.
 * @returns null when it works, else the reason
 */
export function probeAccel(accel: Accel, kernel: GuestKernel, timeoutS: number, cleanup?: Cleanup): Promise<string | null> {
  if (accel === 'kvm' && !existsSync('/dev/kvm')) return Promise.resolve('/dev/kvm does not exist');
  return new Promise((resolve) => {
    const args = [
      ...accelArgs(accel),
      '-m',
      '256',
      '-kernel',
      kernel.vmlinuz,
      '-initrd',
      kernel.initramfs,
      '-append',
      APPEND + ' iolineage.probe',
      '-display',
      'none',
      '-serial',
      'stdio',
      '-monitor',
      'none',
      '-no-reboot',
      '-nodefaults',
    ];
    const p = cleanup
      ? cleanup.spawn('qemu-system-x86_64', args, { what: `QEMU (${accel} probe)` })
      : spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    p.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve(`cannot run qemu-system-x86_64: ${e.message}`);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      if (out.includes('@@iolineage-probe-ok')) resolve(null);
      else if (err.trim()) resolve(`${accel} failed: ${err.trim().split('\n').slice(-1)[0]}`);
      else
        resolve(
          code === null ? `${accel}: the guest did not boot within ${timeoutS} s` : `${accel}: qemu exited ${code} before the guest booted`,
        );
    });
  });
}

/** Cached probe result, keyed by host kernel, QEMU and guest kernel. */
export async function chooseAccel(
  cache: string,
  kernel: GuestKernel,
  qemuVersion: string,
  hostKernel: string,
  log: (s: string) => void,
  cleanup?: Cleanup,
): Promise<{ accel: Accel; reason: string }> {
  const file = join(cache, 'kvm-probe.json');
  const key = `${hostKernel}|${qemuVersion}|${kernel.release}`;
  let cached: Record<string, string | null> = {};
  try {
    cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | null>;
  } catch {
    /* none yet */
  }
  let why: string | null;
  if (key in cached) {
    why = cached[key]!;
  } else {
    log('lab: probing KVM (up to 30 s)');
    why = await probeAccel('kvm', kernel, 30, cleanup);
    cleanup?.check();
    cached[key] = why;
    writeFileSync(file, JSON.stringify(cached, null, 2));
  }
  if (why === null) return { accel: 'kvm', reason: 'KVM booted the guest (probe)' };
  return { accel: 'tcg', reason: `KVM did not run the guest (${why}); fell back to full emulation (TCG)` };
}

export interface VmResult {
  exitCode: number | null;
  /** Guest's own report from init: `@@iolineage-exit STATUS`. */
  guestStatus: string | null;
  marks: number;
  elapsedS: number;
}

/**
 * Run one VM to completion. Each `@@iolineage-mark N` line on the console is answered by `onMark(N)`
 * at once (the host writes its own trace mark), which pairs guest and host clocks.
 */
export function runVm(s: VmSpec, onMark: (n: number) => void, cleanup: Cleanup): Promise<VmResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = cleanup.spawn('qemu-system-x86_64', qemuArgs(s), { what: `QEMU of ${s.id}` });
    const con = createWriteStream(s.console);
    let pending = '';
    let marks = 0;
    let guestStatus: string | null = null;
    p.stdout?.on('data', (b: Buffer) => {
      con.write(b);
      pending += b.toString('latin1');
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i).replace(/\r$/, '');
        pending = pending.slice(i + 1);
        const m = /@@iolineage-mark (\d+)/.exec(line);
        if (m) {
          onMark(Number(m[1]));
          marks++;
        }
        const e = /@@iolineage-exit (\S+)/.exec(line);
        if (e) guestStatus = e[1]!;
      }
    });
    p.stderr?.on('data', (b: Buffer) => con.write(b));
    const timer = setTimeout(() => p.kill('SIGKILL'), s.timeoutS * 1000);
    p.on('close', (code) => {
      clearTimeout(timer);
      con.end();
      resolve({ exitCode: code, guestStatus, marks, elapsedS: (Date.now() - t0) / 1000 });
    });
  });
}
