/**
 * Predicted guest-disk and host-disk bytes for other VM memory and host page-cache sizes, from an
 * analysed capture: the memory model of `iolineage whatif` (memoryModelFor, src/whatif), as rows
 * for a chart, with what the model assumed about the guest page cache (cache-assumptions.ts).
 */
import { UsageError } from '../util/errors.js';
import { parseSize } from '../util/numbers.js';
import { loadWhatifInputs, memoryModelFor } from '../analyze/whatif-inputs.js';
import type { CacheAssumptions } from '../whatif/cache-assumptions.js';
import type { Calibration } from '../whatif/calibration.js';

export interface WhatifRow {
  /** VM memory, MiB. */
  guest_mem_mib: number;
  /** Host page cache, MiB (0: none). */
  host_cache_mib: number;
  /** guest | host: the disk whose bytes are predicted. */
  layer: string;
  /** read | write. */
  direction: string;
  bytes: number;
  /** Assumptions the trace cannot check that the prediction rests on, comma-separated (cold_start, overhead_default, drop_value_unknown, dirty_at_drop); "" when none. */
  unchecked: string;
}

/** The predictions and what the model assumed to make them. */
export interface WhatifReport {
  rows: WhatifRow[];
  /** The guest page cache at the trace's start and at its drops; `summary` says it in words. */
  cache: CacheAssumptions;
  calibration: Calibration;
}

export interface WhatifOptions {
  /** VM memory sizes to predict, e.g. ["64M", "128M", "256M", "512M"]. */
  guestMem: readonly string[];
  /** Host page-cache sizes, e.g. ["0", "1G"]. */
  hostCache?: readonly string[];
  /** VM memory of the captured run (default: $IOLINEAGE_CAPTURED_MEM, else what the analysis recorded). */
  capturedMem?: string;
}

export async function memoryWhatif(outDir: string, opts: WhatifOptions): Promise<WhatifRow[]> {
  return (await memoryWhatifReport(outDir, opts)).rows;
}

export async function memoryWhatifReport(outDir: string, opts: WhatifOptions): Promise<WhatifReport> {
  const captured = opts.capturedMem ?? process.env.IOLINEAGE_CAPTURED_MEM;
  const inp = await loadWhatifInputs(outDir);
  const { model } = memoryModelFor(inp, captured ? { capturedGuestMem: parseSize(captured, 'whatif: capturedMem') } : {});
  const predictions = model.predict(
    opts.guestMem.map((m) => parseSize(m, 'whatif: guestMem')),
    (opts.hostCache ?? ['0', '1G']).map((m) => parseSize(m, 'whatif: hostCache')),
  );
  const rows: WhatifRow[] = [];
  for (const p of predictions) {
    for (const layer of ['guest', 'host'] as const) {
      for (const direction of ['read', 'write'] as const) {
        rows.push({
          guest_mem_mib: p.guest_mem / 1048576,
          host_cache_mib: p.host_cache / 1048576,
          layer,
          direction,
          bytes: p.predicted[`${layer}_${direction}_bytes`],
          unchecked: p.unchecked.join(','),
        });
      }
    }
  }
  return { rows, cache: model.cache, calibration: model.calibration };
}

export interface WhatifAttempt {
  /** The predictions, or null when the captured run's VM memory is not known. */
  rows: WhatifRow[] | null;
  /** Why there are no predictions, or what the model assumed about the guest page cache (for the notebook to print). */
  note: string;
  /** The model's assumptions about the guest page cache, or null when there are no predictions. */
  cache: CacheAssumptions | null;
}

/**
 * memoryWhatif, except that a capture whose VM memory is unknown (an analysis that does not
 * record it, and no $IOLINEAGE_CAPTURED_MEM) gives a note instead of an error: the what-if is
 * optional in a report. Every other failure still throws.
 */
export async function tryMemoryWhatif(outDir: string, opts: WhatifOptions): Promise<WhatifAttempt> {
  try {
    const r = await memoryWhatifReport(outDir, opts);
    return { rows: r.rows, note: `Guest page cache: ${r.cache.summary}.`, cache: r.cache };
  } catch (e) {
    if (e instanceof UsageError && /captured VM memory is unknown/.test(e.message)) {
      return {
        rows: null,
        cache: null,
        note: 'No memory what-if: the VM memory of the captured run is unknown. Set IOLINEAGE_CAPTURED_MEM (e.g. 128M), or publish from the capture bundle (node scripts/notebooks.mjs --out BUNDLE), which reads it from manifest.json.',
      };
    }
    throw e;
  }
}
