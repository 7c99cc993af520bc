/**
 * Unsigned integers read from byte arrays, as the on-disk formats store them: little-endian (ext2/3/4,
 * MBR, GPT) or big-endian (the jbd2 journal, qcow2). Results are exact JavaScript numbers (a u32 never
 * turns negative).
 */

/** Little-endian u16 at byte o. */
export function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

/** Little-endian u32 at byte o. */
export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

/** Big-endian u32 at byte o. */
export function u32be(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}
