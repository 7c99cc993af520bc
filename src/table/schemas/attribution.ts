/**
 * attribution: every byte of every lower-layer request assigned to an application I/O or to a
 * named cause. Per layer, the bytes sum exactly to the layer's total request bytes.
 */
import { defineTable } from '../table-spec.js';

/**
 * Causes (values of attribution.cause). `fs_metadata:<kind>` and `host_fs_metadata:<kind>` carry
 * the fs map's kind (superblock, group_desc, block_bitmap, inode_table, directory, extent, ...).
 */
export const ATTRIBUTION_CAUSES = [
  'app_read',
  'app_write',
  'writeback',
  'readahead',
  'journal',
  'fs_metadata:<kind>',
  'other_file',
  'other_vm',
  'image_metadata',
  'image_cluster_fill',
  'host_readahead',
  'guest_outside_trace',
  'host_journal',
  'host_fs_metadata:<kind>',
  'host_other_file',
  'unattributed',
] as const;

export const attributionTable = defineTable({
  name: 'attribution',
  doc: "One row per (layer, lower request, cause, app I/O): the bytes of that request assigned to that cause. Per layer, bytes sum to the total bytes of the layer's requests (asserted when the table is built).",
  columns: [
    { name: 'layer', type: 'string', index: 'int8', values: ['guest', 'host'], doc: 'Layer of the request: guest | host.' },
    {
      name: 'vm',
      type: 'string',
      index: 'int16',
      nullable: true,
      doc: 'Guest (VM) the bytes belong to; null for host bytes outside every image file.',
    },
    { name: 'lower_id', type: 'int32', doc: 'guest_requests.id or host_requests.id (by layer).' },
    {
      name: 'cause',
      type: 'string',
      index: 'int16',
      doc: "app_read / app_write (inside the system call), writeback (later write-out of an app write; app_id set when the write is in the trace), readahead (app_id = the app read that later used the bytes, if any), journal, fs_metadata:<kind>, other_file (data of a file the application did not touch), other_vm (host only: another VM's image when analysing one), image_metadata (data blocks of a qcow2 image file that hold no guest data: header, L1/L2 and refcount tables), image_cluster_fill (host writes into a qcow2 cluster that a guest write touched before, bytes the guest did not write: QEMU fills the rest of a newly allocated cluster), host_readahead (guest data read by a host request with REQ_RAHEAD that no guest request asked for), guest_outside_trace (guest data the host read or wrote before the first or after the last request of the guest trace: boot, mount, unmount), host_journal, host_fs_metadata:<kind> (the image file's own indirect or extent-tree blocks included), host_other_file, unattributed (free space, bytes no rule explains).",
    },
    { name: 'app_id', type: 'int32', nullable: true, doc: 'app_io.id when the bytes belong to an application I/O; null otherwise.' },
    { name: 'bytes', type: 'int64', unit: 'bytes', doc: 'Bytes of the request assigned to this cause.' },
  ],
});
