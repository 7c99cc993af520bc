/** Errors crossing a worker-thread boundary come back as the same kind of error, message and place kept. */
import { describe, expect, it } from 'vitest';
import { InputError, UsageError, isUserError } from '../../src/util/errors.js';
import { fromThreadError, toThreadError } from '../../src/util/thread-errors.js';

/** Through structured clone, as postMessage sends it. */
const across = (e: unknown) => fromThreadError(structuredClone(toThreadError(e)));

describe('thread errors', () => {
  it('keeps an InputError a user error with its file, place and message', () => {
    const e = new InputError('trace.txt', 'bad line', { line: 12 });
    const back = across(e);
    expect(back).toBeInstanceOf(InputError);
    expect(isUserError(back)).toBe(true);
    expect(back.message).toBe(e.message);
    expect((back as InputError).file).toBe('trace.txt');
    expect((back as InputError).place).toEqual({ line: 12 });
  });
  it('keeps a UsageError a user error, and anything else an internal one with its name and stack', () => {
    expect(across(new UsageError('no such option'))).toBeInstanceOf(UsageError);
    const back = across(new RangeError('value 2^53'));
    expect(isUserError(back)).toBe(false);
    expect(back.name).toBe('RangeError');
    expect(back.message).toBe('value 2^53');
    expect(back.stack).toMatch(/RangeError: value 2\^53/);
    expect(across('a string').message).toBe('a string');
  });
});
