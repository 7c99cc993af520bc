/**
 * image_map: where each guest byte of a virtual disk lives in the image file(s) on the host, one
 * row per extent, sorted by guest_offset, covering [0, virtual size) without gaps. The same
 * extents `qemu-img map --output=json` reports, with the backing file named and compressed
 * clusters located.
 */
import { defineTable } from '../table-spec.js';

/**
 * data: stored uncompressed in `file` at host_offset (raw images: the whole disk, holes included);
 * zero: reads as zeros by a qcow2 zero flag (cluster or sub-cluster);
 * unallocated: no image of the chain holds it, reads as zeros;
 * compressed: one compressed qcow2 cluster stored at host_offset, host_length bytes.
 */
export const IMAGE_EXTENT_STATES = ['data', 'zero', 'unallocated', 'compressed'] as const;
export type ImageExtentState = (typeof IMAGE_EXTENT_STATES)[number];

export const imageMapTable = defineTable({
  name: 'image_map',
  doc: 'One row per extent of a virtual disk: the guest byte range, how it reads (data, zero, unallocated, compressed) and which image file of the backing chain holds it at which host byte offset; adjacent extents with the same state, file and contiguous host offsets are merged (compressed clusters are one row each).',
  columns: [
    { name: 'guest_offset', type: 'int64', unit: 'bytes', doc: 'First guest byte of the extent (byte offset in the virtual disk).' },
    { name: 'length', type: 'int64', unit: 'bytes', doc: 'Length of the extent in guest bytes.' },
    {
      name: 'state',
      type: 'string',
      index: 'int8',
      values: IMAGE_EXTENT_STATES,
      doc: 'How the range reads: data | zero | unallocated | compressed.',
    },
    {
      name: 'depth',
      type: 'int16',
      doc: 'Position in the backing chain of the image that decided the range (0 = the opened image, 1 = its backing file, ...), as in qemu-img map.',
    },
    {
      name: 'file',
      type: 'string',
      index: 'int16',
      doc: 'The image file at that depth: the path given by the user for depth 0; for backing files the stored backing-file name, joined to the directory of the image that names it when relative.',
    },
    {
      name: 'host_offset',
      type: 'int64',
      nullable: true,
      unit: 'bytes',
      doc: 'Byte offset in `file` where the extent starts: the data for data; the compressed bytes for compressed; the cluster reserved for the range for zero and unallocated sub-clusters inside an allocated qcow2 cluster; null when no host cluster belongs to the range.',
    },
    {
      name: 'host_length',
      type: 'int64',
      nullable: true,
      unit: 'bytes',
      doc: 'Bytes of `file` read to serve the extent: length for data, the stored compressed size (whole 512-byte sectors, as qemu reads them) for compressed; null for zero and unallocated.',
    },
  ],
});
