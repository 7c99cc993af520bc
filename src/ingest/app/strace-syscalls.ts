/**
 * The system calls app_io understands, by strace name (x86_64 and the generic table; the 32-bit
 * names _llseek and mmap2 too), and how each is handled.
 */
export const Sys = {
  Open: 1,
  OpenAt: 2,
  OpenAt2: 3,
  Creat: 4,
  Close: 5,
  CloseRange: 6,
  Dup: 7,
  Dup2: 8,
  Dup3: 9,
  Fcntl: 10,
  Read: 11,
  Write: 12,
  Pread: 13,
  Pwrite: 14,
  Readv: 15,
  Writev: 16,
  Preadv: 17,
  Pwritev: 18,
  Preadv2: 19,
  Pwritev2: 20,
  Lseek: 21,
  Llseek: 22,
  Fsync: 23,
  SyncFileRange: 24,
  Sync: 25,
  Ftruncate: 26,
  Truncate: 27,
  Fallocate: 28,
  Sendfile: 29,
  CopyFileRange: 30,
  Splice: 31,
  Mmap: 32,
  Mmap2: 33,
  IoUringSetup: 34,
  IoUringEnter: 35,
  Fork: 36,
  Clone: 37,
  Clone3: 38,
  Execve: 39,
  Stat: 40,
} as const;
export type Sys = (typeof Sys)[keyof typeof Sys];

export const SYSCALLS: ReadonlyMap<string, Sys> = new Map<string, Sys>([
  ['open', Sys.Open],
  ['openat', Sys.OpenAt],
  ['openat2', Sys.OpenAt2],
  ['creat', Sys.Creat],
  ['close', Sys.Close],
  ['close_range', Sys.CloseRange],
  ['dup', Sys.Dup],
  ['dup2', Sys.Dup2],
  ['dup3', Sys.Dup3],
  ['fcntl', Sys.Fcntl],
  ['fcntl64', Sys.Fcntl],
  ['read', Sys.Read],
  ['write', Sys.Write],
  ['pread64', Sys.Pread],
  ['pwrite64', Sys.Pwrite],
  ['pread', Sys.Pread],
  ['pwrite', Sys.Pwrite],
  ['readv', Sys.Readv],
  ['writev', Sys.Writev],
  ['preadv', Sys.Preadv],
  ['pwritev', Sys.Pwritev],
  ['preadv2', Sys.Preadv2],
  ['pwritev2', Sys.Pwritev2],
  ['lseek', Sys.Lseek],
  ['_llseek', Sys.Llseek],
  ['llseek', Sys.Llseek],
  ['fsync', Sys.Fsync],
  ['fdatasync', Sys.Fsync],
  ['syncfs', Sys.Fsync],
  ['sync_file_range', Sys.SyncFileRange],
  ['sync_file_range2', Sys.SyncFileRange],
  ['sync', Sys.Sync],
  ['ftruncate', Sys.Ftruncate],
  ['ftruncate64', Sys.Ftruncate],
  ['truncate', Sys.Truncate],
  ['truncate64', Sys.Truncate],
  ['fallocate', Sys.Fallocate],
  ['sendfile', Sys.Sendfile],
  ['sendfile64', Sys.Sendfile],
  ['copy_file_range', Sys.CopyFileRange],
  ['splice', Sys.Splice],
  ['mmap', Sys.Mmap],
  ['mmap2', Sys.Mmap2],
  ['io_uring_setup', Sys.IoUringSetup],
  ['io_uring_enter', Sys.IoUringEnter],
  ['fork', Sys.Fork],
  ['vfork', Sys.Fork],
  ['clone', Sys.Clone],
  ['clone3', Sys.Clone3],
  ['execve', Sys.Execve],
  ['execveat', Sys.Execve],
  ['fstat', Sys.Stat],
  ['fstat64', Sys.Stat],
  ['newfstatat', Sys.Stat],
  ['fstatat64', Sys.Stat],
  ['stat', Sys.Stat],
  ['lstat', Sys.Stat],
  ['stat64', Sys.Stat],
  ['lstat64', Sys.Stat],
  ['statx', Sys.Stat],
]);

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 16777619;

/**
 * 32-bit FNV-1a hash of a syscall name (ASCII), as the line tokenizer (strace-line.ts) computes it
 * from the bytes of the name.
 */
export function nameHash(name: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** The handled names and their Sys ids, by index (knownSyscallIndex returns indexes). */
export const SYSCALL_NAMES: readonly string[] = [...SYSCALLS.keys()];
export const SYSCALL_IDS: readonly Sys[] = [...SYSCALLS.values()];

/**
 * The handled names in an open-addressing table (linear probing, 256 slots) of their hashes and
 * their bytes, for lookups straight from input bytes.
 */
const SLOTS = 256;
const SLOT_HASH = new Uint32Array(SLOTS);
const SLOT_INDEX = new Int16Array(SLOTS).fill(-1);
const NAME_BYTES: Uint8Array[] = SYSCALL_NAMES.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0)));
SYSCALL_NAMES.forEach((n, i) => {
  const h = nameHash(n);
  let k = h & (SLOTS - 1);
  while (SLOT_INDEX[k] !== -1) {
    if (SLOT_HASH[k] === h) throw new Error(`syscall names ${n} and ${SYSCALL_NAMES[SLOT_INDEX[k]!]} share a hash`);
    k = (k + 1) & (SLOTS - 1);
  }
  SLOT_HASH[k] = h;
  SLOT_INDEX[k] = i;
});

/** Index in SYSCALL_NAMES of the syscall name b[s, e) if app_io handles it, else -1 (`hash` is its nameHash). */
export function knownSyscallIndex(b: Uint8Array, s: number, e: number, hash: number): number {
  let k = hash & (SLOTS - 1);
  for (;;) {
    const i = SLOT_INDEX[k]!;
    if (i < 0) return -1;
    if (SLOT_HASH[k] === hash) {
      const name = NAME_BYTES[i]!;
      if (name.length !== e - s) return -1;
      for (let j = 0; j < name.length; j++) if (b[s + j] !== name[j]) return -1;
      return i;
    }
    k = (k + 1) & (SLOTS - 1);
  }
}
