import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, openSync, writeSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockSource, checkRange } from '../../src/io/block-source.js';
import { readPartitionTable, type PartitionTable } from '../../src/image/partitions.js';
import { InputError } from '../../src/util/errors.js';
import { golden, haveTool, prng, removeDir, run, unpackFixtures } from './fixtures.js';

const haveSfdisk = haveTool('sfdisk');
const haveSgdisk = haveTool('sgdisk', ['--version']);
const haveMmls = haveTool('mmls', ['-V']);
if (!haveSfdisk) console.log('partitions: sfdisk not installed, live comparisons skipped');

interface SfdiskJson {
  partitiontable: {
    label: string;
    id: string;
    sectorsize: number;
    partitions: { node: string; start: number; size: number; type: string; name?: string; uuid?: string; bootable?: boolean }[];
  };
}

function table(path: string): PartitionTable {
  const src = new FileBlockSource(path);
  try {
    return readPartitionTable(src);
  } finally {
    src.close();
  }
}

/** Our table in sfdisk --json terms (start/size in sectors, numbers from the node name). */
function asSfdisk(t: PartitionTable): { n: number; start: number; size: number; type: string; name?: string; uuid?: string }[] {
  return t.partitions.map((p) => ({
    n: p.number,
    start: p.start / 512,
    size: p.size / 512,
    type: t.scheme === 'mbr' ? Number.parseInt(p.type, 16).toString(16) : p.type.toUpperCase(),
    ...(t.scheme === 'gpt' ? { name: p.name, uuid: p.guid } : {}),
  }));
}

function fromSfdisk(j: SfdiskJson) {
  return j.partitiontable.partitions.map((p) => ({
    n: Number(/(\d+)$/.exec(p.node)![1]),
    start: p.start,
    size: p.size,
    type: j.partitiontable.label === 'dos' ? Number.parseInt(p.type, 16).toString(16) : p.type.toUpperCase(),
    ...(j.partitiontable.label === 'gpt' ? { name: p.name ?? '', uuid: p.uuid } : {}),
  }));
}

let dir = '';
beforeAll(() => {
  dir = unpackFixtures();
});
afterAll(() => removeDir(dir));

describe('partition tables against sfdisk --json and mmls (golden files)', () => {
  it('MBR with an extended partition and two logical partitions', () => {
    const t = table(join(dir, 'mbr.img'));
    const want = JSON.parse(golden('mbr.sfdisk.json')) as SfdiskJson;
    expect(t.scheme).toBe('mbr');
    expect(t.id).toBe(want.partitiontable.id);
    expect(asSfdisk(t)).toEqual(fromSfdisk(want));
    expect(t.partitions.find((p) => p.number === 1)!.bootable).toBe(true);
    expect(t.partitions.find((p) => p.number === 2)!.extended).toBe(true);
  });

  it('GPT with names and GUIDs', () => {
    const t = table(join(dir, 'gpt.img'));
    const want = JSON.parse(golden('gpt.sfdisk.json')) as SfdiskJson;
    expect(t.scheme).toBe('gpt');
    expect(t.id).toBe(want.partitiontable.id.toUpperCase());
    expect(asSfdisk(t)).toEqual(fromSfdisk(want));
    expect(t.warnings).toEqual([]);
  });

  it('agrees with mmls on partition starts and lengths', () => {
    for (const f of ['mbr', 'gpt']) {
      const rows = golden(`${f}.mmls.txt`)
        .split('\n')
        .filter((l) => /^\d{3}:\s+\d{3}:?\d*\s/.test(l) || /^\d{3}:\s+\d{3}\s/.test(l));
      const mm = rows
        .map((l) => l.split(/\s+/))
        .filter((c) => /^\d{3}:?\d*$/.test(c[1]!))
        .map((c) => [Number(c[2]), Number(c[4])]);
      const ours = table(join(dir, `${f}.img`))
        .partitions.filter((p) => !p.extended)
        .map((p) => [p.start / 512, p.size / 512]);
      expect(mm.length).toBeGreaterThan(0);
      expect(ours.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!)).toEqual(mm.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!));
    }
  });

  it('a disk without a table has scheme none', () => {
    expect(table(join(dir, 'base.raw')).scheme).toBe('none');
  });

  it('falls back to the backup GPT header when the primary is damaged', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-gpt-'));
    try {
      const p = join(work, 'gpt.img');
      copyFileSync(join(dir, 'gpt.img'), p);
      const fd = openSync(p, 'r+');
      writeSync(fd, new Uint8Array([0x42]), 0, 1, 512 + 40);
      closeSync(fd);
      const t = table(p);
      expect(t.warnings.join()).toMatch(/primary GPT unusable \(header CRC32/);
      expect(t.partitions.map((q) => q.start / 512)).toEqual([2048, 34816]);
    } finally {
      removeDir(work);
    }
  });

  it('a looping EBR chain is an error naming the EBR', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-mbr-'));
    try {
      const p = join(work, 'mbr.img');
      const b = readFileSync(join(dir, 'mbr.img'));
      // second EBR (sector 32768) links back to the first (relative 0)
      const ebr2 = 32768 * 512;
      b.writeUInt32LE(0, ebr2 + 0x1ce + 8);
      b[ebr2 + 0x1ce + 4] = 0x05;
      b.writeUInt32LE(2048, ebr2 + 0x1ce + 12);
      writeFileSync(p, b);
      let err: unknown;
      try {
        table(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect(String((err as Error).message)).toMatch(
        /mbr\.img:byte offset 11534336 \(0xb00000\) \(EBR\): extended boot record chain loops/,
      );
    } finally {
      removeDir(work);
    }
  });
});

describe('fuzzed partition tables', () => {
  for (const [name, sectors] of [
    ['gpt', [0, 1, 2, 3, 65535 - 32, 65535]],
    ['mbr', [0, 22528, 32768]],
  ] as const) {
    it(`${name}.img: 150 seeded byte flips in the table sectors give a table or an InputError with a place`, () => {
      const b = readFileSync(join(dir, `${name}.img`));
      // an in-memory disk: mutate in place and restore, no 32 MiB file per case
      const disk = {
        name: `${name}.fuzz.img`,
        size: b.length,
        read: (o: number, n: number, what?: string) => {
          checkRange(disk, o, n, what);
          return new Uint8Array(b.buffer, b.byteOffset + o, n).slice();
        },
        close() {},
      };
      const rnd = prng(name === 'gpt' ? 17 : 23);
      let errors = 0,
        tables = 0;
      for (let k = 0; k < 150; k++) {
        const undo: [number, number][] = [];
        for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) {
          const sec = sectors[Math.floor(rnd() * sectors.length)]!;
          // the MBR entries, a GPT header, the start of the GPT entry array, an EBR
          const at = sec * 512 + (sec === 0 ? 0x1b8 + Math.floor(rnd() * 72) : Math.floor(rnd() * (name === 'gpt' ? 160 : 512)));
          undo.push([at, b[at]!]);
          b[at] = rnd() < 0.5 ? b[at]! ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
        }
        try {
          const t = readPartitionTable(disk);
          tables++;
          for (const q of t.partitions) expect(q.start + q.size).toBeLessThanOrEqual(b.length);
        } catch (e) {
          errors++;
          if (!(e instanceof InputError)) throw new Error(`mutation ${k}: not an InputError: ${(e as Error).stack}`, { cause: e });
          expect(e.message).toMatch(/fuzz\.img/);
          expect(e.place?.offset, e.message).not.toBeUndefined();
          expect(e.place?.what, e.message).toBeTruthy();
        }
        for (const [at, v] of undo.reverse()) b[at] = v;
      }
      expect(tables).toBeGreaterThan(0);
      expect(errors + tables).toBe(150);
    });
  }
});

describe.skipIf(!haveSfdisk || !haveSgdisk)('partition tables against live sfdisk/sgdisk on random layouts', () => {
  it('10 seeded random MBR and GPT layouts', () => {
    const work = mkdtempSync(join(tmpdir(), 'iol-parts-'));
    const rnd = prng(42);
    try {
      for (let k = 0; k < 10; k++) {
        const img = join(work, `d${k}.img`);
        run('truncate', ['-s', '64M', img]);
        const n = 1 + Math.floor(rnd() * 4);
        let at = 2048;
        if (k % 2 === 0) {
          const lines = ['label: dos'];
          for (let i = 0; i < n; i++) {
            const size = 2048 * (1 + Math.floor(rnd() * 8));
            lines.push(`start=${at}, size=${size}, type=${['83', '82', '8e', 'c'][i % 4]}`);
            at += size + 2048 * Math.floor(rnd() * 3);
          }
          run('sh', ['-c', `printf '${lines.join('\\n')}\\n' | sfdisk -q ${img}`]);
        } else {
          const args = ['-o'];
          for (let i = 1; i <= n; i++) {
            const size = 2048 * (1 + Math.floor(rnd() * 8));
            args.push('-n', `${i}:${at}:${at + size - 1}`, '-c', `${i}:part ${i}`);
            at += size + 2048 * Math.floor(rnd() * 3);
          }
          run('sgdisk', [...args, img]);
        }
        const want = fromSfdisk(JSON.parse(run('sfdisk', ['--json', img])) as SfdiskJson);
        expect(asSfdisk(table(img)), `layout ${k}`).toEqual(want);
      }
    } finally {
      removeDir(work);
    }
  });
});

describe.skipIf(!haveMmls)('mmls live', () => {
  it('mmls on the GPT fixture lists the same partitions', () => {
    const out = run('mmls', [join(dir, 'gpt.img')]);
    expect(out).toContain('0000002048   0000034815   0000032768');
    expect(table(join(dir, 'gpt.img')).partitions[0]!.start).toBe(2048 * 512);
  });
});
