/**
 * block_requests: one row per block request, reconstructed from block_events (any input format)
 * by src/ingest/block/block-requests.ts. Times are on the trace clock of the events.
 */
import { defineTable } from '../table-spec.js';
import { BLOCK_OPS } from './block-events.js';

export const REQUEST_KINDS = ['request', 'bio'] as const;

export const blockRequestsTable = defineTable({
  name: 'block_requests',
  doc: 'One row per block-layer request (G/I/D/C of one struct request, with the bios merged into it), or per bio on bio-based devices that have no request events. Rows are in order of creation.',
  columns: [
    { name: 'id', type: 'int32', doc: 'Request id: the row number (0-based) in this table.' },
    {
      name: 'kind',
      type: 'string',
      index: 'int8',
      values: REQUEST_KINDS,
      doc: 'request: a blk-mq request (getrq, insert or issue seen, or a merge into it when getrq is not traced); bio: a bio of a bio-based device (queue and completion only) or a bio that never reached a request before the trace ended.',
    },
    { name: 'dev', type: 'string', index: 'int16', doc: 'Device as "MAJ:MIN".' },
    { name: 'op', type: 'string', index: 'int8', values: BLOCK_OPS, doc: 'Operation: read | write | discard | flush | other.' },
    {
      name: 'rwbs',
      type: 'string',
      index: 'int8',
      doc: 'RWBS flags of the request as printed by the source at issue (else at its first event); flush handling may drop the F letters seen at queue time.',
    },
    {
      name: 'sector',
      type: 'int64',
      nullable: true,
      unit: 'sectors of 512 bytes',
      doc: 'First sector of the request at issue (after merges); null for flush requests, which have none.',
    },
    {
      name: 'nr_sectors',
      type: 'uint32',
      unit: 'sectors of 512 bytes',
      doc: 'Length of the request at issue (after merges), in 512-byte sectors.',
    },
    {
      name: 'bytes',
      type: 'int64',
      unit: 'bytes',
      doc: 'Length of the request in bytes (nr_sectors * 512 unless the source gave a byte count).',
    },
    {
      name: 'queue_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: 'Earliest Q (block_bio_queue) of the bios it holds; for a split piece, the Q of the bio it was cut from; null when no Q was seen.',
    },
    {
      name: 'getrq_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: 'G (block_getrq): when the request was allocated; null when not seen (flush sequences, traces starting mid-way, block_getrq not traced).',
    },
    {
      name: 'insert_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: 'First I (block_rq_insert) into the I/O scheduler; null when issued directly (scheduler none) or not traced.',
    },
    {
      name: 'issue_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: 'Last D (block_rq_issue) to the driver (after a requeue, the re-issue); null when never issued within the trace.',
    },
    {
      name: 'complete_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: 'C (block_rq_complete, or block_bio_complete on bio-based devices) that completed the last byte; null when still in flight at the end of the trace.',
    },
    {
      name: 'bios',
      type: 'int32',
      doc: 'Bios the request holds: the bio (or split piece) that created it plus the bios merged into it (M/F) and those of requests it absorbed (T).',
    },
    { name: 'queued_bios', type: 'int32', doc: 'How many of those bios had their own Q event (split pieces have none).' },
    {
      name: 'issue_order',
      type: 'int32',
      nullable: true,
      doc: "Position of the request's last D event among all D events of the trace (0-based; the dispatch order, ties of equal timestamps kept as in the input); null when never issued.",
    },
    { name: 'issues', type: 'int16', doc: 'D events of this request (1 + re-issues after requeues; 0 when never issued).' },
    { name: 'requeues', type: 'int16', doc: 'R events (block_rq_requeue): times the driver handed the request back.' },
    { name: 'completions', type: 'int16', doc: 'C events: more than 1 when the request completed in parts (partial completions).' },
    {
      name: 'error',
      type: 'int16',
      nullable: true,
      doc: 'Error of the final completion as a negative errno (0 = success); null when not completed.',
    },
    {
      name: 'split_from',
      type: 'int32',
      nullable: true,
      doc: 'When this request carries a piece of a split bio (G without a Q of its own): id of the request that holds the first piece of that bio; null otherwise.',
    },
    {
      name: 'split_sector',
      type: 'int64',
      nullable: true,
      unit: 'sectors of 512 bytes',
      doc: 'For a split piece: the sector of the original Q (the bio before splitting); null otherwise.',
    },
    {
      name: 'merged_into',
      type: 'int32',
      nullable: true,
      doc: 'When the request was absorbed by another one in the scheduler (T, block_rq_merge): the id of that request; it is never issued itself. Null otherwise.',
    },
    {
      name: 'pid',
      type: 'int32',
      nullable: true,
      doc: 'Process id at the Q of the first bio (the submitter), else at the G; null when neither was seen.',
    },
    { name: 'comm', type: 'string', nullable: true, doc: 'Command name of that process (as recorded with the event); null when unknown.' },
  ],
});
