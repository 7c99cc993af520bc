/**
 * The block tracepoints of include/trace/events/block.h by name, and the blkparse action letter
 * (block_events action) each one records. Shared by the tracefs and trace-cmd report readers.
 */
import { BlockAction } from './block-events-builder.js';
import { ByteRangeInterner } from './range-interners.js';

/** Tracepoint ids (0 = not a block tracepoint this reader knows). */
export const BlockTracepoint = {
  unknown: 0,
  bio_queue: 1,
  getrq: 2,
  sleeprq: 3,
  bio_backmerge: 4,
  bio_frontmerge: 5,
  bio_bounce: 6,
  rq_insert: 7,
  rq_issue: 8,
  rq_merge: 9,
  rq_complete: 10,
  rq_requeue: 11,
  rq_error: 12,
  bio_complete: 13,
  split: 14,
  bio_remap: 15,
  rq_remap: 16,
  plug: 17,
  unplug: 18,
  // block tracepoints that are not block I/O actions: counted and skipped
  io_start: 19,
  io_done: 20,
  touch_buffer: 21,
  dirty_buffer: 22,
} as const;

const TRACEPOINT_BY_NAME: Record<string, number> = {
  block_bio_queue: BlockTracepoint.bio_queue,
  block_getrq: BlockTracepoint.getrq,
  block_sleeprq: BlockTracepoint.sleeprq,
  block_bio_backmerge: BlockTracepoint.bio_backmerge,
  block_bio_frontmerge: BlockTracepoint.bio_frontmerge,
  block_bio_bounce: BlockTracepoint.bio_bounce,
  block_rq_insert: BlockTracepoint.rq_insert,
  block_rq_issue: BlockTracepoint.rq_issue,
  block_rq_merge: BlockTracepoint.rq_merge,
  block_rq_complete: BlockTracepoint.rq_complete,
  block_rq_requeue: BlockTracepoint.rq_requeue,
  block_rq_error: BlockTracepoint.rq_error,
  block_bio_complete: BlockTracepoint.bio_complete,
  block_split: BlockTracepoint.split,
  block_bio_remap: BlockTracepoint.bio_remap,
  block_rq_remap: BlockTracepoint.rq_remap,
  block_plug: BlockTracepoint.plug,
  block_unplug: BlockTracepoint.unplug,
  block_io_start: BlockTracepoint.io_start,
  block_io_done: BlockTracepoint.io_done,
  block_touch_buffer: BlockTracepoint.touch_buffer,
  block_dirty_buffer: BlockTracepoint.dirty_buffer,
};

/** Known names by length, as bytes: a name is found by comparing bytes, without hashing. */
const NAMES_BY_LENGTH: { bytes: Uint8Array; id: number }[][] = [];
for (const [name, id] of Object.entries(TRACEPOINT_BY_NAME)) {
  (NAMES_BY_LENGTH[name.length] ??= []).push({ bytes: new TextEncoder().encode(name), id });
}

/** Tracepoint ids by event name, for one reader (other event names are remembered as unknown). */
export class TracepointNames {
  private readonly others = new ByteRangeInterner((raw) => TRACEPOINT_BY_NAME[raw] ?? BlockTracepoint.unknown, 256);

  /** Id of the tracepoint named t[s, e) (BlockTracepoint.unknown for any other event). */
  id(t: Uint8Array, s: number, e: number): number {
    const candidates = NAMES_BY_LENGTH[e - s];
    if (candidates !== undefined) {
      for (let c = 0; c < candidates.length; c++) {
        const n = candidates[c]!.bytes;
        // every name starts with "block_": compare from the end, where the names differ
        let k = n.length - 1;
        while (k >= 0 && n[k] === t[s + k]) k--;
        if (k < 0) return candidates[c]!.id;
      }
    }
    return this.others.lookup(t, s, e);
  }
}

/** blkparse action letter (block_events action key) per tracepoint id. */
export const ACTION_OF: number[] = [];
ACTION_OF[BlockTracepoint.bio_queue] = BlockAction.Q;
ACTION_OF[BlockTracepoint.getrq] = BlockAction.G;
ACTION_OF[BlockTracepoint.sleeprq] = BlockAction.S;
ACTION_OF[BlockTracepoint.bio_backmerge] = BlockAction.M;
ACTION_OF[BlockTracepoint.bio_frontmerge] = BlockAction.F;
ACTION_OF[BlockTracepoint.bio_bounce] = BlockAction.B;
ACTION_OF[BlockTracepoint.rq_insert] = BlockAction.I;
ACTION_OF[BlockTracepoint.rq_issue] = BlockAction.D;
ACTION_OF[BlockTracepoint.rq_merge] = BlockAction.T;
ACTION_OF[BlockTracepoint.rq_complete] = BlockAction.C;
ACTION_OF[BlockTracepoint.rq_requeue] = BlockAction.R;
ACTION_OF[BlockTracepoint.bio_complete] = BlockAction.C;
ACTION_OF[BlockTracepoint.split] = BlockAction.X;
ACTION_OF[BlockTracepoint.bio_remap] = BlockAction.A;
ACTION_OF[BlockTracepoint.rq_remap] = BlockAction.A;
ACTION_OF[BlockTracepoint.plug] = BlockAction.P;
ACTION_OF[BlockTracepoint.unplug] = BlockAction.U;

export const SKIPPED_TRACEPOINT: Record<number, string> = {
  [BlockTracepoint.io_start]: 'block_io_start (request accounting start, duplicates insert/issue)',
  [BlockTracepoint.io_done]: 'block_io_done (request accounting end, duplicates complete)',
  [BlockTracepoint.touch_buffer]: 'block_touch_buffer (buffer-head access, not a block I/O)',
  [BlockTracepoint.dirty_buffer]: 'block_dirty_buffer (buffer-head dirtied, not a block I/O)',
  [BlockTracepoint.rq_error]: 'block_rq_error (a failed request; block_rq_complete reports it too)',
};

export const SKIPPED_COUNTER: Record<number, string> = Object.fromEntries(
  Object.entries(SKIPPED_TRACEPOINT).map(([k, v]) => [k, 'block_text.skipped_' + v.split(' ')[0]]),
);
