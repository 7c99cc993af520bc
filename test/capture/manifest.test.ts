import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFiles, readManifest, validateManifest, type CaptureManifest } from '../../src/capture/manifest.js';
import { InputError } from '../../src/util/errors.js';

const trace = (path: string) => ({
  path,
  format: 'tracefs-text',
  trace_clock: 'mono',
  events: ['block/block_rq_issue'],
  filter: 'dev == 1',
  buffer_size_kb: 4096,
  lost_events: 0,
  lines: 10,
});
const fs = (metadata: string) => ({
  type: 'ext3',
  block_size: 4096,
  size_bytes: 1 << 30,
  mount: '/mnt/data',
  metadata,
  metadata_qcow2: null,
  metadata_after_unmount: true,
});
const disk = () => ({
  dev: '254:0',
  name: 'vda',
  logical_block_size: 512,
  physical_block_size: 512,
  size_bytes: 1 << 30,
  fs_offset_bytes: 0,
  backing: 'virtio-blk',
});
const clocks = () => ({ realtime_ns: '1795705341817515497', monotonic_ns: '857011769190' });

function good(): Record<string, unknown> {
  return {
    version: 1,
    kind: 'iolineage-capture',
    created: '2026-11-26T15:00:00Z',
    tool: 'test',
    lab: null,
    guests: [
      {
        id: 'vm0',
        kernel: '6.1.0',
        clock_domain: 'guest',
        mem_bytes: 134217728,
        disk: disk(),
        fs: fs('vm0/fs.e2i.gz'),
        image: {
          path_in_fs: '/images/vm0.raw',
          format: 'raw',
          file_bytes: 1 << 30,
          virtual_bytes: 1 << 30,
          filefrag: 'vm0/image.filefrag.txt',
          qemu_img_map: null,
          host_cache: 'writeback',
        },
        strace: { path: 'vm0/app.strace.gz', options: '-f -ttt -T -y', clock: 'realtime' },
        block_trace: trace('vm0/block.trace.gz'),
        workload_log: { path: 'vm0/workload.log.gz', format: 'ffsb-lite-v1', clock: 'monotonic' },
        clocks_start: clocks(),
        clocks_end: clocks(),
        clock_marks: [{ n: 0, guest_ns: '5000', host_ns: null }],
        console_log: null,
      },
    ],
    host: {
      kernel: '6.18',
      disk: { ...disk(), dev: '7:3', name: 'loop3' },
      fs: { ...fs('host/fs.e2i.gz'), mount: '/' },
      block_trace: trace('host/block.trace.gz'),
      clocks_start: clocks(),
      clocks_end: clocks(),
    },
    notes: [],
  };
}

function mutate(f: (m: any) => void): unknown {
  const m = good();
  f(m);
  return m;
}

describe('validateManifest', () => {
  it('accepts a complete manifest and lists its files by role', () => {
    const m = validateManifest(good(), 'manifest.json');
    expect(m.guests[0]!.disk.dev).toBe('254:0');
    expect(bundleFiles(m).map((f) => f.role)).toContain('guest:vm0:workload_log');
    expect(bundleFiles(m)).toHaveLength(7);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [], /\$.*expected an object, got an array/],
    ['another JSON file', { name: 'x' }, /\$\.kind.*not an iolineage capture manifest/],
    [
      'a future version',
      mutate((m) => {
        m.version = 2;
      }),
      /unsupported manifest version: expected 1, got a number/,
    ],
    [
      'no guests',
      mutate((m) => {
        m.guests = [];
      }),
      /\$\.guests.*at least one guest/,
    ],
    [
      'a missing field',
      mutate((m) => {
        delete m.guests[0].disk;
      }),
      /\$\.guests\[0\]\.disk.*missing field/,
    ],
    [
      'a bad device',
      mutate((m) => {
        m.guests[0].disk.dev = 'vda';
      }),
      /\$\.guests\[0\]\.disk\.dev.*expected "MAJ:MIN", got "vda"/,
    ],
    [
      'a clock as a number',
      mutate((m) => {
        m.host.clocks_start.monotonic_ns = 5;
      }),
      /\$\.host\.clocks_start\.monotonic_ns.*expected a string, got a number/,
    ],
    [
      'an absolute bundle path',
      mutate((m) => {
        m.guests[0].strace.path = '/etc/passwd';
      }),
      /strace\.path.*relative to the bundle/,
    ],
    [
      'a path escaping the bundle',
      mutate((m) => {
        m.host.fs.metadata = '../x';
      }),
      /host\.fs\.metadata.*relative to the bundle/,
    ],
    [
      'an unknown backend',
      mutate((m) => {
        m.guests[0].fs.type = 'xfs';
      }),
      /fs\.type.*one of ext2, ext3, ext4, got "xfs"/,
    ],
    [
      'a block size not a power of two',
      mutate((m) => {
        m.guests[0].fs.block_size = 3000;
      }),
      /block_size.*power of two/,
    ],
    [
      'duplicate guest ids',
      mutate((m) => {
        m.guests.push(m.guests[0]);
      }),
      /\$\.guests\[1\]\.id.*duplicate guest id "vm0"/,
    ],
    [
      'a bad date',
      mutate((m) => {
        m.created = 'yesterday';
      }),
      /\$\.created.*ISO 8601/,
    ],
  ];
  for (const [name, doc, re] of bad) {
    it(`rejects ${name} with the field path`, () => {
      expect(() => validateManifest(doc, 'manifest.json')).toThrow(InputError);
      expect(() => validateManifest(doc, 'manifest.json')).toThrow(re);
    });
  }
});

describe('readManifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iolineage-manifest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says when the directory is not a bundle', () => {
    expect(() => readManifest(dir)).toThrow(/no manifest.json: not a capture bundle/);
  });

  it('says when the JSON is broken', () => {
    writeFileSync(join(dir, 'manifest.json'), '{"version": 1,');
    expect(() => readManifest(dir)).toThrow(/manifest.json: not valid JSON/);
  });

  it('checks that every named file exists and is not empty', () => {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(good()));
    expect(() => readManifest(dir)).toThrow(/file "vm0\/fs.e2i.gz" named by the manifest does not exist/);
    const m = validateManifest(good(), 'x') as CaptureManifest;
    mkdirSync(join(dir, 'vm0'));
    mkdirSync(join(dir, 'host'));
    for (const f of bundleFiles(m)) writeFileSync(join(dir, f.path), 'x');
    writeFileSync(join(dir, 'vm0/app.strace.gz'), '');
    expect(() => readManifest(dir)).toThrow(/file "vm0\/app.strace.gz" named by the manifest is empty/);
    writeFileSync(join(dir, 'vm0/app.strace.gz'), 'x');
    expect(readManifest(dir).host!.disk.name).toBe('loop3');
  });
});
