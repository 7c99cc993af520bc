/**
 * Predicted guest-disk and host-disk bytes for other VM memory and host page-cache sizes, from an
 * analysed capture, through the `iolineage whatif --json` command (the memory model of src/whatif),
 * run as a child process so that a notebook gets exactly what the command prints.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../util/errors.js';

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
}

export interface WhatifOptions {
  /** VM memory sizes to predict, e.g. ["64M", "128M", "256M", "512M"]. */
  guestMem: readonly string[];
  /** Host page-cache sizes, e.g. ["0", "1G"]. */
  hostCache?: readonly string[];
  /** VM memory of the captured run (default: $IOLINEAGE_CAPTURED_MEM, else what the analysis recorded). */
  capturedMem?: string;
}

interface WhatifJson { guest_mem: number; host_cache: number; predicted: Record<string, number> }

export function memoryWhatif(outDir: string, opts: WhatifOptions): WhatifRow[] {
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const captured = opts.capturedMem ?? process.env.IOLINEAGE_CAPTURED_MEM;
  const args = [cli, 'whatif', outDir, '--guest-mem', opts.guestMem.join(','), '--host-cache', (opts.hostCache ?? ['0', '1G']).join(','), '--json'];
  if (captured) args.push('--captured-mem', captured);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) {
    const msg = (r.stderr || '').trim().split('\n').filter((l) => !l.startsWith('whatif: reading')).pop() ?? `exit ${r.status}`;
    throw new UsageError(`iolineage whatif on ${outDir} failed: ${msg.replace(/^iolineage: /, '')}`);
  }
  let doc: WhatifJson[];
  try {
    doc = JSON.parse(r.stdout) as WhatifJson[];
  } catch {
    throw new Error(`iolineage whatif --json printed no JSON: ${r.stdout.slice(0, 200)}`);
  }
  const rows: WhatifRow[] = [];
  for (const p of doc) {
    for (const layer of ['guest', 'host']) {
      for (const direction of ['read', 'write']) {
        const bytes = p.predicted[`${layer}_${direction}_bytes`];
        if (typeof bytes !== 'number') continue;
        rows.push({ guest_mem_mib: p.guest_mem / 1048576, host_cache_mib: p.host_cache / 1048576, layer, direction, bytes });
      }
    }
  }
  return rows;
}

export interface WhatifAttempt {
  /** The predictions, or null when the captured run's VM memory is not known. */
  rows: WhatifRow[] | null;
  /** Why there are no predictions (for the notebook to print), or "". */
  note: string;
}

/**
 * memoryWhatif, except that a capture whose VM memory is unknown (an analysis that does not
 * record it, and no $IOLINEAGE_CAPTURED_MEM) gives a note instead of an error: the what-if is
 * optional in a report. Every other failure still throws.
 */
export function tryMemoryWhatif(outDir: string, opts: WhatifOptions): WhatifAttempt {
  try {
    return { rows: memoryWhatif(outDir, opts), note: '' };
  } catch (e) {
    if (e instanceof UsageError && /captured VM memory is unknown/.test(e.message)) {
      return { rows: null, note: 'No memory what-if: the VM memory of the captured run is unknown. Set IOLINEAGE_CAPTURED_MEM (e.g. 128M), or publish from the capture bundle (node scripts/notebooks.mjs --out BUNDLE), which reads it from manifest.json.' };
    }
    throw e;
  }
}
