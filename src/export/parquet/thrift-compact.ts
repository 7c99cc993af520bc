/**
 * Thrift's compact protocol, the encoding of every Parquet header and of the footer
 * (parquet-format, parquet.thrift; Thrift's "compact protocol" spec): a field is a header byte of
 * (id delta << 4 | type) when the delta from the previous field id is 1..15, else the type then
 * the id as a zigzag varint; integers are zigzag varints; binary is a varint length and the bytes;
 * a boolean field carries its value in its type (1 true, 2 false); a struct ends with a 0 byte.
 */
import { ByteSink } from './byte-sink.js';

/** Compact protocol type codes. */
export const enum CType {
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Struct = 12,
}

const utf8 = new TextEncoder();

export class ThriftCompactWriter {
  readonly out: ByteSink;
  private lastField = 0;
  private readonly stack: number[] = [];

  constructor(out = new ByteSink(1024)) {
    this.out = out;
  }

  private field(id: number, type: number): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) this.out.u8((delta << 4) | type);
    else {
      this.out.u8(type);
      this.out.zigzag32(id);
    }
    this.lastField = id;
  }

  i16(id: number, v: number): void {
    this.field(id, CType.I16);
    this.out.zigzag32(v);
  }

  i32(id: number, v: number): void {
    this.field(id, CType.I32);
    this.out.zigzag32(v);
  }

  /** An i64 field: a safe integer or a BigInt (never rounded). */
  i64(id: number, v: number | bigint): void {
    this.field(id, CType.I64);
    this.i64Value(v);
  }

  private i64Value(v: number | bigint): void {
    const b = BigInt.asIntN(64, BigInt(v));
    this.out.zigzag64(Number(BigInt.asIntN(32, b >> 32n)), Number(BigInt.asUintN(32, b)));
  }

  /** An i8 field (a byte as it is). */
  byte(id: number, v: number): void {
    this.field(id, CType.Byte);
    this.out.u8(v & 0xff);
  }

  bool(id: number, v: boolean): void {
    this.field(id, v ? CType.True : CType.False);
  }

  binary(id: number, bytes: Uint8Array): void {
    this.field(id, CType.Binary);
    this.out.varint(bytes.length);
    this.out.raw(bytes);
  }

  string(id: number, s: string): void {
    this.binary(id, utf8.encode(s));
  }

  /** A struct field: `body` writes its fields. */
  struct(id: number, body: () => void): void {
    this.field(id, CType.Struct);
    this.structBody(body);
  }

  private structBody(body: () => void): void {
    this.stack.push(this.lastField);
    this.lastField = 0;
    body();
    this.out.u8(0);
    this.lastField = this.stack.pop()!;
  }

  private listHeader(id: number, type: number, size: number): void {
    this.field(id, CType.List);
    if (size < 15) this.out.u8((size << 4) | type);
    else {
      this.out.u8(0xf0 | type);
      this.out.varint(size);
    }
  }

  listOfStructs<T>(id: number, items: readonly T[], body: (item: T, index: number) => void): void {
    this.listHeader(id, CType.Struct, items.length);
    items.forEach((item, i) => this.structBody(() => body(item, i)));
  }

  listOfI32(id: number, items: readonly number[]): void {
    this.listHeader(id, CType.I32, items.length);
    for (const v of items) this.out.zigzag32(v);
  }

  listOfStrings(id: number, items: readonly string[]): void {
    this.listHeader(id, CType.Binary, items.length);
    for (const s of items) {
      const b = utf8.encode(s);
      this.out.varint(b.length);
      this.out.raw(b);
    }
  }

  /** A whole top-level struct (a page header, the footer): its fields, then the stop byte. */
  message(body: () => void): void {
    this.structBody(body);
  }
}
