import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DriftPsi, DriftReportEntity } from '../database/entities';
import { FeatureSpec, validateFeatureSpec } from '../features';
import { DriftBaseline, matrixColumn, parseBaseline, psi } from './drift-baseline';
import { DriftMetrics } from './drift.metrics';
import { ActiveModelForDrift, DriftRepository } from './drift.repository';
import { ModelScorer } from './model-scorer';

type NewReport = Omit<DriftReportEntity, 'id'>;

/**
 * One drift check: compares the live feature and score distributions of the active
 * model (impressions of the last DRIFT_WINDOW_MINUTES) with its training baseline,
 * stores a drift_reports row, updates the gauges and logs a warning over DRIFT_ALERT_PSI.
 */
@Injectable()
export class DriftService {
  private readonly logger = new Logger(DriftService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly repository: DriftRepository,
    private readonly scorer: ModelScorer,
    private readonly metrics: DriftMetrics,
  ) {}

  async check(now = new Date()): Promise<DriftReportEntity> {
    const windowStart = new Date(now.getTime() - this.config.DRIFT_WINDOW_MINUTES * 60_000);
    const report = await this.compute(now, windowStart);
    const saved = await this.repository.save(report);
    this.metrics.record(saved);
    if (saved.status !== 'ok') {
      this.logger.log(`drift check: insufficient data (${saved.reason})`);
    } else if (saved.alert) {
      this.logger.warn(
        `drift alert: model ${saved.modelVersion} max PSI ${saved.maxPsi?.toFixed(3)} > ${this.config.DRIFT_ALERT_PSI} ` +
          `on ${this.drifted(saved.psi).join(', ')} (${saved.sampleSize} impressions)`,
      );
    } else {
      this.logger.log(`drift check: model ${saved.modelVersion} max PSI ${saved.maxPsi?.toFixed(3)} (${saved.sampleSize} impressions)`);
    }
    return saved;
  }

  private async compute(now: Date, windowStart: Date): Promise<NewReport> {
    const insufficient = (modelVersion: string | null, reason: string, sampleSize = 0): NewReport => ({
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
      (r) => r.length === width,
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
    rows.forEach((row, i) => matrix.set(row, i * width));
    const values: DriftPsi = {
      features: this.featurePsi(baseline, spec, matrix),
      scores: await this.scorePsi(baseline, spec, model, matrix),
    };
    const all = [...Object.values(values.features), ...Object.values(values.scores)];
    const maxPsi = all.length > 0 ? Math.max(...all) : null;
    return {
      modelVersion: model.id,
      computedAt: now,
      windowStart,
      status: maxPsi === null ? 'insufficient_data' : 'ok',
      reason: maxPsi === null ? 'the baseline shares no feature or head with the model spec' : null,
      psi: values,
      maxPsi,
      threshold: this.config.DRIFT_ALERT_PSI,
      alert: maxPsi !== null && maxPsi > this.config.DRIFT_ALERT_PSI,
      sampleSize: rows.length,
    };
  }

  private featurePsi(baseline: DriftBaseline, spec: FeatureSpec, matrix: Float32Array): Record<string, number> {
    const out: Record<string, number> = {};
    spec.features.forEach((name, j) => {
      const base = baseline.features[name];
      if (!base) return;
      const value = psi(base, matrixColumn(matrix, spec.features.length, j));
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
      const value = psi(base, scores[head]);
      if (Number.isFinite(value)) out[head] = round(value);
    }
    return out;
  }

  private drifted(values: DriftPsi): string[] {
    const over = (kind: string, map: Record<string, number>) =>
      Object.entries(map)
        .filter(([, v]) => v > this.config.DRIFT_ALERT_PSI)
        .map(([name, v]) => `${kind} ${name}=${v.toFixed(3)}`);
    return [...over('feature', values.features), ...over('score', values.scores)];
  }
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
