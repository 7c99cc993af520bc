/**
 * What the campaign reads of a worker process from /proc (proc(5)): its CPU time and resident
 * memory, how long it waited runnable for a CPU (schedstat: "time spent waiting on a runqueue"),
 * and whether a thread of it waits on a disk (state D, "uninterruptible disk sleep"), so that a
 * worker starved of CPU or of disk by other load on the machine is not taken for a hang.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/**
 * CPU time (ms, user + system of every thread), resident memory (MB) and runqueue wait (ms, the
 * main thread's) of a process; null when it has gone.
 */
export function processTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
    const rssMb = (Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096) / 2 ** 20;
    let waitMs = 0;
    try {
      waitMs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6 || 0;
    } catch {
      /* a kernel without schedstats: no wait is known */
    }
    return { cpuMs, rssMb, waitMs };
  } catch {
    return null;
  }
}

/**
 * Whether a thread of the process is in uninterruptible sleep (state D: a read or write the disk
 * has not served yet; libuv's threads do the asynchronous file I/O, so every thread is looked at).
 */
export function waitsOnDisk(pid) {
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'D') return true;
    }
  } catch {
    /* gone */
  }
  return false;
}

/**
 * Why an input counts as a hang, or null: more CPU time than the limit, or more than `wallFactor`
 * times the limit of wall time in which it neither ran, nor waited for a CPU, nor waited on the
 * disk (`diskWaitMs`, as sampled with waitsOnDisk): blocked, as by a deadlock or a read that never
 * returns. Waiting for a CPU or a disk is the machine's load, not the input's.
 */
export function hangReason(before, now, elapsedMs, cpuLimitMs, { diskWaitMs = 0, wallFactor = 5 } = {}) {
  const cpu = now.cpuMs - before.cpuMs;
  const waited = now.waitMs - before.waitMs;
  if (cpu > cpuLimitMs || elapsedMs - waited - diskWaitMs > wallFactor * cpuLimitMs) {
    return `${(cpu / 1000).toFixed(1)} s CPU, ${(elapsedMs / 1000).toFixed(1)} s wall of which ${(waited / 1000).toFixed(1)} s waiting for a CPU and ${(diskWaitMs / 1000).toFixed(1)} s for a disk (limit ${cpuLimitMs / 1000} s CPU)`;
  }
  return null;
}
