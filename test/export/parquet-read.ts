/**
 * Test helper: read a Parquet file with hyparquet, a pure-JavaScript reader independent of the
 * DuckDB that wrote it (zstd pages decompressed with fzstd).
 */
import { readFileSync } from 'node:fs';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { decompress } from 'fzstd';

function fileBuffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}

export function readParquetMetadata(path: string): FileMetaData {
  return parquetMetadata(fileBuffer(path));
}

/** Every row of a Parquet file as an object (INT64 as BigInt, nulls as null). */
export async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: fileBuffer(path), compressors: { ZSTD: (input: Uint8Array) => decompress(input) } });
}

/** The footer's key-value metadata as a map. */
export function keyValueMetadata(meta: FileMetaData): Map<string, string> {
  return new Map((meta.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']));
}
