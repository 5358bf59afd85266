import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CatalogChange } from '../catalog/catalog-snapshot.service';
import { DEFAULT_TRAIN_FEATURES } from '../features/feature-registry';
import { FeatureSpec, resolveFeatures, validateFeatureSpec } from '../features/feature-spec';
import { ModelRegistryService, newModelVersionId } from '../models/model-registry.service';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { ModelVersionRepository, ModelVersionWithArtifact } from '../models/model-version.repository';
import { buildPointInTimeDataset, Dataset, FeatureSet, LABEL_HEADS } from './data/point-in-time-dataset';
import { TrainingLogRepository } from './data/training-log.repository';
import { DEFAULT_INTERACTION_ROWS, rowTimes, withInteractionRows } from './data/interaction-rows';
import { computeItemNeighbours, DEFAULT_NEIGHBOUR_OPTIONS } from './neighbours/co-engagement';
import { ItemNeighboursRepository } from '../neighbours/item-neighbours.repository';
import { ItemNeighbours } from '../features/item-neighbours';
import { categoryPriors, DEFAULT_ALS_OPTIONS } from './embeddings/implicit-als';
import { EmbeddingFitInput, fitEmbeddingRefreshes, fitItemEmbeddings, refreshPoints } from './embeddings/point-in-time-embeddings';
import { LearnedEmbeddingRepository } from './embeddings/learned-embedding.repository';
import { blendHeads, parseHeadWeights, weightsForHeads } from '../ranking/head-weights';
import {
  HeadMetrics,
  headMetrics,
  labelRates,
  RANKING_K,
  RankingMetrics,
  rankingMetrics,
} from './evaluation/offline-evaluation';
import { OnnxScorer } from './evaluation/onnx-scorer';
import { EventLoopYielder } from './event-loop-yielder';
import { heuristicScores, heuristicTerms } from '../ranking/heuristic-ranker';
import { activationDecision } from './activation-decision';
import { logLoss } from './model/metrics';
import { computeBaseline, DEFAULT_BASELINE_BINS, DriftBaseline, RowClusters } from '../monitoring/drift-baseline';
import { fitStandardizer, initMlp, MlpWeights, predict, predictAsync, Standardizer, trainMlpAsync } from './model/mlp';
import { exportMlpToOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './model/onnx-export';

export interface TrainingRunOptions {
  /** Hours of log before `until` to train on (default RETRAIN_WINDOW_HOURS). */
  windowHours?: number;
  /** End of the window, epoch ms (default: the newest interaction). */
  until?: number;
  /** Activate the new model if it beats the active one (default MODEL_AUTO_PROMOTE). */
  autoPromote?: boolean;
  epochs?: number;
  writeEmbeddings?: boolean;
  onProgress?: (stage: TrainingStage, detail?: Record<string, number>) => void | Promise<void>;
}

export type TrainingStage = 'loading' | 'embeddings' | 'dataset' | 'training' | 'exporting' | 'evaluating' | 'registering' | 'done';

export interface EvaluationReport {
  k: number;
  heldOut: { rows: number; from: string; to: string };
  heads: Record<string, HeadMetrics>;
  ranking: {
    queries: number;
    meanCandidates: number;
    model: RankingMetrics;
    popularity: RankingMetrics;
    previous: (RankingMetrics & { modelId: string; heads: Record<string, HeadMetrics> }) | null;
    /** The heuristic ranker that serves while no model is active. */
    fallback: RankingMetrics;
  };
}

export interface TrainingRunResult {
  modelId: string;
  promoted: boolean;
  decision: string;
  metrics: EvaluationReport;
  timingsMs: Record<string, number>;
}

export class NotEnoughDataError extends Error {}

const MIN_TRAIN_ROWS = 200;
const MIN_HELD_OUT_ROWS = 50;
const RANKING_USERS = 2000;
const RANKING_NEGATIVES = 100;
const PARITY_ROWS = 2000;
const PARITY_TOLERANCE = 1e-5;
const MLP = { batchSize: 256, learningRate: 0.002, l2: 1e-5, seed: 17 };
const VALIDATION_FRACTION = 0.1;
const PATIENCE = 3;
const HOUR = 3_600_000;
const NEIGHBOUR_REFRESHES_PER_EMBEDDING = 3;

/**
 * The model loop, end to end: replay the log into point-in-time training rows, learn
 * item embeddings from co-engagement, train the multi-head MLP, export it to ONNX and
 * check the export scores like the TypeScript model, evaluate on the most recent part
 * of the window against popularity and the active model, register the version, and
 * activate it when it is better (or nothing is active).
 */
@Injectable()
export class TrainingService {
  private readonly logger = new Logger(TrainingService.name);
  private readonly headWeights: Map<string, number>;

  constructor(
    private readonly config: AppConfig,
    private readonly logRepository: TrainingLogRepository,
    private readonly embeddings: LearnedEmbeddingRepository,
    private readonly versions: ModelVersionRepository,
    private readonly registry: ModelRegistryService,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
    private readonly neighbours: ItemNeighboursRepository,
  ) {
    // Heads blend exactly as the feed blends them (RANK_WEIGHTS).
    this.headWeights = parseHeadWeights(config.RANK_WEIGHTS);
  }

  /** The spec every model this trainer produces ships with. */
  featureSpec(): FeatureSpec {
    const configured = this.config.TRAIN_FEATURES.split(',').map((f) => f.trim()).filter(Boolean);
    return validateFeatureSpec({
      input: ONNX_INPUT_NAME,
      output: ONNX_OUTPUT_NAME,
      features: configured.length ? configured : [...DEFAULT_TRAIN_FEATURES],
      heads: [...LABEL_HEADS],
    });
  }

  async run(options: TrainingRunOptions = {}): Promise<TrainingRunResult> {
    const timings: Record<string, number> = {};
    const started = Date.now();
    let stageStart = started;
    const stage = async (name: TrainingStage, detail?: Record<string, number>) => {
      await options.onProgress?.(name, detail);
    };
    const lap = (name: string) => {
      const now = Date.now();
      timings[name] = now - stageStart;
      stageStart = now;
    };
    const yielder = new EventLoopYielder();
    const spec = this.featureSpec();
    const modelId = newModelVersionId();

    await stage('loading');
    const head = options.until ?? (await this.logRepository.lastEventAt());
    if (head === null) throw new NotEnoughDataError('the interaction log is empty');
    const windowHours = options.windowHours ?? this.config.RETRAIN_WINDOW_HOURS;
    const labelWindowMs = this.config.TRAIN_LABEL_WINDOW_MINUTES * 60_000;
    const windowFrom = head - windowHours * HOUR;
    const rowsTo = head - labelWindowMs;
    const lookback = this.config.TRAIN_STATE_LOOKBACK_HOURS;
    const log = await this.logRepository.loadLog({
      eventsFrom: lookback > 0 ? windowFrom - lookback * HOUR : -Infinity,
      eventsTo: head,
      impressionsFrom: windowFrom,
      impressionsTo: rowsTo,
    });
    lap('load');
    // Held out: the most recent share of rows by time (a quantile rather than a share of
    // the clock, so bursty traffic still leaves enough to evaluate on). Rows are the logged
    // impressions plus, for reactions no impression was logged for, engaged rows.
    const times = rowTimes(log).filter((t) => t >= windowFrom && t < rowsTo);
    const heldOutFrom = times.length ? times[Math.min(times.length - 1, Math.floor((1 - this.config.TRAIN_HOLDOUT_FRACTION) * times.length))] : rowsTo;

    // Item embeddings as of each row's time: refitted at TRAIN_EMBEDDING_REFRESHES points
    // through the training part, each on the log before it (the last one at the start of
    // the held-out part), so neither training nor held-out rows see vectors learned from
    // their own outcome. Before the first point only content embeddings exist. The
    // vectors written for serving use the whole window.
    await stage('embeddings', { events: log.events.length, impressions: log.impressions.length });
    const dim = this.config.EMBEDDING_DIM;
    const anchors = log.catalog.content.map((c) => (c && c.length === dim ? c : null));
    const embeddingInput: EmbeddingFitInput = {
      events: log.events,
      users: log.users.size,
      videos: log.catalog.videos.length,
      anchors,
      priors: categoryPriors(log.catalog.videos.map((v) => v.category), anchors, dim),
      options: { ...DEFAULT_ALS_OPTIONS, dim, yielder },
    };
    const refreshes = await fitEmbeddingRefreshes(
      embeddingInput,
      windowFrom,
      refreshPoints(windowFrom, heldOutFrom, this.config.TRAIN_EMBEDDING_REFRESHES),
    );
    const evalFit = refreshes[refreshes.length - 1];
    log.catalog.videos.forEach((v, i) => (v.embedding = anchors[i]));
    lap('embeddings');

    // Item neighbours, refreshed at the same points and for the same reason.
    const neighbourOptions = { ...DEFAULT_NEIGHBOUR_OPTIONS, yielder };
    // They are cheap beside ALS, so refreshed more often: rows see neighbours about as fresh as serving does.
    const neighbourRefreshes: { at: number; index: ItemNeighbours }[] = [];
    for (const at of refreshPoints(windowFrom, heldOutFrom, this.config.TRAIN_EMBEDDING_REFRESHES * NEIGHBOUR_REFRESHES_PER_EMBEDDING)) {
      neighbourRefreshes.push({ at, index: await computeItemNeighbours(log.events, log.users.size, log.catalog.videos.length, windowFrom, at, neighbourOptions) });
    }
    const rows = withInteractionRows(log, { ...DEFAULT_INTERACTION_ROWS, seed: 7, neighbours: neighbourRefreshes });
    log.impressions = rows.impressions;
    lap('neighbours');

    await stage('dataset');
    const active = await this.registry.active();
    const activeSpec = active ? this.tryParseSpec(active) : null;
    const loggedSpecs = await this.versions.featureNamesById();
    const featureSet = (names: string[]): FeatureSet => ({
      names,
      defs: resolveFeatures({ ...spec, features: names }),
      loggedUnder: new Set([...loggedSpecs].filter(([, f]) => sameList(f, names)).map(([id]) => id)),
    });
    const sets = [featureSet(spec.features)];
    if (activeSpec && !sameList(activeSpec.features, spec.features)) sets.push(featureSet(activeSpec.features));
    const fallbackTerms = heuristicTerms(this.headWeights);
    sets.push(featureSet(fallbackTerms.map(([name]) => name)));
    const fallback = { set: sets.length - 1, coefficients: Float32Array.from(fallbackTerms, ([, c]) => c) };
    const dataset = await buildPointInTimeDataset(log, {
      featureSets: sets,
      heldOutFrom,
      labelWindowMs,
      embeddingDim: this.config.EMBEDDING_DIM,
      rankingUsers: RANKING_USERS,
      rankingNegatives: RANKING_NEGATIVES,
      seed: 1,
      embeddingRefreshes: refreshes,
      neighbourRefreshes,
      kinds: rows.kinds,
      yielder,
    });
    const heldOutRows = dataset.rows - dataset.trainRows;
    if (dataset.trainRows < MIN_TRAIN_ROWS || heldOutRows < MIN_HELD_OUT_ROWS) {
      throw new NotEnoughDataError(
        `not enough rows in the window ${new Date(windowFrom).toISOString()} to ${new Date(head).toISOString()} ` +
          `(${windowHours} h ending at the newest event): ${log.impressions.length - rows.engaged - rows.sampled} logged impressions and ` +
          `${rows.engaged} engagements retrieval would have offered (with ${rows.sampled} sampled negatives) in it, ${log.events.length} events replayed for state; ` +
          `${dataset.trainRows} rows to train on (need ${MIN_TRAIN_ROWS}), ${heldOutRows} held out (need ${MIN_HELD_OUT_ROWS})`,
      );
    }
    lap('dataset');

    await stage('training', { rows: dataset.trainRows });
    const width = spec.features.length;
    const hidden = this.config.TRAIN_HIDDEN_LAYERS.split(',').map(Number);
    const { weights, norm, fit: trainingFit } = await this.trainRanker(dataset, width, hidden, options.epochs ?? this.config.TRAIN_EPOCHS);
    lap('train');

    await stage('exporting');
    const artifact = Buffer.from(exportMlpToOnnx(weights, norm, { producer: 'reelrank-trainer' }));
    const parity = await this.checkParity(artifact, spec, weights, norm, dataset);
    lap('export');

    await stage('evaluating');
    const { report, heldOutScores } = await this.evaluate(dataset, spec, weights, norm, active, activeSpec, fallback, yielder);
    lap('evaluate');

    await stage('registering');
    const writeEmbeddings = options.writeEmbeddings ?? true;
    let written = 0;
    let servingLearned = 0;
    if (writeEmbeddings) {
      const finalFit = await fitItemEmbeddings(embeddingInput, windowFrom, Infinity);
      servingLearned = finalFit.learned.size;
      lap('servingEmbeddings');
      written = await this.embeddings.write(
        new Map([...finalFit.learned].map(([i, vec]) => [log.catalog.videos[i].id, vec])),
        modelId,
      );
      // The catalog channel every process's CatalogSnapshotService listens on (the same
      // message as its publishChange), so the ANN index and the worker reload the vectors.
      if (written > 0) await this.pubsub.publish(this.keys.catalogChannel, JSON.stringify({ all: true } satisfies CatalogChange));
    }
    lap('embeddingsWrite');

    // Item-to-item neighbours for serving, from the whole window.
    const serving = await computeItemNeighbours(log.events, log.users.size, log.catalog.videos.length, windowFrom, Infinity, neighbourOptions);
    await this.neighbours.write({
      version: modelId,
      videoIds: log.catalog.videos.map((v) => v.id),
      offsets: serving.offsets,
      neighbours: serving.ids,
      co: serving.co,
      next: serving.next,
      engagements: serving.engagements,
    });
    await this.pubsub.publish(this.keys.neighboursChannel, modelId);
    lap('neighboursWrite');

    await yielder.pause();
    const baseline = driftBaseline(spec, dataset.heldOutX[0], heldOutScores, {
      user: dataset.user.subarray(dataset.trainRows),
      video: dataset.video.subarray(dataset.trainRows),
    });
    await yielder.pause();
    const trainingInfo = {
      trainer: 'reelrank-mlp',
      hidden,
      ...MLP,
      ...trainingFit,
      window: {
        from: new Date(windowFrom).toISOString(),
        to: new Date(head).toISOString(),
        hours: windowHours,
        heldOutFrom: new Date(heldOutFrom).toISOString(),
        labelWindowMinutes: this.config.TRAIN_LABEL_WINDOW_MINUTES,
      },
      data: {
        ...dataset.stats,
        engagedRows: rows.engaged,
        sampledRows: rows.sampled,
        trainRows: dataset.trainRows,
        heldOutRows,
        users: log.users.size,
        videos: log.catalog.videos.length,
      },
      neighbours: { pairs: serving.ids.length, refreshes: neighbourRefreshes.map((r) => ({ at: new Date(r.at).toISOString(), pairs: r.index.ids.length })) },
      embeddings: {
        anchored: evalFit.anchored,
        refreshes: refreshes.map((r) => ({ at: new Date(r.at).toISOString(), learned: r.learned.size, seconds: r.seconds })),
        learnedForEvaluation: evalFit.learned.size,
        learnedForServing: servingLearned,
        written,
      },
      onnxParity: parity,
      baseline,
      timingsMs: { ...timings, total: Date.now() - started },
    };
    const { promote, decision } = activationDecision(report.ranking, active?.id ?? null, {
      autoPromote: options.autoPromote ?? this.config.MODEL_AUTO_PROMOTE,
      minGain: this.config.MODEL_PROMOTE_MIN_GAIN,
    });
    // The decision is kept with the scores it was made on, in the registry row.
    const created = await this.registry.register({ id: modelId, artifact, featureSpec: spec, metrics: { ...report, activation: { promote, decision } }, trainingInfo });
    if (promote) await this.registry.activate(created.id);
    lap('register');
    timings.total = Date.now() - started;
    await stage('done');
    this.logger.log(
      `trained ${modelId} on ${dataset.trainRows} rows in ${(timings.total / 1000).toFixed(1)} s: ` +
        `NDCG@${RANKING_K} ${fmt(report.ranking.model.ndcg)} vs popularity ${fmt(report.ranking.popularity.ndcg)}` +
        `${report.ranking.previous ? ` vs active ${fmt(report.ranking.previous.ndcg)}` : ''}; ${decision}`,
    );
    return { modelId, promoted: promote, decision, metrics: report, timingsMs: timings };
  }

  /**
   * Minibatch Adam on the older 90% of the training rows, keeping the weights of the
   * epoch with the lowest loss on the newest 10% (early stopping after PATIENCE epochs
   * without improvement), so small windows train long enough and rare heads do not overfit.
   */
  private async trainRanker(dataset: Dataset, width: number, hidden: number[], maxEpochs: number) {
    const heads = LABEL_HEADS.length;
    const fitRows = Math.max(1, Math.floor(dataset.trainRows * (1 - VALIDATION_FRACTION)));
    const valRows = dataset.trainRows - fitRows;
    const x = dataset.x.subarray(0, fitRows * width);
    const y = dataset.y.subarray(0, fitRows * heads);
    const valX = dataset.x.subarray(fitRows * width, dataset.trainRows * width);
    const valY = dataset.y.subarray(fitRows * heads, dataset.trainRows * heads);
    const norm = fitStandardizer(x, fitRows, width);
    const weights = initMlp(width, hidden, [...LABEL_HEADS], MLP.seed);
    let best = { loss: Infinity, epoch: -1, layers: weights.layers.map((l) => ({ ...l, weights: l.weights.slice(), bias: l.bias.slice() })) };
    const validationLosses: number[] = [];
    const losses = await trainMlpAsync(
      weights,
      { x, y, rows: fitRows },
      {
        epochs: maxEpochs,
        batchSize: MLP.batchSize,
        learningRate: MLP.learningRate,
        l2: MLP.l2,
        seed: MLP.seed,
        norm,
        onEpoch: async (epoch) => {
          const p = await predictAsync(weights, valX, valRows, norm);
          const loss = logLoss(p, valY) * heads;
          validationLosses.push(loss);
          if (loss < best.loss) {
            best = { loss, epoch, layers: weights.layers.map((l) => ({ ...l, weights: l.weights.slice(), bias: l.bias.slice() })) };
          } else if (epoch - best.epoch >= PATIENCE) {
            return 'stop';
          }
        },
      },
    );
    weights.layers = best.layers;
    return { weights, norm, fit: { fitRows, validationRows: valRows, epochs: losses.length, bestEpoch: best.epoch + 1, losses, validationLosses } };
  }

  private tryParseSpec(model: ModelVersionWithArtifact): FeatureSpec | null {
    try {
      return validateFeatureSpec(model.featureSpec);
    } catch (err) {
      this.logger.warn(`active model ${model.id} has an unusable feature spec, not comparing: ${(err as Error).message}`);
      return null;
    }
  }

  /** Loads the exported bytes in onnxruntime and compares its scores with `predict` on held-out rows. */
  private async checkParity(artifact: Buffer, spec: FeatureSpec, w: MlpWeights, norm: Standardizer, dataset: Dataset) {
    const width = spec.features.length;
    const rows = Math.min(PARITY_ROWS, dataset.rows - dataset.trainRows);
    const x = dataset.heldOutX[0].subarray(0, rows * width);
    const scorer = await OnnxScorer.load(artifact, spec);
    try {
      const onnxScores = await scorer.score(x, rows);
      const tsScores = predict(w, x, rows, norm);
      let maxAbsDiff = 0;
      for (let i = 0; i < tsScores.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(tsScores[i] - onnxScores[i]));
      if (!(maxAbsDiff <= PARITY_TOLERANCE)) {
        throw new Error(`ONNX export disagrees with the TypeScript model by ${maxAbsDiff} (tolerance ${PARITY_TOLERANCE})`);
      }
      return { rows, maxAbsDiff };
    } finally {
      await scorer.release();
    }
  }

  private async evaluate(
    dataset: Dataset,
    spec: FeatureSpec,
    w: MlpWeights,
    norm: Standardizer,
    active: ModelVersionWithArtifact | null,
    activeSpec: FeatureSpec | null,
    fallback: { set: number; coefficients: Float32Array },
    yielder: EventLoopYielder,
  ): Promise<{ report: EvaluationReport; heldOutScores: Float32Array }> {
    const heads = LABEL_HEADS;
    const heldOutRows = dataset.rows - dataset.trainRows;
    const heldOutY = dataset.y.subarray(dataset.trainRows * heads.length);
    const trainRates = labelRates(dataset.y, heads, dataset.trainRows);
    const heldOutScores = await predictAsync(w, dataset.heldOutX[0], heldOutRows, norm);
    const queries = dataset.queries;
    const queryScores: Float32Array[] = [];
    for (const q of queries) {
      queryScores.push(this.blend(predict(w, q.x[0], q.videos.length, norm), q.videos.length, spec.heads));
      await yielder.pauseIfDue();
    }

    let previous: EvaluationReport['ranking']['previous'] = null;
    if (active && activeSpec) {
      const k = sameList(activeSpec.features, spec.features) ? 0 : 1;
      const scorer = await OnnxScorer.load(active.artifact, activeSpec);
      try {
        const prevHeld = await scorer.score(dataset.heldOutX[k], heldOutRows);
        const prevQuery: Float32Array[] = [];
        for (const q of queries) {
          prevQuery.push(this.blend(await scorer.score(q.x[k], q.videos.length), q.videos.length, activeSpec.heads));
          // onnxruntime settles its promise without a turn of the event loop: yield here.
          await yielder.pauseIfDue();
        }
        const prevRanking = rankingMetrics(queries, (_, i) => prevQuery[i]);
        await yielder.pause();
        previous = { modelId: active.id, ...prevRanking, heads: headMetrics(prevHeld, activeSpec.heads, heldOutY, heads, trainRates) };
        await yielder.pause();
      } catch (err) {
        this.logger.warn(`could not score the active model ${active.id} offline: ${(err as Error).message}`);
      } finally {
        await scorer.release();
      }
    }
    // Each metric is a few tens of ms on a large window: hand the event loop back in between.
    const headReport = headMetrics(heldOutScores, spec.heads, heldOutY, heads, trainRates);
    await yielder.pause();
    const model = rankingMetrics(queries, (_, i) => queryScores[i]);
    await yielder.pause();
    const popularity = rankingMetrics(queries, (q) => q.popularity);
    const fallbackRanking = rankingMetrics(queries, (q) => heuristicScores(fallback.coefficients, q.x[fallback.set], q.videos.length));
    const report: EvaluationReport = {
      k: RANKING_K,
      heldOut: {
        rows: heldOutRows,
        from: new Date(dataset.at[dataset.trainRows]).toISOString(),
        to: new Date(dataset.at[dataset.rows - 1]).toISOString(),
      },
      heads: headReport,
      ranking: {
        queries: queries.length,
        meanCandidates: queries.length ? queries.reduce((s, q) => s + q.videos.length, 0) / queries.length : 0,
        model,
        popularity,
        previous,
        fallback: fallbackRanking,
      },
    };
    return { report, heldOutScores };
  }

  private blend(scores: Float32Array, rows: number, heads: readonly string[]): Float32Array {
    return blendHeads(scores, rows, weightsForHeads(heads, this.headWeights), new Float32Array(rows));
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4));

/** The drift monitor's reference: held-out rows (the newest data) and the model's scores on them, with each row's user and video. */
function driftBaseline(spec: FeatureSpec, rows: Float32Array, scores: Float32Array, clusters: RowClusters): DriftBaseline {
  const n = rows.length / spec.features.length;
  const perHead = Object.fromEntries(
    spec.heads.map((head, j) => [head, Float64Array.from({ length: n }, (_, r) => scores[r * spec.heads.length + j])]),
  );
  return computeBaseline(spec.features, rows, perHead, DEFAULT_BASELINE_BINS, clusters);
}
