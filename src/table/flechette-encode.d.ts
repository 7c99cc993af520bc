// Types of the one internal module of @uwdata/flechette (pinned in package.json) that
// writeTableBuilder uses: the IPC encoder behind tableToIPC, which takes already assembled
// schema, dictionary batches and an iterable of record batches.
declare module '@uwdata/flechette/src/encode/encode-ipc.js' {
  export function encodeIPC(
    data: { schema: object; dictionaries: object[]; records: Iterable<object>; metadata?: Map<string, string> | null },
    options: { sink: object; format: 'stream' | 'file' },
  ): object;
}
