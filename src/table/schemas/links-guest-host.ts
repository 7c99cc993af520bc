/**
 * links_guest_host: which host block requests each guest block request caused, byte by byte.
 */
import { defineTable } from '../table-spec.js';
import { LINK_HOWS } from './links-app-guest.js';

export const linksGuestHostTable = defineTable({
  name: 'links_guest_host',
  doc: 'One row per (guest request, host request) pair that share bytes: guest sectors mapped through the image map (raw or qcow2 L1/L2) and the host fs map of the image file onto host sectors overlap the host request, and the times (guest clock shifted by the estimated offset) satisfy the rule in `how`.',
  columns: [
    { name: 'upper_id', type: 'int32', doc: 'guest_requests.id of the guest block request.' },
    { name: 'lower_id', type: 'int32', doc: 'host_requests.id of the host block request.' },
    { name: 'vm', type: 'string', index: 'int16', doc: 'Guest (VM) id the guest request belongs to (several images on one host).' },
    { name: 'bytes', type: 'int64', unit: 'bytes', doc: 'Bytes of the host request attributed to this guest request.' },
    {
      name: 'how',
      type: 'string',
      index: 'int8',
      values: LINK_HOWS,
      doc: 'Causality rule: sync_read, direct (cache=none: the host request ran inside the guest request), writeback (host page-cache writeback of the latest earlier guest write), readahead (host readahead later consumed by a guest read).',
    },
  ],
});
