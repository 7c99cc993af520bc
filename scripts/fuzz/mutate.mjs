/**
 * Seeded mutations of real inputs: every function takes the generator (mulberry32 from
 * src/util/seeded-random.ts) and the bytes, and returns new bytes; the same seed gives the same
 * input, so a finding is reproduced from its kind, seed and index alone.
 */

/** Numbers at the edges readers get wrong: 2^31, 2^32, 2^53, 2^63, 2^64 and their neighbours, signs, junk. */
export const EDGE_NUMBERS = [
  '0',
  '1',
  '-1',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '99999999999999999999999999',
  '-9223372036854775809',
  '1e309',
  'NaN',
  '0x7fffffff',
  '00000000000000000001',
  '',
  '4611686018427387904',
];

/** Byte values that delimit fields in the text formats, and a few that are not text at all. */
const EDGE_BYTES = [0, 9, 10, 13, 32, 34, 39, 40, 41, 44, 45, 46, 47, 48, 57, 58, 60, 62, 91, 92, 93, 123, 125, 127, 128, 0xc3, 0xff];

/** Integers for binary fields (u8..u64, both byte orders). */
const EDGE_U64 = [
  0n,
  1n,
  0x7fn,
  0x80n,
  0xffn,
  0xffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  (1n << 53n) - 1n,
  1n << 53n,
  (1n << 53n) + 1n,
  1n << 62n,
  (1n << 63n) - 1n,
  1n << 63n,
  (1n << 64n) - 1n,
];

const int = (rand, n) => Math.floor(rand() * n);
const pick = (rand, list) => list[int(rand, list.length)];

function splice(bytes, at, remove, insert) {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const ascii = (s) => new TextEncoder().encode(s);

/** Start offsets of the lines of a text. */
function lineStarts(bytes) {
  const starts = [0];
  for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === 10) starts.push(i + 1);
  return starts;
}

/** Text mutations: numbers swapped for edge values, lines dropped, doubled or swapped, bytes and escapes planted, cuts. */
const TEXT_MUTATIONS = [
  function edgeNumber(rand, b) {
    // a run of digits somewhere after a random point becomes an edge value
    for (let tries = 0; tries < 8; tries++) {
      let i = int(rand, b.length);
      while (i < b.length && !(b[i] >= 48 && b[i] <= 57)) i++;
      if (i >= b.length) continue;
      let e = i;
      while (e < b.length && b[e] >= 48 && b[e] <= 57) e++;
      return splice(b, i, e - i, ascii(pick(rand, EDGE_NUMBERS)));
    }
    return b;
  },
  function edgeByte(rand, b) {
    if (b.length === 0) return b;
    const out = b.slice();
    out[int(rand, b.length)] = pick(rand, EDGE_BYTES);
    return out;
  },
  function dropLine(rand, b) {
    const s = lineStarts(b);
    const k = int(rand, s.length);
    return splice(b, s[k], (s[k + 1] ?? b.length) - s[k], new Uint8Array(0));
  },
  function doubleLine(rand, b) {
    const s = lineStarts(b);
    const k = int(rand, s.length);
    const line = b.slice(s[k], s[k + 1] ?? b.length);
    return splice(b, s[int(rand, s.length)], 0, line);
  },
  function swapLines(rand, b) {
    const s = lineStarts(b);
    if (s.length < 3) return b;
    const k = 1 + int(rand, s.length - 2);
    const a = b.slice(s[k - 1], s[k]);
    const c = b.slice(s[k], s[k + 1] ?? b.length);
    const out = splice(b, s[k - 1], a.length + c.length, new Uint8Array([...c, ...(c[c.length - 1] === 10 ? [] : [10]), ...a]));
    return out;
  },
  function junk(rand, b) {
    const n = 1 + int(rand, 48);
    const j = new Uint8Array(n);
    for (let i = 0; i < n; i++) j[i] = rand() < 0.5 ? pick(rand, EDGE_BYTES) : int(rand, 256);
    return splice(b, int(rand, b.length + 1), 0, j);
  },
  function escape(rand, b) {
    // strace string escapes (and broken ones) inside a quoted string
    const at = b.indexOf(34, int(rand, b.length));
    if (at < 0) return b;
    return splice(
      b,
      at + 1,
      0,
      ascii(pick(rand, ['\\n', '\\"', '\\\\', '\\t', '\\0', '\\777', '\\x', '\\x4', '\\', '\\u', '\\3', '"', '\\r\\n'])),
    );
  },
  function cut(rand, b) {
    return b.subarray(0, int(rand, b.length + 1));
  },
  function copyRange(rand, b) {
    const from = int(rand, b.length);
    const len = Math.min(b.length - from, 1 + int(rand, 400));
    return splice(b, int(rand, b.length + 1), 0, b.slice(from, from + len));
  },
];

/** Binary mutations: edge integers written at an offset (biased to `hot` ranges), bit flips, cuts, zeroed and copied ranges. */
function binaryMutations(hot) {
  const offset = (rand, b) => {
    if (hot.length && rand() < 0.8) {
      const [s, e] = pick(rand, hot);
      // hot ranges come from the unmutated input: clamp to what is left
      return Math.max(0, Math.min(b.length - 1, s + int(rand, Math.max(1, Math.min(e, b.length) - s))));
    }
    return int(rand, b.length);
  };
  return [
    function edgeInt(rand, b) {
      if (b.length < 8) return b;
      const out = b.slice();
      const at = Math.min(offset(rand, b) & ~3, b.length - 8);
      const width = pick(rand, [1, 2, 4, 8]);
      const v = pick(rand, EDGE_U64) & ((1n << BigInt(width * 8)) - 1n);
      const little = rand() < 0.7;
      for (let k = 0; k < width; k++) out[at + (little ? k : width - 1 - k)] = Number((v >> BigInt(8 * k)) & 0xffn);
      return out;
    },
    function flip(rand, b) {
      if (b.length === 0) return b;
      const out = b.slice();
      const n = 1 + int(rand, 4);
      for (let k = 0; k < n; k++) {
        const at = offset(rand, b);
        out[at] ^= 1 << int(rand, 8);
      }
      return out;
    },
    function randomByte(rand, b) {
      if (b.length === 0) return b;
      const out = b.slice();
      out[offset(rand, b)] = int(rand, 256);
      return out;
    },
    function cut(rand, b) {
      return b.subarray(0, int(rand, b.length + 1));
    },
    function zeroRange(rand, b) {
      const out = b.slice();
      const at = offset(rand, b);
      out.fill(0, at, Math.min(b.length, at + 1 + int(rand, 256)));
      return out;
    },
    function copyRange(rand, b) {
      const from = offset(rand, b);
      const len = Math.min(b.length - from, 1 + int(rand, 512));
      const to = offset(rand, b);
      const out = b.slice();
      out.set(b.subarray(from, from + Math.min(len, b.length - to)), to);
      return out;
    },
  ];
}

/** 1 to 4 mutations of text bytes. */
export function mutateText(rand, bytes) {
  let b = bytes;
  const n = 1 + int(rand, 4);
  for (let k = 0; k < n && b.length > 0; k++) b = pick(rand, TEXT_MUTATIONS)(rand, b);
  return b;
}

/** 1 to 4 mutations of binary bytes; `hot`: [start, end) ranges that hold the structures worth hitting. */
export function mutateBinary(rand, bytes, hot = []) {
  const muts = binaryMutations(hot);
  let b = bytes;
  const n = 1 + int(rand, 4);
  // an earlier cut may leave nothing to mutate
  for (let k = 0; k < n && b.length > 0; k++) b = pick(rand, muts)(rand, b);
  return b;
}
