import { performance } from 'node:perf_hooks';
import { OnnxModelSession, OnnxSessionError, SERVING_SESSION_OPTIONS } from '../models/onnx-session';
import { FeatureDefinition } from '../features/feature-registry';
import { buildFeatureMatrix, FeatureSpec, resolveFeatures } from '../features/feature-spec';
import { blendHeads, weightsForHeads } from './head-weights';
import { Float32Pool } from './float32-pool';
import { Ranker, RankRequest, RankResult } from './ranker';

export class ModelRejectedError extends Error {
  constructor(
    readonly reason: 'checksum' | 'spec' | 'load' | 'warmup',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves one ONNX model: builds the feature matrix its spec names, runs one
 * batched inference and blends the heads. Retired after a swap once its last
 * in-flight request finishes.
 */
export class OnnxRanker implements Ranker {
  readonly featureNames: readonly string[];
  private readonly features: FeatureDefinition[];
  private readonly width: number;
  private readonly heads: number;
  private readonly headWeights: Float32Array;
  private readonly matrices: Float32Pool;
  private readonly scoreBuffers: Float32Pool;
  private inflight = 0;
  private retired = false;
  private released = false;

  private constructor(
    readonly version: string,
    readonly spec: FeatureSpec,
    private readonly session: OnnxModelSession,
    weights: ReadonlyMap<string, number>,
    maxRows: number,
  ) {
    this.features = resolveFeatures(spec);
    this.featureNames = [...spec.features];
    this.width = this.features.length;
    this.heads = spec.heads.length;
    this.headWeights = weightsForHeads(spec.heads, weights);
    this.matrices = new Float32Pool(maxRows * this.width);
    this.scoreBuffers = new Float32Pool(maxRows);
  }

  /**
   * Loads the model and proves it can serve: the spec's input and output exist and
   * a warm-up batch of `maxRows` rows returns [rows, heads] finite scores.
   */
  static async create(
    version: string,
    artifact: Uint8Array,
    spec: FeatureSpec,
    weights: ReadonlyMap<string, number>,
    maxRows: number,
  ): Promise<OnnxRanker> {
    let session: OnnxModelSession;
    try {
      session = await OnnxModelSession.open(artifact, spec, SERVING_SESSION_OPTIONS);
    } catch (err) {
      if (err instanceof OnnxSessionError && err.reason === 'spec') throw new ModelRejectedError('spec', err.message);
      if (err instanceof OnnxSessionError) throw new ModelRejectedError('load', err.message);
      throw err;
    }
    const ranker = new OnnxRanker(version, spec, session, weights, maxRows);
    try {
      await ranker.warm(maxRows);
      return ranker;
    } catch (err) {
      await session.release();
      if (err instanceof ModelRejectedError) throw err;
      throw new ModelRejectedError('warmup', `warm-up inference failed: ${(err as Error).message}`);
    }
  }

  async rank(request: RankRequest): Promise<RankResult> {
    const n = request.videos.length;
    const matrix = this.matrices.acquire(n * this.width);
    const scores = this.scoreBuffers.acquire(n);
    this.inflight++;
    let computeMs: number;
    let heads: Float32Array;
    try {
      const started = performance.now();
      buildFeatureMatrix(this.features, request.user, request.videos, request.stats, matrix, request.columns);
      computeMs = performance.now() - started;
      const { scores: probs, inferenceMs } = await this.session.run(matrix, n);
      const blendStarted = performance.now();
      blendHeads(probs, n, this.headWeights, scores);
      heads = probs;
      computeMs += inferenceMs + performance.now() - blendStarted;
    } catch (err) {
      this.matrices.release(matrix);
      this.scoreBuffers.release(scores);
      throw err;
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.dispose();
    }
    return {
      scores,
      features: matrix,
      width: this.width,
      featureNames: this.featureNames,
      headNames: this.spec.heads,
      headScores: heads,
      version: this.version,
      computeMs,
      release: () => {
        this.matrices.release(matrix);
        this.scoreBuffers.release(scores);
      },
    };
  }

  /** Stops taking new work; the session is released when the last in-flight request is done. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) void this.dispose();
  }

  private async warm(rows: number): Promise<void> {
    const matrix = this.matrices.acquire(rows * this.width);
    try {
      matrix.fill(0.5);
      const { scores: probs } = await this.session.run(matrix, rows);
      for (let i = 0; i < rows * this.heads; i++) {
        if (!Number.isFinite(probs[i])) throw new ModelRejectedError('warmup', 'warm-up produced non-finite scores');
      }
    } finally {
      this.matrices.release(matrix);
    }
  }

  private async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
