/**
 * The lab guest's kernel and initramfs. The kernel comes from a Debian cloud kernel package,
 * fetched the way a user's machine would (`apt-get download` + `dpkg -x`, no installation); the
 * initramfs holds busybox, strace with its shared libraries, the virtio modules in load order and
 * `capture/lab/guest-init.sh` as /init. Both are cached outside the repository.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  renameSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { have, pipeline, sh } from './exec.js';

export interface GuestKernel {
  /** `uname -r` of the guest kernel. */
  release: string;
  vmlinuz: string;
  initramfs: string;
  /** Debian package the kernel came from. */
  package: string;
}

/** Modules the guest needs before it can see its disks (virtio-blk over virtio-pci). */
const ROOT_MODULES = ['virtio_pci', 'virtio_blk'];

/** `depends=` of a module, from its .modinfo section (NUL-separated key=value strings). */
export function moduleDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko).toString('latin1');
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m && m[1] ? m[1].split(',').filter(Boolean) : [];
}

/** Module load order: dependencies first (the package ships no modules.dep). */
export function moduleOrder(roots: string[], depends: (name: string) => string[]): string[] {
  const order: string[] = [];
  const visit = (n: string, stack: string[]) => {
    if (order.includes(n)) return;
    if (stack.includes(n)) throw new Error(`module dependency loop: ${[...stack, n].join(' -> ')}`);
    for (const d of depends(n)) visit(d, [...stack, n]);
    order.push(n);
  };
  for (const r of roots) visit(r, []);
  return order;
}

function findFiles(dir: string, pred: (name: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findFiles(p, pred, out);
    else if (pred(e.name)) out.push(p);
  }
  return out;
}

/** Fetch and unpack the kernel package into CACHE/kernel (once). */
function fetchKernel(cache: string, log: (s: string) => void): { root: string; pkg: string } {
  const kdir = join(cache, 'kernel');
  mkdirSync(kdir, { recursive: true });
  let debs = readdirSync(kdir).filter((f) => /^linux-image-.*-cloud-amd64_.*\.deb$/.test(f));
  if (debs.length === 0) {
    const dep = sh('apt-cache', ['depends', 'linux-image-cloud-amd64']);
    const pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(dep)?.[1];
    if (!pkg) throw new Error('cannot find the Debian cloud kernel package (apt-cache depends linux-image-cloud-amd64)');
    log(`lab: fetching ${pkg} with apt-get download`);
    sh('apt-get', ['download', pkg], { cwd: kdir });
    debs = readdirSync(kdir).filter((f) => f.startsWith(pkg + '_') && f.endsWith('.deb'));
    if (debs.length === 0) throw new Error(`apt-get download ${pkg} produced no .deb in ${kdir}`);
  }
  const deb = debs.sort().at(-1)!;
  const root = join(kdir, deb.replace(/\.deb$/, ''));
  if (!existsSync(join(root, 'boot'))) {
    rmSync(root, { recursive: true, force: true });
    sh('dpkg', ['-x', join(kdir, deb), root]);
  }
  return { root, pkg: deb.replace(/_amd64\.deb$/, '') };
}

/** Shared libraries of a dynamic program (`ldd`), including the loader. */
function sharedLibs(prog: string): string[] {
  const out = sh('ldd', [prog]);
  const libs: string[] = [];
  for (const l of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(l) ?? /^\s+(\/\S+)\s+\(/.exec(l);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/**
 * Kernel + initramfs for the lab guest, built once per kernel and init script.
 * @param cache cache directory (outside the repository)
 * @param captureDir the repository's `capture/` directory
 */
export function prepareGuestKernel(cache: string, captureDir: string, log: (s: string) => void): GuestKernel {
  for (const t of ['apt-get', 'dpkg', 'cpio', 'busybox', 'strace', 'gzip']) {
    if (!have(t)) throw new Error(`the lab needs \`${t}\` on the host (Debian packages: cpio busybox-static strace)`);
  }
  const { root, pkg } = fetchKernel(cache, log);
  const vmlinuz = readdirSync(join(root, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`no vmlinuz in ${pkg}`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const init = readFileSync(join(captureDir, 'lab/guest-init.sh'));
  const busybox = sh('sh', ['-c', 'command -v busybox']).trim();
  const strace = sh('sh', ['-c', 'command -v strace']).trim();
  const key = createHash('sha256').update(init).update(release).update(busybox).update(strace).digest('hex').slice(0, 12);
  const initramfs = join(cache, `initramfs-${release}-${key}.cpio.gz`);
  if (!existsSync(initramfs)) {
    log(`lab: building the guest initramfs for ${release}`);
    const stage = join(cache, `initramfs-stage-${process.pid}`);
    rmSync(stage, { recursive: true, force: true });
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'modules', 'out', 'mnt/data', 'etc']) {
      mkdirSync(join(stage, d), { recursive: true });
    }
    copyFileSync(busybox, join(stage, 'bin/busybox'));
    chmodSync(join(stage, 'bin/busybox'), 0o755);
    for (const applet of sh(busybox, ['--list']).split('\n').filter(Boolean)) {
      if (applet !== 'busybox' && !existsSync(join(stage, 'bin', applet))) symlinkSync('busybox', join(stage, 'bin', applet));
    }
    copyFileSync(strace, join(stage, 'usr/bin/strace'));
    chmodSync(join(stage, 'usr/bin/strace'), 0o755);
    for (const lib of sharedLibs(strace)) {
      mkdirSync(join(stage, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(stage, lib));
    }
    const kos = findFiles(join(root, 'lib/modules', release), (n) => n.endsWith('.ko'));
    const byName = new Map(kos.map((p) => [basename(p, '.ko').replace(/-/g, '_'), p]));
    const depends = (n: string) => {
      const p = byName.get(n);
      if (!p) throw new Error(`module ${n} not found in ${pkg}`);
      return moduleDepends(readFileSync(p));
    };
    const order = moduleOrder(ROOT_MODULES, depends);
    for (const n of order) copyFileSync(byName.get(n)!, join(stage, 'modules', n + '.ko'));
    writeFileSync(join(stage, 'modules/order'), order.join('\n') + '\n');
    writeFileSync(join(stage, 'init'), init);
    chmodSync(join(stage, 'init'), 0o755);
    pipeline(`cd '${stage}' && find . | cpio -o -H newc --quiet | gzip -6 > '${initramfs}.tmp'`);
    renameSync(initramfs + '.tmp', initramfs);
    rmSync(stage, { recursive: true, force: true });
  }
  return { release, vmlinuz: join(root, 'boot', vmlinuz), initramfs, package: pkg };
}
