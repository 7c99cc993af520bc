/**
 * links_app_guest: which guest block requests each application I/O caused, byte by byte.
 * A guest request's bytes are each linked to at most one application I/O (the same partition
 * as the attribution table), so summing `bytes` per lower_id never exceeds the request size.
 */
import { defineTable } from '../table-spec.js';

/** How a link was made (values of the `how` column of both links tables). */
export const LINK_HOWS = ['sync_read', 'direct', 'sync_write', 'writeback', 'readahead'] as const;

export const linksAppGuestTable = defineTable({
  name: 'links_app_guest',
  doc: "One row per (application I/O, guest block request) pair that share bytes: the app I/O's file range mapped through the guest fs map onto guest sectors overlaps the request, and the times satisfy the causality rule named in `how`.",
  columns: [
    { name: 'upper_id', type: 'int32', doc: 'app_io.id of the application I/O.' },
    { name: 'lower_id', type: 'int32', doc: 'guest_requests.id of the guest block request.' },
    {
      name: 'vm',
      type: 'string',
      index: 'int16',
      doc: 'Guest (VM) id: with several VMs, app_io and guest_requests are per VM (app_io_<vm>, guest_requests_<vm>).',
    },
    {
      name: 'bytes',
      type: 'int64',
      unit: 'bytes',
      doc: 'Bytes of the request attributed to this application I/O (overlap of the two address ranges, each byte counted once per request).',
    },
    {
      name: 'how',
      type: 'string',
      index: 'int8',
      values: LINK_HOWS,
      doc: 'Causality rule: sync_read (the request ran inside the read system call), direct (O_DIRECT, inside the call), sync_write (a write request inside the write call), writeback (the latest earlier write of those bytes), readahead (a read before the app read that later consumed the bytes).',
    },
  ],
});
