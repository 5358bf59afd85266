import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { FeatureSpecError, validateFeatureSpec } from '../features/feature-spec';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { abBucket, topKOverlap } from './ab-bucket';
import { parseHeadWeights } from './head-weights';
import { HEURISTIC_VERSION, HeuristicRanker } from './heuristic-ranker';
import { ActiveModelRepository } from '../models/active-model.repository';
import { ModelRejectedError, OnnxRanker } from './onnx-ranker';
import { FeedRanker, RankFallbackReason, RankRequest, RankResult } from './ranker';

/** Which model served a request: the active one, or the shadow for the A/B share. */
export type ModelVariant = 'active' | 'shadow';

/** Rankings of active and shadow are compared on their top this many. */
const COMPARE_TOP_K = 10;

/**
 * Consecutive scorings slower than MODEL_SLOW_MS that open the breaker (one GC pause or
 * preemption does not). Scoring time as observed includes event-loop waits, so an
 * overloaded instance also sheds to the cheaper heuristic.
 */
const BREAKER_STRIKES = 3;
/** How long the heuristic then stands in before the model is tried again. */
const BREAKER_COOLDOWN_MS = 5000;

/**
 * The ranking runtime of an api instance. Loads the ACTIVE model_versions row at
 * boot (checksum, feature spec, onnxruntime session, warm-up), then hot-swaps when
 * a version is activated: the new session is loaded and warmed while the current
 * one serves, and only then does the reference switch. A model that fails any
 * check is rejected and the current one keeps serving. With no usable model, the
 * heuristic ranker answers and the fallback is reported.
 *
 * A SHADOW version, when one is marked, is loaded the same way. It serves the users
 * whose stable hash falls in MODEL_AB_SHARE (an A/B split; impressions carry the
 * version that served them), and scores a sample of the active model's requests in
 * the background so the two rankings can be compared, without touching the response.
 */
@Injectable()
export class ModelRuntime implements FeedRanker, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelRuntime.name);
  private readonly heuristic: HeuristicRanker;
  private readonly weights: Map<string, number>;
  private model: OnnxRanker | null = null;
  private rejected: string | null = null;
  private shadow: OnnxRanker | null = null;
  private shadowRejected: string | null = null;
  private shadowBusy = false;
  private breakerUntil = 0;
  private slowStrikes = 0;
  private loading: Promise<void> = Promise.resolve();
  private poller: NodeJS.Timeout | null = null;
  private readonly loads: Counter<'result' | 'reason'>;
  private readonly active: Gauge<'version'>;
  private readonly inference: Histogram<'ranker'>;
  private readonly variants: Counter<'variant' | 'version'>;
  private readonly overlap: Histogram;
  private readonly shadowErrors: Counter;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: ActiveModelRepository,
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
      help: 'Time to score one feed request: feature matrix, batched inference (as observed, event-loop waits included), head blend',
      labelNames: ['ranker'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    });
    this.variants = new Counter({
      name: 'reelrank_model_variant_requests_total',
      help: 'Feed requests ranked per model variant (active, or shadow for the A/B share) and version',
      labelNames: ['variant', 'version'],
      registers: [registry],
    });
    this.overlap = new Histogram({
      name: 'reelrank_model_shadow_top10_overlap',
      help: "Share of the serving model's top 10 that the other (shadow or active) model also ranks in its top 10",
      buckets: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers: [registry],
    });
    this.shadowErrors = new Counter({
      name: 'reelrank_model_shadow_errors_total',
      help: 'Shadow model scorings that failed (the request was served by the active model)',
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
    this.shadow?.retire();
    this.shadow = null;
  }

  /** The version serving now: a model id, or `heuristic`. */
  get version(): string {
    return this.model?.version ?? HEURISTIC_VERSION;
  }

  /** The shadow version loaded, if any. */
  get shadowVersion(): string | null {
    return this.shadow?.version ?? null;
  }

  /**
   * Re-reads the active version and swaps to it if it changed. Loads are serialised;
   * the promise settles when this refresh is done (it never rejects).
   */
  refresh(why: string): Promise<void> {
    this.loading = this.loading.then(async () => {
      await this.loadActive(why).catch((err: Error) => this.logger.error(`model refresh (${why}) failed: ${err.message}`));
      await this.loadShadow(why).catch((err: Error) => this.logger.error(`shadow refresh (${why}) failed: ${err.message}`));
    });
    return this.loading;
  }

  /**
   * Scores with the active model (or the shadow, for users in the A/B share), or with
   * the heuristic when there is none or it fails.
   */
  async rank(request: RankRequest): Promise<{ result: RankResult; fallback: RankFallbackReason | null }> {
    const model = this.model;
    if (!model) return { result: await this.rankHeuristic(request), fallback: 'no_model' };
    if (performance.now() < this.breakerUntil) return { result: await this.rankHeuristic(request), fallback: 'model_slow' };
    const shadow = this.shadow;
    if (shadow && this.inShadowShare(request)) {
      try {
        const result = await shadow.rank(request);
        this.inference.labels('shadow').observe(result.computeMs / 1000);
        this.variants.labels('shadow', shadow.version).inc();
        return { result, fallback: null };
      } catch (err) {
        this.shadowErrors.inc();
        this.logger.error(`shadow model ${shadow.version} failed to score, serving the active one: ${(err as Error).message}`);
      }
    }
    try {
      const result = await model.rank(request);
      this.inference.labels('model').observe(result.computeMs / 1000);
      this.variants.labels('active', model.version).inc();
      if (shadow && !this.shadowBusy && Math.random() < this.config.MODEL_SHADOW_SAMPLE) this.compareInBackground(shadow, request, result);
      this.slowStrikes = result.computeMs > this.config.MODEL_SLOW_MS ? this.slowStrikes + 1 : 0;
      if (this.slowStrikes >= BREAKER_STRIKES) {
        this.slowStrikes = 0;
        this.breakerUntil = performance.now() + BREAKER_COOLDOWN_MS;
        this.logger.warn(
          `scoring took over MODEL_SLOW_MS (${this.config.MODEL_SLOW_MS} ms) ${BREAKER_STRIKES} times in a row (last ${result.computeMs.toFixed(1)} ms): heuristic ranking for ${BREAKER_COOLDOWN_MS} ms`,
        );
      }
      return { result, fallback: null };
    } catch (err) {
      this.logger.error(`model ${model.version} failed to score: ${(err as Error).message}`);
      return { result: await this.rankHeuristic(request), fallback: 'model_error' };
    }
  }

  private inShadowShare(request: RankRequest): boolean {
    return request.userId !== undefined && this.config.MODEL_AB_SHARE > 0 && abBucket(request.userId) < this.config.MODEL_AB_SHARE;
  }

  /**
   * Scores the same request with the shadow model after the response has its scores
   * (one comparison at a time, so shadow work never queues up behind traffic).
   */
  private compareInBackground(shadow: OnnxRanker, request: RankRequest, served: RankResult): void {
    const n = request.videos.length;
    const servedScores = served.scores.slice(0, n);
    this.shadowBusy = true;
    setImmediate(() => {
      shadow
        .rank(request)
        .then((result) => {
          try {
            this.inference.labels('shadow').observe(result.computeMs / 1000);
            const k = Math.min(COMPARE_TOP_K, n);
            if (k > 0) this.overlap.observe(topKOverlap(servedScores, result.scores, n, k) / k);
          } finally {
            result.release();
          }
        })
        .catch((err: Error) => {
          this.shadowErrors.inc();
          this.logger.warn(`shadow model ${shadow.version} failed to score: ${err.message}`);
        })
        .finally(() => (this.shadowBusy = false));
    });
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

  private async loadShadow(why: string): Promise<void> {
    const head = await this.repository.findShadowHead();
    if (!head) {
      if (this.shadow) {
        this.logger.log(`no shadow model any more (${why})`);
        this.shadow.retire();
        this.shadow = null;
      }
      return;
    }
    const key = `${head.id}:${head.artifactSha256}`;
    if (head.id === this.shadow?.version || key === this.shadowRejected) return;
    const row = await this.repository.findArtifact(head.id);
    if (!row) return;
    try {
      const ranker = await this.build(row.id, row.artifact, row.artifactSha256, row.featureSpec);
      const previous = this.shadow;
      this.shadow = ranker;
      previous?.retire();
      this.shadowRejected = null;
      this.logger.log(
        `shadow model ${row.id} loaded (${why}): ${this.config.MODEL_AB_SHARE > 0 ? `serves ${this.config.MODEL_AB_SHARE * 100}% of users` : 'scores alongside only'}`,
      );
    } catch (err) {
      this.shadowRejected = key;
      this.loads.labels('rejected', err instanceof ModelRejectedError ? err.reason : 'load').inc();
      this.logger.error(`shadow model ${row.id} rejected: ${(err as Error).message}`);
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
    this.slowStrikes = 0;
    this.active.reset();
    this.active.labels(this.version).set(1);
    previous?.retire();
  }
}
