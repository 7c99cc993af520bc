/**
 * Recognises the format of an input from its first bytes (after decompression):
 *   blktrace   binary blk_io_trace records: magic 0x654174VV (BLK_IO_TRACE_MAGIC | version,
 *              include/uapi/linux/blktrace_api.h) in either byte order
 *   tracefs    ftrace text: `# tracer:` header, or `<comm>-<pid> [<cpu>] <flags> <ts>: <event>: ...`
 *   trace-cmd  `trace-cmd report`: `cpus=N` / `version = N` header, `<instance>:` prefixes, padded
 *              event names, hex ioprio (`0x2,0,4`), raw `name=value` fields
 *   blkparse   `MAJ,MIN CPU SEQ SEC.NSEC PID ACTION RWBS ...` (blkparse default format)
 *   strace     `[pid] [time] syscall(...` lines (-f, -t/-tt/-ttt), `+++ exited ...`, `--- SIG...`
 * Text formats are decided by a vote over the first lines, so a few odd lines do not matter.
 */
import { openInputStream } from '../io/input-stream.js';
import { InputError } from '../util/errors.js';
import { excerptOfBytes } from '../util/printable.js';

export const INPUT_FORMATS = ['blktrace', 'tracefs', 'trace-cmd', 'blkparse', 'strace'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Bytes of decompressed input looked at. */
const HEAD_BYTES = 64 * 1024;
/** Lines voted on. */
const HEAD_LINES = 200;

const BLKPARSE_LINE = /^\s*\d+,\d+\s+\d+\s+\d+\s+\d+\.\d{9}\s+\d+\s+(?:[A-Za-z]|UT)\s+[A-Z]+(?:\s|$)/;
const FTRACE_LINE =
  /^\s*(?:(\S+):\s+)?(.+)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?(?:\[(\d+)\]\s+([.a-zA-Z0-9]{4,6}\s+)?|(\d+)[.a-zA-Z0-9]{4,6}\s+)(\d+(?:\.\d+)?):\s(\w+):(\s+)(.*)$/;
const STRACE_LINE =
  /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:\d{2}:\d{2}:\d{2}(?:\.\d+)?\s+|\d{9,}(?:\.\d+)?\s+)?(?:[a-z_][a-z0-9_]*\(|<\.\.\. [a-z_][a-z0-9_]* resumed>|\+\+\+ (?:exited|killed)|--- SIG)/;

/** The format of a buffer holding the first bytes of an input, or null when none matches. */
export function detectFormatOfBytes(head: Uint8Array): InputFormat | null {
  if (head.length >= 4) {
    const le = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
    const be = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    if ((le & 0xffffff00) === 0x65617400 || (be & 0xffffff00) === 0x65617400) return 'blktrace';
  }
  // text formats have no NUL bytes
  const n = Math.min(head.length, HEAD_BYTES);
  for (let i = 0; i < n; i++) if (head[i] === 0) return null;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, n));
  const lines = text.split('\n');
  if (n === HEAD_BYTES && lines.length > 1) lines.pop(); // a cut last line
  const votes = { tracefs: 0, 'trace-cmd': 0, blkparse: 0, strace: 0 };
  let seen = 0;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) continue;
    if (++seen > HEAD_LINES) break;
    if (/^# tracer: /.test(line) || /^#\s+TASK-PID\s/.test(line) || /^# entries-in-buffer\//.test(line)) {
      votes.tracefs += 5;
      continue;
    }
    if (/^cpus=\d+$/.test(line) || /^version = \d+$/.test(line)) {
      votes['trace-cmd'] += 5;
      continue;
    }
    if (BLKPARSE_LINE.test(line)) {
      votes.blkparse++;
      continue;
    }
    const m = FTRACE_LINE.exec(line);
    if (m) {
      const [, instance, , , bracketCpu, flags, latencyCpu, , , pad, body] = m;
      // trace-cmd: instance prefix, -l latency column, padded names, hex ioprio, raw fields
      const traceCmd =
        instance !== undefined ||
        latencyCpu !== undefined ||
        (pad?.length ?? 0) > 1 ||
        /\s0x[0-7],\d+,\d+\s/.test(body ?? '') ||
        /^[a-z_]+=/.test(body ?? '');
      if (traceCmd) votes['trace-cmd']++;
      else if (bracketCpu !== undefined && flags !== undefined) votes.tracefs++;
      else {
        votes.tracefs += 0.5;
        votes['trace-cmd'] += 0.25;
      }
      continue;
    }
    if (STRACE_LINE.test(line)) votes.strace++;
  }
  let best: InputFormat | null = null;
  let bestVotes = 0;
  for (const f of ['tracefs', 'trace-cmd', 'blkparse', 'strace'] as const) {
    if (votes[f] > bestVotes) {
      best = f;
      bestVotes = votes[f];
    }
  }
  return best;
}

/** What detection looks for, for error messages. */
export const DETECTION_HELP = [
  'binary blktrace (magic 0x65617407 in either byte order)',
  'tracefs text ("<comm>-<pid> [<cpu>] <flags> <sec>.<usec>: block_...: ..." or a "# tracer:" header)',
  'trace-cmd report ("cpus=N" header, "<comm>-<pid> [<cpu>] <sec>.<usec>: <event>:   ...")',
  'blkparse text ("MAJ,MIN CPU SEQ SEC.NSEC PID ACTION RWBS ...")',
  'strace ("[pid] [time] syscall(...) = result")',
].join('; ');

/** Read the first bytes of a (possibly compressed) file. */
export async function readDecompressedHead(path: string, n = HEAD_BYTES): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  for await (const chunk of openInputStream(path)) {
    const take = Math.min(chunk.length, n - got);
    out.set(chunk.subarray(0, take), got);
    got += take;
    if (got >= n) break;
  }
  return out.subarray(0, got);
}

/** Detect the format of an input file; throws InputError listing what was looked for. */
export async function detectInputFormat(path: string): Promise<InputFormat> {
  const head = await readDecompressedHead(path);
  if (head.length === 0) throw new InputError(path, 'empty input: cannot tell its format (expected one of: ' + DETECTION_HELP + ')');
  const f = detectFormatOfBytes(head);
  if (f) return f;
  throw new InputError(
    path,
    `unknown input format: looked for ${DETECTION_HELP}; the input starts with ${excerptOfBytes(head)} (name the format with --format)`,
    { offset: 0 },
  );
}
