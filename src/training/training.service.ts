import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CatalogChange } from '../catalog/catalog-snapshot.service';
import { DEFAULT_TRAIN_FEATURES } from '../features/feature-registry';
import { FeatureSpec, resolveFeatures, validateFeatureSpec } from '../features/feature-spec';
import { ModelRegistryService, newModelVersionId } from '../models/model-registry.service';
import { OnnxModelSession } from '../models/onnx-session';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { ModelVersionRepository, ModelVersionWithArtifact } from '../models/model-version.repository';
import { buildPointInTimeDataset, Dataset, FeatureSet, LABEL_HEADS } from './data/point-in-time-dataset';
import { TrainingLog } from './data/training-log';
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
import { EventLoopYielder } from '../common/event-loop-yielder';
import { heuristicScores, heuristicTerms } from '../ranking/heuristic-ranker';
import { activationDecision } from './activation-decision';
import { logLoss } from './model/metrics';
import { computeBaseline, DEFAULT_BASELINE_BINS, DriftBaseline, RowClusters } from '../monitoring/drift-baseline';
import { fitStandardizer, initMlp, MlpWeights, predict, predictAsync, Standardizer, trainMlpAsync } from './model/mlp';
import { exportMlpToOnnx, exportParity, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './model/onnx-export';
import { DEFAULT_LISTWISE, fitListwiseLinear, LISTWISE_HEAD, rowGroups } from './model/listwise';
import { fitSequenceModels, pointInTimeScores, SequenceModels } from './sequence/fit-sequence-models';
import { exportSequenceEncoderToOnnx } from './sequence/sequence-onnx-export';
import { SequenceModelRepository } from '../sequence/sequence-model.repository';

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

export type TrainingStage = 'loading' | 'embeddings' | 'sequence' | 'dataset' | 'training' | 'exporting' | 'evaluating' | 'registering' | 'done';

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
/** Rows per onnxruntime call when scoring offline (parity check, the active model on held-out data). */
const ONNX_BATCH_ROWS = 8192;
const MLP = { batchSize: 256, learningRate: 0.002, l2: 1e-5, seed: 17 };
const VALIDATION_FRACTION = 0.1;
const PATIENCE = 3;
const HOUR = 3_600_000;
const NEIGHBOUR_REFRESHES_PER_EMBEDDING = 3;

/** Reports each stage's start to `onProgress` and times the steps (`timingsMs` of the result). */
class StageClock {
  readonly timings: Record<string, number> = {};
  readonly started = Date.now();
  private stepStart = this.started;

  constructor(private readonly onProgress?: TrainingRunOptions['onProgress']) {}

  async progress(stage: TrainingStage, detail?: Record<string, number>): Promise<void> {
    await this.onProgress?.(stage, detail);
  }

  lap(step: string): void {
    const now = Date.now();
    this.timings[step] = now - this.stepStart;
    this.stepStart = now;
  }
}

interface TrainingRun {
  options: TrainingRunOptions;
  spec: FeatureSpec;
  modelId: string;
  clock: StageClock;
  yielder: EventLoopYielder;
}

interface TrainingWindow {
  log: TrainingLog;
  /** The newest event's time: the window ends there. */
  head: number;
  windowHours: number;
  windowFrom: number;
  labelWindowMs: number;
  heldOutFrom: number;
}

interface FittedEmbeddings {
  embeddingInput: EmbeddingFitInput;
  refreshes: Awaited<ReturnType<typeof fitEmbeddingRefreshes>>;
  evalFit: Awaited<ReturnType<typeof fitEmbeddingRefreshes>>[number];
  neighbourOptions: typeof DEFAULT_NEIGHBOUR_OPTIONS & { yielder: EventLoopYielder };
  neighbourRefreshes: { at: number; index: ItemNeighbours }[];
  rows: ReturnType<typeof withInteractionRows>;
  /** The sequence models (null when the log holds too little order to learn from). */
  sequences: SequenceModels | null;
}

interface TrainingData {
  dataset: Dataset;
  active: ModelVersionWithArtifact | null;
  activeSpec: FeatureSpec | null;
  fallback: { set: number; coefficients: Float32Array };
}

interface TrainedRanker {
  /** `reelrank-mlp` or `reelrank-listwise-linear`. */
  trainer: string;
  weights: MlpWeights;
  norm: Standardizer;
  /** The trained model's spec (the listwise ranker has one head). */
  spec: FeatureSpec;
  fit: Awaited<ReturnType<TrainingService['trainRanker']>>['fit'] & { rankers: Record<string, unknown> };
}

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
    private readonly sequenceModels: SequenceModelRepository,
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

  /** One run, as its stages: load -> embeddings (and neighbours) -> dataset -> train -> export and parity -> evaluate -> register. */
  async run(options: TrainingRunOptions = {}): Promise<TrainingRunResult> {
    const run: TrainingRun = {
      options,
      spec: this.featureSpec(),
      modelId: newModelVersionId(),
      clock: new StageClock(options.onProgress),
      yielder: new EventLoopYielder(),
    };
    const window = await this.load(run);
    const fitted = { ...(await this.fitEmbeddings(run, window)), sequences: await this.fitSequences(run, window) };
    const data = await this.buildDataset(run, window, fitted);
    const trained = await this.train(run, data.dataset);
    const exported = await this.exportAndCheckParity(run, trained, data.dataset);
    const { report, heldOutScores } = await this.evaluateStage(run, data, trained);
    return this.register(run, window, fitted, data, trained, exported, report, heldOutScores);
  }

  /** The log window: events (with the state lookback before it) and impressions, and where the held-out part starts. */
  private async load({ options, clock }: TrainingRun): Promise<TrainingWindow> {
    await clock.progress('loading');
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
    clock.lap('load');
    // Held out: the most recent share of rows by time (a quantile rather than a share of
    // the clock, so bursty traffic still leaves enough to evaluate on). Rows are the logged
    // impressions plus, for reactions no impression was logged for, engaged rows.
    const times = rowTimes(log).filter((t) => t >= windowFrom && t < rowsTo);
    const heldOutFrom = times.length ? times[Math.min(times.length - 1, Math.floor((1 - this.config.TRAIN_HOLDOUT_FRACTION) * times.length))] : rowsTo;
    return { log, head, windowHours, windowFrom, labelWindowMs, heldOutFrom };
  }

  /**
   * Item embeddings as of each row's time: refitted at TRAIN_EMBEDDING_REFRESHES points
   * through the training part, each on the log before it (the last one at the start of
   * the held-out part), so neither training nor held-out rows see vectors learned from
   * their own outcome. Before the first point only content embeddings exist. The
   * vectors written for serving use the whole window. Item neighbours are refreshed at
   * the same points for the same reason, then the interaction rows are drawn.
   */
  private async fitEmbeddings({ clock, yielder }: TrainingRun, { log, windowFrom, heldOutFrom }: TrainingWindow): Promise<Omit<FittedEmbeddings, 'sequences'>> {
    await clock.progress('embeddings', { events: log.events.length, impressions: log.impressions.length });
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
    log.catalog.videos.forEach((v, i) => (v.embedding = anchors[i]));
    clock.lap('embeddings');

    const neighbourOptions = { ...DEFAULT_NEIGHBOUR_OPTIONS, yielder };
    // They are cheap beside ALS, so refreshed more often: rows see neighbours about as fresh as serving does.
    const neighbourRefreshes: { at: number; index: ItemNeighbours }[] = [];
    for (const at of refreshPoints(windowFrom, heldOutFrom, this.config.TRAIN_EMBEDDING_REFRESHES * NEIGHBOUR_REFRESHES_PER_EMBEDDING)) {
      neighbourRefreshes.push({ at, index: await computeItemNeighbours(log.events, log.users.size, log.catalog.videos.length, windowFrom, at, neighbourOptions) });
    }
    const rows = withInteractionRows(log, { ...DEFAULT_INTERACTION_ROWS, seed: 7, neighbours: neighbourRefreshes });
    log.impressions = rows.impressions;
    clock.lap('neighbours');
    return { embeddingInput, refreshes, evalFit: refreshes[refreshes.length - 1], neighbourOptions, neighbourRefreshes, rows };
  }

  /**
   * The sequence model over every user's engaged videos in order: refitted at two points
   * through the window for the rows (each row scored by a model fitted before it) and
   * once on the whole window for serving.
   */
  private async fitSequences({ clock, yielder }: TrainingRun, { log, heldOutFrom }: TrainingWindow): Promise<SequenceModels | null> {
    await clock.progress('sequence');
    const models = await fitSequenceModels(log, heldOutFrom, this.config.TRAIN_SEQUENCE_POSITIONS, yielder);
    clock.lap('sequence');
    if (!models) this.logger.log('no sequence model (TRAIN_SEQUENCE_POSITIONS is 0, or too little engagement order to learn from): the ranker trains without its score');
    return models;
  }

  /** Point-in-time rows for this trainer's features, the active model's (to compare with it) and the heuristic's. */
  private async buildDataset({ spec, clock, yielder }: TrainingRun, window: TrainingWindow, fitted: FittedEmbeddings): Promise<TrainingData> {
    const { log, windowFrom, head, windowHours, heldOutFrom, labelWindowMs } = window;
    const { rows } = fitted;
    await clock.progress('dataset');
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
      embeddingRefreshes: fitted.refreshes,
      neighbourRefreshes: fitted.neighbourRefreshes,
      kinds: rows.kinds,
      sequenceScores: fitted.sequences ? pointInTimeScores(fitted.sequences, log) : undefined,
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
    clock.lap('dataset');
    return { dataset, active, activeSpec, fallback };
  }

  /** The MLP, and the listwise linear ranker beside it when it can be fitted: whichever ranks the held-out queries better. */
  private async train({ options, spec, clock, yielder }: TrainingRun, dataset: Dataset): Promise<TrainedRanker> {
    await clock.progress('training', { rows: dataset.trainRows });
    const hidden = this.config.TRAIN_HIDDEN_LAYERS.split(',').map(Number);
    const mlp = await this.trainRanker(dataset, spec.features.length, hidden, options.epochs ?? this.config.TRAIN_EPOCHS);
    const chosen = await this.chooseRanker(dataset, spec, mlp, yielder);
    clock.lap('train');
    return { trainer: chosen.trainer, weights: chosen.weights, norm: chosen.norm, spec: chosen.spec, fit: { ...mlp.fit, rankers: chosen.compared } };
  }

  /** The ONNX artifact, checked to score like the TypeScript model on held-out rows. */
  private async exportAndCheckParity({ clock }: TrainingRun, { weights, norm, spec }: TrainedRanker, dataset: Dataset) {
    await clock.progress('exporting');
    const artifact = Buffer.from(exportMlpToOnnx(weights, norm, { producer: 'reelrank-trainer' }));
    const parity = await this.checkParity(artifact, spec, weights, norm, dataset);
    clock.lap('export');
    return { artifact, parity };
  }

  /** Held-out metrics against popularity, the heuristic and the active model. */
  private async evaluateStage({ clock, yielder }: TrainingRun, data: TrainingData, { weights, norm, spec }: TrainedRanker) {
    await clock.progress('evaluating');
    const evaluation = await this.evaluate(data.dataset, spec, weights, norm, data.active, data.activeSpec, data.fallback, yielder);
    clock.lap('evaluate');
    return evaluation;
  }

  /**
   * Writes what serving needs from this run (item embeddings from the whole window, item
   * neighbours), registers the version with its metrics, drift baseline and training
   * info, and activates it when the activation decision says so.
   */
  private async register(
    run: TrainingRun,
    window: TrainingWindow,
    fitted: FittedEmbeddings,
    { dataset, active }: TrainingData,
    trained: TrainedRanker,
    { artifact, parity }: { artifact: Buffer; parity: { rows: number; maxAbsDiff: number } },
    report: EvaluationReport,
    heldOutScores: Float32Array,
  ): Promise<TrainingRunResult> {
    const { options, modelId, clock, yielder } = run;
    const { log, windowFrom, head, windowHours, heldOutFrom } = window;
    const { embeddingInput, refreshes, evalFit, neighbourOptions, neighbourRefreshes, rows } = fitted;
    await clock.progress('registering');
    const writeEmbeddings = options.writeEmbeddings ?? true;
    let written = 0;
    let servingLearned = 0;
    if (writeEmbeddings) {
      const finalFit = await fitItemEmbeddings(embeddingInput, windowFrom, Infinity);
      servingLearned = finalFit.learned.size;
      clock.lap('servingEmbeddings');
      written = await this.embeddings.write(
        new Map([...finalFit.learned].map(([i, vec]) => [log.catalog.videos[i].id, vec])),
        modelId,
      );
      // The catalog channel every process's CatalogSnapshotService listens on (the same
      // message as its publishChange), so the ANN index and the worker reload the vectors.
      if (written > 0) await this.pubsub.publish(this.keys.catalogChannel, JSON.stringify({ all: true } satisfies CatalogChange));
    }
    clock.lap('embeddingsWrite');

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
    clock.lap('neighboursWrite');

    const sequence = fitted.sequences;
    if (sequence) {
      const { serving: model } = sequence;
      await this.sequenceModels.write({
        version: modelId,
        videoIds: log.catalog.videos.map((v) => v.id),
        dim: model.dim,
        maxLength: model.maxLength,
        encoder: exportSequenceEncoderToOnnx(model),
        itemVectors: model.itemEmbeddings.subarray(model.dim),
      });
      await this.pubsub.publish(this.keys.sequenceChannel, modelId);
    }
    clock.lap('sequenceWrite');

    await yielder.pause();
    const baseline = driftBaseline(trained.spec, dataset.heldOutX[0], heldOutScores, {
      user: dataset.user.subarray(dataset.trainRows),
      video: dataset.video.subarray(dataset.trainRows),
    });
    await yielder.pause();
    const trainingInfo = {
      trainer: trained.trainer,
      hidden: trained.weights.hidden,
      ...MLP,
      ...trained.fit,
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
        heldOutRows: dataset.rows - dataset.trainRows,
        users: log.users.size,
        videos: log.catalog.videos.length,
      },
      sequence: sequence
        ? { positions: sequence.positions, epochs: sequence.epochs, dim: sequence.serving.dim, maxLength: sequence.serving.maxLength, refreshes: sequence.refreshes.map((r) => new Date(r.at).toISOString()) }
        : null,
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
      timingsMs: { ...clock.timings, total: Date.now() - clock.started },
    };
    const { promote, decision } = activationDecision(report.ranking, active?.id ?? null, {
      autoPromote: options.autoPromote ?? this.config.MODEL_AUTO_PROMOTE,
      minGain: this.config.MODEL_PROMOTE_MIN_GAIN,
    });
    // The decision is kept with the scores it was made on, in the registry row.
    const created = await this.registry.register({ id: modelId, artifact, featureSpec: trained.spec, metrics: { ...report, activation: { promote, decision } }, trainingInfo });
    if (promote) await this.registry.activate(created.id);
    clock.lap('register');
    const timings = clock.timings;
    timings.total = Date.now() - clock.started;
    await clock.progress('done');
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

  /**
   * Fits the listwise linear ranker on the MLP's rows (each user-and-moment group: what was
   * engaged with against the candidates beside it) and keeps whichever of the two ranks the
   * held-out queries better by NDCG@10 (the MLP when there are none to compare on, or when
   * RANK_WEIGHTS gives the `engage` head no positive weight, the linear ranker's only head).
   */
  private async chooseRanker(
    dataset: Dataset,
    spec: FeatureSpec,
    mlp: { weights: MlpWeights; norm: Standardizer; fit: { fitRows: number } },
    yielder: EventLoopYielder,
  ): Promise<{ trainer: string; weights: MlpWeights; norm: Standardizer; spec: FeatureSpec; compared: Record<string, unknown> }> {
    const keepMlp = (compared: Record<string, unknown>) => ({ trainer: 'reelrank-mlp', weights: mlp.weights, norm: mlp.norm, spec, compared });
    if (!((this.headWeights.get(LISTWISE_HEAD) ?? 0) > 0) || dataset.queries.length === 0) return keepMlp({ listwise: 'not fitted' });
    const width = spec.features.length;
    const heads = LABEL_HEADS.length;
    const engage = LABEL_HEADS.indexOf(LISTWISE_HEAD);
    const positive = (r: number) => dataset.y[r * heads + engage] === 1;
    const groups = rowGroups(dataset.user, dataset.at, dataset.trainRows, positive);
    const fitGroups = groups.filter((g) => g.to <= mlp.fit.fitRows);
    const validationGroups = groups.filter((g) => g.from >= mlp.fit.fitRows);
    if (fitGroups.length === 0) return keepMlp({ listwise: 'no groups to fit on' });
    const linear = await fitListwiseLinear(dataset.x, width, mlp.norm, positive, fitGroups, validationGroups, DEFAULT_LISTWISE, yielder);
    const linearSpec: FeatureSpec = { ...spec, heads: [LISTWISE_HEAD] };
    const ndcgOf = async (w: MlpWeights, heads: readonly string[]) => {
      const scores: Float32Array[] = [];
      for (const q of dataset.queries) {
        scores.push(this.blend(predict(w, q.x[0], q.videos.length, mlp.norm), q.videos.length, heads));
        await yielder.pauseIfDue();
      }
      return rankingMetrics(dataset.queries, (_, i) => scores[i]).ndcg;
    };
    const mlpNdcg = await ndcgOf(mlp.weights, spec.heads);
    const linearNdcg = await ndcgOf(linear.weights, linearSpec.heads);
    const compared = {
      mlpNdcg,
      listwiseNdcg: linearNdcg,
      listwise: { groups: fitGroups.length, validationGroups: validationGroups.length, epochs: linear.epochs, bestEpoch: linear.bestEpoch, validationLoss: linear.validationLoss },
    };
    if (linearNdcg !== null && (mlpNdcg === null || linearNdcg > mlpNdcg)) {
      return { trainer: 'reelrank-listwise-linear', weights: linear.weights, norm: mlp.norm, spec: linearSpec, compared };
    }
    return keepMlp(compared);
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
    const scorer = await OnnxModelSession.open(artifact, spec);
    try {
      const onnxScores = await scorer.runChunked(x, rows, ONNX_BATCH_ROWS);
      const tsScores = predict(w, x, rows, norm);
      const { maxAbsDiff, failure } = exportParity(tsScores, onnxScores);
      if (failure) {
        throw new Error(
          `ONNX export disagrees with the TypeScript model by ${failure.diff} on held-out row ${failure.row} (score ${tsScores[failure.row]}, tolerance ${failure.allowed})`,
        );
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
      const scorer = await OnnxModelSession.open(active.artifact, activeSpec);
      try {
        const prevHeld = await scorer.runChunked(dataset.heldOutX[k], heldOutRows, ONNX_BATCH_ROWS);
        const prevQuery: Float32Array[] = [];
        for (const q of queries) {
          prevQuery.push(this.blend(await scorer.runChunked(q.x[k], q.videos.length, ONNX_BATCH_ROWS), q.videos.length, activeSpec.heads));
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
