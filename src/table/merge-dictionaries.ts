/**
 * One dictionary for the batches of a dictionary-encoded column whose batches have dictionaries of
 * their own (Arrow IPC allows a replacement dictionary between record batches): the values of all
 * of them, each once, in order of first appearance, and for each dictionary the remap of its keys.
 */
import type { Column } from '@uwdata/flechette';

export interface MergedDictionary {
  values: (string | null)[];
  /** Per dictionary (the batch's `dictionary` column): key → key in `values`. */
  remaps: Map<unknown, Int32Array>;
}

export function mergeDictionaries(dictionaries: Iterable<Column<unknown>>): MergedDictionary {
  const values: (string | null)[] = [];
  const index = new Map<string | null, number>();
  const remaps = new Map<unknown, Int32Array>();
  for (const d of dictionaries) {
    if (remaps.has(d)) continue;
    const own = Array.from(d as Iterable<string | null>);
    const remap = new Int32Array(own.length);
    own.forEach((v, i) => {
      let k = index.get(v);
      if (k === undefined) {
        k = values.length;
        index.set(v, k);
        values.push(v);
      }
      remap[i] = k;
    });
    remaps.set(d, remap);
  }
  return { values, remaps };
}
