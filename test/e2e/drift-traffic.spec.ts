import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { normalize, Rng } from '../../seed/random';
import { SeedUser, simulateEngagement, TOPICS, World } from '../../seed/world';
import { DriftReportEntity } from '../../src/database/entities';
import { DriftService } from '../../src/monitoring/drift.service';
import { QueueName } from '../../src/queue/queue.types';
import { eventsForReaction } from '../../scripts/simulator/simulator';
import { seedTestWorld } from '../factories/seeded-world.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { setEnv } from '../support/env';
import { getFeed, metricValue, tokenFor, waitFor } from '../support/feed-helpers';
import { createTestApp } from '../support/test-app';
import { createTestWorker, waitForQueuesIdle } from '../support/test-worker';

const ADMIN = { 'x-api-key': 'reelrank-admin-dev-key' };
const PAGE = 10;
/** Each round this many simulated users arrive; each stays this many rounds: a steady mix of new and regular users. */
const ARRIVALS_PER_ROUND = 5;
const LIFETIME_ROUNDS = 6;
/** A round takes at least this long (users think between pages), so traffic spans the trainer's label window. */
const ROUND_MS = 1000;
/** Drift checks look at the most recent impressions only, so each phase is judged on its own traffic. */
const CHECKED_IMPRESSIONS = 1000;
const ALERT_PSI = 0.2;
/** Models trained one after another on the traffic the previous one served; the last is monitored. */
const MODEL_GENERATIONS = 3;
const ROUNDS_PER_GENERATION = 12;
/**
 * What reading more pages moves: events in the last hour. Each check window holds ~40
 * users, and so does the live reference, so a per-user feature rests on ~40 values a side
 * and sampling noise alone reaches a PSI of 1-2 (psiNoiseFloor): the shifted audience reads
 * four times as many pages (twice as many moved it to ~1.3, within that noise).
 */
const ACTIVITY_FEATURE = 'user_activity_1h';

interface Visitor {
  id: string;
  taste: SeedUser;
  token: string;
  rng: Rng;
  roundsLeft: number;
}

/** How simulated users behave: whose tastes arrive, and how many pages each reads per round. */
interface Behaviour {
  name: string;
  taste: (seeded: SeedUser) => SeedUser;
  pagesPerRound: number;
}

/**
 * Simulated users on the real api: each round some arrive (with the hidden taste of a
 * seeded user), every active user reads pages of the feed and reacts as its taste
 * dictates (the seed world's engagement model, as `npm run simulate` does), and leaves
 * after LIFETIME_ROUNDS. Between rounds the worker catches up, as think time would.
 */
class SimulatedAudience {
  private readonly active: Visitor[] = [];
  private arrived = 0;

  constructor(
    private readonly api: NestFastifyApplication,
    private readonly worker: INestApplicationContext,
    private readonly world: World,
  ) {}

  async rounds(n: number, behaviour: Behaviour): Promise<void> {
    for (let r = 0; r < n; r++) await this.round(behaviour);
  }

  private async round(behaviour: Behaviour): Promise<void> {
    const started = Date.now();
    const arrivals: Visitor[] = [];
    for (let k = 0; k < ARRIVALS_PER_ROUND; k++) {
      const seeded = this.world.users[this.arrived % this.world.users.length];
      const id = `sim${this.arrived}_${seeded.id}`;
      arrivals.push({ id, taste: seeded, token: await tokenFor(this.api, id), rng: new Rng(7919 + this.arrived), roundsLeft: LIFETIME_ROUNDS });
      this.arrived++;
    }
    // Arrivals come back after a month: a user with no history at all gets the popularity
    // order, which the drift monitor does not see, and the model's traffic would then hold
    // only gaps of about a second between events (user_hours_since_last binned on jitter).
    await Promise.all(arrivals.map((v, k) => this.lastSeenLongAgo(v, this.arrived - arrivals.length + k)));
    await waitForQueuesIdle(this.worker, [QueueName.Events], 30_000);
    this.active.push(...arrivals);
    await Promise.all(this.active.map((v) => this.visit(v, behaviour)));
    await waitForQueuesIdle(this.worker, [QueueName.Events], 30_000);
    for (let i = this.active.length - 1; i >= 0; i--) if (--this.active[i].roundsLeft === 0) this.active.splice(i, 1);
    await new Promise((r) => setTimeout(r, Math.max(0, started + ROUND_MS - Date.now())));
  }

  private async lastSeenLongAgo(v: Visitor, n: number): Promise<void> {
    const video = this.world.videos[(n * 7919) % this.world.videos.length];
    const event = { eventId: `${v.id}-back`, type: 'view', videoId: video.id, watchMs: 5000, occurredAt: new Date(Date.now() - 30 * 86_400_000).toISOString() };
    await request(this.api.getHttpServer()).post('/v1/events').set('Authorization', `Bearer ${v.token}`).send({ events: [event] }).expect(202);
  }

  private async visit(v: Visitor, behaviour: Behaviour): Promise<void> {
    const taste = behaviour.taste(v.taste);
    for (let p = 0; p < behaviour.pagesPerRound; p++) {
      const page = await getFeed(this.api, v.token, { limit: PAGE });
      const at = Date.now();
      const events = page.items.flatMap((item, position) => {
        const video = this.world.videos[Number(item.videoId.slice(2)) - 1];
        return eventsForReaction(item, simulateEngagement(taste, video, v.rng), page.requestId, at + position * 10);
      });
      await request(this.api.getHttpServer()).post('/v1/events').set('Authorization', `Bearer ${v.token}`).send({ events }).expect(202);
    }
  }
}

describe('drift monitoring on real traffic', () => {
  let db: DataSource;
  let world: World;
  let worker: INestApplicationContext;
  let api: NestFastifyApplication;
  let drift: DriftService;
  let audience: SimulatedAudience;
  let restore: () => void;
  let modelId: string;

  const usual: Behaviour = { name: 'usual', taste: (u) => u, pagesPerRound: 1 };
  /** The audience changes: everyone now only cares for gaming, and reads four times as many pages. */
  const shifted: Behaviour = {
    name: 'shifted',
    taste: (u) => ({ ...u, taste: normalize(Float32Array.from(world.topicCentroids[TOPICS.indexOf('gaming')])) }),
    pagesPerRound: 4,
  };

  beforeAll(async () => {
    restore = setEnv({
      DRIFT_CHECK_EVERY: 'off',
      DRIFT_WINDOW_MINUTES: '30',
      DRIFT_MIN_SAMPLES: String(CHECKED_IMPRESSIONS),
      DRIFT_MAX_SAMPLES: String(CHECKED_IMPRESSIONS),
      DRIFT_ALERT_PSI: String(ALERT_PSI),
      // Impressions count for training once 6 s have passed, so the traffic just sent is trainable.
      TRAIN_LABEL_WINDOW_MINUTES: '0.1',
      TRAIN_EPOCHS: '10',
      RETRAIN_WINDOW_HOURS: '1',
      MODEL_AUTO_PROMOTE: 'true',
      IMPRESSION_FLUSH_MS: '100',
    });
    db = await createTestDataSource();
    await truncateAllTables(db);
    ({ world } = await seedTestWorld(['--users', '120', '--videos', '2000', '--history', '0']));
    worker = await createTestWorker();
    drift = worker.get(DriftService);
    api = await createTestApp();
    audience = new SimulatedAudience(api, worker, world);
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await db?.destroy();
    restore?.();
  });

  async function checkDrift(): Promise<DriftReportEntity> {
    // What the api served is in Postgres once its impression buffer is flushed.
    await waitFor('impressions written', async () => (await metricValue(api, 'reelrank_impressions_buffered')) === 0);
    return drift.check();
  }

  /** Trains on the last hour of the log through the admin api (the worker runs the job), activates the model and waits until the api serves it. */
  async function trainAndServe(): Promise<string> {
    const http = () => request(api.getHttpServer());
    const res = await http().post('/v1/admin/models/train').set(ADMIN).send({ windowHours: 1, autoPromote: false }).expect(202);
    const status = await waitFor(
      'the training job',
      async () => {
        const body = (await http().get(`/v1/admin/models/train/${res.body.jobId}`).set(ADMIN).expect(200)).body;
        return body.state === 'completed' || body.state === 'failed' ? body : null;
      },
      60_000,
    );
    expect({ state: status.state, failedReason: status.failedReason, hasResult: status.result !== null }).toEqual({
      state: 'completed',
      failedReason: null,
      hasResult: true,
    });
    const id: string = status.result.modelId;
    await http().post(`/v1/admin/models/${id}/activate`).set(ADMIN).send({}).expect(200);
    await waitFor(`the api to serve ${id}`, async () => (await metricValue(api, 'reelrank_model_active', { version: id })) === 1);
    return id;
  }

  it('trains on traffic the model loop itself served, stores its baseline, and serves the model', async () => {
    // The first model learns from what the heuristic served; each next one from what the
    // previous model served, as a running model loop does. The last one is monitored.
    await audience.rounds(ROUNDS_PER_GENERATION, usual);
    for (let generation = 1; generation <= MODEL_GENERATIONS; generation++) {
      modelId = await trainAndServe();
      if (generation < MODEL_GENERATIONS) await audience.rounds(ROUNDS_PER_GENERATION, usual);
    }
    const [row] = await db.query(`SELECT status, training_info FROM model_versions WHERE id = $1`, [modelId]);
    expect(row.status).toBe('active');
    expect(row.training_info.data.loggedFeatureRows).toBeGreaterThan(0);
    expect(row.training_info.baseline.sampleSize).toBeGreaterThan(500);
  }, 150_000);

  let captured: DriftReportEntity;
  let before: DriftReportEntity;
  let after: DriftReportEntity;

  it('captures the monitored model\'s live reference from the first window of traffic it served', async () => {
    await audience.rounds(4, usual);
    captured = await checkDrift();
    expect(captured).toMatchObject({ status: 'insufficient_data', reference: 'pending', modelVersion: modelId, sampleSize: CHECKED_IMPRESSIONS, alert: false });
    expect(captured.reason).toMatch(/^live reference captured from 1000 impressions/);
    // the training baseline is another population (held-out training rows): reported as skew
    expect(captured.maxSkewPsi).not.toBeNull();
  }, 60_000);

  it('raises no alert while the audience behaves as when the reference was taken', async () => {
    await audience.rounds(4, usual);
    before = await checkDrift();
    expect(before).toMatchObject({
      status: 'ok',
      reference: 'live',
      referenceCapturedAt: captured.computedAt,
      modelVersion: modelId,
      sampleSize: CHECKED_IMPRESSIONS,
      threshold: ALERT_PSI,
      alert: false,
    });
    expect(before.psi.features[ACTIVITY_FEATURE]).toBeLessThan(ALERT_PSI);
  }, 60_000);

  it('raises an alert naming the features that moved once tastes and activity shift', async () => {
    await audience.rounds(2, shifted);
    after = await checkDrift();
    expect(after).toMatchObject({ status: 'ok', reference: 'live', referenceCapturedAt: captured.computedAt, modelVersion: modelId, sampleSize: CHECKED_IMPRESSIONS, alert: true });
    expect(after.psi.features[ACTIVITY_FEATURE]).toBeGreaterThan(ALERT_PSI);
    expect(after.psi.features[ACTIVITY_FEATURE]).toBeGreaterThan(3 * before.psi.features[ACTIVITY_FEATURE]);
    const res = await request(api.getHttpServer()).get('/v1/admin/drift?limit=1').set(ADMIN).expect(200);
    expect(res.body.reports[0]).toMatchObject({ id: after.id, alert: true, psi: { features: expect.objectContaining({ user_activity_1h: after.psi.features.user_activity_1h }) } });
    // The api reloads the drift gauges at most once a second: the scrape just before the check may have loaded the previous report.
    await waitFor('the api to report the alert', async () => (await metricValue(api, 'reelrank_drift_alert')) === 1);
  }, 60_000);

  afterAll(() => {
    // The figures RELIABILITY.md quotes.
    for (const [name, r] of Object.entries({ reference: captured, unshifted: before, shifted: after })) {
      if (r) {
        process.stdout.write(
          `drift on real traffic, ${name}: alert ${r.alert}, max PSI ${r.maxPsi} (${r.reason ?? 'no PSI within noise'}) ${JSON.stringify(r.psi)}; ` +
            `training-serving skew max ${r.maxSkewPsi} ${JSON.stringify(r.skewPsi)}\n`,
        );
      }
    }
  });
});
