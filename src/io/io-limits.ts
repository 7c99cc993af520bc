/**
 * Node's fs.readSync and fs.writeSync take at most 2^31 - 1 bytes a call (the length is checked
 * as an int32: a 2.2 GB table handed over in one call is refused with a RangeError). Loops that
 * move a whole buffer move it in pieces of at most this many bytes.
 */
export const IO_PIECE_BYTES = 1 << 30;

/** The length of the next read or write of `remaining` bytes. */
export const ioPiece = (remaining: number): number => Math.min(remaining, IO_PIECE_BYTES);
