/** Candidates per sort: indices must fit in the low bits of a packed key. */
const INDEX_BITS = 21;
const INDEX_SPAN = 2 ** INDEX_BITS;
const UINT32_MAX = 0xffffffff;

const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);

/**
 * Indices 0..n-1 ordered by `scores`, best first; equal scores keep index order and NaN
 * sorts last. Same order as `sort((a, b) => scores[b] - scores[a] || a - b)`, but as one
 * native sort of numbers: each key packs the score's float32 bits, mapped so that bigger
 * scores give smaller keys, above the index (32 + 21 bits, exact in a float64). A
 * comparator sort of 500 candidates was ~3% of a feed request's CPU.
 */
export function orderByScore(scores: Float32Array, n = scores.length): Uint32Array {
  if (n > scores.length || n > INDEX_SPAN) throw new RangeError(`orderByScore: ${n} of ${scores.length} scores (at most ${INDEX_SPAN})`);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    let ordered = 0; // NaN: the smallest
    if (s === s) {
      f32[0] = s + 0; // -0 -> +0
      const b = bits[0];
      // IEEE 754 bits as an unsigned integer that grows with the value.
      ordered = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    }
    keys[i] = (UINT32_MAX - ordered) * INDEX_SPAN + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = keys[k] % INDEX_SPAN;
  return order;
}
