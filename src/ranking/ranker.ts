import { CatalogVideo } from '../features/catalog-video';
import { UserContext } from '../features/feature-registry';
import { CandidateColumns } from '../features/video-columns';
import { VideoStats } from '../features/video-stats';

export interface RankRequest {
  user: UserContext;
  /** Who the feed is for: puts the request in a stable A/B variant when two models are split. */
  userId?: string;
  videos: CatalogVideo[];
  /** Index-aligned with `videos`. */
  stats: VideoStats[];
  /**
   * Optional (serving): the candidates' slots in dense VideoColumns, index-aligned with
   * `videos`, whose rows were computed from the same stats. Speeds up the feature matrix.
   */
  columns?: CandidateColumns;
}

export interface RankResult {
  /** Blended score per candidate, index-aligned with the request's videos (may be longer: read the first n). */
  scores: Float32Array;
  /** Row-major inputs the ranker saw, `width` values per candidate, for the impression log. */
  features: Float32Array;
  width: number;
  /** Names of the `features` columns, in order. */
  featureNames?: readonly string[];
  /** The model's heads, and their probabilities before the blend, row-major `[n, headNames.length]` (models with heads only). */
  headNames?: readonly string[];
  headScores?: Float32Array;
  /** What produced the scores: a model_versions id, or `heuristic`. */
  version: string;
  /** Time spent scoring: feature matrix and blend, plus inference as observed (including event-loop waits). */
  computeMs: number;
  /** Hands the buffers back for reuse; read nothing from this result afterwards. */
  release(): void;
}

/** Why a request was not scored by the model it should have been. */
export type RankFallbackReason = 'no_model' | 'model_slow' | 'model_error';

/**
 * Scores candidates with one model. OnnxRanker (an ONNX model) and HeuristicRanker are
 * the implementations ModelRuntime swaps between.
 */
export interface Ranker {
  /** Reported with every impression so training knows which ranker served it. */
  readonly version: string;
  /** Names of the columns of `RankResult.features`, in order. */
  readonly featureNames: readonly string[];
  rank(request: RankRequest): Promise<RankResult>;
}

/**
 * What the feed's scorer stage ranks with, bound to the `RANKER` token in FeedModule.
 * The default is ModelRuntime (the active ONNX model, hot-swapped, with the heuristic as
 * fallback); a fork binds its own class to rank with something else.
 */
export interface FeedRanker {
  /** Scores every candidate; `fallback` says why a stand-in ranked them, or null. */
  rank(request: RankRequest): Promise<{ result: RankResult; fallback: RankFallbackReason | null }>;
}

export const RANKER = Symbol('RANKER');
