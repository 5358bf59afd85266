import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DriftPsi, DriftReportEntity } from '../database/entities';
import { featureByName, FeatureSpec, validateFeatureSpec } from '../features';
import { DriftBaseline, matrixColumn, parseBaseline, psi, psiNoiseFloor } from './drift-baseline';
import { DriftMetrics } from './drift.metrics';
import { ActiveModelForDrift, DriftRepository } from './drift.repository';
import { ModelScorer } from './model-scorer';

type NewReport = Omit<DriftReportEntity, 'id'>;
/** A report and the features and heads it alerts on, with their PSI. */
type CheckResult = NewReport & { drifted: Record<string, number> };

/** Independent values behind a live sample: a per-user feature repeats on each of a user's impressions. */
interface SampleSizes {
  impressions: number;
  users: number;
  videos: number;
}

/**
 * One drift check: compares the live feature and score distributions of the active
 * model (impressions of the last DRIFT_WINDOW_MINUTES) with its training baseline,
 * stores a drift_reports row, updates the gauges and logs a warning when an alert starts
 * (for a model) or clears. A PSI over DRIFT_ALERT_PSI alerts only when it is also beyond what sampling
 * noise reaches with that many independent values (psiNoiseFloor): a window of a few dozen
 * users moves per-user features that far by chance.
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
    const sizes: SampleSizes = {
      impressions: rows.length,
      users: new Set(rows.map((r) => r.userId)).size,
      videos: new Set(rows.map((r) => r.videoId)).size,
    };
    const values: DriftPsi = {
      features: this.featurePsi(baseline, spec, matrix, sizes),
      scores: await this.scorePsi(baseline, spec, model, matrix),
    };
    const all = [...Object.values(values.features), ...Object.values(values.scores)];
    const maxPsi = all.length > 0 ? Math.max(...all) : null;
    const over = this.overThreshold(values);
    const drifted = Object.fromEntries(over.filter(([key, v]) => v > this.noiseFloor(key, baseline, sizes)));
    const withinNoise = over.filter(([key]) => !(key in drifted)).map(([key]) => key);
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
            ? `PSI over ${this.config.DRIFT_ALERT_PSI} within sampling noise (${sizes.users} users, ${sizes.videos} videos): ${withinNoise.join(', ')}`
            : null,
      psi: values,
      maxPsi,
      threshold: this.config.DRIFT_ALERT_PSI,
      alert: Object.keys(drifted).length > 0,
      sampleSize: rows.length,
    };
  }

  /** `feature <name>` / `score <head>` keys over DRIFT_ALERT_PSI, with their PSI. */
  private overThreshold(values: DriftPsi): [string, number][] {
    const over = (kind: string, map: Record<string, number>) =>
      Object.entries(map)
        .filter(([, v]) => v > this.config.DRIFT_ALERT_PSI)
        .map(([name, v]): [string, number] => [`${kind} ${name}`, v]);
    return [...over('feature', values.features), ...over('score', values.scores)];
  }

  private noiseFloor(key: string, baseline: DriftBaseline, sizes: SampleSizes): number {
    const [kind, name] = key.split(' ');
    const distribution = kind === 'feature' ? baseline.features[name] : baseline.scores[name];
    const independent = kind === 'feature' ? independentValues(name, sizes) : sizes.impressions;
    return psiNoiseFloor(distribution.edges.length + 1, independent, baseline.sampleSize);
  }

  private featurePsi(baseline: DriftBaseline, spec: FeatureSpec, matrix: Float32Array, sizes: SampleSizes): Record<string, number> {
    const out: Record<string, number> = {};
    spec.features.forEach((name, j) => {
      const base = baseline.features[name];
      if (!base) return;
      const value = psi(base, matrixColumn(matrix, spec.features.length, j), {
        live: independentValues(name, sizes),
        baseline: baseline.sampleSize,
      });
      if (Number.isFinite(value)) out[name] = round(value);
    });
    return out;
  }

  private async scorePsi(
    baseline: DriftBaseline,
    spec: FeatureSpec,
    model: ActiveModelForDrift,
    matrix: Float32Array,
  ): Promise<Record<string, number>> {
    if (!spec.heads.some((head) => baseline.scores[head])) return {};
    let scores: Record<string, Float32Array>;
    try {
      scores = await this.scorer.score(model, spec, matrix);
    } catch (err) {
      this.logger.warn(`drift check: cannot score with model ${model.id}, score PSI skipped: ${(err as Error).message}`);
      return {};
    }
    const out: Record<string, number> = {};
    for (const head of spec.heads) {
      const base = baseline.scores[head];
      if (!base) continue;
      const value = psi(base, scores[head], { live: matrix.length / spec.features.length, baseline: baseline.sampleSize });
      if (Number.isFinite(value)) out[head] = round(value);
    }
    return out;
  }
}

/** A per-user feature has one value per user in the sample, a per-video one one per video. */
function independentValues(feature: string, sizes: SampleSizes): number {
  const definition = featureByName(feature);
  return definition?.perUser ? sizes.users : definition?.perVideo ? sizes.videos : sizes.impressions;
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
