/**
 * summary.json of `iolineage analyze`, declared once: metrics/summary.ts builds it, analyze adds the
 * capture's parameters and its decisions, and every reader (the analyze report, whatif, notebooks)
 * takes this type. Keys are snake_case as written; byte counts are numbers (exact below 2^53); clock
 * offsets are strings of nanoseconds (64-bit, never rounded).
 */
import { readFileSync } from 'node:fs';
import type { ClockSource } from '../correlate/clock-alignment.js';
import type { FsOffsetDecision } from '../correlate/fs-offset.js';
import type { MountPrefixResult } from '../correlate/mount-prefix.js';
import { InputError } from '../util/errors.js';
import type { Amplification } from './amplification.js';
import type { CacheRatios } from './cache.js';
import type { ReorderingStats } from './reordering.js';
import type { SplitMerge } from './split-merge.js';

/** Bytes and requests of one layer; app counts read/write calls that moved bytes. */
export interface SummaryLayer {
  read_bytes: number;
  write_bytes: number;
  /** Block layers only: discards and other requests that are neither reads nor writes. */
  other_bytes?: number;
  requests: number;
  reads: number;
  writes: number;
}

/** The timestamp error the matched pairs of a clock show: strace against the guest requests (app → guest), guest requests against the host requests (guest → host); correlate/clock-alignment.ts TimestampError. */
export interface SummaryTimestampError {
  matched_requests: number;
  outside_window: number;
  early_bound_ns: number;
  late_bound_ns: number;
  beyond_bound: number;
  late_p99_ns: number;
}

/** One clock offset: t_lower = t_upper + offset_ns + drift_ppm·1e-6·(t_upper - ref_ns). */
export interface SummaryClock {
  offset_ns: string;
  uncertainty_ns: number | null;
  source: ClockSource;
  support: number;
  considered: number;
  drift_ppm: number;
  ref_ns: string;
  timestamp_error?: SummaryTimestampError;
}

export interface SummaryAttribution {
  by_cause: Record<string, number>;
  total: number;
  app_read_bytes: number;
  app_write_bytes: number;
  /** Equal to total by construction. */
  layer_total: number;
}

/** The captured run's parameters (from the bundle's manifest), for tools that read only the output. */
export interface SummaryCapture {
  vm_mem_bytes: number | null;
  host_cache: 'writeback' | 'none' | null;
  direct: boolean | null;
  data_bytes: number | null;
  image_format: string | null;
  vms: number;
}

export interface SummaryLayerFit {
  data_bytes: number;
  linked_bytes: number;
  linked_share: number | null;
}

export interface SummaryIngestProblem {
  name: string;
  severity: string;
  count: number;
  description: string;
}

/** Per layer (guest, host) or per pair of layers (app_guest, app_host): only those the capture has. */
type Layers<T, K extends string> = { [k in K]?: T };

export interface Summary {
  layers: { app: SummaryLayer; guest: SummaryLayer; host?: SummaryLayer };
  amplification: Layers<Amplification, 'guest' | 'host'>;
  split_merge: Layers<SplitMerge, 'app_guest' | 'app_host'>;
  cache: Layers<CacheRatios, 'guest' | 'host'>;
  reordering: { order: string; guest?: SummaryReordering; host?: SummaryReordering };
  attribution: Layers<SummaryAttribution, 'guest' | 'host'>;
  /** Bytes per link rule (the `how` of links_app_guest / links_guest_host). */
  links: Layers<Record<string, number>, 'app_guest' | 'guest_host'>;
  /** Application I/Os per lineage outcome. */
  outcomes: Record<string, number>;
  clocks: Record<string, { app_to_guest: SummaryClock | null; guest_to_host: SummaryClock | null }>;
  mount_prefix: Record<string, MountPrefixResult>;
  notes: string[];
  ingest_problems: SummaryIngestProblem[];
  capture?: SummaryCapture;
  fs_offset?: Record<string, FsOffsetDecision>;
  layer_fit?: Record<string, SummaryLayerFit>;
  warnings?: string[];
}

export interface SummaryReordering {
  all: ReorderingStats;
  read: ReorderingStats;
  write: ReorderingStats;
}

/**
 * summary.json read back. Only its outline is checked (an object with `layers` and `clocks`): the
 * file is this project's own output, and a hand-edited one fails where a field is used.
 */
export function readSummaryJson(path: string): Summary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, `not a summary.json: ${(e as Error).message}`);
  }
  const o = parsed as Partial<Summary> | null;
  if (
    !o ||
    typeof o !== 'object' ||
    Array.isArray(o) ||
    typeof o.layers !== 'object' ||
    typeof o.clocks !== 'object' ||
    o.layers === null ||
    o.clocks === null
  ) {
    throw new InputError(path, 'not a summary.json of iolineage analyze: expected an object with "layers" and "clocks"');
  }
  return o as Summary;
}
