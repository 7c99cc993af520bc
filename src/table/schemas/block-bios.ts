/**
 * block_bios: one row per queued bio (Q event), with the request that carried it. Built together
 * with block_requests; the btt-style stages that btt accounts per Q (Q2M, M2D, D2C, Q2C) are
 * computed from it.
 */
import { defineTable } from '../table-spec.js';
import { BLOCK_OPS } from './block-events.js';

export const BIO_ROLES = ['head', 'merged', 'split', 'alone'] as const;

export const blockBiosTable = defineTable({
  name: 'block_bios',
  doc: 'One row per queued bio (block_bio_queue / blkparse Q), in Q order, with the request (block_requests.id) that carried it.',
  columns: [
    { name: 'dev', type: 'string', index: 'int16', doc: 'Device as "MAJ:MIN".' },
    { name: 'op', type: 'string', index: 'int8', values: BLOCK_OPS, doc: 'Operation of the bio.' },
    {
      name: 'sector',
      type: 'int64',
      nullable: true,
      unit: 'sectors of 512 bytes',
      doc: 'First sector of the bio as queued; null for a data-less flush bio.',
    },
    { name: 'nr_sectors', type: 'uint32', unit: 'sectors of 512 bytes', doc: 'Length of the bio as queued.' },
    { name: 'queue_ns', type: 'int64', unit: 'ns', clock: 'trace clock', doc: 'Time of the Q event.' },
    {
      name: 'merge_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: 'Time of the M/F event that merged the bio into an existing request; null when it started its own request.',
    },
    {
      name: 'role',
      type: 'string',
      index: 'int8',
      values: BIO_ROLES,
      doc: "head: the bio created its request (G); merged: merged into an existing request (M/F); split: split into pieces (X), the first piece's request is given; alone: never reached a request (bio-based device, or in flight at the end).",
    },
    {
      name: 'request',
      type: 'int32',
      nullable: true,
      doc: 'block_requests.id of the request that carries the bio (for a split bio, the first piece), after following rq merges (T); null when none.',
    },
    {
      name: 'complete_ns',
      type: 'int64',
      nullable: true,
      unit: 'ns',
      clock: 'trace clock',
      doc: "When the last byte of the bio completed: its request's completion, or for a split bio the latest completion of its pieces; null when not completed in the trace.",
    },
    { name: 'pid', type: 'int32', doc: 'Process id at the Q event.' },
  ],
});
