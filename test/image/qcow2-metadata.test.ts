/**
 * The metadata ranges of a qcow2 file, with the image's data clusters, must be exactly the
 * clusters whose refcount is non-zero (refcounts are written by qemu; `qemu-img check` finds no
 * errors on these images), and must not overlap the data clusters of the active image.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageChain } from '../../src/image/image-chain.js';
import { buildImageMap } from '../../src/image/image-map.js';
import { ImageMap } from '../../src/image/image-map-lookup.js';
import { qcow2MetadataExtents, QCOW2_METADATA_KINDS } from '../../src/image/qcow2-metadata.js';
import { haveTool, removeDir, run, unpackFixtures } from './fixtures.js';

const haveQemu = haveTool('qemu-img') && haveTool('qemu-io');

/** Host clusters with refcount > 0, read from the refcount table and blocks (qcow2.txt "Host cluster management"). */
function refcountedClusters(chain: ImageChain): Set<number> {
  const l = chain.top;
  const h = l.header!;
  const cs = h.clusterSize;
  const bits = 2 ** h.refcountOrder;
  const perBlock = (cs * 8) / bits;
  const rt = l.file.read(h.refcountTableOffset, h.refcountTableClusters * cs);
  const rv = new DataView(rt.buffer, rt.byteOffset, rt.byteLength);
  const out = new Set<number>();
  for (let i = 0; i < rt.length / 8; i++) {
    const off = Number(rv.getBigUint64(i * 8) & 0xfffffffffffffe00n);
    if (!off) continue;
    const b = l.file.read(off, cs);
    for (let j = 0; j < perBlock; j++) {
      const bit = j * bits;
      let v = 0;
      if (bits >= 8) for (let k = 0; k < bits / 8; k++) v = v * 256 + b[bit / 8 + k]!;
      else v = (b[bit >> 3]! >> (bit & 7)) & ((1 << bits) - 1);
      if (v) out.add(i * perBlock + j);
    }
  }
  return out;
}

function check(path: string): { kinds: Set<string> } {
  const chain = ImageChain.open(path);
  try {
    const h = chain.top.header!;
    const cs = h.clusterSize;
    const meta = qcow2MetadataExtents(chain.top.file, h, chain.top.tables!);
    const covered = new Map<number, string>();
    const kinds = new Set<string>();
    for (let i = 0; i < meta.offset.length; i++) {
      kinds.add(QCOW2_METADATA_KINDS[meta.kind[i]!]!);
      for (let c = meta.offset[i]! / cs; c < (meta.offset[i]! + meta.length[i]!) / cs; c++)
        covered.set(c, QCOW2_METADATA_KINDS[meta.kind[i]!]!);
    }
    const map = new ImageMap(buildImageMap(chain).table);
    map.forEachGuestPiece(0, map.size, (g, len, state, depth, host, hostLen) => {
      if (depth !== 0 || host < 0) return;
      const n = state === 3 ? hostLen : len;
      for (let c = Math.floor(host / cs); c < Math.ceil((host + Math.max(n, 1)) / cs); c++) {
        const k = covered.get(c);
        if (k !== undefined && k !== 'data' && k !== 'snapshot_data')
          throw new Error(`${path}: guest data at host cluster ${c} overlaps ${k}`);
        covered.set(c, 'data');
      }
    });
    const ref = refcountedClusters(chain);
    const extra = [...covered.keys()].filter((c) => !ref.has(c) && c * cs < chain.top.file.size);
    const missing = [...ref].filter((c) => !covered.has(c));
    expect({ extra: extra.slice(0, 5), missing: missing.slice(0, 5) }, path).toEqual({ extra: [], missing: [] });
    return { kinds };
  } finally {
    chain.close();
  }
}

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('qcow2 metadata ranges + data clusters = refcounted clusters', () => {
  for (const f of ['v3', 'v2', 'c512', 'c4k', 'c2m', 'ext64k', 'ext32k', 'zstd', 'convc', 'top', 'mid', 'xover', 'prealloc', 'gptfs']) {
    it(`${f}.qcow2`, () => {
      const { kinds } = check(join(dir, `${f}.qcow2`));
      for (const k of ['header', 'l1_table', 'refcount_table', 'refcount_block']) expect(kinds.has(k), k).toBe(true);
    });
  }

  it.skipIf(!haveQemu)('live: an image with two internal snapshots, overwritten and compressed clusters', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-image-snap-'));
    try {
      const img = join(work, 's.qcow2');
      run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', img, '64M']);
      run('qemu-io', ['-c', 'write -P 1 0 1M', '-c', 'write -c -P 2 8M 64k', img]);
      run('qemu-img', ['snapshot', '-c', 'one', img]);
      run('qemu-io', ['-c', 'write -P 3 512k 1M', '-c', 'write -z 8M 4k', '-c', 'write -P 4 40M 8k', img]);
      run('qemu-img', ['snapshot', '-c', 'two', img]);
      run('qemu-io', ['-c', 'write -P 5 0 64k', '-c', 'discard 40M 8k', img]);
      expect(run('qemu-img', ['check', img])).toMatch(/No errors were found/);
      const { kinds } = check(img);
      for (const k of ['snapshot_table', 'snapshot_l1_table', 'snapshot_l2_table', 'snapshot_data']) expect(kinds.has(k), k).toBe(true);
    } finally {
      removeDir(work);
    }
  });
});
