/**
 * What the campaign feeds each reader and command: the real inputs it starts from (test/fixtures,
 * data/) and how one mutated input and its command line are made from a seeded generator.
 *
 * An input is { args(dir, out), files: [{ name, bytes }], images: [{ name, base, patch, size }] }
 * (base: { key, bytes, hot }), and optionally `bundle`, a folder copied once beside the files
 * (a data/ bundle's name or an absolute path), which the files then overwrite:
 * `files` are written whole; `images` are large, mostly-zero files (e2image dumps, disk images)
 * kept on disk by the worker, which only rewrites the patched window and the size. A kind with
 * `setup(distDir, dir)` makes its bases with the built CLI first (awaited once per process).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mutateBinary, mutateText } from './mutate.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const fixture = (...p) => join(ROOT, 'test', 'fixtures', ...p);
const gunzip = (path) => new Uint8Array(gunzipSync(readFileSync(path)));
const int = (rand, n) => Math.floor(rand() * n);
const pick = (rand, list) => list[int(rand, list.length)];

/** The first `lines` lines of a gzipped text fixture: small inputs keep each run short. */
function head(path, lines) {
  const b = gunzip(path);
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 10 && ++n === lines) return b.subarray(0, i + 1);
  return b;
}

/** A cache of bases per kind, loaded on first use in the worker that runs the kind. */
function once(load) {
  let v;
  return () => (v ??= load());
}

/** [start, end) ranges of the non-zero 4 KiB blocks of an image: the metadata of an e2image -r dump. */
export function nonZeroBlocks(bytes, granule = 4096) {
  const ranges = [];
  for (let at = 0; at < bytes.length; at += granule) {
    const end = Math.min(bytes.length, at + granule);
    for (let i = at; i < end; i++)
      if (bytes[i] !== 0) {
        ranges.push([at, end]);
        break;
      }
  }
  return ranges;
}

/** An image input: a window of up to 64 KiB at a hot range, mutated; sometimes a shorter size. */
function imageInput(rand, name, base) {
  const [s] = pick(rand, base.hot);
  const at = Math.max(0, s - int(rand, 4096)) & ~511;
  const window = base.bytes.subarray(at, Math.min(base.bytes.length, at + 65536));
  const local = base.hot
    .filter(([a, b]) => b > at && a < at + window.length)
    .map(([a, b]) => [Math.max(0, a - at), Math.min(window.length, b - at)]);
  const patch = { at, bytes: mutateBinary(rand, window, local).subarray(0, window.length) };
  const size = rand() < 0.05 ? int(rand, base.bytes.length) : base.bytes.length;
  return { name, base, patch, size };
}

function imageBase(key, path) {
  const bytes = gunzip(path);
  const hot = nonZeroBlocks(bytes);
  return { key, bytes, hot: hot.length ? hot : [[0, Math.min(bytes.length, 4096)]] };
}

const textKind = (format, paths, lines) => {
  const bases = once(() => paths.map((p) => head(p, lines)));
  return {
    bases,
    make(rand) {
      const bytes = mutateText(rand, pick(rand, bases()));
      const explicit = rand() < 0.5;
      return {
        files: [{ name: 'input.txt', bytes }],
        args: (dir, out) => ['ingest', join(dir, 'input.txt'), '-o', out, ...(explicit ? ['--format', format] : [])],
      };
    },
  };
};

const blktracePairs = once(() =>
  ['nosplit', 'deadline'].map((n) => [0, 1].map((cpu) => gunzip(fixture('blktrace', `${n}.blktrace.${cpu}.gz`)).subarray(0, 32768))),
);

/** One capture's per-CPU files with one or both mutated (48-byte blk_io_trace headers are the hot bytes). */
function blktraceInput(rand) {
  const pair = pick(rand, blktracePairs());
  const files = pair.map((b, cpu) => ({
    name: `t.blktrace.${cpu}`,
    bytes:
      rand() < 0.6 || cpu === 0
        ? mutateBinary(rand, b, [
            [0, Math.min(b.length, 4096)],
            [0, b.length],
          ])
        : b,
  }));
  return files;
}

/** One of several images, decompressed when first picked (a worker may never need the others). */
function imagePicker(names, pathOf) {
  const loaded = new Map();
  return (rand) => {
    const name = pick(rand, names);
    if (!loaded.has(name)) loaded.set(name, imageBase(name, pathOf(name)));
    return loaded.get(name);
  };
}
const extImage = imagePicker(['ext2-1k', 'ext3-1k', 'ext4-1k-noflex', 'ext4-inline-metabg', 'ext3-4k'], (n) =>
  fixture('ext', `${n}.e2image-r.img.gz`),
);
const diskImage = imagePicker(
  [
    'v2.qcow2',
    'v3.qcow2',
    'c512.qcow2',
    'c4k.qcow2',
    'e2q.qcow2',
    'ext64k.qcow2',
    'convc.qcow2',
    'gptfs.qcow2',
    'top.qcow2',
    'xover.qcow2',
    'zstd.qcow2',
    'mbr.img',
    'gpt.img',
  ],
  (n) => fixture('image', `${n}.gz`),
);
/** Backing files the chains of top.qcow2 and xover.qcow2 name (written unmutated beside the image). */
const backingFiles = once(() =>
  ['mid.qcow2', 'base.raw', 'xbase.qcow2'].map((n) => ({ name: n, bytes: gunzip(fixture('image', `${n}.gz`)) })),
);

const straceLogs = [
  'cp.strace.gz',
  'dd.strace.gz',
  'fio-ttt-y.strace.gz',
  'fio-uring.strace.gz',
  'node.strace.gz',
  'python.strace.gz',
  'python-raw-ns.strace.gz',
  'python-stderr.strace.gz',
  'fio-ff-tt.2237.gz',
].map((n) => fixture('strace', n));

/** Run the built CLI (setup of a kind); throws when it fails. */
function cli(distDir, args) {
  const r = spawnSync(process.execPath, [join(distDir, 'cli', 'main.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, IOLINEAGE_NO_PROGRESS: '1' },
  });
  if (r.status !== 0) throw new Error(`fuzz setup: iolineage ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Tables iolineage wrote, made once: block_events of a trace, fs_map/fs_paths of an image, an analyze output. */
let tableBases = null;

export const KINDS = {
  tracefs: textKind(
    'tracefs',
    ['ext4.trace.gz', 'ext3.trace.gz', 'ext4.linux-4.19.trace.gz', 'ext3.tgid-noirq.pipe.gz', 'ext4.linux-5.10.trace.gz']
      .map((n) => fixture('block', n))
      .concat([join(ROOT, 'data', 'm128-buffered', 'vm0', 'block.trace.gz')]),
    200,
  ),
  'trace-cmd': textKind(
    'trace-cmd',
    ['ext3.trace-cmd.txt.gz', 'ext4.trace-cmd.txt.gz', 'ext4.trace-cmd-R.txt.gz', 'ext4.trace-cmd-l.txt.gz', 'ext4.trace-cmd-t.txt.gz'].map(
      (n) => fixture('block', n),
    ),
    200,
  ),
  blkparse: textKind(
    'blkparse',
    [fixture('block', 'ext4.blkparse.txt.gz'), fixture('block', 'ext3.blkparse.txt.gz'), fixture('blktrace', 'deadline.blkparse.txt.gz')],
    200,
  ),
  strace: textKind('strace', straceLogs, 200),
  blktrace: {
    make(rand) {
      const files = blktraceInput(rand);
      return { files, args: (dir, out) => ['ingest', ...files.map((f) => join(dir, f.name)), '-o', out] };
    },
  },
  btt: {
    make(rand) {
      const files = blktraceInput(rand);
      const write = rand() < 0.5;
      return {
        files,
        args: (dir, out) => [
          'btt',
          ...files.map((f) => join(dir, f.name)),
          ...(write ? ['-o', out] : []),
          ...(rand() < 0.3 ? ['--json'] : []),
        ],
      };
    },
  },
  ext: {
    make(rand) {
      const base = extImage(rand);
      const strict = rand() < 0.2;
      return {
        files: [],
        images: [imageInput(rand, 'fs.img', base)],
        args: (dir, out) => ['map', 'fs', join(dir, 'fs.img'), '-o', out, ...(strict ? ['--strict'] : [])],
      };
    },
  },
  lookup: {
    make(rand) {
      const base = extImage(rand);
      const query =
        rand() < 0.7
          ? ['--sector', String(int(rand, base.bytes.length / 512)), '--count', String(1 + int(rand, 64))]
          : ['--file', pick(rand, ['/', '/lost+found', '1', '2', '12', '/a/b'])];
      return { files: [], images: [imageInput(rand, 'fs.img', base)], args: (dir) => ['lookup', join(dir, 'fs.img'), ...query] };
    },
  },
  image: {
    make(rand) {
      const base = diskImage(rand);
      const fs = rand() < 0.3;
      const part = base.key.endsWith('.img') || base.key === 'gptfs.qcow2' ? ['--partition', '1'] : [];
      return {
        files: backingFiles(),
        images: [imageInput(rand, base.key, base)],
        args: (dir, out) =>
          fs ? ['map', 'fs', join(dir, base.key), '-o', out, ...part] : ['map', 'image', join(dir, base.key), '-o', out],
      };
    },
  },
  compressed: {
    bases: once(() =>
      [head(fixture('block', 'ext4.trace.gz'), 200), head(fixture('strace', 'cp.strace.gz'), 200)].map((b) => new Uint8Array(gzipSync(b))),
    ),
    make(rand) {
      // the gzip stream itself mutated (header, deflate blocks, trailer), or a gzipped image
      if (rand() < 0.3) {
        const gz = smallImageGz();
        return {
          files: [
            {
              name: 'fs.img.gz',
              bytes: mutateBinary(rand, gz, [
                [0, 64],
                [gz.length - 16, gz.length],
              ]),
            },
          ],
          args: (dir, out) => ['map', 'fs', join(dir, 'fs.img.gz'), '-o', out],
        };
      }
      const gz = pick(rand, this.bases());
      return {
        files: [
          {
            name: 'input.gz',
            bytes: mutateBinary(rand, gz, [
              [0, 32],
              [gz.length - 16, gz.length],
            ]),
          },
        ],
        args: (dir, out) => ['ingest', join(dir, 'input.gz'), '-o', out],
      };
    },
  },
  tables: {
    setup(distDir, dir) {
      const trace = join(dir, 'trace.txt');
      mkdirSync(dir, { recursive: true });
      writeFileSync(trace, head(fixture('block', 'ext4.trace.gz'), 2000));
      cli(distDir, ['ingest', trace, '-o', join(dir, 'block')]);
      cli(distDir, ['map', 'fs', fixture('ext', 'ext2-1k.e2image-r.img.gz'), '-o', join(dir, 'fs')]);
      cli(distDir, ['analyze', join(ROOT, 'data', 'm128-buffered'), '-o', join(dir, 'analysis'), '--jobs', '1']);
      const read = (...p) => new Uint8Array(readFileSync(join(dir, ...p)));
      tableBases = {
        events: read('block', 'block_events.arrow'),
        fsMap: read('fs', 'fs_map.arrow'),
        fsPaths: read('fs', 'fs_paths.arrow'),
        analysis: join(dir, 'analysis'),
        analysisTables: ['app_io.arrow', 'guest_requests.arrow', 'summary.json'].map((n) => ({ name: n, bytes: read('analysis', n) })),
      };
    },
    make(rand) {
      // Arrow IPC files (headers, flatbuffer metadata, buffers) and summaries as iolineage wrote them, mutated
      const b = tableBases;
      const hot = (bytes) => [
        [0, Math.min(bytes.length, 1024)],
        [Math.max(0, bytes.length - 1024), bytes.length],
      ];
      const which = int(rand, 4);
      if (which === 0) {
        return {
          files: [{ name: 'block_events.arrow', bytes: mutateBinary(rand, b.events, hot(b.events)) }],
          args: (dir, out) => ['btt', join(dir, 'block_events.arrow'), ...(rand() < 0.5 ? ['-o', out] : [])],
        };
      }
      if (which === 1) {
        const mutateMap = rand() < 0.7;
        const files = [
          { name: 'fs/fs_map.arrow', bytes: mutateMap ? mutateBinary(rand, b.fsMap, hot(b.fsMap)) : b.fsMap },
          { name: 'fs/fs_paths.arrow', bytes: mutateMap ? b.fsPaths : mutateBinary(rand, b.fsPaths, hot(b.fsPaths)) },
        ];
        const query = rand() < 0.6 ? ['--sector', String(int(rand, 40000))] : ['--file', pick(rand, ['/', '/lost+found', '12', '/a'])];
        return { files, args: (dir) => ['lookup', join(dir, 'fs'), ...query] };
      }
      const t = pick(rand, b.analysisTables);
      const bytes = t.name.endsWith('.json') ? mutateText(rand, t.bytes) : mutateBinary(rand, t.bytes, hot(t.bytes));
      // a damaged analysis asked a what-if of, or exported as Parquet (worker threads) or CSV
      const format = rand() < 0.8 ? [] : ['--format', 'csv'];
      const args =
        which === 2
          ? (dir) => ['whatif', join(dir, 'bundle'), '--guest-mem', '64M,256M']
          : (dir, out) => ['export', join(dir, 'bundle'), '-o', out, ...format];
      return { bundle: b.analysis, files: [{ name: `bundle/${t.name}`, bytes }], args };
    },
  },
  analyze: {
    make(rand) {
      // one file of a bundle mutated; the others as captured
      const which = pick(rand, ['manifest.json', 'vm0/block.trace.gz', 'vm0/app.strace.gz', 'host/block.trace.gz', 'vm0/image.map.json']);
      const src = join(ROOT, 'data', 'm128-buffered', which);
      const bytes = which.endsWith('.gz') ? mutateText(rand, head(src, 400)) : mutateText(rand, new Uint8Array(readFileSync(src)));
      return {
        bundle: 'm128-buffered',
        files: [{ name: `bundle/${which}`, bytes }],
        args: (dir, out) => ['analyze', join(dir, 'bundle'), '-o', out, '--jobs', '1'],
      };
    },
  },
};

/** The first MiB of the smallest ext image, gzipped (a compressed image that decompresses fast). */
const smallImageGz = once(() => new Uint8Array(gzipSync(gunzip(fixture('ext', 'ext2-1k.e2image-r.img.gz')).subarray(0, 1 << 20))));

export const KIND_NAMES = Object.keys(KINDS);
