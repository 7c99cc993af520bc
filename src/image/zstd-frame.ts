/**
 * Length of the first Zstandard frame in a buffer (RFC 8878 section 3.1.1), so that a qcow2
 * compressed cluster, which is padded to whole 512-byte sectors with unrelated bytes, can be
 * handed to a decoder that expects only frames.
 */

/**
 * Frame_Content_Size of the frame starting at 0 (RFC 8878 section 3.1.1.1.4), -1 when the header
 * does not carry it, -2 when the bytes are not a frame header.
 */
export function zstdFrameContentSize(b: Uint8Array): number {
  if (b.length < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return -2;
  const fhd = b[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const size = [singleSegment, 2, 4, 8][fcsFlag]!;
  if (size === 0) return -1;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  if (at + size > b.length) return -2;
  let v = 0;
  for (let k = size - 1; k >= 0; k--) v = v * 256 + b[at + k]!;
  return size === 2 ? v + 256 : v;
}

/** Byte length of the frame starting at 0, or -1 when the bytes are not one complete frame. */
export function zstdFrameLength(b: Uint8Array): number {
  if (b.length < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return -1;
  const fhd = b[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictFlag = fhd & 3;
  let at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag]! + [singleSegment, 2, 4, 8][fcsFlag]!;
  for (;;) {
    if (at + 3 > b.length) return -1;
    const bh = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    if (type === 3) return -1;
    at += 3 + (type === 1 ? 1 : size);
    if (last) break;
  }
  at += checksum ? 4 : 0;
  return at <= b.length ? at : -1;
}
