// Block trace ingest benchmark: what the user runs. A trace shaped like a real capture (two CPUs;
// Q/G/I/D/C with back merges and split bios; completions on the other CPU) is written as binary
// blktrace per-CPU files, as tracefs text (kernel 6.18 TP_printk layout) and as blkparse text (made
// by the real blkparse from the binary). Each is ingested by the command, `node dist/cli/main.js
// ingest FILES -o DIR` (every table written), in a child process under /usr/bin/time (wall, cpu,
// peak RSS); `blkparse -i FILE -o /dev/null` runs on the same binary in the same run, and so does
// the plain-Node loop (node:readline over the text + line.split(' '), no table) on both text files.
// Under each command, the stages it runs (parse with the request sweep streamed, write block_events,
// write the request tables) are timed in one more child process, one after another in one thread
// (the command itself sweeps a large input in a worker thread beside the parser, and writes the
// request tables there while it writes block_events: its wall time is below the stages' sum).
// Each headline command runs --rounds times (default 3), the incumbent and ours alternating within
// a round, each after a `sync` (the previous command's written pages are not written back during
// the next one); the table gives the median of each figure and the spread of the wall times.
// Usage: node bench/block.mjs [--events N (default 10,000,000)] [--rounds R] [--keep]
// [--inputs DIR] (--inputs reuses the files a run with --keep left in DIR).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--events') + 1] > 0 ? args[args.indexOf('--events') + 1] : 10_000_000);
const keep = args.includes('--keep');
const ROUNDS = Math.max(1, Number(args[args.indexOf('--rounds') + 1] > 0 ? args[args.indexOf('--rounds') + 1] : 3));
const inputsDir = args.includes('--inputs') ? args[args.indexOf('--inputs') + 1] : null;
const has = (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;

// ---------------------------------------------------------------- child: the stages of one ingest, measured
// The stages `iolineage ingest` runs, in its order, each timed: parse into block_events, write
// block_events.arrow, sweep the events into requests and bios, write block_requests.arrow and
// block_bios.arrow (into a scratch folder). The totals come from the CLI itself (below); this is the
// breakdown.
// The incumbent loop, as a process of its own (timed from outside, like the command): node:readline
// over the text + line.split(' '), no table, nothing of iolineage loaded; it prints its line count.
if (args[0] === '--readline') {
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(args[1]), crlfDelay: Infinity }))
    n += line.split(' ').length > 0 ? 1 : 0;
  process.stdout.write(JSON.stringify({ lines: n }) + '\n');
  process.exit(0);
}

if (args[0] === '--child') {
  const [, kind, ...paths] = args;
  const dist = (p) => import(join(root, 'dist', p));
  const { BlockEventsBuilder } = await dist('ingest/block/block-events-builder.js');
  const { IngestStats } = await dist('util/ingest-stats.js');
  const rss0 = process.memoryUsage().rss;
  const cpuNow = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };
  const stage = (t0, c0) => ({
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    cpuSeconds: cpuNow() - c0,
    maxRss: process.resourceUsage().maxRSS * 1024,
  });
  const t0 = process.hrtime.bigint();
  const c0 = cpuNow();
  // the CLI's order: the trace read into block_events a chunk at a time, each chunk swept into
  // requests and bios as it fills and moved to a scratch file; then block_events.arrow written from
  // that file, then block_requests.arrow and block_bios.arrow a batch at a time
  const { StreamedRequestSweep } = await dist('ingest/block/block-requests.js');
  const { stageBlockRequestTables } = await dist('ingest/block/request-sweep.js');
  const { tableBuilderWriter } = await dist('table/arrow-file.js');
  const scratch = mkdtempSync(join(tmpdir(), 'iol-bench-block-write-'));
  const folder = {
    stage: (name, write) => {
      const path = join(scratch, name);
      const fd = openSync(path, 'w');
      try {
        write(fd);
      } finally {
        closeSync(fd);
      }
      return path;
    },
  };
  let problems = 0;
  let events = 0;
  const stages = [];
  try {
    const b = new BlockEventsBuilder();
    const stats = new IngestStats();
    const sweep = new StreamedRequestSweep(new IngestStats(), join(scratch, '.block_requests.scratch'));
    b.streamTo(join(scratch, '.block_events.scratch'), (chunk, rows, firstRow) => sweep.chunk(chunk, rows, firstRow));
    if (kind === 'binary') {
      const { readBlktraceBinary } = await dist('ingest/block/blktrace-binary.js');
      await readBlktraceBinary(paths, b, stats);
    } else if (kind === 'tracefs') {
      const { readTracefsText } = await dist('ingest/block/tracefs-text.js');
      await readTracefsText(paths[0], b, stats);
    } else if (kind === 'blkparse') {
      const { readBlkparseText } = await dist('ingest/block/blkparse-text.js');
      await readBlkparseText(paths[0], b, stats);
    }
    b.finishStream();
    events = b.length;
    stages.push({ stage: 'parse + sweep (streamed)', ...stage(t0, c0) });
    let t1 = process.hrtime.bigint();
    let c1 = cpuNow();
    folder.stage('block_events.arrow', tableBuilderWriter(b.table, {}));
    b.table.close();
    stages.push({ stage: 'write block_events.arrow', ...stage(t1, c1) });
    t1 = process.hrtime.bigint();
    c1 = cpuNow();
    const rebuilt = sweep.finish(b.names(), {});
    stageBlockRequestTables(rebuilt, folder);
    rebuilt.rec.close();
    stages.push({ stage: 'write block_requests + block_bios', ...stage(t1, c1) });
    problems = stats.total();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify({ events, rss0, problems, stages }) + '\n');
  process.exit(0);
}

// ---------------------------------------------------------------- generator
const dir = inputsDir ?? mkdtempSync(join(tmpdir(), 'iol-bench-block-'));
const DEV = (7 << 20) | 1;
const BASE_NS = 1_000_000_000_000n; // 1000 s of uptime
const COMMS = ['fio', 'kworker/u8:2', 'jbd2/loop1-8'];
const PIDS = [4242, 77, 391];

/** Writers for the three formats, fed one event at a time in time order. */
class Out {
  constructor(path, size = 1 << 22) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(size);
    this.n = 0;
  }
  room(k) {
    if (this.n + k > this.buf.length) this.flush();
  }
  flush() {
    if (this.n) writeSync(this.fd, this.buf, 0, this.n);
    this.n = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
  }
}
// opened only when generating (opening truncates: --inputs must not)
let bin = null;
let txt = null;
const seq = [0, 0];
const seenPid = [new Set(), new Set()];
// category bits (blktrace_api.h): READ 1, WRITE 2, SYNC 8, QUEUE 16, ISSUE 64, COMPLETE 128, FS 256
const CODE = { Q: 1, M: 2, G: 4, D: 7, C: 8, I: 12, X: 13 };
const ACTCAT = { Q: 16, M: 16, G: 16, I: 16 | 256, D: 64 | 256, C: 128 | 256, X: 0 };
const TP = {
  Q: 'block_bio_queue',
  M: 'block_bio_backmerge',
  G: 'block_getrq',
  I: 'block_rq_insert',
  D: 'block_rq_issue',
  C: 'block_rq_complete',
  X: 'block_split',
};

function record(cpu, tNs, a, write, sector, nr, pidIdx, extra) {
  const o = bin[cpu];
  const pid = a === 'C' ? 22 + cpu : PIDS[pidIdx];
  if (!seenPid[cpu].has(pid)) {
    // PROCESS notify: comm of the pid, 16 bytes
    seenPid[cpu].add(pid);
    o.room(64);
    const v = o.buf;
    v.writeUInt32LE(0x65617407, o.n);
    v.writeUInt32LE(0, o.n + 4);
    v.writeBigUInt64LE(tNs, o.n + 8);
    v.writeBigUInt64LE(0n, o.n + 16);
    v.writeUInt32LE(0, o.n + 24);
    v.writeUInt32LE(0x04000000, o.n + 28);
    v.writeUInt32LE(pid, o.n + 32);
    v.writeUInt32LE(DEV, o.n + 36);
    v.writeUInt32LE(cpu, o.n + 40);
    v.writeUInt16LE(0, o.n + 44);
    v.writeUInt16LE(16, o.n + 46);
    v.fill(0, o.n + 48, o.n + 64);
    v.write(a === 'C' ? `ksoftirqd/${cpu}` : COMMS[pidIdx], o.n + 48, 'latin1');
    o.n += 64;
  }
  const pdu = a === 'X' ? 8 : 0;
  o.room(48 + pdu);
  const v = o.buf;
  const cat = ACTCAT[a] | (write ? 2 | 8 : 1);
  const bytes = nr * 512;
  v.writeUInt32LE(0x65617407, o.n);
  v.writeUInt32LE(++seq[cpu], o.n + 4);
  v.writeBigUInt64LE(tNs, o.n + 8);
  v.writeBigUInt64LE(BigInt(sector), o.n + 16);
  v.writeUInt32LE(bytes, o.n + 24);
  v.writeUInt32LE(((cat << 16) | CODE[a]) >>> 0, o.n + 28);
  v.writeUInt32LE(pid, o.n + 32);
  v.writeUInt32LE(DEV, o.n + 36);
  v.writeUInt32LE(cpu, o.n + 40);
  v.writeUInt16LE(0, o.n + 44);
  v.writeUInt16LE(pdu, o.n + 46);
  if (pdu) v.writeBigUInt64BE(BigInt(extra), o.n + 48);
  o.n += 48 + pdu;

  // tracefs text, 6.18 layout: TASK-PID [CPU] FLAGS SECONDS: EVENT: fields
  const us = tNs / 1000n;
  const ts = `${us / 1000000n}.${String(us % 1000000n).padStart(6, '0')}`;
  const comm = a === 'C' ? `ksoftirqd/${cpu}` : COMMS[pidIdx];
  const rwbs = write ? 'WS' : 'R';
  let body;
  switch (a) {
    case 'I':
    case 'D':
      body = `7,1 ${rwbs} ${bytes} () ${sector} + ${nr} be,0,4 [${COMMS[pidIdx]}]`;
      break;
    case 'C':
      body = `7,1 ${rwbs} () ${sector} + ${nr} be,0,4 [0]`;
      break;
    case 'X':
      body = `7,1 ${rwbs} ${sector} / ${extra} [${COMMS[pidIdx]}]`;
      break;
    default:
      body = `7,1 ${rwbs} ${sector} + ${nr} [${COMMS[pidIdx]}]`;
  }
  const line = `${comm.padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] ${a === 'C' ? '..s..' : '.....'} ${ts.padStart(12)}: ${TP[a]}: ${body}\n`;
  txt.room(line.length * 3);
  txt.n += txt.buf.write(line, txt.n, 'latin1');
}

function generate(n) {
  let emitted = 0;
  let t = BASE_NS;
  let seed = 12345;
  const rnd = (m) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % m;
  };
  const pending = []; // completions: [time, cpu, write, sector, nr]
  let head = 0;
  let seqSector = 1 << 20;
  const emit = (cpu, time, a, w, s, nr, p, x) => {
    while (head < pending.length && pending[head][0] <= time) {
      const c = pending[head++];
      record(c[1], c[0], 'C', c[2], c[3], c[4], 0);
      emitted++;
    }
    if (head > 4096) {
      pending.splice(0, head);
      head = 0;
    }
    record(cpu, time, a, w, s, nr, p, x);
    emitted++;
  };
  while (emitted < n) {
    const cpu = rnd(2);
    const p = rnd(10) < 8 ? 0 : 1 + rnd(2);
    const kind = rnd(100);
    t += 1000n * BigInt(1 + rnd(20));
    const us = (k) => t + 1000n * BigInt(k);
    if (kind < 55) {
      // 4 KiB random read
      const s = rnd(1 << 24) * 8;
      emit(cpu, us(0), 'Q', false, s, 8, p);
      emit(cpu, us(1), 'G', false, s, 8, p);
      emit(cpu, us(1), 'I', false, s, 8, p);
      emit(cpu, us(2), 'D', false, s, 8, p);
      pending.push([us(60 + rnd(200)), 1 - cpu, false, s, 8]);
      for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) {
        const x = pending[k];
        pending[k] = pending[k - 1];
        pending[k - 1] = x;
      }
    } else if (kind < 85) {
      // sequential writes: 3 bios back-merged into one request
      const s = seqSector;
      seqSector += 24;
      emit(cpu, us(0), 'Q', true, s, 8, p);
      emit(cpu, us(1), 'G', true, s, 8, p);
      emit(cpu, us(2), 'Q', true, s + 8, 8, p);
      emit(cpu, us(2), 'M', true, s + 8, 8, p);
      emit(cpu, us(3), 'Q', true, s + 16, 8, p);
      emit(cpu, us(3), 'M', true, s + 16, 8, p);
      emit(cpu, us(4), 'I', true, s, 24, p);
      emit(cpu, us(5), 'D', true, s, 24, p);
      pending.push([us(80 + rnd(300)), 1 - cpu, true, s, 24]);
      for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) {
        const x = pending[k];
        pending[k] = pending[k - 1];
        pending[k - 1] = x;
      }
    } else {
      // a 256 KiB write split into two 128 KiB requests
      const s = seqSector;
      seqSector += 512;
      emit(cpu, us(0), 'Q', true, s, 512, p);
      emit(cpu, us(1), 'X', true, s, 512, p, s + 256);
      emit(cpu, us(1), 'G', true, s, 256, p);
      emit(cpu, us(2), 'I', true, s, 256, p);
      emit(cpu, us(3), 'G', true, s + 256, 256, p);
      emit(cpu, us(3), 'I', true, s + 256, 256, p);
      emit(cpu, us(4), 'D', true, s, 256, p);
      emit(cpu, us(4), 'D', true, s + 256, 256, p);
      pending.push([us(300 + rnd(300)), 1 - cpu, true, s, 256]);
      for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) {
        const x = pending[k];
        pending[k] = pending[k - 1];
        pending[k - 1] = x;
      }
      pending.push([us(301 + rnd(300)), 1 - cpu, true, s + 256, 256]);
    }
    // keep the pending completions sorted by time (few are out of order: insertion from the end)
    for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) {
      const x = pending[k];
      pending[k] = pending[k - 1];
      pending[k - 1] = x;
    }
  }
  while (head < pending.length) {
    const c = pending[head++];
    record(c[1], c[0], 'C', c[2], c[3], c[4], 0);
    emitted++;
  }
  return emitted;
}

// ---------------------------------------------------------------- run
const out = (s) => process.stdout.write(s + '\n');
try {
  let g0 = Date.now();
  let events;
  if (inputsDir) {
    // the event count of a kept run: the blkparse text says it (one line per event before the summary)
    events = Number(
      spawnSync('sh', ['-c', `grep -c '^ *[0-9]*,[0-9]* ' '${join(dir, 'bench.blkparse.txt')}'`], { encoding: 'utf8' }).stdout.trim(),
    );
    out(`reusing the inputs in ${dir} (${events.toLocaleString()} events)`);
  } else {
    out(`generating ${N.toLocaleString()} events in ${dir} ...`);
    bin = [new Out(join(dir, 'bench.blktrace.0')), new Out(join(dir, 'bench.blktrace.1'))];
    txt = new Out(join(dir, 'bench.trace'));
    events = generate(N);
    for (const o of bin) o.close();
    txt.close();
  }
  const binBytes = statSync(join(dir, 'bench.blktrace.0')).size + statSync(join(dir, 'bench.blktrace.1')).size;
  out(
    `  ${events.toLocaleString()} events: binary ${(binBytes / 1e6).toFixed(0)} MB, tracefs text ${(statSync(join(dir, 'bench.trace')).size / 1e6).toFixed(0)} MB (${((Date.now() - g0) / 1000).toFixed(1)} s)`,
  );

  const rows = [];
  const median = (xs) => {
    const v = xs.filter((x) => x === x).sort((a, b) => a - b);
    return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  /** One run of a command in a child process under /usr/bin/time (or plain): wall, cpu (user+sys) and peak RSS of the child, or null. */
  const runCmd = (label, cmd, argv) => {
    // the pages earlier commands wrote go to disk now, not while this one runs
    spawnSync('sync');
    const t0 = process.hrtime.bigint();
    const timed = existsSync('/usr/bin/time');
    const r = timed
      ? spawnSync('/usr/bin/time', ['-f', '@@time %M %U %S', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 })
      : spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 26 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) {
      out(`  ${label}: failed (${r.status ?? r.signal}) ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
      return null;
    }
    let cpuSeconds = NaN,
      maxRss = NaN;
    if (timed) {
      const [kb, u, sy] = (r.stderr.split('\n').find((l) => l.startsWith('@@time ')) ?? '').slice(7).trim().split(/\s+/).map(Number);
      cpuSeconds = u + sy;
      maxRss = kb * 1024;
    }
    return { seconds, cpuSeconds, maxRss, stdout: r.stdout };
  };
  /** The headline row of a command measured in several rounds: medians, and the spread of the wall times. */
  const headline = (label, runs, events, extra = {}) => {
    const ok = runs.filter((r) => r !== null);
    if (ok.length === 0) return null;
    const walls = ok.map((r) => r.seconds);
    const row = {
      label,
      seconds: median(walls),
      cpuSeconds: median(ok.map((r) => r.cpuSeconds)),
      maxRss: median(ok.map((r) => r.maxRss)),
      events,
      spread: [Math.min(...walls), Math.max(...walls)],
      rounds: ok.length,
      ...extra,
    };
    row.perEvent = row.maxRss / events;
    return row;
  };
  const cli = join(root, 'dist', 'cli', 'main.js');
  /** `iolineage ingest FILES -o DIR` end to end (every table written), into a fresh folder removed after. */
  const ingestOnce = (label, paths) => {
    const outDir = mkdtempSync(join(tmpdir(), 'iol-bench-block-out-'));
    try {
      return runCmd(label, process.execPath, [cli, 'ingest', ...paths, '-o', outDir]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  };
  /** The plain-Node loop over a text file (node:readline + line.split(' '), no table), as its child reports it. */
  const readlineOnce = (label, file) => {
    const r = runCmd(label, process.execPath, [fileURLToPath(import.meta.url), '--readline', file]);
    if (!r) return null;
    return { ...r, lines: JSON.parse(r.stdout.trim().split('\n').pop()).lines };
  };
  /** The stages of one ingest, in one more child process (a breakdown, run once). */
  const stages = (label, kind, paths) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, ...paths], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) {
      out(`  ${label} stages: failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
      return [];
    }
    const j = JSON.parse(r.stdout.trim().split('\n').pop());
    return j.stages.map((st) => ({
      label: `  of which ${st.stage}`,
      seconds: st.seconds,
      cpuSeconds: st.cpuSeconds,
      maxRss: st.maxRss,
      events: j.events,
      noRatio: true,
      stage: true,
    }));
  };

  const binPaths = [join(dir, 'bench.blktrace.0'), join(dir, 'bench.blktrace.1')];
  const tracefsPath = join(dir, 'bench.trace');
  const blkparsePath = join(dir, 'bench.blkparse.txt');
  const hasBlkparse = has('blkparse');
  if (hasBlkparse) {
    // the blkparse text twin, made by blkparse itself
    g0 = Date.now();
    if (!inputsDir) spawnSync('sh', ['-c', `blkparse -i '${join(dir, 'bench')}' -o '${blkparsePath}' >/dev/null 2>&1`]);
    out(`  blkparse text: ${(statSync(blkparsePath).size / 1e6).toFixed(0)} MB (${((Date.now() - g0) / 1000).toFixed(1)} s)`);
  } else out('  blkparse not installed (apt-get install blktrace): no incumbent figure, no blkparse text twin');
  const hasBlkparseText = existsSync(blkparsePath);

  // rounds: in each, every incumbent runs just before the command it is compared with
  const runs = { blkparse: [], binary: [], rlTracefs: [], tracefs: [], rlBlkparse: [], blkparseText: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    out(`  round ${round} of ${ROUNDS} ...`);
    if (hasBlkparse) runs.blkparse.push(runCmd('blkparse', 'blkparse', ['-i', join(dir, 'bench'), '-o', '/dev/null']));
    runs.binary.push(ingestOnce('iolineage ingest (binary)', binPaths));
    runs.rlTracefs.push(readlineOnce('readline (tracefs text)', tracefsPath));
    runs.tracefs.push(ingestOnce('iolineage ingest (tracefs text)', [tracefsPath]));
    if (hasBlkparseText) {
      runs.rlBlkparse.push(readlineOnce('readline (blkparse text)', blkparsePath));
      runs.blkparseText.push(ingestOnce('iolineage ingest (blkparse text)', [blkparsePath]));
    }
  }
  const blkparse = hasBlkparse ? headline('blkparse -i FILE -o /dev/null (incumbent)', runs.blkparse, events) : null;
  if (blkparse) rows.push(blkparse);
  const push = (row, kind, paths) => {
    if (!row) return;
    rows.push(row);
    if (kind) rows.push(...stages(row.label, kind, paths));
  };
  push(headline('iolineage ingest F.blktrace.0 F.blktrace.1', runs.binary, events), 'binary', binPaths);
  const linesOf = (rs) => rs.find((r) => r !== null)?.lines ?? events;
  push(headline('node readline + split, tracefs text', runs.rlTracefs, linesOf(runs.rlTracefs)));
  push(headline('iolineage ingest F.tracefs.txt', runs.tracefs, events), 'tracefs', [tracefsPath]);
  if (hasBlkparseText) {
    push(headline('node readline + split, blkparse text', runs.rlBlkparse, linesOf(runs.rlBlkparse)));
    push(headline('iolineage ingest F.blkparse.txt', runs.blkparseText, events), 'blkparse', [blkparsePath]);
  }

  out('');
  out(
    `${'command (stage breakdown indented)'.padEnd(46)} ${'events'.padStart(11)} ${'wall s'.padStart(7)} ${'wall range'.padStart(11)} ${'cpu s'.padStart(7)} ${'Mev/s wall'.padStart(10)} ${'Mev/s cpu'.padStart(10)} ${'peak RSS'.padStart(9)} ${'B/event'.padStart(8)} ${'vs blkparse'.padStart(11)}`,
  );
  const cpuOk = (x) => x === x && x > 0;
  for (const r of rows) {
    const rate = r.events / r.seconds;
    const cpuRate = cpuOk(r.cpuSeconds) ? r.events / r.cpuSeconds : NaN;
    const ratio =
      blkparse && !r.noRatio && cpuOk(r.cpuSeconds) && cpuOk(blkparse.cpuSeconds)
        ? (blkparse.cpuSeconds / r.cpuSeconds).toFixed(2) + 'x'
        : '-';
    out(
      `${r.label.padEnd(46)} ${r.events.toLocaleString().padStart(11)} ${r.seconds.toFixed(2).padStart(7)} ${(r.spread ? `${r.spread[0].toFixed(2)}-${r.spread[1].toFixed(2)}` : '').padStart(11)} ${(cpuOk(r.cpuSeconds) ? r.cpuSeconds.toFixed(2) : '').padStart(7)} ${(rate / 1e6).toFixed(2).padStart(10)} ${(cpuRate === cpuRate ? (cpuRate / 1e6).toFixed(2) : '').padStart(10)} ${(r.maxRss === r.maxRss ? (r.maxRss / 2 ** 20).toFixed(0) + ' MiB' : '').padStart(9)} ${(r.perEvent === undefined || r.perEvent !== r.perEvent ? '' : r.perEvent.toFixed(1)).padStart(8)} ${ratio.padStart(11)}`,
    );
  }
  const find = (l) => rows.find((r) => r.label === l);
  out('');
  for (const [cmd, base] of [
    ['iolineage ingest F.tracefs.txt', 'node readline + split, tracefs text'],
    ['iolineage ingest F.blkparse.txt', 'node readline + split, blkparse text'],
  ]) {
    const a = find(cmd),
      b = find(base);
    if (a && b)
      out(
        `${cmd} vs readline + split over the same file: ${(a.events / a.seconds / (b.events / b.seconds)).toFixed(2)}x wall (target 2x), ${(a.events / a.cpuSeconds / (b.events / b.cpuSeconds)).toFixed(2)}x cpu`,
      );
  }
  const binRow = find('iolineage ingest F.blktrace.0 F.blktrace.1');
  if (binRow && blkparse && cpuOk(blkparse.cpuSeconds) && cpuOk(binRow.cpuSeconds))
    out(
      `iolineage ingest of the binary trace vs blkparse -i FILE -o /dev/null: ${(blkparse.cpuSeconds / binRow.cpuSeconds).toFixed(2)}x cpu, ${(blkparse.seconds / binRow.seconds).toFixed(2)}x wall (target 5x)`,
    );
  out('');
  out(`Each command runs in its own child process, ${ROUNDS} times (incumbent and ours alternating, a sync before each):`);
  out(
    'wall s, cpu s (user+sys) and peak RSS (/usr/bin/time) are the medians of the rounds, wall range their lowest and highest wall time.',
  );
  out('The readline + split rows are a whole node process too (start-up included, as for iolineage).');
  out('vs blkparse = blkparse cpu s / cpu s (higher is faster). Rates on CPU time compare fairly on a busy machine.');
  out('B/event = peak RSS / events (target <= 64). readline + split rows count lines (blkparse text has a summary) and build no table.');
  out('Stage rows: the same stages in one child process and one thread, in the order of the command, peak RSS so far;');
  out('the command sweeps in a worker thread beside the parser (inputs of 32 MiB and more), and also loads its modules');
  out('and prints the summary.');
} finally {
  if (!keep && !inputsDir) rmSync(dir, { recursive: true, force: true });
  else out(`kept ${dir}`);
}
