import { describe, expect, it } from 'vitest';
import { BlockFlag as F, BlockOp, parseRwbs, rwbsFlags, rwbsFromCategories, rwbsOp } from '../../src/ingest/block/rwbs.js';

const op = (s: string) => rwbsOp(parseRwbs(s));
const fl = (s: string) => rwbsFlags(parseRwbs(s));

describe('parseRwbs (kernel blk_fill_rwbs and blkparse fill_rwbs letters)', () => {
  it('reads the op letter, including the three meanings of F', () => {
    expect([op('R'), op('W'), op('D'), op('DE'), op('N'), op('F'), op('FF'), op('FN')]).toEqual([
      BlockOp.read,
      BlockOp.write,
      BlockOp.discard,
      BlockOp.discard,
      BlockOp.other,
      BlockOp.flush,
      BlockOp.flush,
      BlockOp.flush,
    ]);
    expect(fl('FWFSM')).toBe(F.preflush | F.fua | F.sync | F.meta);
    expect(op('FWFSM')).toBe(BlockOp.write);
    expect(fl('FF')).toBe(F.preflush);
    expect(fl('F')).toBe(0);
    expect(fl('RA')).toBe(F.readahead);
    expect(fl('RM')).toBe(F.meta);
    expect(fl('WSM')).toBe(F.sync | F.meta);
    expect(fl('WFS')).toBe(F.fua | F.sync);
    expect(fl('WSU')).toBe(F.sync | F.atomic);
    expect(op('ZRA')).toBe(BlockOp.other);
    expect(op('ZA')).toBe(BlockOp.other);
    expect(fl('DS')).toBe(F.sync);
  });
  it('rejects text that is not an RWBS string', () => {
    for (const s of ['', 'X', 'RR', 'WX', 'block', 'Q', 'WSMF', 'ZQ', 'WWWWWWWWWWW', '7,2']) expect(parseRwbs(s), s).toBe(-1);
  });
  it('parses a range of a larger string', () => {
    const line = '7,2 WSM 32780 + 2';
    expect(parseRwbs(line, 4, 7)).toBe(parseRwbs('WSM'));
  });
  it('rebuilds blkparse RWBS from blk_io_trace category bits (reference section 7.6 examples)', () => {
    expect(rwbsFromCategories(0x011a, 4096)).toBe('WS');
    expect(rwbsFromCategories(0x0010, 0)).toBe('N');
    expect(rwbsFromCategories(0x1901, 1048576)).toBe('RAM');
    expect(rwbsFromCategories(0x2112, 65536)).toBe('D');
    expect(rwbsFromCategories(0x911e, 4096)).toBe('FWFSM');
    expect(rwbsFromCategories((0x0414 & ~0x0400) | 0x0001, 0)).toBe('FN');
  });
});
