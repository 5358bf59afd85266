import { kthLargest } from '../../common/top-k';

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
  const keys = packedKeys(scores, n);
  keys.sort();
  return indicesOf(keys);
}

/**
 * The first `m` indices of `orderByScore(scores, n)`: the m-th best key is selected
 * (quickselect), and only the keys up to it are sorted. The reranker orders the best 4
 * per page slot first (80 of 500 for a page of 20): sorting all 500 was 53–85 µs of a
 * feed's api CPU, ~2.5%.
 */
export function bestByScore(scores: Float32Array, n: number, m: number): Uint32Array {
  if (m >= n) return orderByScore(scores, n);
  if (m <= 0) return new Uint32Array(0);
  const keys = packedKeys(scores, n);
  return indicesOf(sortedBest(keys, bestCutoff(keys, m), m));
}

/**
 * `orderByScore(scores, length)`, worked out only as far as it is read: the best `prefix`
 * first (as bestByScore); the first time `at` reads past them, the keys after the
 * prefix, kept from that selection, are sorted and appended (not the whole order again:
 * where the caps send the reranker past the prefix, as they do on most pages of a catalog
 * with few categories, that cost a selection and the whole sort).
 */
export class LazyScoreOrder {
  private order: Uint32Array;
  /** The packed keys and the prefix's last one, until `at` reads past the prefix. */
  private keys: Float64Array | null = null;
  private cutoff = 0;

  constructor(
    scores: Float32Array,
    readonly length: number,
    prefix: number,
  ) {
    const keys = packedKeys(scores, length);
    if (prefix >= length || prefix <= 0) {
      keys.sort();
      this.order = indicesOf(keys);
      return;
    }
    this.cutoff = bestCutoff(keys, prefix);
    this.order = indicesOf(sortedBest(keys, this.cutoff, prefix));
    this.keys = keys;
  }

  /** The index in place `k` (0 = best), for k < length. */
  at(k: number): number {
    if (k >= this.order.length && this.keys) {
      const { keys, cutoff } = this;
      this.keys = null;
      const rest = new Float64Array(this.length - this.order.length);
      let r = 0;
      for (let i = 0; i < keys.length; i++) if (keys[i] > cutoff) rest[r++] = keys[i];
      rest.sort();
      const whole = new Uint32Array(this.length);
      whole.set(this.order);
      whole.set(indicesOf(rest), this.order.length);
      this.order = whole;
    }
    return this.order[k];
  }
}

/** The m-th smallest key, 0 < m < keys.length. Keys are distinct (each holds its index): the m best are exactly those <= it. */
function bestCutoff(keys: Float64Array, m: number): number {
  return kthLargest(keys, keys.length - m + 1);
}

/** The m keys up to `cutoff`, sorted. */
function sortedBest(keys: Float64Array, cutoff: number, m: number): Float64Array {
  const best = new Float64Array(m);
  let j = 0;
  for (let i = 0; i < keys.length; i++) if (keys[i] <= cutoff) best[j++] = keys[i];
  return best.sort();
}

function packedKeys(scores: Float32Array, n: number): Float64Array {
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
  return keys;
}

function indicesOf(sortedKeys: Float64Array): Uint32Array {
  const order = new Uint32Array(sortedKeys.length);
  for (let k = 0; k < sortedKeys.length; k++) order[k] = sortedKeys[k] % INDEX_SPAN;
  return order;
}
