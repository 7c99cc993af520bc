/**
 * The campaign's hang rule (scripts/fuzz/process-times.mjs): an input hangs when it takes more CPU
 * than the limit, or is blocked (neither running nor waiting for a CPU or a disk) for 5× the limit;
 * a worker that only waited for a CPU or a disk (other load on the machine) is not a hang. And the
 * /proc readings it rests on, for a live process and a gone one, and a thread in disk sleep.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs script of the campaign, no types
import { hangReason, processTimes, waitsOnDisk } from '../../scripts/fuzz/process-times.mjs';

const at = (cpuMs: number, waitMs: number) => ({ cpuMs, rssMb: 100, waitMs });

describe('fuzz hang rule', () => {
  it('a starved worker (100 s waiting for a CPU, 0.1 s CPU) is not a hang', () => {
    expect(hangReason(at(0, 0), at(100, 99_000), 100_000, 20_000)).toBeNull();
  });

  it('a worker that waited 100 s on a disk (another job filling it) is not a hang', () => {
    expect(hangReason(at(0, 0), at(100, 0), 100_000, 20_000, { diskWaitMs: 99_500 })).toBeNull();
    expect(hangReason(at(0, 0), at(100, 0), 130_000, 20_000, { diskWaitMs: 20_000 })).toMatch(/and 20\.0 s for a disk/);
  });

  it('a blocked worker (110 s, of which 0.5 s runnable) is, and so is one over the CPU limit', () => {
    expect(hangReason(at(0, 0), at(100, 500), 110_000, 20_000)).toMatch(
      /0\.1 s CPU, 110\.0 s wall of which 0\.5 s waiting for a CPU and 0\.0 s for a disk \(limit 20 s CPU\)/,
    );
    expect(hangReason(at(1000, 0), at(21_500, 10), 22_000, 20_000)).toMatch(/^20\.5 s CPU/);
    expect(hangReason(at(0, 0), at(5_000, 1_000), 30_000, 20_000)).toBeNull();
  });

  it('reads a live process and gives null for a gone one', async () => {
    const child = spawn(process.execPath, [
      '-e',
      'let x = 0; const t = Date.now(); while (Date.now() - t < 400) x++; setTimeout(() => {}, 5000)',
    ]);
    await new Promise((r) => setTimeout(r, 700));
    const t = processTimes(child.pid!);
    child.kill('SIGKILL');
    expect(t).not.toBeNull();
    expect(t.cpuMs).toBeGreaterThanOrEqual(300);
    expect(t.rssMb).toBeGreaterThan(5);
    expect(t.waitMs).toBeGreaterThanOrEqual(0);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(processTimes(gone)).toBeNull();
    expect(waitsOnDisk(gone)).toBe(false);
    // a process asleep on a timer is not waiting on a disk
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)']);
    await new Promise((r) => setTimeout(r, 300));
    expect(waitsOnDisk(sleeper.pid!)).toBe(false);
    sleeper.kill('SIGKILL');
  });
});
