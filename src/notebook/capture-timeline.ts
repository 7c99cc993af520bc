/**
 * One timeline for a capture's three clocks, so that times of the application, guest and host
 * layers can be drawn on one axis. Each layer keeps its own clock (strace's wall clock, the
 * guest's and the host's trace clocks); `iolineage analyze` estimates the offsets between them
 * (summary.json "clocks": t_lower = t_upper + offset_ns + drift_ppm·1e-6·(t_upper - ref_ns)).
 * The capture's start is its first event on the lowest clock, and each clock's base is that
 * instant read on that clock through the offsets: times since the start then differ between
 * layers only by the offsets' uncertainty. Without offsets each clock starts at its own first
 * event, and the origin says so.
 */
import type { SummaryClock } from '../metrics/summary-json.js';
import type { ClockDomain, TimeBases } from './user-table.js';

/** What the timeline needs of an offset of summary.json (metrics/summary-json.ts SummaryClock). */
export type SummaryClockOffset = Pick<SummaryClock, 'offset_ns'> & Partial<Pick<SummaryClock, 'drift_ppm' | 'ref_ns'>>;

/** summary.json "clocks": per VM, app→guest and guest→host. */
export type SummaryClocks = Record<string, { app_to_guest?: SummaryClockOffset | null; guest_to_host?: SummaryClockOffset | null }>;

export interface ClockStarts {
  /** First application call per VM (app clock). */
  app: ReadonlyMap<string, bigint>;
  /** First guest request per VM (guest clock). */
  guest: ReadonlyMap<string, bigint>;
  /** First host request (host clock). */
  host: bigint | null;
  /** First request of a lone block trace (its own clock). */
  trace: bigint | null;
}

const big = (v: string | undefined): bigint => (v === undefined ? 0n : BigInt(v));

/** Upper-clock time to the lower clock. */
export function toLowerClock(t: bigint, o: SummaryClockOffset): bigint {
  const drift = o.drift_ppm ?? 0;
  const skew = drift === 0 ? 0n : BigInt(Math.round(drift * 1e-6 * Number(t - big(o.ref_ns))));
  return t + big(o.offset_ns) + skew;
}

/** Lower-clock time to the upper clock (the inverse of toLowerClock; drift is ppm, one step suffices). */
export function toUpperClock(t: bigint, o: SummaryClockOffset): bigint {
  const guess = t - big(o.offset_ns);
  const drift = o.drift_ppm ?? 0;
  if (drift === 0) return guess;
  return guess - BigInt(Math.round(drift * 1e-6 * Number(guess - big(o.ref_ns))));
}

const minOf = (xs: (bigint | null | undefined)[]): bigint | null => {
  let m: bigint | null = null;
  for (const x of xs) if (x !== null && x !== undefined && (m === null || x < m)) m = x;
  return m;
};

/** The bases of every clock of a capture (see the header). */
export function captureTimeBases(starts: ClockStarts, clocks: SummaryClocks | null): TimeBases {
  const vms = [...new Set([...starts.app.keys(), ...starts.guest.keys()])].sort();
  const appBase = new Map<string, bigint | null>();
  const guestBase = new Map<string, bigint | null>();
  let hostBase: bigint | null = starts.host;
  const unaligned: string[] = [];
  const g2hOf = (vm: string) => clocks?.[vm]?.guest_to_host ?? null;
  const a2gOf = (vm: string) => clocks?.[vm]?.app_to_guest ?? null;

  if (starts.host !== null) {
    // origin on the host clock: the earliest event of any layer read there
    const cands: (bigint | null)[] = [starts.host];
    for (const vm of vms) {
      const g2h = g2hOf(vm);
      if (!g2h) continue;
      const g = starts.guest.get(vm);
      if (g !== undefined) cands.push(toLowerClock(g, g2h));
      const a = starts.app.get(vm),
        a2g = a2gOf(vm);
      if (a !== undefined && a2g) cands.push(toLowerClock(toLowerClock(a, a2g), g2h));
    }
    hostBase = minOf(cands);
    for (const vm of vms) {
      const g2h = g2hOf(vm),
        a2g = a2gOf(vm);
      const g = g2h ? toUpperClock(hostBase!, g2h) : (starts.guest.get(vm) ?? null);
      if (!g2h) unaligned.push(`${vm} guest`);
      guestBase.set(vm, g);
      appBase.set(vm, a2g && g !== null ? toUpperClock(g, a2g) : (starts.app.get(vm) ?? null));
      if (!a2g && starts.app.has(vm)) unaligned.push(`${vm} application`);
    }
  } else {
    for (const vm of vms) {
      const a = starts.app.get(vm),
        a2g = a2gOf(vm),
        g = starts.guest.get(vm);
      const origin = minOf([g, a !== undefined && a2g ? toLowerClock(a, a2g) : null]);
      guestBase.set(vm, origin);
      appBase.set(vm, a2g && origin !== null ? toUpperClock(origin, a2g) : (a ?? null));
      if (!a2g && a !== undefined) unaligned.push(`${vm} application`);
    }
  }
  const lowest = starts.host !== null ? 'host' : vms.length ? 'guest' : 'trace';
  const origin =
    `0 = the capture's first event, read on the ${lowest} clock` +
    (unaligned.length
      ? `; not aligned (no clock offset in summary.json), each from its own first event: ${unaligned.join(', ')}`
      : '; the other clocks mapped there through the offsets of summary.json "clocks" (within their uncertainty)');
  const only = vms.length === 1 ? vms[0]! : null;
  return {
    origin,
    base(domain: ClockDomain, vm: string | null): bigint | null {
      const v = vm ?? only;
      switch (domain) {
        case 'host':
          return hostBase;
        case 'trace':
          return starts.trace;
        case 'guest':
          return v === null ? null : (guestBase.get(v) ?? null);
        case 'app':
          return v === null ? null : (appBase.get(v) ?? null);
      }
    },
  };
}
