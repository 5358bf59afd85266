import { performance } from 'node:perf_hooks';
import { FeatureDefinition } from '../features/feature-registry';
import { buildFeatureMatrix, resolveFeatures } from '../features/feature-spec';
import { Float32Pool } from './float32-pool';
import { Ranker, RankRequest, RankResult } from './ranker';

/** Each objective's best model-free estimate: the video's smoothed rate for it. */
const HEAD_RATE_FEATURES: Record<string, string> = {
  like: 'video_like_rate',
  complete: 'video_complete_rate',
  share: 'video_share_rate',
  skip: 'video_skip_rate',
};

/** Personal affinity on top of the popularity estimates. */
const AFFINITY_TERMS: [string, number][] = [
  ['user_video_cosine', 0.5],
  ['user_category_share', 0.4],
  ['user_follows_creator', 0.3],
  ['video_impressions_log', 0.01],
  // Long-horizon popularity, so a cold catalog ranks no worse than popularity.
  ['video_popularity_log', 0.05],
  // What the user's last videos say (the item-to-item score): the strongest evidence of what
  // comes next, weighed so that it orders the page wherever it has something to say; the
  // terms above then rank what it knows little about, and cold users.
  ['history_similarity', 2],
  ['history_next', 2],
];

export const HEURISTIC_VERSION = 'heuristic';

/** The heuristic's linear terms (feature, coefficient) for these head weights: training scores held-out data with them too. */
export function heuristicTerms(weights: ReadonlyMap<string, number>): [string, number][] {
  return [...Object.entries(HEAD_RATE_FEATURES).map(([head, feature]): [string, number] => [feature, weights.get(head) ?? 0]), ...AFFINITY_TERMS];
}

/** Scores of `rows` rows of a matrix whose columns are the terms' features, in order. */
export function heuristicScores(coefficients: ArrayLike<number>, matrix: ArrayLike<number>, rows: number, out: Float32Array = new Float32Array(rows)): Float32Array {
  const width = coefficients.length;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < width; j++) s += coefficients[j] * matrix[i * width + j];
    out[i] = s;
  }
  return out;
}

/**
 * Ranking with no model (none active yet, or it failed): the blend of the videos'
 * smoothed engagement rates with the same head weights as the model, plus the
 * user's taste, category and follow affinity. (Users with no history never reach a
 * ranker: FeedService serves them the popularity order.)
 */
export class HeuristicRanker implements Ranker {
  readonly version = HEURISTIC_VERSION;
  readonly featureNames: readonly string[];
  private readonly features: FeatureDefinition[];
  private readonly coefficients: Float32Array;
  private readonly matrices: Float32Pool;
  private readonly scoreBuffers: Float32Pool;

  constructor(weights: ReadonlyMap<string, number>, maxRows: number) {
    const terms = heuristicTerms(weights);
    this.featureNames = terms.map(([name]) => name);
    this.features = resolveFeatures({ input: 'x', output: 'y', features: [...this.featureNames], heads: ['score'] });
    this.coefficients = Float32Array.from(terms, ([, w]) => w);
    this.matrices = new Float32Pool(maxRows * this.features.length);
    this.scoreBuffers = new Float32Pool(maxRows);
  }

  rank(request: RankRequest): Promise<RankResult> {
    const started = performance.now();
    const n = request.videos.length;
    const width = this.features.length;
    const matrix = this.matrices.acquire(n * width);
    const scores = this.scoreBuffers.acquire(n);
    buildFeatureMatrix(this.features, request.user, request.videos, request.stats, matrix, request.columns);
    heuristicScores(this.coefficients, matrix, n, scores);
    return Promise.resolve({
      scores,
      features: matrix,
      width,
      featureNames: this.featureNames,
      version: this.version,
      computeMs: performance.now() - started,
      release: () => {
        this.matrices.release(matrix);
        this.scoreBuffers.release(scores);
      },
    });
  }
}
