import { describe, expect, it } from 'vitest';
import { pairMarks, parseEnv } from '../../src/lab/bundle.js';
import { moduleDepends, moduleOrder } from '../../src/lab/guest-kernel.js';
import { checkOptions, formatSize, parsePositiveSize, type LabOptions } from '../../src/lab/options.js';
import { kernelDev, markTimes } from '../../src/lab/tracefs.js';
import { qemuArgs } from '../../src/lab/vm.js';

describe('lab pieces', () => {
  it("reads a module's depends= from its .modinfo strings", () => {
    const ko = new TextEncoder().encode('\x7fELF....\0license=GPL\0depends=virtio_ring,virtio\0retpoline=Y\0');
    expect(moduleDepends(ko)).toEqual(['virtio_ring', 'virtio']);
    expect(moduleDepends(new TextEncoder().encode('\0depends=\0'))).toEqual([]);
  });

  it('orders modules dependencies first and detects loops', () => {
    const deps: Record<string, string[]> = {
      virtio_blk: ['virtio', 'virtio_ring'],
      virtio: ['virtio_ring'],
      virtio_ring: [],
      virtio_pci: ['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio'],
      virtio_pci_modern_dev: [],
      virtio_pci_legacy_dev: [],
    };
    expect(moduleOrder(['virtio_pci', 'virtio_blk'], (n) => deps[n]!)).toEqual([
      'virtio_ring',
      'virtio_pci_modern_dev',
      'virtio_pci_legacy_dev',
      'virtio',
      'virtio_pci',
      'virtio_blk',
    ]);
    expect(() => moduleOrder(['a'], (n) => (n === 'a' ? ['b'] : ['a']))).toThrow(/dependency loop: a -> b -> a/);
  });

  it('parses and formats sizes with binary units', () => {
    expect(parsePositiveSize('128M', 'x')).toBe(128 * 2 ** 20);
    expect(parsePositiveSize('1G', 'x')).toBe(2 ** 30);
    expect(parsePositiveSize('64KiB', 'x')).toBe(65536);
    expect(parsePositiveSize('4096', 'x')).toBe(4096);
    expect(() => parsePositiveSize('12 parsecs', '--data')).toThrow(/--data: "[^"]*" is not a size/);
    expect(formatSize(384 * 2 ** 20)).toBe('384M');
    expect(formatSize(1000)).toBe('1000');
  });

  it('rejects option combinations that cannot work', () => {
    const base: LabOptions = {
      backend: 'auto',
      vmMem: 256 * 2 ** 20,
      vcpus: 1,
      data: 192 * 2 ** 20,
      files: 8,
      direct: false,
      hostCache: 'writeback',
      imageFormat: 'raw',
      guestPartition: 'none',
      vms: 1,
      ops: 100,
      ioSize: 4096,
      readFraction: 0.5,
      duration: 0,
      seed: 1,
      dropCaches: false,
      out: 'x',
      cache: 'y',
      keep: false,
      timeout: 10,
    };
    expect(() => checkOptions(base)).not.toThrow();
    expect(() => checkOptions({ ...base, backend: 'loop', vms: 2 })).toThrow(/--vms 1/);
    expect(() => checkOptions({ ...base, ioSize: 1000 })).toThrow(/multiple of 512/);
    expect(() => checkOptions({ ...base, data: 8192, files: 4 })).toThrow(/smaller than --io-size/);
    expect(() => checkOptions({ ...base, vmMem: 32 * 2 ** 20 })).toThrow(/at least 64M/);
  });

  it('encodes dev_t the way block tracepoints filter on it', () => {
    expect(kernelDev('7:0')).toBe(7 << 20);
    expect(kernelDev('254:16')).toBe((254 << 20) | 16);
  });

  it('finds trace marks and pairs guest with host by number', () => {
    const guest = [
      '# tracer: nop',
      '              sh-108     [000] .....     2.805609: tracing_mark_write: iolineage-mark 0',
      '       ffsb-lite-113     [000] .....     2.938767: block_bio_queue: 254,0 RM 13152 + 8 [ffsb-lite]',
      '              sh-108     [000] .....     3.824687: tracing_mark_write: iolineage-mark 1',
    ].join('\n');
    const host = [
      '            node-19424   [001] ...1.  2407.378034: tracing_mark_write: iolineage-mark vm0 0',
      '            node-19424   [001] ...1.  2407.378100: tracing_mark_write: iolineage-mark vm1 0',
    ].join('\n');
    expect(markTimes(guest, /^iolineage-mark (\d+)$/).get('1')).toBe(3_824_687_000n);
    expect(pairMarks(guest, host, /^iolineage-mark vm0 (\d+)$/)).toEqual([
      { n: 0, guest_ns: '2805609000', host_ns: '2407378034000' },
      { n: 1, guest_ns: '3824687000', host_ns: null },
    ]);
  });

  it('says which guest.env line is missing', () => {
    expect(() => parseEnv('kernel=6.1\ndev=254:0\n', 'vm0/guest.env')).toThrow(/vm0\/guest.env: no "trace_clock=" line/);
  });

  it('gives the guest disk the image with the requested cache mode, and the out disk second', () => {
    const a = qemuArgs({
      id: 'vm0',
      accel: 'tcg',
      memBytes: 128 * 2 ** 20,
      vcpus: 1,
      kernel: { release: 'r', vmlinuz: 'K', initramfs: 'I', package: 'p' },
      image: 'img.qcow2',
      imageFormat: 'qcow2',
      hostCache: 'none',
      outDisk: 'out.ext2',
      console: 'c',
      timeoutS: 1,
    });
    expect(a.slice(0, 4)).toEqual(['-accel', 'tcg', '-m', '128']);
    const drives = a.filter((_, i) => a[i - 1] === '-drive');
    expect(drives[0]).toBe('file=img.qcow2,format=qcow2,if=virtio,cache=none,aio=threads');
    expect(drives[1]).toMatch(/^file=out.ext2,format=raw,if=virtio/);
  });
});
