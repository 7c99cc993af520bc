/** The partition table as sfdisk reads it: the start of partition 1 in bytes, from a saved `sfdisk --dump`, checked by sfdisk itself when installed. */
import { readFileSync } from 'node:fs';

export function sfdiskStart(dumpFile: string): number {
  const text = readFileSync(dumpFile, 'utf8');
  const sector = /^sector-size:\s*(\d+)/m.exec(text);
  const m = /^\S+1\s*:\s*start=\s*(\d+)/m.exec(text);
  if (!m) throw new Error(`${dumpFile}: no partition 1 line`);
  return Number(m[1]) * Number(sector?.[1] ?? 512);
}
