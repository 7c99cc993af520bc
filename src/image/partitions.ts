/**
 * Partition tables of a disk: MBR (DOS) with extended/logical partitions, and GPT (UEFI
 * specification 2.10, section 5.3 "GUID Partition Table Disk Layout"). Offsets are in bytes of
 * the disk; logical MBR partitions are numbered from 5 as Linux and sfdisk do.
 */
import { crc32 } from 'node:zlib';
import type { BlockSource } from '../io/block-source.js';
import { InputError, formatOffset } from '../util/errors.js';
import { u32le } from '../util/bytes.js';

export interface Partition {
  /** 1-based number as Linux names it (sda1..sda4 primary, sda5.. logical; GPT: entry index + 1). */
  number: number;
  /** First byte on the disk. */
  start: number;
  /** Length in bytes. */
  size: number;
  /** MBR: the type byte as two hex digits ("83"); GPT: the type GUID in upper case. */
  type: string;
  /** GPT partition name (UTF-16LE in the entry); "" for MBR. */
  name: string;
  /** GPT unique partition GUID; "" for MBR. */
  guid: string;
  /** MBR status byte 0x80. */
  bootable: boolean;
  /** MBR extended partition container (types 05, 0F, 85): holds the logical partitions. */
  extended: boolean;
}

export interface PartitionTable {
  scheme: 'none' | 'mbr' | 'gpt';
  /** Logical sector size the table was found with (512, or 4096 for a 4Kn GPT disk). */
  sectorSize: number;
  /** MBR disk signature as "0x94892adc", GPT disk GUID. */
  id: string;
  partitions: Partition[];
  /** Problems that did not stop reading (e.g. a primary GPT header that was unusable, backup used). */
  warnings: string[];
}

const MBR_EXTENDED = new Set([0x05, 0x0f, 0x85]);
const MAX_LOGICAL = 256;

/** Read the partition table of a disk (MBR or GPT); scheme "none" when sector 0 has no 55 AA. */
export function readPartitionTable(disk: BlockSource): PartitionTable {
  const none: PartitionTable = { scheme: 'none', sectorSize: 512, id: '', partitions: [], warnings: [] };
  if (disk.size < 512) return none;
  const mbr = disk.read(0, 512, 'MBR');
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) return none;
  const types = [0, 1, 2, 3].map((i) => mbr[0x1be + i * 16 + 4]!);
  if (types.includes(0xee)) {
    for (const ss of [512, 4096]) {
      if (disk.size >= ss * 2 && isGptHeader(disk.read(ss, 8, 'GPT header'))) return readGpt(disk, ss);
    }
    // a protective MBR without a primary header: the backup header at the last sector
    return readGpt(disk, 512);
  }
  return readMbr(disk, mbr);
}

function isGptHeader(b: Uint8Array): boolean {
  return String.fromCharCode(...b.subarray(0, 8)) === 'EFI PART';
}

function le64(b: Uint8Array, at: number, disk: BlockSource, base: number, what: string): number {
  const lo = u32le(b, at);
  const hi = u32le(b, at + 4);
  if (hi >= 0x200000)
    throw new InputError(disk.name, `${what} is beyond 2^53 (high word 0x${hi.toString(16)})`, { offset: base + at, what });
  return hi * 0x100000000 + lo;
}

function readMbr(disk: BlockSource, mbr: Uint8Array): PartitionTable {
  const t: PartitionTable = {
    scheme: 'mbr',
    sectorSize: 512,
    id: '0x' + u32le(mbr, 0x1b8).toString(16).padStart(8, '0'),
    partitions: [],
    warnings: [],
  };
  let extStart = -1;
  for (let i = 0; i < 4; i++) {
    const e = 0x1be + i * 16;
    const type = mbr[e + 4]!;
    const lba = u32le(mbr, e + 8);
    const count = u32le(mbr, e + 12);
    if (type === 0 || count === 0) continue;
    const p = mbrPartition(disk, i + 1, mbr, e, 0, 0);
    t.partitions.push(p);
    if (p.extended) {
      if (extStart >= 0) t.warnings.push(`more than one extended partition; logical partitions read from the first only`);
      else extStart = lba;
    }
  }
  if (extStart >= 0) readLogical(disk, extStart, t);
  return t;
}

function mbrPartition(disk: BlockSource, number: number, sector: Uint8Array, e: number, base: number, sectorAt: number): Partition {
  const type = sector[e + 4]!;
  const start = (base + u32le(sector, e + 8)) * 512;
  const size = u32le(sector, e + 12) * 512;
  if (start + size > disk.size) {
    throw new InputError(
      disk.name,
      `partition ${number} (${size} bytes at ${formatOffset(start)}) extends beyond the end of the disk (size ${formatOffset(disk.size)})`,
      { offset: sectorAt * 512 + e, what: 'MBR partition entry' },
    );
  }
  return {
    number,
    start,
    size,
    type: type.toString(16).padStart(2, '0'),
    name: '',
    guid: '',
    bootable: sector[e] === 0x80,
    extended: MBR_EXTENDED.has(type),
  };
}

/** Follow the EBR chain: entry 1 relative to this EBR, entry 2 relative to the extended partition. */
function readLogical(disk: BlockSource, extStart: number, t: PartitionTable): void {
  let ebr = extStart;
  const seen = new Set<number>();
  for (let n = 5; ; n++) {
    if (seen.has(ebr))
      throw new InputError(disk.name, `extended boot record chain loops back to sector ${ebr}`, { offset: ebr * 512, what: 'EBR' });
    if (seen.size >= MAX_LOGICAL)
      throw new InputError(disk.name, `more than ${MAX_LOGICAL} logical partitions`, { offset: ebr * 512, what: 'EBR' });
    seen.add(ebr);
    if ((ebr + 1) * 512 > disk.size)
      throw new InputError(disk.name, `extended boot record at sector ${ebr} is beyond the end of the disk`, {
        offset: ebr * 512,
        what: 'EBR',
      });
    const s = disk.read(ebr * 512, 512, 'EBR');
    if (s[510] !== 0x55 || s[511] !== 0xaa)
      throw new InputError(
        disk.name,
        `expected boot signature 55 AA at the end of the extended boot record, got ${s[510]!.toString(16)} ${s[511]!.toString(16)}`,
        { offset: ebr * 512 + 510, what: 'EBR' },
      );
    if (s[0x1be + 4] !== 0 && u32le(s, 0x1be + 12) !== 0) t.partitions.push(mbrPartition(disk, n, s, 0x1be, ebr, ebr));
    const next = s[0x1ce + 4]!;
    if (next === 0 || u32le(s, 0x1ce + 12) === 0) break;
    ebr = extStart + u32le(s, 0x1ce + 8);
  }
}

/** GUID text: first three fields little-endian, the last two big-endian (UEFI appendix A). */
function guidText(b: Uint8Array, at: number): string {
  const h = (i: number) => b[at + i]!.toString(16).padStart(2, '0');
  return (
    h(3) +
    h(2) +
    h(1) +
    h(0) +
    '-' +
    h(5) +
    h(4) +
    '-' +
    h(7) +
    h(6) +
    '-' +
    h(8) +
    h(9) +
    '-' +
    h(10) +
    h(11) +
    h(12) +
    h(13) +
    h(14) +
    h(15)
  ).toUpperCase();
}

interface GptHeaderInfo {
  entriesLba: number;
  count: number;
  entrySize: number;
  entriesCrc: number;
  firstUsable: number;
  lastUsable: number;
  guid: string;
}

function parseGptHeader(disk: BlockSource, ss: number, lba: number): GptHeaderInfo | string {
  const at = lba * ss;
  if (at + 92 > disk.size) return `header LBA ${lba} is beyond the end of the disk`;
  const h = disk.read(at, Math.min(ss, 512), 'GPT header');
  if (!isGptHeader(h)) return `no "EFI PART" signature at LBA ${lba} (byte ${at})`;
  const size = u32le(h, 12);
  if (size < 92 || size > h.length) return `header size ${size} (expected 92..${h.length})`;
  const copy = h.slice(0, size);
  copy.fill(0, 16, 20);
  const crc = u32le(h, 16);
  if (crc32(copy) !== crc) return `header CRC32 0x${crc.toString(16)} does not match the computed 0x${crc32(copy).toString(16)}`;
  const count = u32le(h, 80);
  const entrySize = u32le(h, 84);
  if (entrySize < 128 || entrySize % 8 !== 0 || entrySize > 4096) return `entry size ${entrySize} (expected a multiple of 8, 128..4096)`;
  if (count > 16384) return `${count} partition entries (at most 16384 accepted)`;
  return {
    entriesLba: le64(h, 72, disk, at, 'GPT partition entry LBA'),
    count,
    entrySize,
    entriesCrc: u32le(h, 88),
    firstUsable: le64(h, 40, disk, at, 'GPT first usable LBA'),
    lastUsable: le64(h, 48, disk, at, 'GPT last usable LBA'),
    guid: guidText(h, 56),
  };
}

function readGpt(disk: BlockSource, ss: number): PartitionTable {
  const t: PartitionTable = { scheme: 'gpt', sectorSize: ss, id: '', partitions: [], warnings: [] };
  const lastLba = Math.floor(disk.size / ss) - 1;
  let hdr = parseGptHeader(disk, ss, 1);
  let entries: Uint8Array | string = '';
  if (typeof hdr !== 'string') entries = readEntries(disk, ss, hdr);
  if (typeof hdr === 'string' || typeof entries === 'string') {
    const why = typeof hdr === 'string' ? hdr : (entries as string);
    const backup = parseGptHeader(disk, ss, lastLba);
    if (typeof backup === 'string') {
      throw new InputError(disk.name, `GPT: primary header unusable (${why}) and backup header at LBA ${lastLba} unusable (${backup})`, {
        offset: ss,
        what: 'GPT header',
      });
    }
    const be = readEntries(disk, ss, backup);
    if (typeof be === 'string')
      throw new InputError(disk.name, `GPT: primary header unusable (${why}) and backup entries unusable (${be})`, {
        offset: backup.entriesLba * ss,
        what: 'GPT partition entries',
      });
    t.warnings.push(`primary GPT unusable (${why}); read the backup header at LBA ${lastLba}`);
    hdr = backup;
    entries = be;
  }
  t.id = hdr.guid;
  const e = entries as Uint8Array;
  for (let i = 0; i < hdr.count; i++) {
    const o = i * hdr.entrySize;
    let used = false;
    for (let k = 0; k < 16; k++)
      if (e[o + k] !== 0) {
        used = true;
        break;
      }
    if (!used) continue;
    const base = hdr.entriesLba * ss + o;
    const first = le64(e, o + 32, disk, base, 'GPT entry first LBA');
    const last = le64(e, o + 40, disk, base, 'GPT entry last LBA');
    if (last < first || (last + 1) * ss > disk.size) {
      throw new InputError(
        disk.name,
        `GPT entry ${i + 1}: LBA range ${first}..${last} is empty or beyond the end of the disk (${lastLba + 1} sectors)`,
        { offset: base + 32, what: 'GPT partition entry' },
      );
    }
    let name = '';
    for (let k = 56; k + 1 < Math.min(hdr.entrySize, 128); k += 2) {
      const c = e[o + k]! | (e[o + k + 1]! << 8);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    t.partitions.push({
      number: i + 1,
      start: first * ss,
      size: (last - first + 1) * ss,
      type: guidText(e, o),
      name,
      guid: guidText(e, o + 16),
      bootable: false,
      extended: false,
    });
  }
  return t;
}

function readEntries(disk: BlockSource, ss: number, h: GptHeaderInfo): Uint8Array | string {
  const bytes = h.count * h.entrySize;
  const at = h.entriesLba * ss;
  if (at + bytes > disk.size) return `partition entries (${bytes} bytes at ${formatOffset(at)}) beyond the end of the disk`;
  const e = disk.read(at, bytes, 'GPT partition entries');
  const crc = crc32(e);
  if (crc !== h.entriesCrc)
    return `partition entry array CRC32 0x${crc.toString(16)} does not match the header's 0x${h.entriesCrc.toString(16)}`;
  return e;
}

/** Find partition `number` or throw a UsageError-like InputError listing what exists. */
export function findPartition(table: PartitionTable, number: number, diskName: string): Partition {
  const p = table.partitions.find((q) => q.number === number && !q.extended);
  if (!p) {
    const have = table.partitions.filter((q) => !q.extended).map((q) => q.number);
    throw new InputError(
      diskName,
      `partition ${number} not found (${table.scheme === 'none' ? 'no partition table' : `${table.scheme} partitions: ${have.join(', ') || 'none'}`})`,
      { offset: 0, what: 'partition table' },
    );
  }
  return p;
}
