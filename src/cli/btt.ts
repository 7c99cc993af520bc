/**
 * iolineage btt: btt's per-device figures (latency stages, merge ratio, seeks) from binary
 * blktrace files or a block_events.arrow table, with the request reconstruction that handles
 * split bios; optionally writes block_requests.arrow and block_bios.arrow.
 */
import type { Table } from '@uwdata/flechette';
import { BlockEventsBuilder } from '../ingest/block/block-events-builder.js';
import { readBlktraceBinary } from '../ingest/block/blktrace-binary.js';
import { buildBlockRequestTables } from '../ingest/block/block-requests.js';
import { checkBlockEventRanges } from '../ingest/block/block-event-ranges.js';
import { IngestStats } from '../util/ingest-stats.js';
import { bttMetrics, BTT_STAGES, type BttDeviceMetrics } from '../metrics/btt.js';
import { iostatSeries } from '../metrics/iostat-series.js';
import { arrowFileWriter, readArrowFile } from '../table/arrow-file.js';
import { withOutputFolder } from '../io/output-folder.js';
import { UsageError } from '../util/errors.js';
import { parseCommandArgs, parseDevArg } from './args.js';
import { ProgressBar } from './progress.js';

export const help = `usage: iolineage btt FILE... [options]

btt's figures for each device: Q2Q Q2G G2I Q2M I2D M2D D2C Q2C (min, avg, max in seconds, N),
#Q/#D merge ratio, sectors per completion, Q2Q and D2D seek distances. FILE is either the per-CPU
files of one binary blktrace capture (NAME.blktrace.0 NAME.blktrace.1 ...; .gz/.xz/.zst accepted),
one \`blkparse -d\` dump, or a block_events.arrow written by \`iolineage ingest\`. As with blkparse -i, a
NAME that is not a file stands for NAME.blktrace.0, NAME.blktrace.1, ...

Unlike btt, bios split by the block layer (X events) are followed piece by piece, so Q2G, I2D,
D2C and Q2C are right on traces with splits (btt inflates Q2G and drops the split bios there).

options:
  --dev MAJ:MIN     only this device
  --iostat SECONDS  also print an iostat-like series (IOPS, MB/s, queue depth, %util) per interval
  -o, --out DIR     write block_requests.arrow and block_bios.arrow into DIR
  --json            print the figures as JSON (times in ns)
`;

function fmt(ns: number): string {
  return (ns / 1e9).toFixed(9).padStart(13);
}

function print(m: BttDeviceMetrics): string[] {
  const lines = [
    `==================== Device ${m.dev} ====================`,
    '',
    `${'ALL'.padStart(15)} ${'MIN'.padStart(13)} ${'AVG'.padStart(13)} ${'MAX'.padStart(13)} ${'N'.padStart(11)}`,
  ];
  for (const s of BTT_STAGES) {
    const st = m.stages[s];
    if (st.n) lines.push(`${s.padEnd(15)} ${fmt(st.min)} ${fmt(st.avg)} ${fmt(st.max)} ${String(st.n).padStart(11)}`);
  }
  lines.push(
    '',
    `#Q ${m.queued}  #D ${m.issued}  ratio ${m.mergeRatio.toFixed(1)} (unclamped ${m.mergeRatioRaw.toFixed(2)})  BLK min ${m.blks.min} avg ${Math.trunc(m.blks.avg)} max ${m.blks.max} total ${m.blks.total}`,
  );
  for (const [name, s] of [
    ['Q2Q', m.seeksQ2Q],
    ['D2D', m.seeksD2D],
  ] as const) {
    lines.push(`${name} seeks: n ${s.n}  mean ${s.mean.toFixed(1)}  median ${s.median}  mode ${s.modes.join(',')}(${s.modeCount})`);
  }
  return lines;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('btt', argv, {
    dev: { type: 'string' },
    iostat: { type: 'string' },
    out: { type: 'string', short: 'o' },
    json: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('btt: no input files (see --help)');
  const dev = typeof values.dev === 'string' ? parseDevArg(values.dev) : undefined;
  const stats = new IngestStats();
  let events: Table;
  if (positionals.length === 1 && positionals[0]!.endsWith('.arrow')) {
    events = readArrowFile(positionals[0]!);
    checkBlockEventRanges(events, positionals[0]!);
  } else {
    const b = new BlockEventsBuilder();
    let bar: ProgressBar | undefined;
    const r = await readBlktraceBinary(positionals, b, stats, {
      ...(dev ? { dev } : {}),
      onProgress: (read, total) => {
        bar ??= new ProgressBar('reading blktrace', total);
        bar.update(read);
      },
    });
    bar?.done();
    const meta: Record<string, string> = { clock: 'blktrace time (ktime_get, ns)', source: positionals.join(',') };
    if (r.wallClockNs !== undefined) {
      meta.wall_clock_ns = String(r.wallClockNs);
      meta.wall_clock_at_trace_ns = String(r.wallClockAtTraceNs);
    }
    events = b.finish(meta);
  }
  const { requests, bios } = buildBlockRequestTables(events, stats);
  let metrics = bttMetrics(requests, bios);
  if (dev) metrics = metrics.filter((m) => m.dev === dev);
  if (typeof values.out === 'string') {
    const { notes } = await withOutputFolder(values.out, 'btt', (folder) => {
      folder.stage('block_requests.arrow', arrowFileWriter(requests));
      folder.stage('block_bios.arrow', arrowFileWriter(bios));
    });
    for (const n of notes) process.stderr.write(`note: ${n}\n`);
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({ devices: metrics, problems: stats.toJSON() }, null, 1) + '\n');
  } else {
    for (const m of metrics) process.stdout.write(print(m).join('\n') + '\n\n');
    if (typeof values.iostat === 'string') {
      const interval = Number(values.iostat);
      if (!(interval > 0)) throw new UsageError(`btt: --iostat "${values.iostat}": expected a positive number of seconds`);
      for (const m of metrics) {
        const s = iostatSeries(requests, { dev: m.dev, intervalNs: interval * 1e9 });
        process.stdout.write(`iostat ${m.dev} every ${interval} s: t(s) r/s w/s rMB/s wMB/s aqu-sz %util\n`);
        for (let k = 0; k < s.startNs.length; k++) {
          process.stdout.write(
            `${(k * interval).toFixed(3).padStart(10)} ${s.readIops[k]!.toFixed(1).padStart(9)} ${s.writeIops[k]!.toFixed(1).padStart(9)} ${s.readMBps[k]!.toFixed(2).padStart(8)} ${s.writeMBps[k]!.toFixed(2).padStart(8)} ${s.queueDepth[k]!.toFixed(2).padStart(7)} ${(100 * s.utilization[k]!).toFixed(1).padStart(6)}\n`,
          );
        }
      }
    }
    for (const line of stats.format()) process.stderr.write(line + '\n');
  }
  return stats.failed ? 1 : 0;
}
