import { Logger } from '@nestjs/common';
import { Rng } from '../../seed/random';
import { loadConfig } from '../config/app-config';
import { DriftReportEntity } from '../database/entities';
import { computeBaseline } from './drift-baseline';
import { DriftMetrics } from './drift.metrics';
import { ActiveModelForDrift, DriftRepository, LiveFeatureRow } from './drift.repository';
import { DriftService } from './drift.service';
import { ModelScorer } from './model-scorer';

const FEATURES = ['user_like_rate', 'video_like_rate'];

/** Rows of (per-user like rate, per-video like rate): `users` users, each repeating its own rate on every impression. */
function liveRows(rng: Rng, n: number, users: number, videoShift = 0): LiveFeatureRow[] {
  const userRate = Array.from({ length: users }, () => 0.1 + 0.03 * rng.normal());
  return Array.from({ length: n }, (_, i) => ({
    features: [userRate[i % users], 0.2 + videoShift + 0.05 * rng.normal()],
    userId: `u${i % users}`,
    videoId: `v${i}`,
  }));
}

describe(DriftService.name, () => {
  const rng = new Rng(5);
  const training = new Float32Array(4000 * 2);
  for (let i = 0; i < 4000; i++) {
    training[i * 2] = 0.1 + 0.03 * rng.normal();
    training[i * 2 + 1] = 0.2 + 0.05 * rng.normal();
  }
  const model = {
    id: 'm1',
    featureSpec: { input: 'features', output: 'scores', features: FEATURES, heads: ['like'] },
    trainingInfo: { baseline: computeBaseline(FEATURES, training, {}) },
  } as unknown as ActiveModelForDrift;
  let rows: LiveFeatureRow[] = [];
  const repository = {
    activeModel: async () => model,
    liveFeatureRows: async () => rows,
    save: async (report: Omit<DriftReportEntity, 'id'>) => ({ ...report, id: '1' }) as DriftReportEntity,
  } as unknown as DriftRepository;
  const config = loadConfig({ DRIFT_MIN_SAMPLES: '100', DRIFT_ALERT_PSI: '0.2' });
  const service = new DriftService(config, repository, {} as ModelScorer, { record: () => undefined } as unknown as DriftMetrics);
  let warnings: string[];

  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('does not alert on a per-user feature that a few dozen users move past the threshold by chance', async () => {
    rows = liveRows(rng, 1000, 25);
    const report = await service.check();
    expect(report.psi.features.user_like_rate).toBeGreaterThan(0.2);
    expect(report).toMatchObject({ status: 'ok', alert: false });
    expect(report.reason).toMatch(/within sampling noise \(25 users, 1000 videos\): feature user_like_rate/);
    expect(warnings).toEqual([]);
  });

  it('alerts on a real shift, logs it once while it lasts, and logs when it clears', async () => {
    rows = liveRows(rng, 1000, 25, 0.1);
    const first = await service.check();
    expect(first.alert).toBe(true);
    expect(first.psi.features.video_like_rate).toBeGreaterThan(1);
    await service.check();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^drift alert: model m1 .* on feature video_like_rate=/);

    rows = liveRows(rng, 1000, 500);
    expect((await service.check()).alert).toBe(false);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/^drift alert cleared: model m1/);
  });
});
