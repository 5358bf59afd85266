import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DriftPsi, DriftReportEntity } from '../database/entities';
import { FeatureSpec, validateFeatureSpec } from '../features';
import { BinnedDistribution, DriftBaseline, independentValues, matrixColumn, parseBaseline, psi, psiNoiseFloor, RowClusters } from './drift-baseline';
import { DriftMetrics } from './drift.metrics';
import { ActiveModelForDrift, DriftRepository } from './drift.repository';
import { ModelScorer } from './model-scorer';

type NewReport = Omit<DriftReportEntity, 'id'>;
/** A report and the features and heads it alerts on, with their PSI. */
type CheckResult = NewReport & { drifted: Record<string, number> };

/** One compared distribution: its PSI and what sampling noise alone reaches with its sample sizes. */
interface Comparison {
  key: string;
  psi: number;
  noiseFloor: number;
}

/**
 * One drift check: compares the live feature and score distributions of the active
 * model (impressions of the last DRIFT_WINDOW_MINUTES) with its training baseline,
 * stores a drift_reports row, updates the gauges and logs a warning when an alert starts
 * (for a model) or clears. A PSI over DRIFT_ALERT_PSI alerts only when it is also beyond what
 * sampling noise reaches (psiNoiseFloor) with the independent values on both sides: a
 * user's impressions repeat the user's features and move its scores together, a video's
 * its stats, so a window of a few dozen users is worth a few dozen values, not its
 * impressions (clusteredSampleSize), and the floor is set for all the distributions the
 * check compares at once.
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
    const insufficient = (modelVersion: string | null, reason: string, sampleSize = 0): CheckResult => ({
      drifted: {},
      modelVersion,
      computedAt: now,
      windowStart,
      status: 'insufficient_data',
      reason,
      psi: { features: {}, scores: {} },
      maxPsi: null,
      threshold: this.config.DRIFT_ALERT_PSI,
      alert: false,
      sampleSize,
    });
    const model = await this.repository.activeModel();
    if (!model) return insufficient(null, 'no active model');
    const baseline = parseBaseline(model.trainingInfo?.baseline);
    if (!baseline) return insufficient(model.id, 'the active model has no training baseline (training_info.baseline)');
    let spec: FeatureSpec;
    try {
      spec = validateFeatureSpec(model.featureSpec);
    } catch (err) {
      return insufficient(model.id, `the active model's feature spec is unusable: ${(err as Error).message}`);
    }
    const width = spec.features.length;
    const rows = (await this.repository.liveFeatureRows(model.id, windowStart, this.config.DRIFT_MAX_SAMPLES)).filter(
      (r) => r.features.length === width,
    );
    if (rows.length < this.config.DRIFT_MIN_SAMPLES) {
      return insufficient(
        model.id,
        `${rows.length} impressions with features in the last ${this.config.DRIFT_WINDOW_MINUTES} min, ` +
          `${this.config.DRIFT_MIN_SAMPLES} needed`,
        rows.length,
      );
    }
    const matrix = new Float32Array(rows.length * width);
    rows.forEach((row, i) => matrix.set(row.features, i * width));
    const clusters: RowClusters = { user: clusterIds(rows.map((r) => r.userId)), video: clusterIds(rows.map((r) => r.videoId)) };
    const users = new Set(rows.map((r) => r.userId)).size;
    const videos = new Set(rows.map((r) => r.videoId)).size;
    const compared = [
      ...this.featureComparisons(baseline, spec, matrix, clusters),
      ...(await this.scoreComparisons(baseline, spec, model, matrix, clusters)),
    ];
    const values: DriftPsi = { features: {}, scores: {} };
    for (const c of compared) {
      const [kind, name] = c.key.split(' ');
      (kind === 'feature' ? values.features : values.scores)[name] = round(c.psi);
    }
    const all = [...Object.values(values.features), ...Object.values(values.scores)];
    const maxPsi = all.length > 0 ? Math.max(...all) : null;
    const over = compared.filter((c) => c.psi > this.config.DRIFT_ALERT_PSI);
    const drifted = Object.fromEntries(over.filter((c) => c.psi > c.noiseFloor).map((c) => [c.key, c.psi]));
    const withinNoise = over.filter((c) => !(c.key in drifted)).map((c) => c.key);
    return {
      drifted,
      modelVersion: model.id,
      computedAt: now,
      windowStart,
      status: maxPsi === null ? 'insufficient_data' : 'ok',
      reason:
        maxPsi === null
          ? 'the baseline shares no feature or head with the model spec'
          : withinNoise.length > 0
            ? `PSI over ${this.config.DRIFT_ALERT_PSI} within sampling noise (${users} users, ${videos} videos): ${withinNoise.join(', ')}`
            : null,
      psi: values,
      maxPsi,
      threshold: this.config.DRIFT_ALERT_PSI,
      alert: Object.keys(drifted).length > 0,
      sampleSize: rows.length,
    };
  }

  /** PSI of `live` against `base`, each side smoothed by and judged on its independent values. */
  private compare(key: string, base: BinnedDistribution, live: ArrayLike<number>, clusters: RowClusters, baselineRows: number, comparisons: number): Comparison | null {
    const liveN = independentValues(base, live, clusters);
    const baselineN = base.independent ?? baselineRows;
    const value = psi(base, live, { live: liveN, baseline: baselineN });
    if (!Number.isFinite(value)) return null;
    return { key, psi: value, noiseFloor: psiNoiseFloor(base.edges.length + 1, liveN, baselineN, comparisons) };
  }

  /** How many distributions a check compares: the floor of each is set for all of them at once. */
  private comparisons(baseline: DriftBaseline, spec: FeatureSpec): number {
    return spec.features.filter((name) => baseline.features[name]).length + spec.heads.filter((head) => baseline.scores[head]).length;
  }

  private featureComparisons(baseline: DriftBaseline, spec: FeatureSpec, matrix: Float32Array, clusters: RowClusters): Comparison[] {
    const comparisons = this.comparisons(baseline, spec);
    return spec.features.flatMap((name, j) => {
      const base = baseline.features[name];
      if (!base) return [];
      const c = this.compare(`feature ${name}`, base, matrixColumn(matrix, spec.features.length, j), clusters, baseline.sampleSize, comparisons);
      return c ? [c] : [];
    });
  }

  private async scoreComparisons(
    baseline: DriftBaseline,
    spec: FeatureSpec,
    model: ActiveModelForDrift,
    matrix: Float32Array,
    clusters: RowClusters,
  ): Promise<Comparison[]> {
    if (!spec.heads.some((head) => baseline.scores[head])) return [];
    let scores: Record<string, Float32Array>;
    try {
      scores = await this.scorer.score(model, spec, matrix);
    } catch (err) {
      this.logger.warn(`drift check: cannot score with model ${model.id}, score PSI skipped: ${(err as Error).message}`);
      return [];
    }
    const comparisons = this.comparisons(baseline, spec);
    return spec.heads.flatMap((head) => {
      const base = baseline.scores[head];
      if (!base || !scores[head]) return [];
      const c = this.compare(`score ${head}`, base, scores[head], clusters, baseline.sampleSize, comparisons);
      return c ? [c] : [];
    });
  }
}

/** Dense integer ids (from 0) for string keys, in order of first appearance. */
function clusterIds(keys: string[]): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(keys, (key) => {
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    return id;
  });
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
