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
    await db.query('TRUNCATE impressions, model_versions, drift_reports RESTART IDENTITY');
  });

  it('reports insufficient data, not an error, when no model is active', async () => {
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'insufficient_data', reason: 'no active model', modelVersion: null, alert: false, maxPsi: null });
  });

  it('reports insufficient data when the active model has no training baseline', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'insufficient_data', modelVersion: entity.id, alert: false });
    expect(report.reason).toMatch(/no training baseline/);
  });

  it('reports insufficient data with too few recent impressions of the active model', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 100), width: 4 });
    // plenty, but too old, or from another model
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 1000), width: 4, servedAt: new Date(Date.now() - 3_600_000) });
    await insertImpressions(db, { modelVersion: 'other-model', rows: sampleRows(rng, 1000), width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'insufficient_data', modelVersion: entity.id, sampleSize: 100, alert: false });
    expect(report.reason).toMatch(/100 impressions with features in the last 30 min, 300 needed/);
  });

  it('finds low PSI when live traffic looks like the training data', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 2000), width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'ok', modelVersion: entity.id, sampleSize: 2000, alert: false, threshold: 0.2 });
    expect(Object.keys(report.psi.features).sort()).toEqual([...FEATURES].sort());
    expect(Object.keys(report.psi.scores).sort()).toEqual(['complete', 'like', 'skip']);
    for (const value of [...Object.values(report.psi.features), ...Object.values(report.psi.scores)]) {
      expect(value).toBeLessThan(0.05);
    }
    expect(report.maxPsi).toBeLessThan(0.05);
  });

  it('raises an alert when features shift, naming the features and heads that moved', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
    await insertImpressions(db, { modelVersion: entity.id, rows: sampleRows(rng, 2000, true), width: 4 });
    const report = await drift.check();
    expect(report).toMatchObject({ status: 'ok', modelVersion: entity.id, alert: true });
    expect(report.psi.features.video_like_rate).toBeGreaterThan(0.5);
    expect(report.psi.features.user_follows_creator).toBeGreaterThan(0.5);
    expect(report.psi.features.user_like_rate).toBeLessThan(0.05);
    expect(report.psi.features.video_duration_log).toBeLessThan(0.05);
    expect(Math.max(...Object.values(report.psi.scores))).toBeGreaterThan(0.2);
    expect(report.maxPsi).toBeCloseTo(Math.max(...Object.values(report.psi.features), ...Object.values(report.psi.scores)), 4);

    const res = await request(api.getHttpServer()).get('/v1/admin/drift').set('x-api-key', ADMIN_KEY).expect(200);
    expect(res.body.reports).toHaveLength(1);
    expect(res.body.reports[0]).toMatchObject({
      id: report.id,
      modelVersion: entity.id,
      status: 'ok',
      alert: true,
      sampleSize: 2000,
      threshold: 0.2,
      psi: { features: expect.objectContaining({ video_like_rate: report.psi.features.video_like_rate }) },
    });
    expect(Date.parse(res.body.reports[0].computedAt) - Date.parse(res.body.reports[0].windowStart)).toBe(30 * 60_000);

    const metrics = await request(api.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^reelrank_drift_alert 1$/m);
    expect(metrics.text).toMatch(/^reelrank_drift_sample_size 2000$/m);
    expect(metrics.text).toMatch(/^reelrank_drift_psi\{kind="feature",name="video_like_rate"\} [0-9.]+$/m);
  });

  it('ignores impressions logged with a feature vector of another width', async () => {
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: sampleRows(rng, 5000) });
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
