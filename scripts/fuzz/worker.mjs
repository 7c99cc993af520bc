/**
 * A fuzz worker: a child process of scripts/fuzz.mjs that runs one kind's inputs in turn, in
 * process (the command's run() from the built CLI), and reports each input's class over IPC:
 *   ok          the command ran and exited 0
 *   user_error  exit 1 or 2, or an InputError/UsageError (what a user is meant to read)
 *   internal    any other exception (exit 70 from the CLI), an uncaught exception or rejection,
 *               or an output folder left with a partial set of tables
 * Crashes, hangs and memory blow-ups are seen by the parent (this process dies or stops answering).
 */
import { closeSync, cpSync, existsSync, ftruncateSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { KINDS } from './kinds.mjs';

const [kindName, distDir, workDir] = process.argv.slice(2);
const kind = KINDS[kindName];
const { mulberry32 } = await import(join(distDir, 'util', 'seeded-random.js'));
const { isUserError } = await import(join(distDir, 'util', 'errors.js'));
const { checkOutputFolder } = await import(join(distDir, 'io', 'output-folder.js'));
const ROOT = new URL('../..', import.meta.url).pathname;
/** Command modules of the built CLI by name, loaded on first use. */
const commands = new Map();
const commandModule = async (name) => {
  if (!commands.has(name)) commands.set(name, await import(join(distDir, 'cli', `${name}.js`)));
  return commands.get(name);
};

mkdirSync(workDir, { recursive: true });
await kind.setup?.(distDir, join(workDir, 'base'));
/** An error thrown outside the awaited run (a stream's late 'error', a timer): the input's class becomes internal. */
let stray = null;
process.on('uncaughtException', (e) => {
  stray ??= e;
});
process.on('unhandledRejection', (e) => {
  stray ??= e;
});

/** Image files kept on disk: only the last patch and size are undone before the next input. */
const images = new Map();
function placeImage(dir, img) {
  const path = join(dir, img.name);
  let state = images.get(path);
  const base = img.base;
  if (!state || state.base !== base) {
    const fd = openSync(path, 'w');
    for (const [s, e] of base.hot) writeSync(fd, base.bytes, s, e - s, s);
    ftruncateSync(fd, base.bytes.length);
    closeSync(fd);
    state = { base, patch: null, size: base.bytes.length };
    images.set(path, state);
  }
  const fd = openSync(path, 'r+');
  try {
    // undo the last input's patch and cut
    if (state.size < base.bytes.length) {
      ftruncateSync(fd, base.bytes.length);
      for (const [s, e] of base.hot) if (e > state.size) writeSync(fd, base.bytes, s, e - s, s);
    }
    if (state.patch) writeSync(fd, base.bytes, state.patch.at, state.patch.bytes.length, state.patch.at);
    writeSync(fd, img.patch.bytes, 0, img.patch.bytes.length, img.patch.at);
    if (img.size < base.bytes.length) ftruncateSync(fd, img.size);
  } finally {
    closeSync(fd);
  }
  state.patch = img.patch;
  state.size = img.size;
}

let bundleCopied = null;
async function runOne(index, seed) {
  const rand = mulberry32((seed * 1000003 + index) >>> 0);
  const input = kind.make(rand);
  const dir = join(workDir, 'in');
  mkdirSync(dir, { recursive: true });
  if (input.bundle) {
    // the bundle is copied once; the file mutated last time is put back
    const from = isAbsolute(input.bundle) ? input.bundle : join(ROOT, 'data', input.bundle);
    if (bundleCopied === null) {
      cpSync(from, join(dir, 'bundle'), { recursive: true });
      bundleCopied = [];
    }
    for (const name of bundleCopied) cpSync(join(from, name.slice('bundle/'.length)), join(dir, name));
    bundleCopied = input.files.map((f) => f.name);
  }
  for (const f of input.files) {
    mkdirSync(dirname(join(dir, f.name)), { recursive: true });
    writeFileSync(join(dir, f.name), f.bytes);
  }
  for (const img of input.images ?? []) placeImage(dir, img);
  const out = join(workDir, 'out');
  rmSync(out, { recursive: true, force: true });
  const [name, ...argv] = input.args(dir, out);
  const command = await commandModule(name);
  stray = null;
  let cls;
  let detail = '';
  /** Whether the command ended normally (an exit status, 1 included: ingest writes its tables and then reports counted errors). */
  let returned = false;
  try {
    const code = await command.run(argv);
    returned = true;
    cls = code === 0 ? 'ok' : 'user_error';
  } catch (e) {
    if (isUserError(e)) {
      cls = 'user_error';
      detail = e.message;
    } else {
      cls = 'internal';
      detail = e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 4).join('\n')}` : String(e);
    }
  }
  // a late error of a stream the command left behind
  await new Promise((r) => setImmediate(r));
  if (stray && cls !== 'internal') {
    cls = 'internal';
    detail = `uncaught: ${stray instanceof Error ? `${stray.message}\n${(stray.stack ?? '').split('\n').slice(1, 4).join('\n')}` : String(stray)}`;
  }
  if (cls !== 'internal' && argv.includes('-o')) {
    // a command that threw leaves nothing; one that returned leaves its complete, recorded set
    const problem = checkOutputFolder(out, returned && (cls === 'ok' || existsSync(join(out, 'iolineage-outputs.json'))));
    if (problem) {
      cls = 'internal';
      detail = `output folder: ${problem}`;
    }
  }
  return { cls, detail: detail.slice(0, 600) };
}

process.on('message', async (m) => {
  let r;
  try {
    r = await runOne(m.index, m.seed);
  } catch (e) {
    // the campaign's own failure (making or placing the input), not iolineage's
    r = { cls: 'harness', detail: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) };
  }
  process.send({ index: m.index, ...r, rss: process.memoryUsage().rss });
});
process.send({ ready: true });
