/**
 * lineage: one row per application I/O, with what it caused at each lower layer.
 */
import { defineTable } from '../table-spec.js';

/** Outcome of an application I/O (values of lineage.outcome). */
export const LINEAGE_OUTCOMES = [
  'read_guest_cache',
  'read_host_cache',
  'read_disk',
  'read_partial',
  'read_guest_disk',
  'write_direct',
  'write_back',
  'write_absorbed',
  'write_partial',
  'unmapped',
  'no_data',
  'other',
  'read_unlinked',
] as const;

export const lineageTable = defineTable({
  name: 'lineage',
  doc: 'One row per application I/O (app_io row): bytes and requests it caused at the guest and host block layers, first/last timestamps per layer, and its outcome.',
  columns: [
    { name: 'app_id', type: 'int32', doc: 'app_io.id.' },
    { name: 'vm', type: 'string', index: 'int16', doc: 'Guest (VM) id the application ran in.' },
    { name: 'op', type: 'string', index: 'int8', doc: 'app_io.op (read | write | ...).' },
    { name: 'app_bytes', type: 'int64', unit: 'bytes', doc: 'Bytes the system call transferred (app_io.bytes_done).' },
    {
      name: 'mapped_bytes',
      type: 'int64',
      unit: 'bytes',
      doc: 'Of app_bytes, bytes whose file range the guest fs map places on guest sectors (holes, deleted files and a missing fs map leave bytes unmapped).',
    },
    {
      name: 'guest_bytes',
      type: 'int64',
      unit: 'bytes',
      doc: 'Guest block-request bytes linked to this I/O (links_app_guest, all rules).',
    },
    { name: 'guest_requests', type: 'int32', doc: 'Distinct guest block requests linked to this I/O.' },
    {
      name: 'host_bytes',
      type: 'int64',
      unit: 'bytes',
      doc: "Host block-request bytes that carry this I/O's guest bytes (through links_guest_host); 0 without a host layer.",
    },
    { name: 'host_requests', type: 'int32', doc: "Distinct host block requests carrying this I/O's bytes." },
    {
      name: 'outcome',
      type: 'string',
      index: 'int8',
      values: LINEAGE_OUTCOMES,
      doc: 'read_guest_cache (no guest request: guest page cache), read_host_cache (guest requests, no host request: host page cache), read_disk (every guest byte reached the host disk), read_partial (some did), read_guest_disk (guest requests, no host layer given), read_unlinked (an O_DIRECT read with no guest request linked to it: O_DIRECT bypasses the guest page cache, so its request is in the trace but was not found); write_direct (O_DIRECT/synchronous requests), write_back (written back later), write_absorbed (no request in the trace: still dirty, overwritten or truncated), write_partial (part written back); unmapped (file range not in the guest fs map), no_data (0 bytes or failed call), other (not a read or write).',
    },
    { name: 'app_start_ns', type: 'int64', unit: 'ns', clock: 'application clock (strace)', doc: 'Start of the system call.' },
    {
      name: 'app_end_ns',
      type: 'int64',
      unit: 'ns',
      clock: 'application clock (strace)',
      doc: 'End of the system call (start + duration).',
    },
    {
      name: 'guest_first_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'guest trace clock',
      doc: 'Earliest issue time of a linked guest request; null when none.',
    },
    {
      name: 'guest_last_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'guest trace clock',
      doc: 'Latest completion time of a linked guest request; null when none.',
    },
    {
      name: 'host_first_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'host trace clock',
      doc: 'Earliest issue time of a host request carrying its bytes; null when none.',
    },
    {
      name: 'host_last_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'host trace clock',
      doc: 'Latest completion time of a host request carrying its bytes; null when none.',
    },
  ],
});
