/**
 * Buffers past 2^31 - 1 bytes move whole: Node's readSync and writeSync refuse a longer length in
 * one call (a 2.2 GB host_requests table handed over as bytes at 100M + 100M events ended
 * `analyze` with a RangeError), so the loops move them in pieces (io-limits.ts). Written to
 * /dev/null (no page of the buffer is touched) and read from /dev/zero.
 */
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeAll } from '../../src/io/output-folder.js';
import { readWholeFd } from '../../src/table/batch-spill.js';

const PAST_INT32 = 2 ** 31 + 4096;

describe('reads and writes of more than 2^31 - 1 bytes', () => {
  it('writeAll writes a buffer of 2 GiB + 4 KiB', () => {
    const fd = openSync('/dev/null', 'w');
    try {
      expect(() => writeAll(fd, new Uint8Array(PAST_INT32))).not.toThrow();
    } finally {
      closeSync(fd);
    }
  });

  it('readWholeFd reads 2 GiB + 4 KiB into one buffer', () => {
    const fd = openSync('/dev/zero', 'r');
    try {
      const bytes = readWholeFd(fd, PAST_INT32, '/dev/zero');
      expect(bytes.length).toBe(PAST_INT32);
      expect(bytes[PAST_INT32 - 1]).toBe(0);
    } finally {
      closeSync(fd);
    }
  });
});
