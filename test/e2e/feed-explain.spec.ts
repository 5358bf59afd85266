import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FeedExplanation } from '../../src/feed/explain/feed-explainer';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos } from '../factories/catalog.factory';
import { exportTorchStyleOnnx, predictTestModel, registerModel, trainTestModel } from '../factories/model.factory';
import { markSeen, setTrending, userStateFrom, writeUserState, writeVideoStats } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createAppWithEnv, FeedBody, metricValue, tokenFor, waitFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

const DIM = 32;
const ADMIN = { 'x-api-key': 'reelrank-admin-dev-key' };
const FEATURES = ['video_like_rate', 'user_video_cosine', 'user_category_share'];

const model = trainTestModel({
  id: 'explain-model',
  features: FEATURES,
  heads: ['like', 'skip'],
  truth: (x) => [Math.min(1, x[0] + x[2]), 0.2],
  seed: 5,
});

type ExplainedPage = FeedBody & { explain: FeedExplanation };

/**
 * The feed's shape set by configuration alone (a source turned off, another reweighted,
 * a tighter category cap), and `explain=true` saying why each item was served and why
 * every other candidate was not.
 */
describe('GET /v1/feed?explain=true', () => {
  let db: DataSource;
  let redis: Redis;
  let app: NestFastifyApplication;
  const videos = makeVideos(240, { prefix: 'xp', dim: DIM, creators: 40 });
  const ids = videos.map((v) => v.id);
  const cooking = videos.filter((v) => v.category === 'cooking');
  const seen = ids.slice(0, 12);
  const blockedCreator = videos[20].creatorId;
  const userId = 'xp-user';

  const feed = async (query: Record<string, string>, headers: Record<string, string> = {}, status = 200) => {
    const res = await request(app.getHttpServer())
      .get('/v1/feed')
      .query(query)
      .set({ Authorization: `Bearer ${await tokenFor(app, userId)}`, ...headers });
    expect(`${res.status} ${res.status === status ? '' : res.text}`).toBe(`${status} `);
    return res;
  };

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    const keys = new RedisKeys(testRedisPrefix());
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    await insertVideos(db, videos);
    for (const [i, id] of ids.entries()) await writeVideoStats(redis, keys, id, { impressions: 5000, views: 300, likes: (i * 37) % 150 });
    await setTrending(redis, keys, ids.slice(0, 60));
    await writeUserState(redis, keys, userId, userStateFrom(DIM, cooking.slice(0, 8).map((video) => ({ type: 'like' as const, video }))));
    await markSeen(redis, keys, userId, seen);
    await db.query(`INSERT INTO creator_blocks (user_id, creator_id) VALUES ($1, $2)`, [userId, blockedCreator]);
    await registerModel(db, model, { status: 'active' });
    await db.query(`UPDATE model_versions SET activated_at = now() WHERE id = $1`, [model.id]);
    app = await createAppWithEnv({
      FEED_SOURCES: 'exploration:0,trending:0.4',
      FEED_MAX_CATEGORY_SHARE: '0.2',
      FEED_TOP_CATEGORIES: '1',
      FEED_REDIS_BUDGET_MS: '1000',
      MODEL_SLOW_MS: '5000',
    });
  });

  afterAll(async () => {
    await app?.close();
    await redis.quit();
    await db.destroy();
  });

  it('is for admins (x-api-key) only, and absent unless asked for', async () => {
    await feed({ explain: 'true' }, {}, 403);
    const plain = await feed({});
    expect(plain.body.explain).toBeUndefined();
    expect((await feed({ explain: 'false' }, ADMIN)).body.explain).toBeUndefined();
    await feed({ explain: 'maybe' }, ADMIN, 400);
  });

  it('explains every served item: sources, model version, heads, blended score, features, rerank decision', async () => {
    const page = (await feed({ explain: 'true', exclude: ids[100] }, ADMIN)).body as ExplainedPage;
    const { explain } = page;
    expect(page.items).toHaveLength(20);
    expect(explain.modelVersion).toBe('explain-model');

    // The shape set by configuration: exploration off, the other shares normalised.
    const shares = Object.fromEntries(explain.sources.map((s) => [s.name, s.share]));
    expect(Object.keys(shares)).toEqual(['i2i', 'sequence', 'ann', 'trending', 'popular_30d', 'popular', 'category', 'followed', 'fresh']);
    expect(shares.trending).toBeCloseTo(0.4 / (0.3 + 0.2 + 0.3 + 0.4 + 0.05 + 0.05 + 0.15 + 0.1 + 0.1), 5);
    expect(explain.sources.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1, 5);
    expect(page.items.some((i) => i.source === 'exploration')).toBe(false);
    // At most 20% of the page per category while others can fill it (cooking is the user's favourite).
    expect(page.items.filter((i) => i.category === 'cooking').length).toBeLessThanOrEqual(4);
    const categories = explain.dropped.filter((d) => d.reason === 'category_cap').map((d) => videos.find((v) => v.id === d.videoId)!.category);
    expect(categories).toContain('cooking');

    expect(explain.items.map((i) => i.videoId)).toEqual(page.items.map((i) => i.videoId));
    for (const [position, item] of explain.items.entries()) {
      const served = page.items[position];
      expect(item.foundBy[0]).toBe(served.source);
      expect(item.score).toBeCloseTo(served.score, 5);
      expect(Object.keys(item.features)).toEqual(FEATURES);
      expect(Object.keys(item.heads)).toEqual(['like', 'skip']);
      const blended = item.heads.like.weight * item.heads.like.score + item.heads.skip.weight * item.heads.skip.score;
      expect(blended).toBeCloseTo(item.score, 4);
      expect(['ranked', 'ranked_category_cap_relaxed', 'ranked_caps_relaxed']).toContain(item.rerank.decision);
    }
    // Found by several sources: every one is named, the credited one first.
    expect(explain.items.some((i) => i.foundBy.length > 1)).toBe(true);
  });

  it('names every candidate dropped and why', async () => {
    const first = (await feed({ explain: 'true', exclude: ids[100] }, ADMIN)).body as ExplainedPage;
    const { dropped, droppedCounts } = first.explain;
    const reasonOf = (id: string) => dropped.find((d) => d.videoId === id)?.reason;
    expect(seen.filter((id) => dropped.some((d) => d.videoId === id)).every((id) => reasonOf(id) === 'seen')).toBe(true);
    expect(droppedCounts.seen).toBeGreaterThan(0);
    expect(reasonOf(ids[100])).toBe('excluded');
    const blocked = dropped.filter((d) => d.reason === 'blocked');
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.every((d) => videos.find((v) => v.id === d.videoId)!.creatorId === blockedCreator)).toBe(true);
    expect(droppedCounts.creator_cap).toBeGreaterThan(0);
    expect(droppedCounts.below_cut).toBeGreaterThan(0);
    for (const d of dropped.filter((x) => x.reason === 'below_cut')) expect(d.scoreRank).toBeGreaterThanOrEqual(0);
    const served = new Set(first.items.map((i) => i.videoId));
    expect(dropped.filter((d) => served.has(d.videoId))).toEqual([]);

    // The next page of the session: what the first page served is dropped as served.
    const second = (await feed({ explain: 'true', cursor: first.nextCursor }, ADMIN)).body as ExplainedPage;
    const servedAgain = second.explain.dropped.filter((d) => served.has(d.videoId));
    expect(servedAgain.length).toBeGreaterThan(0);
    expect(servedAgain.every((d) => d.reason === 'served')).toBe(true);
  });

  it('shows a model brought from outside serving: uploaded and activated in one call, scores checked by hand, rolled back', async () => {
    const outside = trainTestModel({ id: 'outside', features: ['video_like_rate', 'video_skip_rate'], heads: ['like', 'skip'], truth: (x) => [x[0], x[1]], seed: 9 });
    const spec = { input: 'input', output: 'probs', features: outside.spec.features, heads: outside.spec.heads };
    const uploaded = await request(app.getHttpServer())
      .post('/v1/admin/models')
      .set(ADMIN)
      .attach('artifact', exportTorchStyleOnnx(outside, { input: 'input', output: 'probs' }), 'ranker.onnx')
      .field('featureSpec', JSON.stringify(spec))
      .field('activate', 'true')
      .expect(201);
    expect(uploaded.body.status).toBe('active');
    const id: string = uploaded.body.id;
    await waitFor(`${id} to serve`, async () => (await metricValue(app, 'reelrank_model_active', { version: id })) === 1);

    const { explain } = (await feed({ explain: 'true' }, ADMIN)).body as ExplainedPage;
    expect(explain.modelVersion).toBe(id);
    for (const item of explain.items) {
      const row = Float32Array.from(spec.features, (f) => item.features[f]);
      const [like, skip] = predictTestModel(outside, row, 1);
      expect(item.heads.like.score).toBeCloseTo(like, 4);
      expect(item.heads.skip.score).toBeCloseTo(skip, 4);
      expect(item.score).toBeCloseTo(like - skip, 4);
    }

    await request(app.getHttpServer()).post('/v1/admin/models/rollback').set(ADMIN).expect(200);
    await waitFor('explain-model to serve again', async () => (await metricValue(app, 'reelrank_model_active', { version: 'explain-model' })) === 1);
    expect(((await feed({ explain: 'true' }, ADMIN)).body as ExplainedPage).explain.modelVersion).toBe('explain-model');
  });
});
