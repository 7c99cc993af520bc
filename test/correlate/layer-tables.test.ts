/**
 * block_requests / app_io → correlation arrays: 64-bit times and addresses become exact float64
 * offsets from the earliest time (no BigInt per row), checked against BigInt arithmetic, and a
 * value 2^53 or more from the base is refused rather than rounded.
 */
import { describe, expect, it } from 'vitest';
import { dictionary, int32, int64, tableFromArrays, utf8 } from '@uwdata/flechette';
import { blockLayerFromTable } from '../../src/correlate/layer-tables.js';

function requests(rows: { sector: bigint; bytes: bigint; issue: bigint; complete: bigint | null; rwbs?: string }[]) {
  return tableFromArrays(
    {
      id: Int32Array.from(rows, (_, i) => i),
      sector: BigInt64Array.from(rows, (r) => r.sector),
      bytes: BigInt64Array.from(rows, (r) => r.bytes),
      issue_ns: BigInt64Array.from(rows, (r) => r.issue),
      complete_ns: rows.map((r) => r.complete),
      op: rows.map(() => 'read'),
      rwbs: rows.map((r) => r.rwbs ?? 'R'),
    },
    { types: { id: int32(), complete_ns: int64(), op: dictionary(utf8()), rwbs: dictionary(utf8()) }, useBigInt: true },
  );
}

describe('blockLayerFromTable', () => {
  it('gives exact offsets for times far from zero and from each other, and addresses up to 2^53', () => {
    const base = 1_764_000_000_123_456_789n; // an epoch time in ns: above 2^53, so no float64 of its own
    const rows = [
      { sector: 0n, bytes: 4096n, issue: base + 5n, complete: base + 1_000_007n },
      { sector: 17_592_186_044_414n, bytes: 512n, issue: base, complete: null }, // ends 512 bytes below 2^53
      { sector: 123_456_789n, bytes: 1_048_576n, issue: base + (1n << 52n) + 3n, complete: base + (1n << 52n) + 4_294_967_297n },
      { sector: 8n, bytes: 8192n, issue: base + 4_294_967_295n, complete: base + 4_294_967_296n * 3n + 1n },
    ];
    const { layer } = blockLayerFromTable(requests(rows));
    expect(layer.baseNs).toBe(base);
    rows.forEach((r, k) => {
      expect(BigInt(layer.issue[k]!)).toBe(r.issue - base);
      expect(BigInt(layer.complete[k]!)).toBe((r.complete ?? r.issue) - base);
      expect(BigInt(layer.start[k]!)).toBe(r.sector * 512n);
      expect(BigInt(layer.end[k]!)).toBe(r.sector * 512n + r.bytes);
    });
  });

  it('refuses a time 2^53 ns or more after the earliest, and an address past 2^53', () => {
    const base = 1_000_000n;
    expect(() =>
      blockLayerFromTable(
        requests([
          { sector: 0n, bytes: 512n, issue: base, complete: base + 1n },
          { sector: 0n, bytes: 512n, issue: base + (1n << 53n) + 1n, complete: null },
        ]),
      ),
    ).toThrow(/block_requests: block_requests\.issue_ns \d+ \(row 1\) is more than 2\^53 from 1000000/);
    expect(() => blockLayerFromTable(requests([{ sector: 17_592_186_044_415n, bytes: 512n, issue: base, complete: null }]))).toThrow(
      /row 0: byte address .* exceeds 2\^53/,
    );
  });

  it('reads REQ_RAHEAD, REQ_SYNC and REQ_META from rwbs as blk_fill_rwbs writes it', () => {
    // [F preflush] op [F fua] [A rahead] [S sync] [M meta]
    const rwbs = ['R', 'RA', 'RAS', 'W', 'WS', 'WSM', 'FWFS', 'WFS', 'RM', 'FF'];
    const { layer } = blockLayerFromTable(
      requests(rwbs.map((x, i) => ({ sector: BigInt(8 * i), bytes: 4096n, issue: BigInt(i), complete: BigInt(i + 1), rwbs: x }))),
    );
    expect(Array.from(layer.readahead)).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(layer.syncFlag!)).toEqual([0, 0, 1, 0, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(layer.meta)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 1, 0]);
  });
});
