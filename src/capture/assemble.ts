/**
 * Assemble a bundle recorded with the scripts on real systems (capture/guest-capture.sh in the
 * guest, capture/host-capture.sh on the host) into `manifest.json`:
 *
 *   BUNDLE/host/{block.trace[.gz], fs.e2i.gz, host.env}
 *   BUNDLE/vm0/{block.trace[.gz], app.strace[.gz], workload.log[.gz], fs.e2i.gz, guest.env,
 *               image.filefrag.txt, image.map.json}
 *
 * Uncompressed traces are gzip-compressed in place.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rmSync } from 'node:fs';
import { InputError } from '../util/errors.js';
import { writeAll, writeFileAtomically } from '../io/output-folder.js';
import { type CaptureManifest, type GuestCapture, type HostCapture, MANIFEST_KIND, MANIFEST_VERSION, writeManifest } from './manifest.js';

function parseEnvFile(file: string): Map<string, string> {
  if (!existsSync(file)) throw new InputError(file, 'missing (written by capture/*-capture.sh at the end of a capture)');
  const m = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function get(env: Map<string, string>, file: string, key: string): string {
  const v = env.get(key);
  if (v === undefined || v === '') throw new InputError(file, `no "${key}=" line`);
  return v;
}

/**
 * Byte offset of the mounted file system on the traced disk, from guest.env: `fs_device=vda1` and
 * `partition_vda1=START SIZE` (sysfs `start`, 512-byte sectors); 0 when the file system is the
 * whole disk or was not mounted when the capture ended.
 */
export function envFsOffset(env: Map<string, string>, file: string): number {
  const dev = env.get('fs_device');
  if (dev === undefined || dev === env.get('disk')) return 0;
  const p = env.get(`partition_${dev}`);
  const m = p === undefined ? null : /^(\d+) (\d+)$/.exec(p);
  if (!m) throw new InputError(file, `the file system is on ${dev} but there is no "partition_${dev}=START SIZE" line`);
  return Number(m[1]) * 512;
}

/** `name` or `name.gz` in `dir`, compressing `name` when only it exists; null when neither does. */
function gzipped(dir: string, rel: string, name: string): string | null {
  const gz = join(dir, rel, name + '.gz');
  const plain = join(dir, rel, name);
  if (!existsSync(gz) && existsSync(plain)) {
    const bytes = gzipSync(readFileSync(plain), { level: 6 });
    writeFileAtomically(gz, (fd) => writeAll(fd, bytes));
    rmSync(plain);
  }
  return existsSync(gz) ? `${rel}/${name}.gz` : null;
}

function traceOf(env: Map<string, string>, file: string, path: string) {
  return {
    path,
    format: 'tracefs-text' as const,
    trace_clock: get(env, file, 'trace_clock'),
    events: get(env, file, 'events').split(','),
    filter: get(env, file, 'filter'),
    buffer_size_kb: Number(get(env, file, 'buffer_size_kb')),
    lost_events: Number(get(env, file, 'lost_events')),
    lines: Number(get(env, file, 'lines')),
  };
}

function clocksOf(env: Map<string, string>, file: string, when: 'start' | 'end') {
  return {
    realtime_ns: get(env, file, `clocks_${when}_realtime_ns`),
    monotonic_ns: get(env, file, `clocks_${when}_monotonic_ns`),
  };
}

/** The host's part of the manifest, from BUNDLE/host/host.env (its trace compressed in place). */
function hostCaptureOf(dir: string, hfile: string, henv: Map<string, string>): HostCapture {
  const fsType = get(henv, hfile, 'fs_type');
  if (fsType !== 'ext2' && fsType !== 'ext3' && fsType !== 'ext4')
    throw new InputError(hfile, `host fs type ${fsType}: only ext2/3/4 are supported`);
  return {
    kernel: get(henv, hfile, 'kernel'),
    disk: {
      dev: get(henv, hfile, 'dev'),
      name: get(henv, hfile, 'disk'),
      logical_block_size: Number(get(henv, hfile, 'logical_block_size')),
      physical_block_size: Number(get(henv, hfile, 'physical_block_size')),
      size_bytes: Number(get(henv, hfile, 'size_bytes')),
      fs_offset_bytes: Number(get(henv, hfile, 'fs_offset_bytes')),
      partition_table: null,
      backing: 'physical disk of the host',
    },
    fs: {
      type: fsType,
      block_size: Number(get(henv, hfile, 'fs_block_size')),
      size_bytes: Number(get(henv, hfile, 'fs_size_bytes')),
      mount: '/',
      metadata: 'host/fs.e2i.gz',
      metadata_qcow2: null,
      metadata_after_unmount: henv.get('fs_mounted') !== '1',
    },
    block_trace: traceOf(henv, hfile, gzipped(dir, 'host', 'block.trace') ?? 'host/block.trace.gz'),
    clocks_start: clocksOf(henv, hfile, 'start'),
    clocks_end: clocksOf(henv, hfile, 'end'),
  };
}

/**
 * One guest's part of the manifest, from BUNDLE/ID/guest.env (its traces and logs compressed in
 * place); its image on the host when host.env names it as the guest (`guest=ID`).
 */
function guestCaptureOf(dir: string, id: string, henv: Map<string, string> | null, hfile: string): GuestCapture | null {
  const gfile = join(dir, id, 'guest.env');
  if (!existsSync(gfile)) return null;
  const env = parseEnvFile(gfile);
  const fsType = env.get('fs_type') ?? 'ext4';
  const strace = gzipped(dir, id, 'app.strace');
  const wlog = gzipped(dir, id, 'workload.log');
  const sameHostImage = henv !== null && henv.get('guest') === id;
  return {
    id,
    kernel: get(env, gfile, 'kernel'),
    clock_domain: 'guest',
    mem_bytes: Number(get(env, gfile, 'mem_bytes')),
    disk: {
      dev: get(env, gfile, 'dev'),
      name: get(env, gfile, 'disk'),
      logical_block_size: Number(get(env, gfile, 'logical_block_size')),
      physical_block_size: Number(get(env, gfile, 'physical_block_size')),
      size_bytes: Number(get(env, gfile, 'size_bytes')),
      fs_offset_bytes: envFsOffset(env, gfile),
      partition_table: null,
      backing: 'virtual disk of the guest',
    },
    fs: {
      type: fsType === 'ext2' || fsType === 'ext3' ? fsType : 'ext4',
      block_size: Number(env.get('fs_block_size') ?? 4096),
      size_bytes: Number(get(env, gfile, 'size_bytes')),
      mount: env.get('fs_mount') ?? '/',
      metadata: `${id}/fs.e2i.gz`,
      metadata_qcow2: null,
      metadata_after_unmount: false,
    },
    image: sameHostImage
      ? {
          path_in_fs: get(henv!, hfile, 'image_path_in_fs'),
          format: get(henv!, hfile, 'image_format') === 'qcow2' ? 'qcow2' : 'raw',
          file_bytes: Number(get(henv!, hfile, 'image_file_bytes')),
          virtual_bytes: Number(henv!.get('image_virtual_bytes') || get(henv!, hfile, 'image_file_bytes')),
          filefrag: `${id}/image.filefrag.txt`,
          qemu_img_map: existsSync(join(dir, id, 'image.map.json')) ? `${id}/image.map.json` : null,
          host_cache: henv!.get('host_cache') === 'none' ? 'none' : 'writeback',
        }
      : null,
    strace: strace ? { path: strace, options: env.get('strace_options') ?? '-f -ttt -T -y', clock: 'realtime' } : null,
    block_trace: traceOf(env, gfile, gzipped(dir, id, 'block.trace') ?? `${id}/block.trace.gz`),
    workload_log: wlog ? { path: wlog, format: 'ffsb-lite-v1', clock: 'monotonic' } : null,
    clocks_start: clocksOf(env, gfile, 'start'),
    clocks_end: clocksOf(env, gfile, 'end'),
    clock_marks: [],
    console_log: null,
  };
}

/** Write `DIR/manifest.json` for a bundle made by the capture scripts; returns the manifest. */
export function assembleBundle(dir: string): CaptureManifest {
  const notes: string[] = ['recorded with capture/guest-capture.sh and capture/host-capture.sh'];
  let host: HostCapture | null = null;
  let henv: Map<string, string> | null = null;
  const hfile = join(dir, 'host/host.env');
  if (existsSync(hfile)) {
    henv = parseEnvFile(hfile);
    host = hostCaptureOf(dir, hfile, henv);
    notes.push('host fs metadata was saved while mounted: changes not yet written back may be missing');
  }
  const guests: GuestCapture[] = [];
  for (const id of readdirSync(dir).sort()) {
    const g = guestCaptureOf(dir, id, henv, hfile);
    if (g) guests.push(g);
  }
  if (guests.length === 0)
    throw new InputError(dir, 'no guest directory with a guest.env (copy the output of guest-capture.sh into BUNDLE/vm0)');
  notes.push('no paired clock marks: align guest and host from clocks_start/clocks_end (realtime) and the marks in each trace');
  const m: CaptureManifest = {
    version: MANIFEST_VERSION,
    kind: MANIFEST_KIND,
    created: new Date(Number(BigInt(guests[0]!.clocks_start.realtime_ns) / 1_000_000n)).toISOString(),
    tool: 'capture/guest-capture.sh + capture/host-capture.sh',
    lab: null,
    guests,
    host,
    notes,
  };
  writeManifest(dir, m);
  return m;
}
