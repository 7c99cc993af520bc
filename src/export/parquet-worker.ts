/**
 * Worker-thread entry of runParquetJobs (parquet-jobs.ts): for each job, read the table's Arrow
 * file, encode the Parquet files its plan makes, and hand their bytes back (transferred); a
 * failure goes back as its name, message and place.
 */
import { parentPort } from 'node:worker_threads';
import { readArrowFile } from '../table/arrow-file.js';
import { toThreadError } from '../util/thread-errors.js';
import { parquetFileBlocks } from './parquet/parquet-file.js';
import type { ParquetWorkerReply } from './parquet-jobs.js';
import { planTableFiles, type TableFilesPlan } from './table-files.js';

parentPort!.on('message', (job: { source: string; plan: TableFilesPlan }) => {
  let reply: ParquetWorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const files = planTableFiles(readArrowFile(job.source), job.plan).map((f) => {
      const blocks = parquetFileBlocks(f.contents, f.path, f.options);
      for (const b of blocks) transfer.push(b.buffer as ArrayBuffer);
      return { table: f.table, path: f.path, rows: f.contents.numRows, blocks };
    });
    reply = { ok: true, files };
  } catch (e) {
    reply = { ok: false, error: toThreadError(e) };
  }
  parentPort!.postMessage(reply, transfer);
});
