/**
 * Splitting and merging across a layer boundary, from the attributed pieces: the split factor is
 * the mean number of lower requests per application I/O that reached the layer (>1: I/Os were
 * cut into several requests); the merge factor is the mean number of distinct application I/Os per
 * lower request that carries application bytes (>1: requests merged several I/Os).
 */

export interface SplitMerge {
  /** Application I/Os with at least one lower request. */
  app_ios: number;
  split_factor: number | null;
  /** App I/Os spread over more than one lower request. */
  split_ios: number;
  /** Lower requests carrying bytes of at least one application I/O. */
  requests: number;
  merge_factor: number | null;
  /** Lower requests carrying bytes of more than one application I/O. */
  merged_requests: number;
}

/**
 * @param requestsPerApp distinct lower requests per application I/O (lineage)
 * @param pieces attributed pieces (lower, app), grouped by lower request
 */
export function splitMerge(
  requestsPerApp: Int32Array,
  include: (a: number) => boolean,
  pieces: { length: number; lower: Int32Array; app: Int32Array },
): SplitMerge {
  let ios = 0,
    sum = 0,
    split = 0;
  for (let a = 0; a < requestsPerApp.length; a++) {
    const r = requestsPerApp[a]!;
    if (r > 0 && include(a)) {
      ios++;
      sum += r;
      if (r > 1) split++;
    }
  }
  let reqs = 0,
    apps = 0,
    merged = 0;
  let curL = -1,
    curApps: number[] = [];
  const flush = () => {
    if (curApps.length > 0) {
      reqs++;
      apps += curApps.length;
      if (curApps.length > 1) merged++;
    }
    curApps = [];
  };
  for (let k = 0; k < pieces.length; k++) {
    const L = pieces.lower[k]!;
    if (L !== curL) {
      flush();
      curL = L;
    }
    const a = pieces.app[k]!;
    if (a >= 0 && include(a) && !curApps.includes(a)) curApps.push(a);
  }
  flush();
  return {
    app_ios: ios,
    split_factor: ios > 0 ? sum / ios : null,
    split_ios: split,
    requests: reqs,
    merge_factor: reqs > 0 ? apps / reqs : null,
    merged_requests: merged,
  };
}
