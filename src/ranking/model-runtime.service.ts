import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { FeatureSpecError, validateFeatureSpec } from '../features/feature-spec';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { parseHeadWeights } from './head-weights';
import { HEURISTIC_VERSION, HeuristicRanker } from './heuristic-ranker';
import { ModelVersionRepository } from './model-version.repository';
import { ModelRejectedError, OnnxRanker } from './onnx-ranker';
import { RankRequest, RankResult } from './ranker';

export type RankFallbackReason = 'no_model' | 'model_slow' | 'model_error';

/** How long the heuristic stands in after an inference slower than MODEL_SLOW_MS. */
const BREAKER_COOLDOWN_MS = 5000;

/**
 * The ranking runtime of an api instance. Loads the ACTIVE model_versions row at
 * boot (checksum, feature spec, onnxruntime session, warm-up), then hot-swaps when
 * a version is activated: the new session is loaded and warmed while the current
 * one serves, and only then does the reference switch. A model that fails any
 * check is rejected and the current one keeps serving. With no usable model, the
 * heuristic ranker answers and the fallback is reported.
 */
@Injectable()
export class ModelRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelRuntime.name);
  private readonly heuristic: HeuristicRanker;
  private readonly weights: Map<string, number>;
  private model: OnnxRanker | null = null;
  private rejected: string | null = null;
  private breakerUntil = 0;
  private loading: Promise<void> = Promise.resolve();
  private poller: NodeJS.Timeout | null = null;
  private readonly loads: Counter<'result' | 'reason'>;
  private readonly active: Gauge<'version'>;
  private readonly inference: Histogram<'ranker'>;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: ModelVersionRepository,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
    registry: Registry,
  ) {
    this.weights = parseHeadWeights(config.RANK_WEIGHTS);
    this.heuristic = new HeuristicRanker(this.weights, config.FEED_CANDIDATES);
    this.loads = new Counter({
      name: 'reelrank_model_loads_total',
      help: 'Model versions loaded (result=loaded) or rejected (with the reason) by this instance',
      labelNames: ['result', 'reason'],
      registers: [registry],
    });
    this.active = new Gauge({
      name: 'reelrank_model_active',
      help: 'The ranker this instance serves with (1 for the current version)',
      labelNames: ['version'],
      registers: [registry],
    });
    this.inference = new Histogram({
      name: 'reelrank_model_inference_seconds',
      help: 'Compute time to score one feed request (feature matrix, batched inference, head blend; excludes event-loop waits)',
      labelNames: ['ranker'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    });
    this.active.labels(HEURISTIC_VERSION).set(1);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.pubsub.subscribe(this.keys.modelChannel, (versionId) => this.refresh(`activation of ${versionId}`));
    await this.refresh('boot');
    this.poller = setInterval(() => void this.refresh('poll'), this.config.MODEL_POLL_MS);
    this.poller.unref();
  }

  onApplicationShutdown(): void {
    if (this.poller) clearInterval(this.poller);
    this.model?.retire();
    this.model = null;
  }

  /** The version serving now: a model id, or `heuristic`. */
  get version(): string {
    return this.model?.version ?? HEURISTIC_VERSION;
  }

  /**
   * Re-reads the active version and swaps to it if it changed. Loads are serialised;
   * the promise settles when this refresh is done (it never rejects).
   */
  refresh(why: string): Promise<void> {
    this.loading = this.loading.then(() =>
      this.loadActive(why).catch((err: Error) => this.logger.error(`model refresh (${why}) failed: ${err.message}`)),
    );
    return this.loading;
  }

  /** Scores with the active model, or with the heuristic when there is none or it fails. */
  async rank(request: RankRequest): Promise<{ result: RankResult; fallback: RankFallbackReason | null }> {
    const model = this.model;
    if (!model) return { result: await this.rankHeuristic(request), fallback: 'no_model' };
    if (performance.now() < this.breakerUntil) return { result: await this.rankHeuristic(request), fallback: 'model_slow' };
    try {
      const result = await model.rank(request);
      this.inference.labels('model').observe(result.computeMs / 1000);
      if (result.computeMs > this.config.MODEL_SLOW_MS) {
        this.breakerUntil = performance.now() + BREAKER_COOLDOWN_MS;
        this.logger.warn(
          `scoring took ${result.computeMs.toFixed(1)} ms (> MODEL_SLOW_MS ${this.config.MODEL_SLOW_MS}): heuristic ranking for ${BREAKER_COOLDOWN_MS} ms`,
        );
      }
      return { result, fallback: null };
    } catch (err) {
      this.logger.error(`model ${model.version} failed to score: ${(err as Error).message}`);
      return { result: await this.rankHeuristic(request), fallback: 'model_error' };
    }
  }

  private async rankHeuristic(request: RankRequest): Promise<RankResult> {
    const result = await this.heuristic.rank(request);
    this.inference.labels('heuristic').observe(result.computeMs / 1000);
    return result;
  }

  private async loadActive(why: string): Promise<void> {
    const head = await this.repository.findActiveHead();
    if (!head) {
      if (this.model) {
        this.logger.warn(`no active model any more (${why}): ranking with the heuristic`);
        this.swap(null);
      }
      return;
    }
    const key = `${head.id}:${head.artifactSha256}`;
    if (head.id === this.model?.version || key === this.rejected) return;
    const row = await this.repository.findArtifact(head.id);
    if (!row) return;
    const started = performance.now();
    try {
      const ranker = await this.build(row.id, row.artifact, row.artifactSha256, row.featureSpec);
      this.swap(ranker);
      this.rejected = null;
      this.loads.labels('loaded', 'ok').inc();
      this.logger.log(`serving model ${row.id} (${why}; loaded and warmed in ${(performance.now() - started).toFixed(0)} ms)`);
    } catch (err) {
      const reason = err instanceof ModelRejectedError ? err.reason : 'load';
      this.rejected = key;
      this.loads.labels('rejected', reason).inc();
      this.logger.error(`model ${row.id} rejected (${reason}): ${(err as Error).message}; still serving ${this.version}`);
    }
  }

  private async build(id: string, artifact: Buffer, sha256: string, rawSpec: unknown): Promise<OnnxRanker> {
    const actual = createHash('sha256').update(artifact).digest('hex');
    if (actual !== sha256.toLowerCase()) {
      throw new ModelRejectedError('checksum', `artifact sha256 is ${actual}, the registry says ${sha256}`);
    }
    let spec;
    try {
      spec = validateFeatureSpec(rawSpec);
    } catch (err) {
      if (err instanceof FeatureSpecError) throw new ModelRejectedError('spec', err.message);
      throw err;
    }
    return OnnxRanker.create(id, artifact, spec, this.weights, this.config.FEED_CANDIDATES);
  }

  private swap(next: OnnxRanker | null): void {
    const previous = this.model;
    this.model = next;
    this.breakerUntil = 0;
    this.active.reset();
    this.active.labels(this.version).set(1);
    previous?.retire();
  }
}
