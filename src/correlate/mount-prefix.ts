/**
 * Where the guest file system was mounted in the application's view: strace shows
 * /mnt/data/x/y, the file system knows /x/y. Inferred by matching path suffixes: every way of
 * cutting an application path into (prefix, rest) where `rest` names a file of the file system
 * votes for `prefix`, weighted by the I/Os on that path; the prefix with the most votes wins.
 */

export interface MountPrefixResult {
  /** The prefix to strip ("" when paths match the fs as they are; null when nothing matched). */
  prefix: string | null;
  /** Application paths (with I/O) that resolve with this prefix / all such paths. */
  matched: number;
  considered: number;
  /** How it was decided: given by the user, or inferred. */
  source: 'user' | 'inferred' | 'none';
}

/**
 * @param paths application paths with the number of read/write I/Os on each
 * @param exists whether a path ("/a/b") exists in the file system
 */
export function inferMountPrefix(paths: ReadonlyMap<string, number>, exists: (fsPath: string) => boolean): MountPrefixResult {
  const votes = new Map<string, number>();
  let considered = 0;
  for (const [p, w] of paths) {
    if (!p.startsWith('/')) continue;
    considered++;
    for (let k = p.indexOf('/', 0); k >= 0 && k < p.length - 1; k = p.indexOf('/', k + 1)) {
      const rest = p.slice(k);
      if (exists(rest)) {
        const prefix = p.slice(0, k);
        votes.set(prefix, (votes.get(prefix) ?? 0) + w);
      }
    }
  }
  let best: string | null = null,
    bestVotes = 0;
  for (const [prefix, v] of votes) {
    // more votes wins; on a tie the longer prefix (the deeper mount point) wins
    if (v > bestVotes || (v === bestVotes && best !== null && prefix.length > best.length)) {
      best = prefix;
      bestVotes = v;
    }
  }
  if (best === null) return { prefix: null, matched: 0, considered, source: 'none' };
  let matched = 0;
  for (const p of paths.keys()) if (stripMountPrefix(p, best) !== null && exists(stripMountPrefix(p, best)!)) matched++;
  return { prefix: best, matched, considered, source: 'inferred' };
}

/** The fs path of an application path under a mount prefix, or null when it is outside. */
export function stripMountPrefix(path: string, prefix: string): string | null {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '') return path.startsWith('/') ? path : null;
  if (path === p) return '/';
  return path.startsWith(p + '/') ? path.slice(p.length) : null;
}
