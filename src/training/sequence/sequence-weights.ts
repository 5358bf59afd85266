import { createRng } from '../model/mlp';
/** The shape of a SASRec-style encoder: what both the weights' layout and every pass depend on. */
export interface SequenceShape {
  numItems: number;
  dim: number;
  /** Positions the encoder reads: the last `maxLength` items of a sequence, left-padded. */
  maxLength: number;
  numTypes: number;
  numBlocks: number;
}

export type FloatArray = Float32Array | Float64Array;

export interface BlockWeights<A extends FloatArray> {
  norm1Gain: A;
  norm1Bias: A;
  /** [dim][dim], row-major [in][out], as are the other matrices. */
  query: A;
  key: A;
  value: A;
  norm2Gain: A;
  norm2Bias: A;
  ffn1: A;
  ffn1Bias: A;
  ffn2: A;
  ffn2Bias: A;
}

/** Everything but the item table, laid out in one buffer so Adam and the export walk it as one. */
export interface DenseWeights<A extends FloatArray> {
  /** [maxLength][dim]; the most recent item sits at position maxLength - 1. */
  positions: A;
  /** [numTypes][dim]. */
  types: A;
  blocks: BlockWeights<A>[];
  finalGain: A;
  finalBias: A;
}

export const LAYER_NORM_EPS = 1e-5;

export function denseSize({ dim, maxLength, numTypes, numBlocks }: SequenceShape): number {
  return maxLength * dim + numTypes * dim + numBlocks * (5 * dim * dim + 7 * dim) + 2 * dim;
}

export function denseViews<A extends FloatArray>(buf: A, shape: SequenceShape): DenseWeights<A> {
  if (buf.length !== denseSize(shape)) throw new RangeError(`dense weights have ${buf.length} values, expected ${denseSize(shape)}`);
  const { dim } = shape;
  let at = 0;
  const take = (n: number) => buf.subarray(at, (at += n)) as A;
  const positions = take(shape.maxLength * dim);
  const types = take(shape.numTypes * dim);
  const blocks: BlockWeights<A>[] = [];
  for (let b = 0; b < shape.numBlocks; b++) {
    blocks.push({
      norm1Gain: take(dim),
      norm1Bias: take(dim),
      query: take(dim * dim),
      key: take(dim * dim),
      value: take(dim * dim),
      norm2Gain: take(dim),
      norm2Bias: take(dim),
      ffn1: take(dim * dim),
      ffn1Bias: take(dim),
      ffn2: take(dim * dim),
      ffn2Bias: take(dim),
    });
  }
  return { positions, types, blocks, finalGain: take(dim), finalBias: take(dim) };
}

/** The ranker trainer's seeded generator (mulberry32). */
export { createRng };

export function gaussian(rng: () => number): number {
  const u1 = rng() || Number.MIN_VALUE;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng());
}

/** Item rows ~ N(0, 1/dim) so initial scores against a layer-normed user vector are ~N(0, 1). */
export function initWeights(shape: SequenceShape, seed: number): { items: Float32Array; dense: Float64Array } {
  const rng = createRng(seed);
  const { dim } = shape;
  const items = new Float32Array((shape.numItems + 1) * dim);
  const itemStd = 1 / Math.sqrt(dim);
  for (let i = dim; i < items.length; i++) items[i] = gaussian(rng) * itemStd;
  const dense = new Float64Array(denseSize(shape));
  const w = denseViews(dense, shape);
  const fill = (a: Float64Array, std: number) => {
    for (let i = 0; i < a.length; i++) a[i] = gaussian(rng) * std;
  };
  fill(w.positions, 0.02);
  fill(w.types, 0.02);
  const xavier = Math.sqrt(1 / dim);
  for (const b of w.blocks) {
    b.norm1Gain.fill(1);
    b.norm2Gain.fill(1);
    fill(b.query, xavier);
    fill(b.key, xavier);
    fill(b.value, xavier);
    fill(b.ffn1, Math.sqrt(2 / dim));
    fill(b.ffn2, xavier);
  }
  w.finalGain.fill(1);
  return { items, dense };
}
