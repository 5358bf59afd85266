import { createRng } from './mlp';

export interface SyntheticData {
  x: Float32Array;
  y: Float32Array;
  mask: Float32Array;
  rows: number;
  dim: number;
  heads: number;
}

/**
 * Deterministic multi-head binary dataset for tests and benchmarks.
 * Features have per-column offsets/scales (so standardisation matters);
 * each head's logit mixes a random linear part with one pairwise interaction
 * (so a hidden layer helps). `missingRate` blanks labels through the mask.
 * The seed only drives sampling; the labelling rule is fixed per (dim, heads).
 */
export function makeSyntheticData(rows: number, dim: number, heads: number, seed: number, missingRate = 0): SyntheticData {
  if (dim < 3) throw new RangeError('dim must be at least 3');
  const rng = createRng(seed);
  // The task (coefficients) depends only on the shape, so different seeds give
  // train/test samples of the same problem.
  const taskRng = createRng(dim * 7919 + heads);
  const normal = (r: () => number): number => Math.sqrt(-2 * Math.log(r() || Number.MIN_VALUE)) * Math.cos(2 * Math.PI * r());

  const offset = Array.from({ length: dim }, (_, k) => (k % 7) * 10 - 20);
  const scale = Array.from({ length: dim }, (_, k) => 0.5 + (k % 5) * 2);
  const coef = Array.from({ length: heads }, () => {
    const a = Array.from({ length: dim }, () => normal(taskRng));
    const norm = Math.hypot(...a);
    return a.map((v) => (3 * v) / norm);
  });

  const x = new Float32Array(rows * dim);
  const y = new Float32Array(rows * heads);
  const mask = new Float32Array(rows * heads);
  const s = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < dim; k++) {
      s[k] = normal(rng);
      x[r * dim + k] = s[k] * scale[k] + offset[k];
    }
    for (let h = 0; h < heads; h++) {
      let z = 2 * s[h % dim] * s[(h + 1) % dim];
      for (let k = 0; k < dim; k++) z += coef[h][k] * s[k];
      y[r * heads + h] = rng() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      mask[r * heads + h] = rng() < missingRate ? 0 : 1;
    }
  }
  return { x, y, mask, rows, dim, heads };
}
