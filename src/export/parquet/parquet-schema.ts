/**
 * How each Arrow column type of the iolineage tables is stored in Parquet (parquet-format,
 * LogicalTypes.md): integers as INT32 / INT64 with their INTEGER logical type (and the
 * ConvertedType INT_n older readers take), DELTA_BINARY_PACKED; dictionary-encoded
 * strings as BYTE_ARRAY STRING with a dictionary page and RLE_DICTIONARY pages; plain strings as
 * BYTE_ARRAY STRING, PLAIN; booleans as BOOLEAN, floats as FLOAT / DOUBLE, PLAIN.
 */
import { Type, type DataType } from '@uwdata/flechette';
import { UsageError } from '../../util/errors.js';

/** parquet.thrift enums used here. */
export const Physical = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
export const Encoding = { PLAIN: 0, RLE: 3, DELTA_BINARY_PACKED: 5, RLE_DICTIONARY: 8 } as const;
export const Converted = {
  UTF8: 0,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
} as const;

/** What a column's values are written as. */
export type ValueKind = 'int32' | 'int64' | 'bool' | 'float' | 'double' | 'dictionary' | 'utf8';

export interface ParquetColumnType {
  kind: ValueKind;
  physical: number;
  converted?: number;
  /** LogicalType union member: STRING (1) or INTEGER (10, with its width and sign). */
  logical?: { string: true } | { bitWidth: number; signed: boolean };
}

/**
 * Signed integers as they are; unsigned ones as the signed type twice as wide (UInt16 as INT_32,
 * UInt32 as INT_64), as Spark and Trino read no unsigned Parquet type.
 */
function integer(arrowBits: number, signed: boolean, where: string): ParquetColumnType {
  if (!signed && arrowBits === 64)
    throw new UsageError(`${where}: an unsigned 64-bit column has no Parquet type that Spark and Trino read`);
  const bitWidth = signed ? arrowBits : 2 * arrowBits;
  return {
    kind: bitWidth === 64 ? 'int64' : 'int32',
    physical: bitWidth === 64 ? Physical.INT64 : Physical.INT32,
    converted: Converted[`INT_${bitWidth}` as keyof typeof Converted],
    logical: { bitWidth, signed: true },
  };
}

const STRING = { physical: Physical.BYTE_ARRAY, converted: Converted.UTF8, logical: { string: true as const } };

/** The Parquet type of an Arrow column (`where` names it in the error for a type with none). */
export function parquetColumnType(type: DataType, where: string): ParquetColumnType {
  switch (type.typeId) {
    case Type.Int:
      return integer(type.bitWidth, type.signed, where);
    case Type.Bool:
      return { kind: 'bool', physical: Physical.BOOLEAN };
    case Type.Float:
      if (type.precision === 1) return { kind: 'float', physical: Physical.FLOAT };
      if (type.precision === 2) return { kind: 'double', physical: Physical.DOUBLE };
      break;
    case Type.Utf8:
      return { kind: 'utf8', ...STRING };
    case Type.Dictionary:
      if (type.dictionary.typeId === Type.Utf8) return { kind: 'dictionary', ...STRING };
      break;
  }
  throw new UsageError(
    `${where}: a column of Arrow type ${JSON.stringify(type)} has no Parquet form here (integers, floats, booleans and strings do)`,
  );
}
