import { getQueueToken } from '@nestjs/bullmq';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue, QueueEvents } from 'bullmq';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Rng } from '../../seed/random';
import { WorkerModule } from '../../src/app/worker.module';
import { DRIFT_CHECK_JOB } from '../../src/monitoring/drift-check.processor';
import { DriftService } from '../../src/monitoring/drift.service';
import { DriftReportEntity } from '../../src/database/entities';
import { QueueName } from '../../src/queue/queue.types';
import { insertImpressions } from '../factories/impression.factory';
import { createModelVersion } from '../factories/model-version.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { setEnv } from '../support/env';
import { createTestApp } from '../support/test-app';

const FEATURES = ['video_like_rate', 'user_like_rate', 'video_duration_log', 'user_follows_creator'];
const ADMIN_KEY = 'reelrank-admin-dev-key';

/** Rows of the "training" distribution, or of a shifted one (likes up, follows far more common). */
function sampleRows(rng: Rng, n: number, shifted = false): Float32Array {
  const rows = new Float32Array(n * FEATURES.length);
  for (let i = 0; i < n; i++) {
    rows[i * 4] = shifted ? 0.2 + 0.3 * rng.next() : 0.3 * rng.next();
    rows[i * 4 + 1] = 0.1 + 0.03 * rng.normal();
    rows[i * 4 + 2] = 3 + 0.5 * rng.normal();
    rows[i * 4 + 3] = rng.next() < (shifted ? 0.6 : 0.1) ? 1 : 0;
  }
  return rows;
}

describe('drift monitoring', () => {
  let db: DataSource;
  let worker: INestApplicationContext;
  let api: NestFastifyApplication;
  let drift: DriftService;
  let restore: () => void;
  const rng = new Rng(2024);

  beforeAll(async () => {
    restore = setEnv({ DRIFT_CHECK_EVERY: 'off', DRIFT_MIN_SAMPLES: '300', DRIFT_WINDOW_MINUTES: '30', DRIFT_ALERT_PSI: '0.2' });
    db = await createTestDataSource();
    await truncateAllTables(db);
    worker = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
    await worker.init();
    drift = worker.get(DriftService);
    api = await createTestApp();
  });

  afterAll(async () => {
    await api.close();
    await worker.close();
    await db.destroy();
    restore();
  });

  beforeEach(async () => {
    await db.query('TRUNCATE impressions, model_versions, drift_reports, drift_references RESTART IDENTITY');
  });

  /** The active model's first check on `rows`: it captures the model's live reference (no PSI, no alert). */
  async function captureReference(modelVersion: string, rows: Float32Array): Promise<DriftReportEntity> {
    await insertImpressions(db, { modelVersion, rows, width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'insufficient_data', reference: 'pending', modelVersion, alert: false, maxPsi: null });
    expect(report.reason).toMatch(/^live reference captured from \d+ impressions/);
    return report;
  }

  it('reports insufficient data, not an error, when no model is active', async () => {
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'insufficient_data', reason: 'no active model', modelVersion: null, alert: false, maxPsi: null, reference: 'pending' });
  });

  it('reports the live reference pending with too few recent impressions of the active model', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 100), width: 4 });
    // plenty, but too old, or from another model
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 1000), width: 4, servedAt: new Date(Date.now() - 3_600_000) });
    await insertImpressions(db, { modelVersion: 'other-model', rows: sampleRows(rng, 1000), width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'insufficient_data', modelVersion: entity.id, sampleSize: 100, alert: false, reference: 'pending', referenceCapturedAt: null });
    expect(report.reason).toBe('live reference pending: 100 impressions with features in the last 30 min, 300 needed');
    expect(await db.query('SELECT model_version FROM drift_references')).toEqual([]);
  });

  it('captures the live reference from the first window with enough impressions, with or without a training baseline', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES });
    const captured = await captureReference(entity.id, sampleRows(rng, 500));
    expect(captured).toMatchObject({ sampleSize: 500, skewPsi: null, maxSkewPsi: null, referenceCapturedAt: captured.computedAt });
    const [row] = await db.query('SELECT model_version, captured_at, sample_size, distributions FROM drift_references');
    expect(row).toMatchObject({ model_version: entity.id, captured_at: captured.computedAt, sample_size: 500 });
    expect(Object.keys(row.distributions.features).sort()).toEqual([...FEATURES].sort());
    expect(Object.keys(row.distributions.scores).sort()).toEqual(['complete', 'like', 'skip']);
    expect(row.distributions.features.video_like_rate.independent).toBeGreaterThan(400);
  });

  it('finds low PSI and no alert when live traffic looks like the reference, reporting the training-serving skew apart', async () => {
    // trained on rows unlike the served traffic: a large skew, which does not alert
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000, true) });
    const captured = await captureReference(entity.id, sampleRows(rng, 2000));
    expect(captured.maxSkewPsi).toBeGreaterThan(0.5);
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 2000), width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'ok', modelVersion: entity.id, sampleSize: 2000, alert: false, threshold: 0.2, reference: 'live', referenceCapturedAt: captured.computedAt });
    expect(Object.keys(report.psi.features).sort()).toEqual([...FEATURES].sort());
    expect(Object.keys(report.psi.scores).sort()).toEqual(['complete', 'like', 'skip']);
    for (const value of [...Object.values(report.psi.features), ...Object.values(report.psi.scores)]) {
      expect(value).toBeLessThan(0.05);
    }
    expect(report.maxPsi).toBeLessThan(0.05);
    expect(report.skewPsi!.features.video_like_rate).toBeGreaterThan(0.5);
    expect(report.skewPsi!.features.user_follows_creator).toBeGreaterThan(0.5);
    expect(report.maxSkewPsi).toBeGreaterThan(0.5);
  });

  it('raises an alert when features shift after the reference, naming the features and heads that moved', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
    const captured = await captureReference(entity.id, sampleRows(rng, 2000));
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 2000, true), width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'ok', modelVersion: entity.id, alert: true, reference: 'live' });
    expect(report.psi.features.video_like_rate).toBeGreaterThan(0.5);
    expect(report.psi.features.user_follows_creator).toBeGreaterThan(0.5);
    expect(report.psi.features.user_like_rate).toBeLessThan(0.05);
    expect(report.psi.features.video_duration_log).toBeLessThan(0.05);
    expect(Math.max(...Object.values(report.psi.scores))).toBeGreaterThan(0.2);
    expect(report.maxPsi).toBeCloseTo(Math.max(...Object.values(report.psi.features), ...Object.values(report.psi.scores)), 4);

    const res = await request(api.getHttpServer()).get('/v1/admin/drift?limit=5').set('x-api-key', ADMIN_KEY).expect(200);
    expect(res.body.reports).toHaveLength(2);
    expect(res.body.reports[0]).toMatchObject({
      id: report.id,
      modelVersion: entity.id,
      status: 'ok',
      alert: true,
      sampleSize: 2000,
      threshold: 0.2,
      reference: 'live',
      referenceCapturedAt: captured.computedAt.toISOString(),
      psi: { features: expect.objectContaining({ video_like_rate: report.psi.features.video_like_rate }) },
      skewPsi: { features: expect.objectContaining({ video_like_rate: report.skewPsi!.features.video_like_rate }) },
      maxSkewPsi: report.maxSkewPsi,
    });
    // the window: the impressions served since the reference (it is younger than DRIFT_WINDOW_MINUTES)
    expect(Date.parse(res.body.reports[0].windowStart) - captured.computedAt.getTime()).toBe(1);
    expect(res.body.reports[1]).toMatchObject({ id: captured.id, status: 'insufficient_data', reference: 'pending', alert: false });
    expect(Date.parse(res.body.reports[1].computedAt) - Date.parse(res.body.reports[1].windowStart)).toBe(30 * 60_000);

    const metrics = await request(api.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^reelrank_drift_alert 1$/m);
    expect(metrics.text).toMatch(/^reelrank_drift_sample_size 2000$/m);
    expect(metrics.text).toMatch(/^reelrank_drift_reference\{reference="live"\} 1$/m);
    expect(metrics.text).toMatch(/^reelrank_drift_psi\{kind="feature",name="video_like_rate"\} [0-9.]+$/m);
    expect(metrics.text).toMatch(/^reelrank_drift_skew_psi\{kind="feature",name="video_like_rate"\} [0-9.e-]+$/m);
  });

  it('keeps a model\'s reference; a newly activated model captures its own, which replaces it', async () => {
    const first = await createModelVersion(db, { features: FEATURES });
    const captured = await captureReference(first.entity.id, sampleRows(rng, 500));
    // shifted traffic of the same model is judged against the reference, not captured over it
    await insertImpressions(db, { modelVersion: first.entity.id, rows: sampleRows(rng, 500, true), width: 4 });
    expect(await drift.check()).toMatchObject({ status: 'ok', alert: true, referenceCapturedAt: captured.computedAt });
    expect(await db.query('SELECT model_version, captured_at FROM drift_references')).toEqual([{ model_version: first.entity.id, captured_at: captured.computedAt }]);

    await db.query(`UPDATE model_versions SET status = 'retired' WHERE id = $1`, [first.entity.id]);
    const second = await createModelVersion(db, { features: FEATURES, seed: 2 });
    const next = await captureReference(second.entity.id, sampleRows(rng, 500, true));
    expect(await db.query('SELECT model_version, captured_at FROM drift_references')).toEqual([{ model_version: second.entity.id, captured_at: next.computedAt }]);
    await insertImpressions(db, { modelVersion: second.entity.id, rows: sampleRows(rng, 500, true), width: 4 });
    expect(await drift.check()).toMatchObject({ status: 'ok', modelVersion: second.entity.id, alert: false, reference: 'live', referenceCapturedAt: next.computedAt });
  });

  it('ignores impressions logged with a feature vector of another width', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
    await insertImpressions(db, { modelVersion: entity.id, rows: new Float32Array(300 * 3).fill(9), width: 3 });
    const captured = await captureReference(entity.id, sampleRows(rng, 500));
    expect(captured.sampleSize).toBe(500);
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 500), width: 4 });
    await insertImpressions(db, { modelVersion: entity.id, rows: new Float32Array(300 * 3).fill(9), width: 3 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'ok', sampleSize: 500, alert: false });
  });

  it('lists the latest reports newest first, behind the admin key, with a validated limit', async () => {
    await drift.check();
    await drift.check();
    const server = api.getHttpServer();
    await request(server).get('/v1/admin/drift').expect(401);
    await request(server).get('/v1/admin/drift').set('x-api-key', 'wrong-key-123').expect(401);
    const two = await request(server).get('/v1/admin/drift?limit=2').set('x-api-key', ADMIN_KEY).expect(200);
    expect(two.body.reports.map((r: { id: string }) => Number(r.id))).toEqual([2, 1]);
    for (const bad of ['0', '101', 'abc', '1.5']) {
      const res = await request(server).get(`/v1/admin/drift?limit=${bad}`).set('x-api-key', ADMIN_KEY).expect(400);
      expect(JSON.stringify(res.body.message)).toMatch(/limit/);
    }
    await request(server).get('/v1/admin/drift?limit=1&extra=1').set('x-api-key', ADMIN_KEY).expect(400);
  });

  it('runs as a job on the monitoring queue (what the scheduler enqueues)', async () => {
    const queue = worker.get<Queue>(getQueueToken(QueueName.Monitoring));
    const events = new QueueEvents(QueueName.Monitoring, { connection: queue.opts.connection, prefix: queue.opts.prefix });
    try {
      await events.waitUntilReady();
      const job = await queue.add(DRIFT_CHECK_JOB, {});
      const result = await job.waitUntilFinished(events, 15_000);
      expect(result).toMatchObject({ status: 'insufficient_data', maxPsi: null });
      const [row] = await db.query('SELECT id, reason FROM drift_reports');
      expect(row).toMatchObject({ id: result.reportId, reason: 'no active model' });
    } finally {
      await events.close();
    }
  });
});
