// Block trace text inputs for the benches: the block I/O event lines of the real capture
// test/fixtures/block/ext4 (tracefs text, its trace-cmd report rendering, its blkparse rendering),
// repeated to any number of lines with the timestamps shifted by 10 s per copy.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const ftraceEvent = (l) => /: block_(bio|rq|getrq|split|plug|unplug)/.test(l) && !/block_(io_|touch|dirty)/.test(l);
const shiftFtrace = (l, copy) => l.replace(/ (\d+)\.(\d+): /, (_, s, f) => ` ${Number(s) + copy * 10}.${f}: `);
const shiftBlkparse = (l, copy) => l.replace(/^(\s*\S+\s+\S+\s+\S+\s+)(\d+)\./, (_, h, s) => `${h}${Number(s) + copy * 10}.`);

/** By kind: the fixture, which of its lines are events, how to shift a line's time by `copy` periods. */
export const BLOCK_TEXT_INPUTS = {
  tracefs: { fixture: 'ext4.trace.gz', keep: ftraceEvent, shift: shiftFtrace },
  'trace-cmd': { fixture: 'ext4.trace-cmd.txt.gz', keep: ftraceEvent, shift: shiftFtrace },
  blkparse: { fixture: 'ext4.blkparse.txt.gz', keep: (l) => /^\s*\d+,\d+\s/.test(l), shift: shiftBlkparse },
};

/** Write `n` event lines of the fixture of `kind` to `file`; returns the lines written. */
export function replicateBlockText(kind, file, n) {
  const { fixture, keep, shift } = BLOCK_TEXT_INPUTS[kind];
  const text = gunzipSync(readFileSync(new URL(`../test/fixtures/block/${fixture}`, import.meta.url))).toString('utf8');
  const lines = text.split('\n').filter(keep);
  const fd = openSync(file, 'w');
  let written = 0;
  for (let copy = 0; written < n; copy++) {
    const out = [];
    for (const l of lines) {
      if (written++ >= n) break;
      out.push(shift(l, copy));
    }
    writeSync(fd, out.join('\n') + '\n');
  }
  closeSync(fd);
  return written;
}
