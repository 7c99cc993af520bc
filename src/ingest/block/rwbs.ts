/**
 * RWBS strings: the operation and flag letters the kernel prints with every block event
 * (kernel/trace/blktrace.c, blk_fill_rwbs) and blkparse rebuilds from category bits
 * (blkparse_fmt.c, fill_rwbs). Layout, left to right:
 *
 *   [F]  REQ_PREFLUSH (first position, only when another op letter follows)
 *   op   W write | R read | D discard | DE secure erase | F flush (REQ_OP_FLUSH) | N other |
 *        ZA ZR ZRA ZF ZO ZC zone ops (6.x) ; blkparse prints FN for a flush request
 *   F    REQ_FUA      A  REQ_RAHEAD    S  REQ_SYNC    M  REQ_META    U  REQ_ATOMIC (6.11+)
 *   E    REQ_SECURE (3.x kernels, after the flags)
 *
 * The letter F is overloaded (preflush, flush op, FUA): its meaning depends on its position.
 */

/** Operation codes, in the order of the block_events `op` column's values (BLOCK_OPS). */
export const BlockOp = { read: 0, write: 1, discard: 2, flush: 3, other: 4 } as const;
export type BlockOpCode = (typeof BlockOp)[keyof typeof BlockOp];

/** Flag bits of an event (a bitmask, one bit per bool column of block_events). */
export const BlockFlag = {
  sync: 1,
  meta: 2,
  fua: 4,
  preflush: 8,
  readahead: 16,
  atomic: 32,
} as const;

/**
 * Op and flags of an RWBS string packed in one small integer: `op | flags << 3`.
 * Returns -1 when the text is not an RWBS string (empty, too long, unknown letter, no op).
 */
export function parseRwbs(text: string, start = 0, end = text.length): number {
  const n = end - start;
  // the kernel's rwbs buffer is RWBS_LEN = 8 (10 on 6.x) bytes including the NUL
  if (n <= 0 || n > 10) return -1;
  let i = start;
  let flags = 0;
  let op = -1;
  let c = text.charCodeAt(i);
  // F first, followed by an op letter: preflush (blkparse's FN is the flush request itself)
  if (c === 70 /* F */ && n > 1) {
    const d = text.charCodeAt(i + 1);
    if (d === 78 /* N */) {
      op = BlockOp.flush;
      i += 2;
    } else if (d === 87 || d === 82 || d === 68 || d === 70 || d === 90) {
      flags |= BlockFlag.preflush;
      i++;
    }
  }
  if (op < 0) {
    c = text.charCodeAt(i);
    switch (c) {
      case 87:
        op = BlockOp.write;
        i++;
        break; // W
      case 82:
        op = BlockOp.read;
        i++;
        break; // R
      case 68: // D, DE
        op = BlockOp.discard;
        i++;
        if (i < end && text.charCodeAt(i) === 69) i++;
        break;
      case 70:
        op = BlockOp.flush;
        i++;
        break; // F as the op: REQ_OP_FLUSH
      case 78:
        op = BlockOp.other;
        i++;
        break; // N
      case 90: {
        // Z + A | R | RA | F | O | C
        op = BlockOp.other;
        i++;
        const z = i < end ? text.charCodeAt(i) : 0;
        if (z === 65 || z === 70 || z === 79 || z === 67) i++;
        else if (z === 82) {
          i++;
          if (i < end && text.charCodeAt(i) === 65) i++;
        } else return -1;
        break;
      }
      default:
        return -1;
    }
  }
  for (; i < end; i++) {
    switch (text.charCodeAt(i)) {
      case 70:
        if (flags & (BlockFlag.fua | BlockFlag.readahead | BlockFlag.sync | BlockFlag.meta)) return -1;
        flags |= BlockFlag.fua;
        break;
      case 65:
        flags |= BlockFlag.readahead;
        break;
      case 83:
        flags |= BlockFlag.sync;
        break;
      case 77:
        flags |= BlockFlag.meta;
        break;
      case 85:
        flags |= BlockFlag.atomic;
        break;
      case 69:
        break; // REQ_SECURE on 3.x (secure discard)
      default:
        return -1;
    }
  }
  return op | (flags << 3);
}

/** The op code of a packed parseRwbs result. */
export function rwbsOp(packed: number): BlockOpCode {
  return (packed & 7) as BlockOpCode;
}
/** The flag bits of a packed parseRwbs result. */
export function rwbsFlags(packed: number): number {
  return packed >> 3;
}

/**
 * RWBS as blkparse prints it, from blk_io_trace category bits (blkparse_fmt.c fill_rwbs):
 * F if FLUSH, then D if DISCARD else W if WRITE else R if bytes != 0 else N, then F (FUA),
 * A (AHEAD), S (SYNC), M (META). For the binary reader, so both paths share one table.
 */
export function rwbsFromCategories(category: number, bytes: number): string {
  let s = '';
  if (category & 0x0004) s += 'F';
  if (category & 0x2000) s += 'D';
  else if (category & 0x0002) s += 'W';
  else if (bytes !== 0) s += 'R';
  else s += 'N';
  if (category & 0x8000) s += 'F';
  if (category & 0x0800) s += 'A';
  if (category & 0x0008) s += 'S';
  if (category & 0x1000) s += 'M';
  return s;
}
