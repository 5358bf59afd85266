import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CatalogVideo } from '../../src/features/catalog-video';
import { userContext } from '../../src/features/feature-registry';
import { buildFeatureMatrix, resolveFeatures } from '../../src/features/feature-spec';
import { UserState } from '../../src/features/user-state';
import { emptyVideoStats, VideoStats } from '../../src/features/video-stats';
import { FeedService } from '../../src/feed/feed.service';
import { ImpressionLogger } from '../../src/feed/data/impression-logger.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos } from '../factories/catalog.factory';
import { activateModel, exportTorchStyleOnnx, predictTestModel, registerModel, TestModel, trainTestModel } from '../factories/model.factory';
import { markSeen, toCatalogVideo, userStateFrom, writeUserState, writeVideoStats } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createAppWithEnv, FeedBody, getFeed, metricValue, tokenFor, waitFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

const DIM = 32;
const WEIGHTS: Record<string, number> = { like: 1, complete: 0.7, share: 1.5, skip: -1 };

const modelA = trainTestModel({
  id: 'model-a',
  features: ['video_like_rate', 'user_video_cosine', 'video_skip_rate'],
  heads: ['like', 'skip'],
  truth: (x) => [x[0], x[2]],
  seed: 11,
});

/** Another feature spec (other inputs, other heads, one the blend does not know): served with no code change. */
const modelB = trainTestModel({
  id: 'model-b',
  features: ['video_duration_log', 'user_category_share', 'video_complete_rate', 'video_share_rate'],
  heads: ['complete', 'share', 'watch_time'],
  truth: (x) => [x[2], x[3] * 0.5, x[0] / 5],
  hidden: [6, 4],
  seed: 12,
});

/** Trained here, shipped the way a PyTorch export would be (see exportTorchStyleOnnx). */
const torchModel = trainTestModel({
  id: 'torch',
  features: ['user_video_cosine', 'video_complete_rate', 'video_like_rate'],
  heads: ['like', 'complete', 'skip'],
  truth: (x) => [x[2], x[1], 1 - x[1]],
  hidden: [8, 4],
  seed: 13,
});

const ADMIN = { 'x-api-key': process.env.ADMIN_API_KEY ?? 'reelrank-admin-dev-key' };

describe('GET /v1/feed ranking with the active model', () => {
  let db: DataSource;
  let redis: Redis;
  let keys: RedisKeys;
  let app: NestFastifyApplication;
  const videos = makeVideos(150, { prefix: 'rk', dim: DIM, creators: 150 });
  const stats = new Map<string, VideoStats>();
  const userId = 'rk-user';
  let user: UserState;
  const seen = videos.slice(100, 110).map((v) => v.id);

  /** The page the model should produce: every unseen video scored offline, best first. */
  function offlineScores(model: TestModel): Map<string, number> {
    const candidates: CatalogVideo[] = videos.filter((v) => !seen.includes(v.id)).map(toCatalogVideo);
    const rowStats = candidates.map((v) => stats.get(v.id)!);
    const x = buildFeatureMatrix(resolveFeatures(model.spec), userContext(user, Date.now()), candidates, rowStats);
    const probs = predictTestModel(model, x, candidates.length);
    const heads = model.spec.heads;
    return new Map(candidates.map((v, i) => [v.id, heads.reduce((s, h, k) => s + (WEIGHTS[h] ?? 0) * probs[i * heads.length + k], 0)]));
  }

  function expectPageFollows(page: FeedBody, model: TestModel): void {
    const expected = offlineScores(model);
    const ranked = [...expected.entries()].sort((a, b) => b[1] - a[1]);
    expect(page.items).toHaveLength(20);
    page.items.forEach((item, i) => {
      expect(item.score).toBeCloseTo(expected.get(item.videoId)!, 4);
      if (i > 0) expect(item.score).toBeLessThanOrEqual(page.items[i - 1].score + 1e-6);
    });
    // The page is the model's top 20: nothing left out scores better than the last item.
    expect(page.items[19].score).toBeGreaterThanOrEqual(ranked[20][1] - 1e-4);
    expect(page.items[0].videoId).toBe(ranked[0][0]);
  }

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    keys = new RedisKeys(testRedisPrefix());
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    await insertVideos(db, videos);
    for (const [i, v] of videos.entries()) {
      const s = { ...emptyVideoStats(), impressions: 5000, views: 200, likes: (i * 37) % 199, completes: (i * 53) % 151, shares: i % 13, skips: (i * 11) % 97 };
      stats.set(v.id, s);
      await writeVideoStats(redis, keys, v.id, s);
    }
    user = userStateFrom(DIM, [
      { type: 'like', video: videos[3] },
      { type: 'complete', video: videos[40] },
      { type: 'skip', video: videos[77] },
    ]);
    await writeUserState(redis, keys, userId, user);
    await markSeen(redis, keys, userId, seen);
    await registerModel(db, modelA, { status: 'active' });
    // Generous Redis and scoring budgets: this suite is about ranking, not about a loaded
    // machine's timeouts (a slow-scoring breaker would hand requests to the heuristic).
    app = await createAppWithEnv({
      FEED_EXPLORATION_SHARE: '0',
      IMPRESSION_FLUSH_MS: '100',
      FEED_REDIS_BUDGET_MS: '1000',
      MODEL_SLOW_MS: '5000',
    });
  });

  afterAll(async () => {
    await app?.close();
    await redis.quit();
    await db.destroy();
  });

  it('serves the model loaded at boot: the page is its top 20 in its order, impressions carry its version and inputs', async () => {
    const token = await tokenFor(app, userId);
    const page = await getFeed(app, token);
    expectPageFollows(page, modelA);
    expect(page.items.map((i) => i.videoId)).not.toEqual(expect.arrayContaining([seen[0]]));
    await app.get(ImpressionLogger).flush();
    const rows: { position: number; model_version: string; features: number[]; score: number }[] = await db.query(
      `SELECT position, model_version, features, score FROM impressions WHERE request_id = $1 ORDER BY position`,
      [page.requestId],
    );
    expect(rows).toHaveLength(20);
    expect(rows.map((r) => r.position)).toEqual([...Array(20).keys()]);
    expect(new Set(rows.map((r) => r.model_version))).toEqual(new Set(['model-a']));
    expect(rows[0].features).toHaveLength(3);
    expect(rows[0].score).toBeCloseTo(page.items[0].score, 4);
    expect(await metricValue(app, 'reelrank_feed_stage_seconds_count', { stage: 'rank' })).toBeGreaterThan(0);
  });

  it('hot-swaps to a model with a different feature spec and heads when it is activated', async () => {
    await registerModel(db, modelB);
    await activateModel(db, redis, keys, 'model-b');
    await waitFor('model-b to serve', async () => (await metricValue(app, 'reelrank_model_active', { version: 'model-b' })) === 1);
    const page = await getFeed(app, await tokenFor(app, userId));
    expectPageFollows(page, modelB);
  });

  it('rejects corrupt or unusable models and keeps serving the current one', async () => {
    const rejected = () => metricValue(app, 'reelrank_model_loads_total', { result: 'rejected' });
    const broken: [TestModel, Parameters<typeof registerModel>[2], string][] = [
      [{ ...modelA, id: 'bad-checksum' }, { sha256: 'f'.repeat(64) }, 'checksum'],
      [{ ...modelA, id: 'bad-spec' }, { spec: { ...modelA.spec, features: ['video_like_rate', 'no_such_feature', 'video_skip_rate'] } }, 'spec'],
      [{ ...modelA, id: 'not-onnx' }, { artifact: Buffer.from('this is not an onnx file') }, 'load'],
      [{ ...modelA, id: 'wrong-heads' }, { spec: { ...modelA.spec, heads: ['like', 'skip', 'share'] } }, 'warmup'],
    ];
    for (const [model, opts, reason] of broken) {
      const before = await rejected();
      await registerModel(db, model, opts);
      await activateModel(db, redis, keys, model.id);
      await waitFor(`${model.id} to be rejected`, async () => (await rejected()) > before);
      expect(await metricValue(app, 'reelrank_model_loads_total', { result: 'rejected', reason })).toBeGreaterThan(0);
      expect(await metricValue(app, 'reelrank_model_active', { version: 'model-b' })).toBe(1);
      expectPageFollows(await getFeed(app, await tokenFor(app, userId)), modelB);
    }
  });

  it('falls back to the heuristic ranker when no model is active, and says so in metrics', async () => {
    await db.query(`UPDATE model_versions SET status = 'retired' WHERE status = 'active'`);
    await redis.publish(keys.modelChannel, 'none');
    await waitFor('heuristic to serve', async () => (await metricValue(app, 'reelrank_model_active', { version: 'heuristic' })) === 1);
    const before = await metricValue(app, 'reelrank_feed_fallback_total', { reason: 'no_model' });
    const page = await getFeed(app, await tokenFor(app, userId));
    expect(page.items).toHaveLength(20);
    expect(await metricValue(app, 'reelrank_feed_fallback_total', { reason: 'no_model' })).toBe(before + 1);
  });

  it('fails no request while models are swapped under concurrent load', async () => {
    await db.query(`DELETE FROM model_versions WHERE id NOT IN ('model-a', 'model-b')`);
    await activateModel(db, redis, keys, 'model-a');
    await waitFor('model-a to serve', async () => (await metricValue(app, 'reelrank_model_active', { version: 'model-a' })) === 1);
    const feed = app.get(FeedService);
    // Users with a history: a user without one gets the popularity order, not a model's.
    for (let c = 0; c < 8; c++) await writeUserState(redis, keys, `${userId}-${c}`, user);
    const requestIds: string[] = [];
    const failures: string[] = [];
    let running = true;
    const clients = Array.from({ length: 8 }, async (_, c) => {
      while (running) {
        try {
          const page = await feed.feed(`${userId}-${c}`, { limit: 20, exclude: [] });
          if (page.items.length !== 20) failures.push(`short page: ${page.items.length}`);
          requestIds.push(page.requestId);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    try {
      for (const id of ['model-b', 'model-a', 'model-b']) {
        await new Promise((r) => setTimeout(r, 300));
        await activateModel(db, redis, keys, id);
        await waitFor(`${id} to serve`, async () => (await metricValue(app, 'reelrank_model_active', { version: id })) === 1);
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      running = false;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);
    expect(requestIds.length).toBeGreaterThan(50);
    await app.get(ImpressionLogger).flush();
    const versions: { model_version: string }[] = await db.query(
      `SELECT DISTINCT model_version FROM impressions WHERE request_id = ANY($1)`,
      [requestIds],
    );
    // Every request was ranked by one of the two models: no gap without a model during a swap.
    expect(versions.map((v) => v.model_version).sort()).toEqual(['model-a', 'model-b']);
  });

  it('serves a model exported by another tool (PyTorch layout and names) once registered and activated over the admin API', async () => {
    const spec = { input: 'input', output: 'probs', features: torchModel.spec.features, heads: torchModel.spec.heads };
    const registered = await request(app.getHttpServer())
      .post('/v1/admin/models')
      .set(ADMIN)
      .attach('artifact', exportTorchStyleOnnx(torchModel, { input: 'input', output: 'probs' }), 'ranker.onnx')
      .field('featureSpec', JSON.stringify(spec))
      .expect(201);
    expect(registered.body).toMatchObject({ status: 'candidate', featureSpec: spec });
    await request(app.getHttpServer()).post(`/v1/admin/models/${registered.body.id}/activate`).set(ADMIN).expect(200);
    await waitFor('the exported model to serve', async () => (await metricValue(app, 'reelrank_model_active', { version: registered.body.id })) === 1);
    expectPageFollows(await getFeed(app, await tokenFor(app, userId)), torchModel);
  });
});
