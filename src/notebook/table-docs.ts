/**
 * The declared schema of every table the project writes, found at run time in the schemas folder
 * (src/table/schemas, one file per table), so that a notebook can say what each table holds
 * without a hand-kept list.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TableSpec } from '../table/table-spec.js';

let specs: Promise<Map<string, TableSpec>> | null = null;

/** Table name → schema, for every schema module next to block-events. */
export function tableSpecs(): Promise<Map<string, TableSpec>> {
  specs ??= (async () => {
    const dirUrl = new URL('../table/schemas/', import.meta.url);
    const out = new Map<string, TableSpec>();
    const files = readdirSync(fileURLToPath(dirUrl))
      .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map'))
      .sort();
    for (const f of files) {
      const mod = (await import(pathToFileURL(fileURLToPath(new URL(f, dirUrl))).href)) as Record<string, unknown>;
      for (const v of Object.values(mod)) {
        if (v && typeof v === 'object' && typeof (v as TableSpec).name === 'string' && Array.isArray((v as TableSpec).columns)) {
          out.set((v as TableSpec).name, v as TableSpec);
        }
      }
    }
    return out;
  })();
  return specs;
}
