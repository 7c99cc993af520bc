import { describe, expect, it } from 'vitest';
import { formatBytes, parseSize, parseUnsignedDecimal, toSafeNumber } from '../../src/util/numbers.js';
import { InputError, formatOffset } from '../../src/util/errors.js';

describe('numbers', () => {
  it('never rounds a 64-bit value silently', () => {
    expect(toSafeNumber(2n ** 53n - 1n)).toBe(2 ** 53 - 1);
    expect(() => toSafeNumber(2n ** 53n, 'sector')).toThrow(/sector 9007199254740992 exceeds/);
    const t = '18446744073709551615';
    expect(parseUnsignedDecimal(t, 0, t.length)).toBe(18446744073709551615n);
    expect(parseUnsignedDecimal('x12345y', 1, 6)).toBe(12345);
    expect(parseUnsignedDecimal('12a', 0, 3)).toBe(-1);
  });
  it('parses and formats sizes', () => {
    expect(parseSize('128M')).toBe(128 * 2 ** 20);
    expect(parseSize('1G')).toBe(2 ** 30);
    expect(parseSize('4096')).toBe(4096);
    expect(() => parseSize('lots', '--vm-mem')).toThrow(/--vm-mem: "lots" is not a size/);
    expect(() => parseSize('99999999T')).toThrow(/size out of range/);
    expect(formatBytes(1536)).toBe('1.50 KiB');
  });
  it('formats errors with file and place', () => {
    expect(new InputError('a.img', 'bad magic', { offset: 4096, what: 'superblock' }).message).toBe(
      'a.img:byte offset 4096 (0x1000) (superblock): bad magic',
    );
    expect(new InputError('t.txt', 'garbage', { line: 7 }).message).toBe('t.txt:line 7: garbage');
    expect(formatOffset(255n)).toBe('255 (0xff)');
  });
});
