/**
 * Safe outputs (src/io/output-folder.ts) as a user meets them: a planted symlink is refused, a
 * killed or interrupted ingest leaves complete tables or none under their final names, two
 * commands do not share a folder, files of an earlier run are named, the next run cleans up
 * after a killed one, and a failed run leaves no folder it made.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, watch, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LOCK_FILE,
  OUTPUTS_MANIFEST,
  OutputFolder,
  checkOutputFolder,
  readOutputsManifest,
  writeFileAtomically,
  writeAll,
} from '../../src/io/output-folder.js';
import { fixture, iolineage, root, startIolineage } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-output-folder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const trace = fixture('block', 'ext4.trace.gz');
/** A larger trace: its tables take a while to write, so a signal can land in the middle. */
const bigTrace = join(root, 'data', 'm128-direct', 'vm0', 'block.trace.gz');
/** A long strace log: reading it takes a while. */
const straceLog = join(root, 'data', 'm128-buffered', 'vm0', 'app.strace.gz');
const isTemporary = (n: string) => /^\..*\.tmp$/.test(n);

/** Start `iolineage ARGS` and send `signal` as soon as a file whose name passes `when` appears in `out`. */
async function signalWhen(
  args: string[],
  out: string,
  when: (name: string) => boolean,
  signal: NodeJS.Signals,
  env: Record<string, string> = {},
) {
  mkdirSync(out, { recursive: true });
  const child = startIolineage(args, env);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve) => {
    const watcher = watch(out, (_event, name) => {
      if (name && when(name)) {
        child.kill(signal);
        watcher.close();
        resolve();
      }
    });
    void exited.then(() => {
      watcher.close();
      resolve();
    });
  });
  await exited;
  return child;
}

/**
 * An ingest of bigTrace into `out`, sent `signal` when its first table starts being written; with
 * `thread` the request sweep runs in a worker thread (request-sweep.ts), which writes the request
 * tables while this one writes block_events.
 */
const signalMidWrite = (out: string, signal: NodeJS.Signals, thread = false) =>
  signalWhen(['ingest', bigTrace, '-o', out], out, isTemporary, signal, { IOLINEAGE_SWEEP_THREAD: thread ? 'always' : 'never' });
/** The request sweep in this thread and in a worker. */
const SWEEPS = [
  { thread: false, name: 'sweep in the main thread' },
  { thread: true, name: 'sweep in a worker thread' },
];

describe('output folder', () => {
  it('refuses a symlink planted at a table name: the file it points to is untouched and no table is written', () => {
    const out = join(work, 'symlink');
    mkdirSync(out);
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    symlinkSync(victim, join(out, 'block_requests.arrow'));
    const r = iolineage(['ingest', trace, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /block_requests\.arrow: the output name is a symbolic link \(to .*victim\.txt\): refusing to write through or replace it/,
    );
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(readdirSync(out).sort()).toEqual(['block_requests.arrow']);
  });

  it('refuses a symlink at the manifest name before any work', () => {
    const out = join(work, 'symlink-manifest');
    mkdirSync(out);
    symlinkSync(join(work, 'elsewhere.json'), join(out, OUTPUTS_MANIFEST));
    const r = iolineage(['map', 'fs', fixture('ext', 'ext2-1k.e2image-r.img.gz'), '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${OUTPUTS_MANIFEST}: the output name is a symbolic link`));
    expect(existsSync(join(work, 'elsewhere.json'))).toBe(false);
    expect(readdirSync(out)).toEqual([OUTPUTS_MANIFEST]);
  });

  it('a SIGKILL while an ingest reads its input leaves no table, only its lock; the next run takes the lock and writes the table', async () => {
    const out = join(work, 'sigkill-reading');
    const child = await signalWhen(['ingest', straceLog, '-o', out], out, (n) => n.endsWith('.scratch'), 'SIGKILL');
    expect(child.signalCode).toBe('SIGKILL');
    // the lock, and the scratch file if the kill came before it was unlinked (right after its creation)
    expect(readdirSync(out).filter((n) => n !== LOCK_FILE && !n.endsWith('.scratch'))).toEqual([]);
    expect(readdirSync(out)).toContain(LOCK_FILE);
    const r = iolineage(['ingest', straceLog, '-o', out]);
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['app_io.arrow', OUTPUTS_MANIFEST]);
    expect(checkOutputFolder(out, true)).toBeNull();
  });

  it.each(SWEEPS)(
    'a SIGKILL while tables are written leaves complete tables or none under their final names; the next run removes its temporary files ($name)',
    async ({ thread }) => {
      const out = join(work, `sigkill-${thread}`);
      const child = await signalMidWrite(out, 'SIGKILL', thread);
      const left = readdirSync(out);
      if (child.signalCode === 'SIGKILL') {
        // killed before the commit: nothing under a final name, no manifest
        expect(left.filter((n) => n.endsWith('.arrow') || n === OUTPUTS_MANIFEST)).toEqual([]);
      } else {
        expect(child.exitCode).toBe(0);
        expect(checkOutputFolder(out, true)).toBeNull();
      }
      const r = iolineage(['ingest', bigTrace, '-o', out]);
      expect(r.status).toBe(0);
      expect(checkOutputFolder(out, true)).toBeNull();
      expect(readdirSync(out).sort()).toEqual(['block_bios.arrow', 'block_events.arrow', 'block_requests.arrow', OUTPUTS_MANIFEST]);
    },
  );

  it('a SIGINT while an ingest reads its input ends it by the signal with nothing written, no temporary file and no lock', async () => {
    const out = join(work, 'sigint-reading');
    // the strace scratch file is created when reading starts
    const child = await signalWhen(['ingest', straceLog, '-o', out], out, (n) => n.endsWith('.scratch'), 'SIGINT');
    expect(child.signalCode).toBe('SIGINT');
    expect(readdirSync(out)).toEqual([]);
  });

  it.each(SWEEPS)(
    'a SIGINT while tables are written ends with the complete set or nothing, and no temporary file or lock ($name)',
    async ({ thread }) => {
      const out = join(work, `sigint-${thread}`);
      const child = await signalMidWrite(out, 'SIGINT', thread);
      // by the signal before the commit, or (the signal came after it) a normal end
      expect(child.signalCode === 'SIGINT' || child.exitCode === 0).toBe(true);
      const names = readdirSync(out);
      expect(names.filter(isTemporary)).toEqual([]);
      expect(names).not.toContain(LOCK_FILE);
      expect(checkOutputFolder(out, names.includes(OUTPUTS_MANIFEST))).toBeNull();
      expect(names.includes(OUTPUTS_MANIFEST)).toBe(child.exitCode === 0);
    },
  );

  it('keeps a second command out of a folder another one writes into, and takes over the lock of a process that is gone', () => {
    const out = join(work, 'locked');
    mkdirSync(out);
    const held = OutputFolder.open(out, 'ingest (held by the test)');
    const r = iolineage(['ingest', trace, '-o', out]);
    held.close();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`another iolineage command \\(pid ${process.pid}, ingest \\(held by the test\\)\\) is writing into this folder`),
    );
    expect(readdirSync(out)).toEqual([]);
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(out, LOCK_FILE), `${gone} ingest\n`);
    writeFileSync(join(out, `.block_events.arrow.${gone}.tmp`), 'half a table');
    const again = iolineage(['ingest', trace, '-o', out]);
    expect(again.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['block_bios.arrow', 'block_events.arrow', 'block_requests.arrow', OUTPUTS_MANIFEST]);
  });

  it('a failed run into a folder it made leaves no folder; into a folder that was there, the folder stays', () => {
    const made = join(work, 'made-by-a-failed-run');
    const r = iolineage(['analyze', '--guest-trace', '/etc/hostname', '--guest-fs', '/etc/hostname', '-o', made]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown input format/);
    expect(existsSync(made)).toBe(false);
    const there = join(work, 'there-before');
    mkdirSync(there);
    OutputFolder.open(there, 'test').close();
    expect(readdirSync(there)).toEqual([]);
    const fresh = join(work, 'fresh-then-committed');
    const folder = OutputFolder.open(fresh, 'test');
    folder.stageJson('summary.json', { ok: true });
    folder.commit();
    folder.close();
    expect(readdirSync(fresh).sort()).toEqual([OUTPUTS_MANIFEST, 'summary.json'].sort());
  });

  it('refuses a second output folder on one folder in the same process, and a symlink at the lock name', () => {
    const out = join(work, 'same-process');
    mkdirSync(out);
    const first = OutputFolder.open(out, 'first');
    expect(() => OutputFolder.open(out, 'second')).toThrow(new RegExp(`another iolineage command \\(pid ${process.pid}, first\\)`));
    first.close();
    expect(readdirSync(out)).toEqual([]);
    symlinkSync('/dev/zero', join(out, LOCK_FILE));
    expect(() => OutputFolder.open(out, 'third')).toThrow(/\.iolineage\.lock: the output name is a symbolic link \(to \/dev\/zero\)/);
  });

  it('stageOpen: a file written later takes its name at commit like a staged one; a discarded one leaves nothing', () => {
    const out = join(work, 'stage-open');
    const folder = OutputFolder.open(out, 'stage-open test');
    const kept = folder.stageOpen('kept.arrow');
    const dropped = folder.stageOpen('dropped.arrow');
    writeAll(kept.fd, new TextEncoder().encode('kept'));
    writeAll(dropped.fd, new TextEncoder().encode('dropped'));
    // not under their final names before the commit
    expect(readdirSync(out).filter((n) => n.endsWith('.arrow'))).toEqual([]);
    dropped.discard();
    expect(kept.finish()).toBe(join(out, 'kept.arrow'));
    folder.commit();
    folder.close();
    expect(readdirSync(out).sort()).toEqual(['kept.arrow', OUTPUTS_MANIFEST].sort());
    expect(readFileSync(join(out, 'kept.arrow'), 'utf8')).toBe('kept');
    symlinkSync(join(work, 'victim-2'), join(out, 'link.arrow'));
    const again = OutputFolder.open(out, 'stage-open test');
    expect(() => again.stageOpen('link.arrow')).toThrow(/link\.arrow: the output name is a symbolic link/);
    again.close();
  });

  it('names the files of an earlier run and files no run recorded, and keeps the earlier run in the manifest', () => {
    const out = join(work, 'reused');
    expect(iolineage(['map', 'fs', fixture('ext', 'ext2-1k.e2image-r.img.gz'), '-o', out]).status).toBe(0);
    writeFileSync(join(out, 'mine.arrow'), 'not from iolineage');
    const r = iolineage(['ingest', trace, '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/note: .*fs_map\.arrow: left from an earlier run \(iolineage map fs, \d{4}-\d\d-\d\dT/);
    expect(r.stderr).toMatch(/note: .*mine\.arrow: not written by a run this folder's iolineage-outputs\.json records/);
    const m = readOutputsManifest(out);
    expect(m.files['fs_map.arrow']!.command).toBe('map fs');
    expect(m.files['block_events.arrow']!.command).toBe('ingest');
    expect(m.files['block_events.arrow']!.run).not.toBe(m.files['fs_map.arrow']!.run);
  });

  it('writeFileAtomically: a failed write leaves neither the file nor a temporary one; a symlink is refused', () => {
    const dir = join(work, 'atomic');
    mkdirSync(dir);
    const path = join(dir, 'summary.json');
    expect(() =>
      writeFileAtomically(path, (fd) => {
        writeAll(fd, new Uint8Array(10));
        throw new Error('disk on fire');
      }),
    ).toThrow('disk on fire');
    expect(readdirSync(dir)).toEqual([]);
    writeFileAtomically(path, (fd) => writeAll(fd, new TextEncoder().encode('{}\n')));
    expect(readFileSync(path, 'utf8')).toBe('{}\n');
    symlinkSync(path, join(dir, 'link.json'));
    expect(() => writeFileAtomically(join(dir, 'link.json'), () => {})).toThrow(/symbolic link \(to .*summary\.json\)/);
    expect(readdirSync(dir).sort()).toEqual(['link.json', 'summary.json']);
  });
});
