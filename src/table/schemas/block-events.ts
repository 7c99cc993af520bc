/**
 * block_events: one row per block-layer trace event, whatever the input format (tracefs text,
 * trace-cmd report, blkparse text, binary blktrace). Every block reader fills exactly this table.
 */
import { defineTable } from '../table-spec.js';

export const BLOCK_ACTIONS = ['Q', 'G', 'I', 'D', 'C', 'M', 'F', 'X', 'A', 'R', 'P', 'U', 'UT', 'S', 'B', 'T', 'm'] as const;
export const BLOCK_OPS = ['read', 'write', 'discard', 'flush', 'other'] as const;

export const blockEventsTable = defineTable({
  name: 'block_events',
  doc: 'One row per block-layer trace event (blkparse action letters), in input order per file and merged by time across per-CPU files.',
  columns: [
    {
      name: 'ts_ns',
      type: 'int64',
      unit: 'ns',
      clock: 'trace clock of the recording (schema metadata "clock")',
      doc: 'Time of the event in nanoseconds on the trace clock (tracefs text has microsecond resolution, rounded to the nearest by the kernel: the value is a multiple of 1000).',
    },
    { name: 'cpu', type: 'int16', doc: 'CPU that recorded the event.' },
    {
      name: 'pid',
      type: 'int32',
      doc: 'Process id of the task in whose context the event fired (0 for interrupt context and notify records).',
    },
    {
      name: 'comm',
      type: 'string',
      nullable: true,
      doc: 'Command name of that task as recorded with the event (null when the format has none).',
    },
    {
      name: 'dev',
      type: 'string',
      index: 'int16',
      nullable: true,
      doc: 'Device as "MAJ:MIN" (whole-disk device after remaps; null for plug/unplug, which carry none).',
    },
    {
      name: 'action',
      type: 'string',
      index: 'int8',
      values: BLOCK_ACTIONS,
      doc: 'blkparse action letter: Q queue, G get request, I insert, D issue, C complete, M back merge, F front merge, X split, A remap, R requeue, P plug, U unplug, UT timer unplug, S sleep, B bounce, T rq merge (block_rq_merge), m message.',
    },
    { name: 'rwbs', type: 'string', index: 'int8', doc: 'The RWBS flag string as printed by the source (kernel TP_printk or blkparse).' },
    {
      name: 'op',
      type: 'string',
      index: 'int8',
      values: BLOCK_OPS,
      doc: 'Operation: read | write | discard | flush | other (from the op letter of rwbs; a pure flush request, including an empty preflush write, is flush).',
    },
    { name: 'sync', type: 'bool', doc: 'REQ_SYNC (S in rwbs).' },
    { name: 'meta', type: 'bool', doc: 'REQ_META (M in rwbs): file-system metadata.' },
    { name: 'fua', type: 'bool', doc: 'REQ_FUA (F after the op letter).' },
    { name: 'preflush', type: 'bool', doc: 'REQ_PREFLUSH (F before the op letter).' },
    { name: 'readahead', type: 'bool', doc: 'REQ_RAHEAD (A in rwbs).' },
    {
      name: 'sector',
      type: 'int64',
      nullable: true,
      unit: 'sectors of 512 bytes',
      doc: 'First sector (512-byte units, absolute on dev); null when the event has none (plug, unplug, flush requests).',
    },
    { name: 'nr_sectors', type: 'uint32', unit: 'sectors of 512 bytes', doc: 'Length in 512-byte sectors (0 when the event has none).' },
    {
      name: 'bytes',
      type: 'uint32',
      unit: 'bytes',
      doc: 'Length in bytes: the request byte count where the event has one (insert, issue, rq merge), else nr_sectors * 512 (a bio or request is at most 2^32-1 bytes: bi_size and blk_io_trace.bytes are 32-bit).',
    },
    {
      name: 'error',
      type: 'int16',
      nullable: true,
      doc: 'Completion status as a negative errno (0 = success) on C and R events; null elsewhere.',
    },
    {
      name: 'new_sector',
      type: 'int64',
      nullable: true,
      unit: 'sectors of 512 bytes',
      doc: 'X: sector where the split-off remainder starts; A: the sector before the remap (on old_dev); null elsewhere.',
    },
    { name: 'old_dev', type: 'string', index: 'int16', nullable: true, doc: 'A: device before the remap ("MAJ:MIN"); null elsewhere.' },
    {
      name: 'count',
      type: 'int32',
      nullable: true,
      doc: 'U/UT: requests flushed by the unplug; A on request remap: number of bios; null elsewhere.',
    },
    {
      name: 'ioprio',
      type: 'string',
      index: 'int8',
      nullable: true,
      doc: 'I/O priority "class,hint,level" of request events on Linux 6.11+ (class as a name: none|rt|be|idle); null where the kernel does not print it.',
    },
  ],
});
