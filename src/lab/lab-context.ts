/**
 * State shared by the phases of one `iolineage lab` run (lab.ts): the options and the run's
 * fixed facts, then what each phase hands to the next (host disk, guests, host recording).
 */
import { type LabOptions } from './options.js';
import { type Cleanup, sh } from './exec.js';
import { type GuestKernel } from './guest-kernel.js';
import { type LoopDisk } from './host.js';
import { type BlockRecorder } from './tracefs.js';

export const GUEST_TRACE_KB = 4096;
export const HOST_TRACE_KB = 16384;

export type LabBackend = 'kvm' | 'tcg' | 'loop';

/** What every phase of a run reads (and `notes`, which they append to). */
export interface LabRun {
  o: LabOptions;
  /** the command line, recorded in the manifest */
  argvText: string;
  log: (s: string) => void;
  cleanup: Cleanup;
  out: string;
  t0: number;
  created: string;
  capture: string;
  traceRoot: string;
  notes: string[];
  hostKernel: string;
  /** the static ffsb-lite binary on this machine */
  ffsb: string;
  backend: LabBackend;
  reason: string;
  kernel: GuestKernel | null;
  qemuVersion: string | null;
}

/** The lab's host disk: ext3 on a loop device over a file in the work directory, mounted. */
export interface HostDisk {
  work: string;
  perFile: number;
  fsBytes: number;
  diskBytes: number;
  hostBytes: number;
  loop: LoopDisk & { detach: () => void };
  /** the run's mount points (outside the work directory) */
  mnts: string;
  hostMnt: string;
  /** unmounts the host file system; replaced when it is mounted again */
  umountHost: () => void;
}

export interface GuestRun {
  id: string;
  image: string;
  imageRel: string;
  capDir: string;
  console: string | null;
  mount: string;
  workloadCmd: string;
  hostMark: RegExp;
  diskBacking: string;
}

/** The host's block trace while the guests run. */
export interface HostRecording {
  recorder: BlockRecorder;
  traceFile: string;
  stopGuard: () => void;
  start: { realtime_ns: string; monotonic_ns: string };
}

export function clocksNow(ffsb: string): { realtime_ns: string; monotonic_ns: string } {
  const out = sh(ffsb, ['-C']);
  const m = /realtime_ns=(\d+) monotonic_ns=(\d+)/.exec(out);
  if (!m) throw new Error(`ffsb-lite -C printed "${out.trim()}"`);
  return { realtime_ns: m[1]!, monotonic_ns: m[2]! };
}
