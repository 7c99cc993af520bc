// Block trace ingest benchmark: 10M events shaped like a real capture (two CPUs; Q/G/I/D/C with
// back merges and split bios; completions on the other CPU), written as binary blktrace per-CPU
// files, as tracefs text (kernel 6.18 TP_printk layout) and as blkparse text (made by the real
// blkparse from the binary). Each input is ingested through dist/ in its own child process
// (events/s, peak RSS, bytes per event); `blkparse -i FILE -o /dev/null` runs on the same binary
// in the same run, and so does the plain-Node baseline the issue names (node:readline over the
// text + line.split(' '), no table) on both text files. Text inputs of 32 MB and more take their
// table chunks from a helper thread that touches the pages ahead (PrefaultPool): its CPU time is
// in the process's cpu s. Usage: node bench/block.mjs [--events N] [--keep] [--inputs DIR]
// (--inputs reuses the files a run with --keep left in DIR).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--events') + 1] > 0 ? args[args.indexOf('--events') + 1] : 10_000_000);
const keep = args.includes('--keep');
const inputsDir = args.includes('--inputs') ? args[args.indexOf('--inputs') + 1] : null;
const has = (t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;

// ---------------------------------------------------------------- child: one ingest, measured
if (args[0] === '--child') {
  const [, kind, ...paths] = args;
  const dist = (p) => import(join(root, 'dist', p));
  const { BlockEventsBuilder } = await dist('ingest/block/block-events-builder.js');
  const { IngestStats } = await dist('ingest/ingest-stats.js');
  const rss0 = process.memoryUsage().rss;
  const b = new BlockEventsBuilder();
  const stats = new IngestStats();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  if (kind === 'readline') {
    const { createReadStream } = await import('node:fs');
    const { createInterface } = await import('node:readline');
    let n = 0;
    for await (const line of createInterface({ input: createReadStream(paths[0]), crlfDelay: Infinity })) n += line.split(' ').length > 0 ? 1 : 0;
    const t1 = process.hrtime.bigint();
    const cpu1 = process.cpuUsage(cpu0);
    process.stdout.write(JSON.stringify({ events: n, seconds: Number(t1 - t0) / 1e9, cpuSeconds: (cpu1.user + cpu1.system) / 1e6, maxRss: process.resourceUsage().maxRSS * 1024, rss0, problems: 0, requestsSec: null }) + '\n');
    process.exit(0);
  }
  if (kind === 'binary') {
    const { readBlktraceBinary } = await dist('ingest/block/blktrace-binary.js');
    await readBlktraceBinary(paths, b, stats);
  } else if (kind === 'tracefs') {
    const { readTracefsText } = await dist('ingest/block/tracefs-text.js');
    await readTracefsText(paths[0], b, stats);
  } else if (kind === 'blkparse') {
    const mod = await dist('ingest/block/blkparse-text.js');
    const read = mod.readBlkparseText ?? Object.values(mod).find((f) => typeof f === 'function' && /^read/.test(f.name));
    await read(paths[0], b, stats);
  }
  const table = b.finish();
  const t1 = process.hrtime.bigint();
  const cpu1 = process.cpuUsage(cpu0);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  let requestsSec = null, requestsRss = null, requestsCpu = null;
  if (kind === 'binary' && process.env.IOL_BENCH_REQUESTS !== '0') {
    const { buildBlockRequestTables } = await dist('ingest/block/block-requests.js');
    const { bttMetrics } = await dist('metrics/btt.js');
    const r0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const { requests, bios } = buildBlockRequestTables(table, new IngestStats());
    bttMetrics(requests, bios);
    requestsSec = Number(process.hrtime.bigint() - r0) / 1e9;
    const c1 = process.cpuUsage(c0);
    requestsCpu = (c1.user + c1.system) / 1e6;
    requestsRss = process.resourceUsage().maxRSS * 1024;
  }
  process.stdout.write(JSON.stringify({ events: table.numRows, seconds: Number(t1 - t0) / 1e9, cpuSeconds: (cpu1.user + cpu1.system) / 1e6, maxRss, rss0, problems: stats.total(), requestsSec, requestsRss, requestsCpu }) + '\n');
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
  constructor(path, size = 1 << 22) { this.fd = openSync(path, 'w'); this.buf = Buffer.allocUnsafe(size); this.n = 0; }
  room(k) { if (this.n + k > this.buf.length) this.flush(); }
  flush() { if (this.n) writeSync(this.fd, this.buf, 0, this.n); this.n = 0; }
  close() { this.flush(); closeSync(this.fd); }
}
// opened only when generating (opening truncates: --inputs must not)
let bin = null;
let txt = null;
const seq = [0, 0];
const seenPid = [new Set(), new Set()];
// category bits (blktrace_api.h): READ 1, WRITE 2, SYNC 8, QUEUE 16, ISSUE 64, COMPLETE 128, FS 256
const CODE = { Q: 1, M: 2, G: 4, D: 7, C: 8, I: 12, X: 13 };
const ACTCAT = { Q: 16, M: 16, G: 16, I: 16 | 256, D: 64 | 256, C: 128 | 256, X: 0 };
const TP = { Q: 'block_bio_queue', M: 'block_bio_backmerge', G: 'block_getrq', I: 'block_rq_insert', D: 'block_rq_issue', C: 'block_rq_complete', X: 'block_split' };

function record(cpu, tNs, a, write, sector, nr, pidIdx, extra) {
  const o = bin[cpu];
  const pid = a === 'C' ? 22 + cpu : PIDS[pidIdx];
  if (!seenPid[cpu].has(pid)) {
    // PROCESS notify: comm of the pid, 16 bytes
    seenPid[cpu].add(pid);
    o.room(64);
    const v = o.buf;
    v.writeUInt32LE(0x65617407, o.n); v.writeUInt32LE(0, o.n + 4); v.writeBigUInt64LE(tNs, o.n + 8);
    v.writeBigUInt64LE(0n, o.n + 16); v.writeUInt32LE(0, o.n + 24); v.writeUInt32LE(0x04000000, o.n + 28);
    v.writeUInt32LE(pid, o.n + 32); v.writeUInt32LE(DEV, o.n + 36); v.writeUInt32LE(cpu, o.n + 40); v.writeUInt16LE(0, o.n + 44); v.writeUInt16LE(16, o.n + 46);
    v.fill(0, o.n + 48, o.n + 64); v.write(a === 'C' ? `ksoftirqd/${cpu}` : COMMS[pidIdx], o.n + 48, 'latin1');
    o.n += 64;
  }
  const pdu = a === 'X' ? 8 : 0;
  o.room(48 + pdu);
  const v = o.buf;
  const cat = ACTCAT[a] | (write ? 2 | 8 : 1);
  const bytes = nr * 512;
  v.writeUInt32LE(0x65617407, o.n); v.writeUInt32LE(++seq[cpu], o.n + 4); v.writeBigUInt64LE(tNs, o.n + 8);
  v.writeBigUInt64LE(BigInt(sector), o.n + 16); v.writeUInt32LE(bytes, o.n + 24); v.writeUInt32LE(((cat << 16) | CODE[a]) >>> 0, o.n + 28);
  v.writeUInt32LE(pid, o.n + 32); v.writeUInt32LE(DEV, o.n + 36); v.writeUInt32LE(cpu, o.n + 40); v.writeUInt16LE(0, o.n + 44); v.writeUInt16LE(pdu, o.n + 46);
  if (pdu) v.writeBigUInt64BE(BigInt(extra), o.n + 48);
  o.n += 48 + pdu;

  // tracefs text, 6.18 layout: TASK-PID [CPU] FLAGS SECONDS: EVENT: fields
  const us = tNs / 1000n;
  const ts = `${us / 1000000n}.${String(us % 1000000n).padStart(6, '0')}`;
  const comm = a === 'C' ? `ksoftirqd/${cpu}` : COMMS[pidIdx];
  const rwbs = write ? 'WS' : 'R';
  let body;
  switch (a) {
    case 'I': case 'D': body = `7,1 ${rwbs} ${bytes} () ${sector} + ${nr} be,0,4 [${COMMS[pidIdx]}]`; break;
    case 'C': body = `7,1 ${rwbs} () ${sector} + ${nr} be,0,4 [0]`; break;
    case 'X': body = `7,1 ${rwbs} ${sector} / ${extra} [${COMMS[pidIdx]}]`; break;
    default: body = `7,1 ${rwbs} ${sector} + ${nr} [${COMMS[pidIdx]}]`;
  }
  const line = `${comm.padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] ${a === 'C' ? '..s..' : '.....'} ${ts.padStart(12)}: ${TP[a]}: ${body}\n`;
  txt.room(line.length * 3);
  txt.n += txt.buf.write(line, txt.n, 'latin1');
}

function generate(n) {
  let emitted = 0;
  let t = BASE_NS;
  let seed = 12345;
  const rnd = (m) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % m; };
  const pending = []; // completions: [time, cpu, write, sector, nr]
  let head = 0;
  let seqSector = 1 << 20;
  const emit = (cpu, time, a, w, s, nr, p, x) => {
    while (head < pending.length && pending[head][0] <= time) { const c = pending[head++]; record(c[1], c[0], 'C', c[2], c[3], c[4], 0); emitted++; }
    if (head > 4096) { pending.splice(0, head); head = 0; }
    record(cpu, time, a, w, s, nr, p, x); emitted++;
  };
  while (emitted < n) {
    const cpu = rnd(2);
    const p = rnd(10) < 8 ? 0 : 1 + rnd(2);
    const kind = rnd(100);
    t += 1000n * BigInt(1 + rnd(20));
    const us = (k) => t + 1000n * BigInt(k);
    if (kind < 55) { // 4 KiB random read
      const s = rnd(1 << 24) * 8;
      emit(cpu, us(0), 'Q', false, s, 8, p); emit(cpu, us(1), 'G', false, s, 8, p); emit(cpu, us(1), 'I', false, s, 8, p); emit(cpu, us(2), 'D', false, s, 8, p);
      pending.push([us(60 + rnd(200)), 1 - cpu, false, s, 8]);
      for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) { const x = pending[k]; pending[k] = pending[k - 1]; pending[k - 1] = x; }
    } else if (kind < 85) { // sequential writes: 3 bios back-merged into one request
      const s = seqSector; seqSector += 24;
      emit(cpu, us(0), 'Q', true, s, 8, p); emit(cpu, us(1), 'G', true, s, 8, p);
      emit(cpu, us(2), 'Q', true, s + 8, 8, p); emit(cpu, us(2), 'M', true, s + 8, 8, p);
      emit(cpu, us(3), 'Q', true, s + 16, 8, p); emit(cpu, us(3), 'M', true, s + 16, 8, p);
      emit(cpu, us(4), 'I', true, s, 24, p); emit(cpu, us(5), 'D', true, s, 24, p);
      pending.push([us(80 + rnd(300)), 1 - cpu, true, s, 24]);
      for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) { const x = pending[k]; pending[k] = pending[k - 1]; pending[k - 1] = x; }
    } else { // a 256 KiB write split into two 128 KiB requests
      const s = seqSector; seqSector += 512;
      emit(cpu, us(0), 'Q', true, s, 512, p); emit(cpu, us(1), 'X', true, s, 512, p, s + 256);
      emit(cpu, us(1), 'G', true, s, 256, p); emit(cpu, us(2), 'I', true, s, 256, p);
      emit(cpu, us(3), 'G', true, s + 256, 256, p); emit(cpu, us(3), 'I', true, s + 256, 256, p);
      emit(cpu, us(4), 'D', true, s, 256, p); emit(cpu, us(4), 'D', true, s + 256, 256, p);
      pending.push([us(300 + rnd(300)), 1 - cpu, true, s, 256]);
      for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) { const x = pending[k]; pending[k] = pending[k - 1]; pending[k - 1] = x; }
      pending.push([us(301 + rnd(300)), 1 - cpu, true, s + 256, 256]);
    }
    // keep the pending completions sorted by time (few are out of order: insertion from the end)
    for (let k = pending.length - 1; k > head && pending[k][0] < pending[k - 1][0]; k--) { const x = pending[k]; pending[k] = pending[k - 1]; pending[k - 1] = x; }
  }
  while (head < pending.length) { const c = pending[head++]; record(c[1], c[0], 'C', c[2], c[3], c[4], 0); emitted++; }
  return emitted;
}

// ---------------------------------------------------------------- run
const out = (s) => process.stdout.write(s + '\n');
try {
  let g0 = Date.now();
  let events;
  if (inputsDir) {
    // the event count of a kept run: the blkparse text says it (one line per event before the summary)
    events = Number(spawnSync('sh', ['-c', `grep -c '^ *[0-9]*,[0-9]* ' '${join(dir, 'bench.blkparse.txt')}'`], { encoding: 'utf8' }).stdout.trim());
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
  out(`  ${events.toLocaleString()} events: binary ${(binBytes / 1e6).toFixed(0)} MB, tracefs text ${(statSync(join(dir, 'bench.trace')).size / 1e6).toFixed(0)} MB (${((Date.now() - g0) / 1000).toFixed(1)} s)`);

  const rows = [];
  const timeTool = (label, cmd, argv) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const [kb, u, sy] = (r.stderr.trim().split('\n').pop() ?? '').trim().split(/\s+/).map(Number);
    if (r.status !== 0) { out(`  ${label}: failed (${r.status}) ${r.stderr.slice(0, 200)}`); return null; }
    return { label, seconds: s, cpuSeconds: u + sy, maxRss: kb * 1024 };
  };
  let blkparseRate = null;
  if (has('blkparse') && existsSync('/usr/bin/time')) {
    const r = timeTool('blkparse -i FILE -o /dev/null (incumbent)', 'blkparse', ['-i', join(dir, 'bench'), '-o', '/dev/null']);
    if (r) { blkparseRate = events / r.cpuSeconds; rows.push({ ...r, events }); }
    // the blkparse text twin, made by blkparse itself
    g0 = Date.now();
    if (!inputsDir) spawnSync('sh', ['-c', `blkparse -i '${join(dir, 'bench')}' -o '${join(dir, 'bench.blkparse.txt')}' >/dev/null 2>&1`]);
    out(`  blkparse text: ${(statSync(join(dir, 'bench.blkparse.txt')).size / 1e6).toFixed(0)} MB (${((Date.now() - g0) / 1000).toFixed(1)} s)`);
  } else out('  blkparse (or /usr/bin/time) not installed: no incumbent figure, no blkparse text twin');

  const child = (label, kind, paths, env = {}) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, ...paths], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
    if (r.status !== 0) { out(`  ${label}: failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`); return null; }
    const j = JSON.parse(r.stdout.trim().split('\n').pop());
    rows.push({ label, seconds: j.seconds, cpuSeconds: j.cpuSeconds, maxRss: j.maxRss, events: j.events, perEvent: (j.maxRss - j.rss0) / j.events, problems: j.problems });
    if (j.requestsSec !== null) rows.push({ label: '  then block_requests + btt metrics', seconds: j.requestsSec, cpuSeconds: j.requestsCpu, maxRss: j.requestsRss, events: j.events, noRatio: true });
    return j;
  };
  child('iolineage binary blktrace (2 per-CPU files)', 'binary', [join(dir, 'bench.blktrace.0'), join(dir, 'bench.blktrace.1')]);
  child('node readline + split, tracefs text (lines)', 'readline', [join(dir, 'bench.trace')]);
  child('iolineage tracefs text', 'tracefs', [join(dir, 'bench.trace')]);
  if (existsSync(join(dir, 'bench.blkparse.txt'))) {
    child('node readline + split, blkparse text (lines)', 'readline', [join(dir, 'bench.blkparse.txt')]);
    if (existsSync(join(root, 'dist', 'ingest', 'block', 'blkparse-text.js'))) child('iolineage blkparse text', 'blkparse', [join(dir, 'bench.blkparse.txt')]);
    else out('  blkparse text reader not built (dist/ingest/block/blkparse-text.js missing): skipped');
  }

  out('');
  out(`${'input / tool'.padEnd(46)} ${'events'.padStart(11)} ${'wall s'.padStart(7)} ${'cpu s'.padStart(7)} ${'Mev/s wall'.padStart(10)} ${'Mev/s cpu'.padStart(10)} ${'peak RSS'.padStart(9)} ${'B/event'.padStart(8)} ${'vs blkparse'.padStart(11)}`);
  for (const r of rows) {
    const rate = r.events / r.seconds;
    const cpuRate = r.events / r.cpuSeconds;
    out(`${r.label.padEnd(46)} ${r.events.toLocaleString().padStart(11)} ${r.seconds.toFixed(2).padStart(7)} ${(r.cpuSeconds === r.cpuSeconds ? r.cpuSeconds.toFixed(2) : '').padStart(7)} ${(rate / 1e6).toFixed(2).padStart(10)} ${(cpuRate === cpuRate ? (cpuRate / 1e6).toFixed(2) : '').padStart(10)} ${((r.maxRss / 2 ** 20).toFixed(0) + ' MiB').padStart(9)} ${(r.perEvent === undefined ? '' : r.perEvent.toFixed(1)).padStart(8)} ${(blkparseRate && !r.noRatio && cpuRate === cpuRate ? (cpuRate / blkparseRate).toFixed(2) + 'x' : '-').padStart(11)}`);
  }
  const find = (l) => rows.find((r) => r.label === l);
  for (const [text, base] of [['iolineage tracefs text', 'node readline + split, tracefs text (lines)'], ['iolineage blkparse text', 'node readline + split, blkparse text (lines)']]) {
    const a = find(text), b = find(base);
    if (a && b) out(`${text} vs readline + split on the same file: ${((a.events / a.seconds) / (b.events / b.seconds)).toFixed(2)}x wall, ${((a.events / a.cpuSeconds) / (b.events / b.cpuSeconds)).toFixed(2)}x cpu`);
  }
  out('');
  out('Rates on CPU time (user+sys of the process) compare fairly on a busy machine; wall-clock rates are shown too.');
  out('B/event = (peak RSS - RSS before reading) / events: what the block_events table and the reader keep resident.');
  out('readline + split rows count lines (blkparse text has a summary after its events) and build no table.');
  out('Text inputs >= 32 MB: table chunk pages are touched ahead by a helper thread (PrefaultPool); cpu s includes it.');
  out('Targets: binary >= 5x blkparse; text formats >= 2 Mevents/s; <= 64 B/event.');
} finally {
  if (!keep && !inputsDir) rmSync(dir, { recursive: true, force: true });
  else out(`kept ${dir}`);
}
