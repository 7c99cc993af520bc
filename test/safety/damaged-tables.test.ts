/**
 * Tables iolineage wrote, damaged afterwards, read back by btt, lookup and whatif: the schema
 * check (src/table/table-check.ts) and the flatbuffer bounds (src/table/arrow-ipc-check.ts) turn
 * them into one-line errors naming the file instead of internal errors or a heap blown by a
 * vector length.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArrowFile, tableMetadata, writeArrowFile } from '../../src/table/arrow-file.js';
import { TableBuilder } from '../../src/table/table-builder.js';
import { fsMapTable } from '../../src/table/schemas/fs-map.js';
import { InputError } from '../../src/util/errors.js';
import { fixture, iolineage } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'iol-damaged-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let events: Uint8Array;
beforeAll(() => {
  expect(iolineage(['ingest', fixture('block', 'ext4.trace.gz'), '-o', join(work, 'block')]).status).toBe(0);
  events = new Uint8Array(readFileSync(join(work, 'block', 'block_events.arrow')));
});

/** The bytes with the first occurrence of `from` at or after `start` replaced by `to` (same length). */
function replaced(bytes: Uint8Array, from: Uint8Array, to: Uint8Array, start = 0): Uint8Array {
  const out = bytes.slice();
  for (let i = start; i + from.length <= bytes.length; i++) {
    if (from.every((b, k) => bytes[i + k] === b)) {
      out.set(to, i);
      return out;
    }
  }
  throw new Error('pattern not found');
}

describe('damaged tables', () => {
  it('a renamed column: btt names the file, the table and the missing column', () => {
    // the field name in the footer's schema: a flatbuffer string, u32 length then the bytes
    const name = (s: string) => Uint8Array.of(s.length, 0, 0, 0, ...new TextEncoder().encode(s));
    const footerLength = new DataView(events.buffer, events.byteOffset).getInt32(events.length - 10, true);
    const file = join(work, 'renamed.arrow');
    writeFileSync(file, replaced(events, name('ts_ns'), name('ts_xs'), events.length - 10 - footerLength));
    const r = iolineage(['btt', file]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `iolineage: ${file} (Arrow schema): not a readable block_events table: expected a column ts_ns, found none`,
    );
  });

  it('a time 2^62 ns away from the others: btt names the row instead of failing in request reconstruction', () => {
    const le64 = (v: bigint) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, v, true);
      return b;
    };
    const first = (
      readArrowFile(join(work, 'block', 'block_events.arrow'))
        .getChild('ts_ns')!
        .toArray() as BigInt64Array
    )[0]!;
    const file = join(work, 'late.arrow');
    writeFileSync(file, replaced(events, le64(first), le64(1n << 62n)));
    const r = iolineage(['btt', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /late\.arrow \(block_events rows\): block_events row \d+: time \d+ ns: expected times within 2\^53 ns \(104 days\) of the trace's other events/,
    );
  });

  it('a vector length in the footer past the file: an error naming the vector, not an array of a billion entries', () => {
    const columns = readArrowFile(join(work, 'block', 'block_events.arrow')).schema.fields.length;
    // the footer's schema.fields vector: its u32 length is the column count (Arrow File.fbs, Schema.fbs)
    const footerLength = new DataView(events.buffer, events.byteOffset).getInt32(events.length - 10, true);
    const le = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
    const file = join(work, 'footer.arrow');
    writeFileSync(file, replaced(events, le(columns), le(0x40000000), events.length - 10 - footerLength));
    expect(() => readArrowFile(file)).toThrow(InputError);
    expect(() => readArrowFile(file)).toThrow(
      /not a readable Arrow IPC file: footer\.schema\.fields of 1073741824 entries at byte \d+ runs past the end/,
    );
  });

  it('a field vtable with an odd size (fuzz campaign seed 3, tables #1393): btt names the vector the decoder would read', () => {
    // flechette reads a field whose slot starts below the vtable's size, here children at 14 of a
    // 15-byte vtable, and sized an array of 67M entries from it; the check reads fields the same way
    const file = fixture('damaged', 'odd-vtable.block_events.arrow');
    const r = iolineage(['btt', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /not a readable Arrow IPC file: footer\.schema\.fields\[1\]\.children of 67108864 entries at byte \d+ runs past the end/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an fs_map whose rows are out of order: lookup names the file and the rows', () => {
    expect(iolineage(['map', 'fs', fixture('ext', 'ext2-1k.e2image-r.img.gz'), '-o', join(work, 'fs')]).status).toBe(0);
    // the same table with its first two rows swapped
    const table = readArrowFile(join(work, 'fs', 'fs_map.arrow'));
    const b = new TableBuilder(fsMapTable);
    const order = [1, 0, ...Array.from({ length: table.numRows - 2 }, (_, i) => i + 2)];
    for (const c of fsMapTable.columns) {
      const values = table.getChild(c.name)!.toArray() as ArrayLike<unknown>;
      for (const i of order) {
        const v = values[i];
        if (c.type === 'int64') {
          if (v === null) b.int64(c.name).pushNull();
          else b.int64(c.name).push(v as bigint);
        } else if (c.type === 'string') {
          if (v === null) b.string(c.name).pushNull();
          else b.string(c.name).push(v as string);
        } else if (c.type === 'bool') b.bool(c.name).push(v as boolean);
        else b.number(c.name).push(v as number);
      }
    }
    writeArrowFile(join(work, 'fs', 'fs_map.arrow'), b.finish(tableMetadata(table)));
    const r = iolineage(['lookup', join(work, 'fs'), '--sector', '2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/fs_map\.arrow \(fs_map rows\): rows must be sorted by fs_block: row 1 has block 0 after \d+/);
  });
});
