import { CatalogVideo } from './catalog-video';
import { FeatureContext, featureByName, FeatureDefinition, UserContext, videoRowSlot } from './feature-registry';
import { CandidateColumns } from './video-columns';
import { VideoStats } from './video-stats';

/**
 * Shipped with every model (model_versions.feature_spec): which registry features
 * feed the model, in column order, and what its outputs mean. A model from any tool
 * (PyTorch, this repo's trainer, ...) is served by writing this JSON next to it.
 */
export interface FeatureSpec {
  /** ONNX input name; a float32 tensor [N, features.length]. */
  input: string;
  /** ONNX output name; a float32 tensor [N, heads.length] of probabilities. */
  output: string;
  features: string[];
  /** Objective per output column, e.g. like, complete, share, skip. */
  heads: string[];
}

export class FeatureSpecError extends Error {}

/** Checks a spec against the registry; throws naming what is wrong. */
export function validateFeatureSpec(spec: unknown): FeatureSpec {
  const s = spec as Partial<FeatureSpec> | null;
  const problems: string[] = [];
  if (!s || typeof s !== 'object') throw new FeatureSpecError('feature spec must be an object');
  if (typeof s.input !== 'string' || !s.input) problems.push('input must be a non-empty string');
  if (typeof s.output !== 'string' || !s.output) problems.push('output must be a non-empty string');
  if (!Array.isArray(s.features) || s.features.length === 0) problems.push('features must be a non-empty array');
  else {
    const unknown = s.features.filter((f) => typeof f !== 'string' || !featureByName(f));
    if (unknown.length) problems.push(`unknown features: ${unknown.join(', ')}`);
  }
  if (!Array.isArray(s.heads) || s.heads.length === 0 || s.heads.some((h) => typeof h !== 'string')) {
    problems.push('heads must be a non-empty array of strings');
  }
  if (problems.length) throw new FeatureSpecError(`invalid feature spec: ${problems.join('; ')}`);
  return s as FeatureSpec;
}

/** Resolves a validated spec's feature names to their definitions once, for fast row building. */
export function resolveFeatures(spec: FeatureSpec): FeatureDefinition[] {
  return spec.features.map((name) => {
    const def = featureByName(name);
    if (!def) throw new FeatureSpecError(`unknown feature: ${name}`);
    return def;
  });
}

/**
 * Builds the row-major float32 input matrix for one user and many candidates:
 * row i is `videos[i]` with `stats[i]`. Used by serving and by offline training alike.
 * With `columns` (serving: the candidates' slots in dense VideoColumns whose rows were
 * computed from the same stats), video-only features are copied from the slot's row and
 * features with a `columnFill` fill their column from the columns; the rest are computed
 * as without them.
 */
export function buildFeatureMatrix(
  features: FeatureDefinition[],
  user: UserContext,
  videos: CatalogVideo[],
  stats: VideoStats[],
  out?: Float32Array,
  columns?: CandidateColumns,
): Float32Array {
  const width = features.length;
  const n = videos.length;
  const matrix = out && out.length >= n * width ? out : new Float32Array(n * width);
  const ctx = { ...user } as FeatureContext;
  const perVideo: number[] = [];
  const fromRows: number[] = [];
  const rowSlots: number[] = [];
  // One array for every column fill (the history signals share a lookup keyed by it).
  const slots = columns && (columns.slots.length === n ? columns.slots : columns.slots.subarray(0, n));
  if (columns && slots) columns.table.touch(slots);
  for (let j = 0; j < width; j++) {
    const slot = columns ? videoRowSlot(features[j].name) : undefined;
    if (slot !== undefined) {
      fromRows.push(j);
      rowSlots.push(slot);
      continue;
    }
    if (columns && slots && features[j].columnFill) {
      features[j].columnFill!(ctx, columns.table)(slots, matrix, width, j);
      zeroNonFinite(matrix, n, width, j);
      continue;
    }
    if (!features[j].perUser) {
      perVideo.push(j);
      continue;
    }
    if (n === 0) continue;
    ctx.video = videos[0];
    ctx.stats = stats[0];
    const v = features[j].compute(ctx);
    const value = Number.isFinite(v) ? v : 0;
    for (let i = 0; i < n; i++) matrix[i * width + j] = value;
  }
  if (columns && slots && fromRows.length > 0) {
    const rows = columns.table.rows;
    const rowWidth = columns.table.rowWidth;
    for (let i = 0; i < n; i++) {
      const base = i * width;
      const row = slots[i] * rowWidth;
      for (let k = 0; k < fromRows.length; k++) matrix[base + fromRows[k]] = rows[row + rowSlots[k]];
    }
  }
  if (perVideo.length === 0) return matrix;
  for (let i = 0; i < n; i++) {
    ctx.video = videos[i];
    ctx.stats = stats[i];
    const base = i * width;
    for (let k = 0; k < perVideo.length; k++) {
      const j = perVideo[k];
      const v = features[j].compute(ctx);
      matrix[base + j] = Number.isFinite(v) ? v : 0;
    }
  }
  return matrix;
}

/** NaN and ±Infinity (a value too large for float32 included) in column `j` become 0, as `compute`'s values do. */
function zeroNonFinite(matrix: Float32Array, n: number, width: number, j: number): void {
  for (let i = 0, at = j; i < n; i++, at += width) {
    const v = matrix[at];
    if (v - v !== 0) matrix[at] = 0;
  }
}
