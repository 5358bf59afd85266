import { Injectable, Logger } from '@nestjs/common';
import { EventLoopYielder } from '../common/event-loop-yielder';
import { AppConfig } from '../config/app-config';
import { DriftPsi, DriftReferenceEntity, DriftReportEntity } from '../database/entities';
import { FeatureSpec, validateFeatureSpec } from '../features';
import {
  BinnedDistribution,
  computeBaseline,
  DEFAULT_BASELINE_BINS,
  DriftBaseline,
  independentValues,
  matrixColumn,
  parseBaseline,
  psi,
  psiNoiseFloor,
  RowClusters,
  thinnestDistribution,
} from './drift-baseline';
import { DriftMetrics } from './drift.metrics';
import { ActiveModelForDrift, DriftRepository, LiveFeatureRow } from './drift.repository';
import { ModelScorer } from './model-scorer';

/** The check's work (reading the rows, scoring them, the comparisons) runs in slices of this many ms... */
const CHECK_SLICE_MS = 10;
/** ...at about this share of a core (a slice, then three times as long idle): the comparisons' ~0.7 s of work spread over ~3 s. */
const CHECK_CPU_SHARE = 0.25;

type NewReport = Omit<DriftReportEntity, 'id'>;
/** A report and the features and heads it alerts on, with their PSI. */
type CheckResult = NewReport & { drifted: Record<string, number> };

/** One compared distribution: its PSI and what sampling noise alone reaches with its sample sizes. */
interface Comparison {
  key: string;
  psi: number;
  noiseFloor: number;
}

/** A window of live impressions as the checks read them: the feature matrix, its scores per head, and who and what each row was for. */
interface LiveWindow {
  rows: LiveFeatureRow[];
  matrix: Float32Array;
  /** Per head, the model's scores of each row; empty when the model could not be run. */
  scores: Record<string, Float32Array>;
  clusters: RowClusters;
  users: number;
  videos: number;
}

/**
 * One drift check of the active model. Drift is judged against a reference window of the
 * model's own live traffic: the first check with DRIFT_MIN_SAMPLES impressions of the model
 * in the last DRIFT_WINDOW_MINUTES, each distribution resting on enough independent values
 * (thinnestDistribution), stores their binned distributions (computeBaseline) as the model's
 * reference, once (a new model's replaces the previous one's). Until then reports say
 * `reference: 'pending'` and never alert. Later checks compare the impressions served
 * since the reference (at most the last DRIFT_WINDOW_MINUTES) with it, on its bins.
 *
 * A PSI over DRIFT_ALERT_PSI alerts only when it is also beyond what sampling noise reaches
 * (psiNoiseFloor) with the independent values on both sides: a user's impressions repeat
 * the user's features and move its scores together, a video's its stats, so a window of a
 * few dozen users is worth a few dozen values, not its impressions (clusteredSampleSize),
 * and the floor is set for all the distributions the check compares at once.
 *
 * The model's training baseline (held-out training rows, another population than the feed
 * serves) is compared too, as training-serving skew (`skewPsi`): reported, never alerted on.
 * Each check stores a drift_reports row, updates the gauges and logs a warning when an
 * alert starts (for a model) or clears.
 */
@Injectable()
export class DriftService {
  private readonly logger = new Logger(DriftService.name);
  /** The model the last check alerted on, so an ongoing alert is logged once, not at every check. */
  private lastAlert: string | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: DriftRepository,
    private readonly scorer: ModelScorer,
    private readonly metrics: DriftMetrics,
  ) {}

  async check(now = new Date()): Promise<DriftReportEntity> {
    const windowStart = new Date(now.getTime() - this.config.DRIFT_WINDOW_MINUTES * 60_000);
    const { drifted, ...report } = await this.compute(now, windowStart);
    const saved = await this.repository.save(report);
    this.metrics.record(saved);
    const alert = saved.alert ? saved.modelVersion : null;
    if (saved.status !== 'ok') {
      this.logger.log(`drift check: insufficient data (${saved.reason})`);
    } else if (alert && alert !== this.lastAlert) {
      this.logger.warn(
        `drift alert: model ${saved.modelVersion} max PSI ${saved.maxPsi?.toFixed(3)} > ${this.config.DRIFT_ALERT_PSI} ` +
          `on ${Object.entries(drifted).map(([name, v]) => `${name}=${v.toFixed(3)}`).join(', ')} (${saved.sampleSize} impressions)`,
      );
    } else if (!alert && this.lastAlert) {
      this.logger.warn(`drift alert cleared: model ${saved.modelVersion} max PSI ${saved.maxPsi?.toFixed(3)}`);
    } else {
      this.logger.log(`drift check: model ${saved.modelVersion} max PSI ${saved.maxPsi?.toFixed(3)} (${saved.sampleSize} impressions${saved.reason ? `; ${saved.reason}` : ''})`);
    }
    if (saved.status === 'ok') this.lastAlert = alert;
    return saved;
  }

  private async compute(now: Date, windowStart: Date): Promise<CheckResult> {
    const blank = {
      drifted: {},
      computedAt: now,
      windowStart,
      threshold: this.config.DRIFT_ALERT_PSI,
      alert: false,
      reference: 'pending' as const,
      referenceCapturedAt: null,
      skewPsi: null,
      maxSkewPsi: null,
    };
    const insufficient = (modelVersion: string | null, reason: string, sampleSize = 0, more: Partial<CheckResult> = {}): CheckResult => ({
      ...blank,
      modelVersion,
      status: 'insufficient_data',
      reason,
      psi: { features: {}, scores: {} },
      maxPsi: null,
      sampleSize,
      ...more,
    });
    const model = await this.repository.activeModel();
    if (!model) return insufficient(null, 'no active model');
    let spec: FeatureSpec;
    try {
      spec = validateFeatureSpec(model.featureSpec);
    } catch (err) {
      return insufficient(model.id, `the active model's feature spec is unusable: ${(err as Error).message}`);
    }
    const stored = await this.repository.reference(model.id);
    const reference = stored ? parseBaseline(stored.distributions) : null;
    if (stored && !reference) return insufficient(model.id, `the live reference of model ${model.id} is unreadable (drift_references.distributions)`);
    if (stored && reference) return this.compareWithReference(model, spec, stored, reference, now, windowStart, insufficient);

    // No reference yet: this window may become it.
    const live = await this.liveWindow(model, spec, windowStart);
    if (live.rows.length < this.config.DRIFT_MIN_SAMPLES) {
      return insufficient(
        model.id,
        `live reference pending: ${live.rows.length} impressions with features in the last ${this.config.DRIFT_WINDOW_MINUTES} min, ` +
          `${this.config.DRIFT_MIN_SAMPLES} needed`,
        live.rows.length,
      );
    }
    const skew = await this.skew(model, spec, live);
    const candidate = computeBaseline(spec.features, live.matrix, live.scores, DEFAULT_BASELINE_BINS, live.clusters);
    const thin = thinnestDistribution(candidate);
    if (thin) {
      return insufficient(
        model.id,
        `live reference pending: ${thin.key} rests on ${thin.independent} independent values in ${live.rows.length} impressions ` +
          `(${live.users} users, ${live.videos} videos), ${thin.needed} needed`,
        live.rows.length,
        skew,
      );
    }
    const captured = await this.repository.captureReference(
      Object.assign(new DriftReferenceEntity(), {
        modelVersion: model.id,
        capturedAt: now,
        windowStart,
        sampleSize: live.rows.length,
        distributions: candidate as unknown as Record<string, unknown>,
      }),
    );
    return insufficient(
      model.id,
      `live reference captured from ${captured.sampleSize} impressions (${live.users} users, ${live.videos} videos); ` +
        'drift is judged on the impressions served after it',
      live.rows.length,
      { ...skew, referenceCapturedAt: captured.capturedAt },
    );
  }

  /** PSI of the impressions served since the reference (within the window) against it: what alerts. */
  private async compareWithReference(
    model: ActiveModelForDrift,
    spec: FeatureSpec,
    stored: DriftReferenceEntity,
    reference: DriftBaseline,
    now: Date,
    windowStart: Date,
    insufficient: (modelVersion: string, reason: string, sampleSize: number, more: Partial<CheckResult>) => CheckResult,
  ): Promise<CheckResult> {
    const since = new Date(Math.max(windowStart.getTime(), stored.capturedAt.getTime() + 1));
    const onReference = { reference: 'live' as const, referenceCapturedAt: stored.capturedAt, windowStart: since };
    const live = await this.liveWindow(model, spec, since);
    if (live.rows.length < this.config.DRIFT_MIN_SAMPLES) {
      return insufficient(
        model.id,
        `${live.rows.length} impressions with features since the live reference (last ${this.config.DRIFT_WINDOW_MINUTES} min at most), ` +
          `${this.config.DRIFT_MIN_SAMPLES} needed`,
        live.rows.length,
        onReference,
      );
    }
    const skew = await this.skew(model, spec, live);
    const compared = await this.comparisons(reference, spec, live);
    const values = psiValues(compared);
    const maxPsi = maxOf(values);
    const over = compared.filter((c) => c.psi > this.config.DRIFT_ALERT_PSI);
    const drifted = Object.fromEntries(over.filter((c) => c.psi > c.noiseFloor).map((c) => [c.key, c.psi]));
    const withinNoise = over.filter((c) => !(c.key in drifted)).map((c) => c.key);
    if (maxPsi === null) return insufficient(model.id, 'the live reference shares no feature or head with the model spec', live.rows.length, { ...onReference, ...skew });
    return {
      ...onReference,
      ...skew,
      drifted,
      modelVersion: model.id,
      computedAt: now,
      status: 'ok',
      reason:
        withinNoise.length > 0
          ? `PSI over ${this.config.DRIFT_ALERT_PSI} within sampling noise (${live.users} users, ${live.videos} videos): ${withinNoise.join(', ')}`
          : null,
      psi: values,
      maxPsi,
      threshold: this.config.DRIFT_ALERT_PSI,
      alert: Object.keys(drifted).length > 0,
      sampleSize: live.rows.length,
    };
  }

  /** Training-serving skew: PSI of the live window against the model's training baseline, when it has one. Never alerts. */
  private async skew(model: ActiveModelForDrift, spec: FeatureSpec, live: LiveWindow): Promise<Pick<NewReport, 'skewPsi' | 'maxSkewPsi'>> {
    const baseline = parseBaseline(model.trainingInfo?.baseline);
    if (!baseline) return { skewPsi: null, maxSkewPsi: null };
    const values = psiValues(await this.comparisons(baseline, spec, live));
    return { skewPsi: values, maxSkewPsi: maxOf(values) };
  }

  /** The model's impressions with features served since `since` (the most recent DRIFT_MAX_SAMPLES), scored by the model. */
  private async liveWindow(model: ActiveModelForDrift, spec: FeatureSpec, since: Date): Promise<LiveWindow> {
    const width = spec.features.length;
    // Paced as the comparisons are: the read (Postgres, then decoding), the matrix and the scoring of up to DRIFT_MAX_SAMPLES rows.
    const yielder = new EventLoopYielder(CHECK_SLICE_MS, CHECK_CPU_SHARE);
    const pace = () => yielder.pauseIfDue();
    const rows = (await this.repository.liveFeatureRows(model.id, since, this.config.DRIFT_MAX_SAMPLES, { betweenPages: pace })).filter(
      (r) => r.features.length === width,
    );
    // The matrix, and each row's user and video as a cluster number, in one paced pass.
    const matrix = new Float32Array(rows.length * width);
    const user = new Int32Array(rows.length);
    const video = new Int32Array(rows.length);
    const users = new Map<string, number>();
    const videos = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      matrix.set(row.features, i * width);
      user[i] = clusterId(users, row.userId);
      video[i] = clusterId(videos, row.videoId);
      if (yielder.due()) await yielder.pause();
    }
    const clusters: RowClusters = { user, video };
    const window = { rows, matrix, scores: {}, clusters, users: users.size, videos: videos.size };
    if (rows.length < this.config.DRIFT_MIN_SAMPLES) return window;
    try {
      const scores = await this.scorer.score(model, spec, matrix, pace);
      return { ...window, scores: Object.fromEntries(spec.heads.filter((h) => scores[h]).map((h) => [h, scores[h]])) };
    } catch (err) {
      this.logger.warn(`drift check: cannot score with model ${model.id}, score PSI skipped: ${(err as Error).message}`);
      return window;
    }
  }

  /**
   * Every feature and head of the spec that `base` has, compared with the live window, each
   * on `base`'s bins. Paced (CHECK_CPU_SHARE): over DRIFT_MAX_SAMPLES impressions the
   * comparisons are ~0.7 s of CPU per check, which at once took a core from the api beside
   * the worker and stalled its feeds.
   */
  private async comparisons(base: DriftBaseline, spec: FeatureSpec, live: LiveWindow): Promise<Comparison[]> {
    const width = spec.features.length;
    const pairs: [string, BinnedDistribution, ArrayLike<number>][] = [
      ...spec.features.flatMap((name, j): [string, BinnedDistribution, ArrayLike<number>][] =>
        base.features[name] ? [[`feature ${name}`, base.features[name], matrixColumn(live.matrix, width, j)]] : [],
      ),
      ...spec.heads.flatMap((head): [string, BinnedDistribution, ArrayLike<number>][] =>
        base.scores[head] && live.scores[head] ? [[`score ${head}`, base.scores[head], live.scores[head]]] : [],
      ),
    ];
    // the floor of each is set for all of them at once
    const count = spec.features.filter((name) => base.features[name]).length + spec.heads.filter((head) => base.scores[head]).length;
    const yielder = new EventLoopYielder(CHECK_SLICE_MS, CHECK_CPU_SHARE);
    const compared: Comparison[] = [];
    for (const [key, distribution, values] of pairs) {
      const c = compare(key, distribution, values, live.clusters, base.sampleSize, count);
      if (c) compared.push(c);
      await yielder.pauseIfDue();
    }
    return compared;
  }
}

/** PSI of `live` against `base`, each side smoothed by and judged on its independent values. */
function compare(key: string, base: BinnedDistribution, live: ArrayLike<number>, clusters: RowClusters, baselineRows: number, comparisons: number): Comparison | null {
  const liveN = independentValues(base, live, clusters);
  const baselineN = base.independent ?? baselineRows;
  const value = psi(base, live, { live: liveN, baseline: baselineN });
  if (!Number.isFinite(value)) return null;
  return { key, psi: value, noiseFloor: psiNoiseFloor(base.edges.length + 1, liveN, baselineN, comparisons) };
}

/** The PSI of each comparison, rounded, by kind. */
function psiValues(compared: Comparison[]): DriftPsi {
  const values: DriftPsi = { features: {}, scores: {} };
  for (const c of compared) {
    const [kind, name] = c.key.split(' ');
    (kind === 'feature' ? values.features : values.scores)[name] = round(c.psi);
  }
  return values;
}

function maxOf(values: DriftPsi): number | null {
  const all = [...Object.values(values.features), ...Object.values(values.scores)];
  return all.length > 0 ? Math.max(...all) : null;
}

/** `key`'s number in `ids`, numbering keys 0, 1, ... as they are first seen (dense cluster ids for the drift rows). */
function clusterId(ids: Map<string, number>, key: string): number {
  let id = ids.get(key);
  if (id === undefined) ids.set(key, (id = ids.size));
  return id;
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
