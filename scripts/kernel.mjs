#!/usr/bin/env node
/**
 * The project's TypeScript kernel (tslab): registration in a project-local Jupyter data folder, and
 * the launcher that the registered kernel spec runs.
 *
 *   npm run kernel                 # write the kernel spec, print how to use it
 *   node scripts/kernel.mjs --quiet
 *   node scripts/kernel.mjs kernel --config-path FILE   # what Jupyter runs (the kernel itself)
 *
 * Registration writes `.jupyter/share/jupyter/kernels/tslab/kernel.json` without touching the
 * user's global Jupyter setup. Jupyter finds it when JUPYTER_PATH names that folder (Jupyter
 * searches JUPYTER_PATH before the user and system folders, so this kernel wins over a globally
 * installed tslab). The spec is written directly (jupyter_client's kernel.json: argv with
 * "{connection_file}", display_name, language), so no Python is needed to register it; Node and
 * this script are named by absolute path, so the kernel runs the project's own tslab and Node.
 *
 * The launcher starts tslab's kernel with failed cells reported as the Jupyter messaging protocol
 * asks (messaging spec 5.3, "Execution errors" and "execute_reply"): tslab only prints a failure on
 * stderr and replies `status: "error"` without ename/evalue/traceback, so JupyterLab shows a bare
 * stderr text and nbclient reports `<Error>:` with no message. Here a failed cell also publishes an
 * IOPub `error` message, and its execute_reply carries the same ename, evalue and traceback; the
 * traceback names the failing line of the cell and shows it (a type error: the line and column of
 * each diagnostic; a runtime error: the innermost frame in a cell, with the stack frames of cells
 * named `In[n]`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const jupyterDataDir = join(projectRoot, '.jupyter', 'share', 'jupyter');
export const kernelName = 'tslab';
const tslabMain = join(projectRoot, 'node_modules', 'tslab', 'dist', 'main.js');

/** Write (or refresh) the kernel spec; returns its path. Idempotent. */
export function registerKernel() {
  if (!existsSync(tslabMain)) {
    throw new Error(`tslab is not installed (expected ${tslabMain}); run npm install first`);
  }
  const spec = {
    argv: [process.execPath, fileURLToPath(import.meta.url), 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (iolineage)',
    language: 'typescript',
    metadata: { iolineage: { registered_by: 'scripts/kernel.mjs' } },
  };
  const dir = join(jupyterDataDir, 'kernels', kernelName);
  const file = join(dir, 'kernel.json');
  const text = JSON.stringify(spec, null, 2) + '\n';
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
  }
  return file;
}

/** Environment for running Jupyter with the project kernel visible. */
export function jupyterEnv(base = process.env) {
  const paths = [jupyterDataDir, ...(base.JUPYTER_PATH ? base.JUPYTER_PATH.split(':') : [])];
  return { ...base, JUPYTER_PATH: [...new Set(paths)].join(':') };
}

// ---------------------------------------------------------------------------------------------
// Failed cells as Jupyter errors

const RED = '\u001b[31m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/** Lines of a cell around `line` (1-based), the failing one marked, with a caret line under it. */
function sourceExcerpt(source, line, caretFrom, caretTo) {
  const lines = source.split('\n');
  if (!(line >= 1 && line <= lines.length)) return [];
  const width = String(Math.min(lines.length, line + 1)).length;
  const out = [];
  for (let n = Math.max(1, line - 1); n <= Math.min(lines.length, line + 1); n++) {
    const mark = n === line ? `${RED}-->${RESET}` : '   ';
    out.push(`${mark} ${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === line && caretFrom !== undefined) {
      const to = Math.max(caretFrom + 1, Math.min(caretTo ?? lines[n - 1].length, lines[n - 1].length));
      out.push(`    ${' '.repeat(width)} | ${' '.repeat(caretFrom)}${RED}${'^'.repeat(to - caretFrom)}${RESET}`);
    }
  }
  return out;
}

/**
 * The error of a cell that failed tslab's type check: one diagnostic per entry (tslab flattens
 * TypeScript's message chains into entries at the same place), positions 0-based in the cell.
 */
export function typeCheckError(diagnostics, source) {
  const first = diagnostics[0];
  const where = (d) => `line ${d.start.line + 1}, column ${d.start.character + 1}`;
  const traceback = [];
  // a message chain (same place) reads as TypeScript prints it: the head, then its details indented
  for (let i = 0; i < diagnostics.length;) {
    const d = diagnostics[i];
    const place = `${d.start.line}:${d.start.character}`;
    traceback.push(`${RED}${BOLD}TypeScript error${d.code ? ` TS${d.code}` : ''}${RESET} at ${where(d)}: ${d.messageText}`);
    let j = i + 1;
    for (; j < diagnostics.length && `${diagnostics[j].start.line}:${diagnostics[j].start.character}` === place; j++) {
      traceback.push(`  ${diagnostics[j].messageText}`);
    }
    const endsOnLine = d.end && d.end.line === d.start.line ? d.end.character : undefined;
    traceback.push(...sourceExcerpt(source, d.start.line + 1, d.start.character, endsOnLine));
    i = j;
  }
  return {
    ename: 'TypeScriptError',
    evalue: `${where(first)}: ${first.messageText}${first.code ? ` (TS${first.code})` : ''}`,
    traceback,
  };
}

/**
 * The cell line (1-based) that a line of the compiled JavaScript comes from. tslab compiles a cell
 * with TypeScript's transpiler and no source map: statements keep their tokens in order, with type
 * annotations removed and export bookkeeping added. The cell line whose tokens contain the compiled
 * line's tokens in order, with the fewest extra tokens (nearest first on ties), is taken; null when
 * no cell line does.
 */
export function cellLineOf(compiledLine, source) {
  const tokens = (s) => s.match(/[A-Za-z_$][\w$]*|\d[\w.]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|[^\s\w]/g) ?? [];
  // tslab assigns a cell's last expression and its declarations to `exports`
  // and refers to earlier cells' declarations as `exports.name`
  const want = tokens(compiledLine.replace(/^\s*(?:exports\.[\w$]+\s*=\s*)+/, '').replace(/\bexports\.(?=[A-Za-z_$])/g, ''));
  if (want.length === 0) return null;
  let best = null;
  source.split('\n').forEach((line, i) => {
    const have = tokens(line);
    let k = 0;
    for (const t of have) if (k < want.length && t === want[k]) k++;
    if (k < want.length) return;
    const extra = have.length - want.length;
    if (!best || extra < best.extra) best = { line: i + 1, extra };
  });
  return best?.line ?? null;
}

/**
 * The error of a cell whose code threw (or whose top-level await rejected). `cells` maps a script
 * file name given to the vm (`In[n]`) to the cell's source and its compiled code, so that stack
 * frames in cells are named by cell and source line.
 */
export function runtimeError(thrown, cells) {
  const isError = thrown instanceof Error || (thrown && typeof thrown === 'object' && typeof thrown.stack === 'string');
  const ename = isError ? String(thrown.name || 'Error') : 'thrown value';
  const evalue = isError ? String(thrown.message ?? '') : typeof thrown === 'string' ? thrown : safeInspect(thrown);
  const traceback = [`${RED}${BOLD}${ename}${RESET}: ${evalue}`];
  if (!isError) return { ename, evalue, traceback };
  const frames = [];
  const failing = []; // the innermost frame of each cell on the stack, innermost cell first
  for (const raw of String(thrown.stack).split('\n').slice(1)) {
    const line = raw.trim();
    if (!line.startsWith('at ')) continue;
    // frames below the cell's own code are tslab's executor and node's vm
    if (/\bnode:vm\b|sigintHandlersWrap|tslab[\\/]dist[\\/]/.test(line)) break;
    const m = /(In\[\d+\]):(\d+):(\d+)/.exec(line);
    if (m && cells.has(m[1])) {
      const cell = cells.get(m[1]);
      const compiled = cell.compiled.split('\n')[Number(m[2]) - 1] ?? '';
      // the call of tslab's wrapper function around the cell's code
      if (compiled.startsWith('})(__tslab__.')) continue;
      const at = cellLineOf(compiled, cell.source);
      const named = at ? `${m[1]}, line ${at}` : `${m[1]} (compiled line ${m[2]}: ${compiled.trim()})`;
      frames.push(`    ${line.replace(m[0], named)}`);
      if (!failing.some((f) => f.cell === m[1])) failing.push({ cell: m[1], source: cell.source, line: at, compiled });
    } else {
      frames.push(`    ${line}`);
    }
  }
  // where it was thrown, and where the running cell called it when that is another cell
  for (const f of [failing[0], failing.length > 1 ? failing[failing.length - 1] : null]) {
    if (!f) continue;
    if (f.line) traceback.push(`${f.cell}, line ${f.line}:`, ...sourceExcerpt(f.source, f.line));
    else traceback.push(`${f.cell}, compiled code: ${f.compiled.trim()}`);
  }
  if (frames.length) traceback.push('Stack:', ...frames);
  return { ename, evalue, traceback };
}

function safeInspect(v) {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Start tslab's kernel (as `tslab kernel --config-path FILE` does) with failed cells reported as
 * Jupyter errors. Hooks, all on tslab 1.0's CommonJS modules before the kernel is built:
 *  - vm.runInThisContext: each cell's compiled code runs under the file name `In[n]`, and what it
 *    throws (or its promise rejects with) is kept for the cell;
 *  - console.error, which tslab's executor is given at start-up: the executor's own report of a
 *    failure (its "%s%d:%d - %s" diagnostics, or the kept thrown value) is taken as the cell's error
 *    instead of being printed; anything else a cell writes to console.error is printed as before;
 *  - JupyterHandlerImpl.handleExecuteImpl (one cell at a time, in tslab's queue) and
 *    ZmqServer.handleExecute (the execute_request): the error goes out on IOPub before the reply.
 */
export function startKernel(configPath) {
  const require = createRequire(tslabMain);
  const vm = require('node:vm');
  const jupyter = require('./jupyter.js');
  const { startKernel: startTslab } = require('./main.js');
  const cells = new Map();
  let current = null; // { source, name, diagnostics: [], thrown, failed }

  const runInThisContext = vm.runInThisContext;
  vm.runInThisContext = function runCell(code, options) {
    const isCell =
      current && typeof code === 'string' && /^\(async function\(exports, require\) \{ |^\(function\(exports, require\) \{ /.test(code);
    if (!isCell) return runInThisContext.call(this, code, options);
    const cell = current;
    cells.set(cell.name, { source: cell.source, compiled: code.slice(code.indexOf('{ ') + 2) });
    const opts = typeof options === 'object' && options ? { ...options, filename: cell.name } : { filename: cell.name };
    try {
      const ret = runInThisContext.call(this, code, opts);
      if (ret && typeof ret.then === 'function') {
        return ret.then(undefined, (e) => {
          cell.thrown = { value: e };
          throw e;
        });
      }
      return ret;
    } catch (e) {
      cell.thrown = { value: e };
      throw e;
    }
  };

  const printError = console.error;
  console.error = function reportOrPrint(...args) {
    const cell = current;
    if (cell && args[0] === '%s%d:%d - %s' && args.length === 5) {
      cell.printedDiagnostics.push(args);
      return;
    }
    if (cell && cell.thrown && args.length === 1 && args[0] === cell.thrown.value) return;
    printError.apply(this, args);
  };

  // the executor's diagnostics: taken from the converter, where they carry the end position too
  const converter = require('./converter.js');
  const createConverter = converter.createConverter;
  converter.createConverter = function createReportingConverter(...args) {
    const conv = createConverter.apply(this, args);
    const convert = conv.convert;
    conv.convert = function convertCell(...convArgs) {
      const out = convert.apply(this, convArgs);
      if (current && out?.diagnostics?.length) current.diagnostics = out.diagnostics;
      return out;
    };
    return conv;
  };

  const Handler = jupyter.JupyterHandlerImpl.prototype;
  const handleExecuteImpl = Handler.handleExecuteImpl;
  Handler.handleExecuteImpl = async function handleCell(req, writeStream, writeDisplayData) {
    const failure = writeStream.failure ?? {};
    const cell = {
      source: String(req.code ?? ''),
      name: `In[${this.execCount + 1}]`,
      diagnostics: [],
      printedDiagnostics: [],
      thrown: null,
    };
    current = cell;
    try {
      return await handleExecuteImpl.call(this, req, writeStream, writeDisplayData);
    } catch (e) {
      if (cell.thrown) failure.error = runtimeError(cell.thrown.value, cells);
      else if (cell.diagnostics.length) failure.error = typeCheckError(cell.diagnostics, cell.source);
      else if (cell.printedDiagnostics.length) {
        // diagnostics of another module the cell imports (tslab names its file)
        failure.error = typeCheckError(
          cell.printedDiagnostics.map(([, file, line, col, text]) => ({
            start: { line: line - 1, character: col - 1 },
            messageText: file ? `${file}${text}` : text,
          })),
          cell.source,
        );
      }
      throw e;
    } finally {
      if (current === cell) current = null;
    }
  };

  const Server = jupyter.ZmqServer.prototype;
  Server.handleExecute = async function handleExecuteRequest(sock, msg) {
    const send = (type, content) => {
      const m = msg.createReply();
      m.header.msg_type = type;
      m.content = content;
      m.signAndSend(this.connInfo.key, this.iopub);
    };
    const failure = {};
    const writeStream = (name, text) => send('stream', { name, text });
    writeStream.failure = failure;
    const writeDisplayData = (data, update) => send(update ? 'update_display_data' : 'display_data', data);
    const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
    if (content.status === 'error' && failure.error) {
      send('error', failure.error);
      Object.assign(content, failure.error);
    } else if (content.status === 'error') {
      Object.assign(content, { ename: 'Error', evalue: 'the cell failed (see its output)', traceback: [] });
    }
    const reply = msg.createReply();
    reply.header.msg_type = 'execute_reply';
    reply.content = content;
    reply.signAndSend(this.connInfo.key, sock);
  };

  startTslab({ configPath, enableFindLocal: false, jsKernel: false });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === 'kernel') {
    const i = args.indexOf('--config-path');
    if (i < 0 || !args[i + 1]) {
      process.stderr.write('kernel: usage: node scripts/kernel.mjs kernel --config-path CONNECTION_FILE\n');
      process.exit(2);
    }
    startKernel(args[i + 1]);
  } else {
    try {
      const file = registerKernel();
      if (!args.includes('--quiet')) {
        process.stdout.write(
          [
            `kernel "${kernelName}" registered: ${file}`,
            '',
            'Jupyter finds it when JUPYTER_PATH names the project-local folder, e.g. from the project root:',
            '  JUPYTER_PATH=$PWD/.jupyter/share/jupyter jupyter lab notebooks/',
            '  JUPYTER_PATH=$PWD/.jupyter/share/jupyter jupyter kernelspec list',
            'Notebooks import the built library (../dist/index.js): run `npm run build` first.',
            '',
          ].join('\n'),
        );
      }
    } catch (e) {
      process.stderr.write(`kernel: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    }
  }
}
