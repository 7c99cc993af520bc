// Types of the internal modules of @uwdata/flechette (pinned in package.json) that arrow-file.ts
// uses: the IPC encoder behind tableToIPC, which takes already assembled schema, dictionary
// batches and an iterable of record batches (writeTableBuilder); and the two halves of
// tableFromIPC, so that readArrowFile can check the decoded message lengths before any column
// is built from them.
declare module '@uwdata/flechette/src/encode/encode-ipc.js' {
  export function encodeIPC(
    data: { schema: object; dictionaries: object[]; records: Iterable<object>; metadata?: Map<string, string> | null },
    options: { sink: object; format: 'stream' | 'file' },
  ): object;
}

interface FlechetteIpcBatch {
  length?: number;
  nodes: { length: number; nullCount: number }[];
  regions: { offset: number; length: number }[];
  body?: Uint8Array;
}
declare module '@uwdata/flechette/src/decode/decode-ipc.js' {
  export function decodeIPC(data: Uint8Array): {
    schema?: object;
    dictionaries: { id: number; data: FlechetteIpcBatch; isDelta: boolean; body?: Uint8Array }[] | null;
    records: FlechetteIpcBatch[] | null;
  };
}
declare module '@uwdata/flechette/src/decode/table-from-ipc.js' {
  import type { Table } from '@uwdata/flechette';
  export function createTable(data: object, options?: { useBigInt?: boolean }): Table;
}
