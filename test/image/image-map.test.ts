import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mapImage } from '../../src/image/image-map.js';
import { compareWithQemuMap, type QemuMapEntry } from './qemu-map-compare.js';
import { QCOW2_FIXTURES, golden, haveTool, prng, removeDir, run, unpackFixtures } from './fixtures.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const haveQemu = haveTool('qemu-img') && haveTool('qemu-io');
if (!haveQemu) console.log('image-map: qemu-img/qemu-io not installed, live comparisons skipped');

function rawDepths(infoJson: string): Set<number> {
  const info = JSON.parse(infoJson) as { format: string }[] | { format: string };
  const chain = Array.isArray(info) ? info : [info];
  return new Set(chain.flatMap((c, i) => (c.format === 'raw' ? [i] : [])));
}

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('image_map against qemu-img map --output=json (golden files)', () => {
  for (const f of QCOW2_FIXTURES) {
    it(`${f}.qcow2 agrees with qemu-img map everywhere`, () => {
      const { table, summary } = mapImage(join(dir, `${f}.qcow2`));
      const qemu = JSON.parse(golden(`${f}.map.json`)) as QemuMapEntry[];
      expect(compareWithQemuMap(table, qemu, rawDepths(golden(`${f}.info.json`)), summary.virtualSize)).toEqual([]);
      const info = JSON.parse(golden(`${f}.info.json`)) as { 'virtual-size': number }[] | { 'virtual-size': number };
      expect(summary.virtualSize).toBe((Array.isArray(info) ? info[0]! : info)['virtual-size']);
      expect(summary.chain.length).toBe(Array.isArray(info) ? info.length : 1);
    });
  }

  it('names the backing file of each extent and merges adjacent extents', () => {
    const { table } = mapImage(join(dir, 'top.qcow2'));
    const files = new Set(table.getChild('file')!.toArray() as string[]);
    expect([...files].map((f) => f.split('/').pop()).sort()).toEqual(['base.raw', 'mid.qcow2', 'top.qcow2']);
    const g = table.getChild('guest_offset')!.toArray() as BigInt64Array;
    const l = table.getChild('length')!.toArray() as BigInt64Array;
    const s = table.getChild('state')!.toArray() as string[];
    const d = table.getChild('depth')!.toArray() as Int16Array;
    const h = table.getChild('host_offset')!.toArray() as (bigint | null)[];
    for (let i = 1; i < table.numRows; i++) {
      expect(g[i]).toBe(g[i - 1]! + l[i - 1]!);
      const mergeable =
        s[i] === s[i - 1] &&
        s[i] !== 'compressed' &&
        d[i] === d[i - 1] &&
        (h[i] === null ? h[i - 1] === null : h[i - 1] !== null && h[i] === h[i - 1]! + l[i - 1]!);
      expect(mergeable, `rows ${i - 1} and ${i} should have been merged`).toBe(false);
    }
  });

  it('reports compressed clusters with their stored size', () => {
    const { table } = mapImage(join(dir, 'v3.qcow2'));
    const s = table.getChild('state')!.toArray() as string[];
    const hl = table.getChild('host_length')!.toArray() as (bigint | null)[];
    const idx = s.flatMap((x, i) => (x === 'compressed' ? [i] : []));
    expect(idx.length).toBe(2);
    for (const i of idx) {
      expect(hl[i]).not.toBeNull();
      expect(Number(hl[i]) % 512 === 0 || Number(hl[i]) < 65536).toBe(true);
    }
  });

  it('maps a raw image as the identity', () => {
    const { table, summary } = mapImage(join(dir, 'base.raw'));
    expect(table.numRows).toBe(1);
    expect(summary.chain[0]!.format).toBe('raw');
    expect(compareWithQemuMap(table, JSON.parse(golden('base.map.json')) as QemuMapEntry[], new Set([0]), summary.virtualSize)).toEqual([]);
  });

  it('finds the partition table of the guest disk', () => {
    const { summary } = mapImage(join(dir, 'gptfs.qcow2'));
    expect(summary.partitions.scheme).toBe('gpt');
    expect(summary.partitions.partitions.map((p) => [p.number, p.start / 512, p.size / 512])).toEqual([
      [1, 2048, 32768],
      [2, 34816, 16384],
    ]);
  });
});

describe.skipIf(!haveQemu)('image_map against live qemu-img map on fresh random images', () => {
  const configs = [
    { opts: 'cluster_size=65536', size: 256 << 20 },
    { opts: 'compat=0.10,cluster_size=4096', size: 64 << 20 },
    { opts: 'extended_l2=on,cluster_size=32768', size: 64 << 20 },
    { opts: 'extended_l2=on,cluster_size=2097152', size: 256 << 20 },
    { opts: 'cluster_size=1024,compression_type=zstd', size: 16 << 20 },
  ];
  configs.forEach((cfg, k) => {
    it(`seeded random writes, zero writes, discards and compressed writes (${cfg.opts})`, () => {
      const work = mkdtempSync(join(tmpdir(), 'iol-image-live-'));
      try {
        const rnd = prng(1000 + k);
        const img = join(work, 'live.qcow2');
        run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', cfg.opts, img, String(cfg.size)]);
        const cs = Number(/cluster_size=(\d+)/.exec(cfg.opts)![1]);
        const cmds: string[] = [];
        for (let i = 0; i < 40; i++) {
          const r = rnd();
          const align = r < 0.25 ? cs : 512;
          const len = Math.max(512, Math.floor((rnd() * 4 * cs) / 512) * 512);
          const off = Math.min(cfg.size - len, Math.floor((rnd() * cfg.size) / align) * align);
          if (r < 0.5) cmds.push(`write -P ${1 + (i % 250)} ${off} ${len}`);
          else if (r < 0.7) cmds.push(`write -z ${off} ${len}`);
          else if (r < 0.8) cmds.push(`discard ${off} ${len}`);
          else {
            const co = Math.floor((rnd() * cfg.size) / cs) * cs;
            cmds.push(`write -c -P ${i % 250} ${co} ${cs}`);
          }
        }
        run('qemu-io', ['-f', 'qcow2', ...cmds.flatMap((c) => ['-c', c]), img]);
        const qemu = JSON.parse(run('qemu-img', ['map', '--output=json', img])) as QemuMapEntry[];
        const { table, summary } = mapImage(img);
        expect(compareWithQemuMap(table, qemu, new Set(), summary.virtualSize)).toEqual([]);
        // the random commands really produced a mix of extents
        expect(new Set(table.getChild('state')!.toArray() as string[]).size).toBeGreaterThanOrEqual(3);
        expect(table.numRows).toBeGreaterThan(20);
      } finally {
        removeDir(work);
      }
    });
  });

  it('refuses encrypted images and images with an external data file, naming the header field', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-image-unsup-'));
    try {
      // The crypt_method field (qcow2 spec, header byte 32) set on an image qemu-img made plain:
      // qemu-img itself cannot always make a LUKS image (it times PBKDF2 on the thread's CPU clock and
      // gives up with "Unable to get accurate CPU usage" where that clock reads no time, as in CI).
      for (const [method, name] of [
        [1, 'AES'],
        [2, 'LUKS'],
      ] as const) {
        const enc = join(work, `enc${method}.qcow2`);
        run('qemu-img', ['create', '-q', '-f', 'qcow2', enc, '16M']);
        const bytes = readFileSync(enc);
        bytes.writeUInt32BE(method, 32);
        writeFileSync(enc, bytes);
        expect(() => mapImage(enc)).toThrow(
          new RegExp(
            `enc${method}\\.qcow2:byte offset 32 \\(0x20\\) \\(qcow2 header crypt_method\\): encrypted images are not supported \\(crypt_method ${method}: ${name}\\)`,
          ),
        );
      }
      const ext = join(work, 'ext.qcow2');
      run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${join(work, 'ext.raw')}`, ext, '16M']);
      expect(() => mapImage(ext)).toThrow(/\(qcow2 header incompatible_features\): images with an external data file/);
    } finally {
      removeDir(work);
    }
  });
});
