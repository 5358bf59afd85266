import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { emptyVideoStats } from '../../src/features/video-stats';
import { FeedService } from '../../src/feed/feed.service';
import { ImpressionLogger } from '../../src/feed/data/impression-logger.service';
import { abBucket } from '../../src/ranking/ab-bucket';
import { ModelRuntime } from '../../src/ranking/model-runtime.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos } from '../factories/catalog.factory';
import { registerModel, trainTestModel } from '../factories/model.factory';
import { userStateFrom, writeUserState, writeVideoStats } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createAppWithEnv, metricValue, waitFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

const ADMIN = { 'x-api-key': process.env.ADMIN_API_KEY ?? 'reelrank-admin-dev-key' };

const active = trainTestModel({ id: 'ab-active', features: ['video_like_rate', 'video_skip_rate'], heads: ['like', 'skip'], truth: (x) => [x[0], x[1]], seed: 21 });
/** Ranks nearly the opposite way, so the comparison has something to see. */
const challenger = trainTestModel({ id: 'ab-shadow', features: ['video_like_rate', 'video_skip_rate'], heads: ['like', 'skip'], truth: (x) => [1 - x[0], 1 - x[1]], seed: 22 });

describe('shadow model and A/B split in the ranking runtime', () => {
  let db: DataSource;
  let redis: Redis;
  let keys: RedisKeys;
  const apps: NestFastifyApplication[] = [];
  const users = Array.from({ length: 40 }, (_, i) => `ab-user-${i}`);

  async function servedVersions(app: NestFastifyApplication): Promise<Map<string, Set<string>>> {
    const feed = app.get(FeedService);
    const requestIds: string[] = [];
    for (const u of users) for (let k = 0; k < 2; k++) requestIds.push((await feed.feed(u, { limit: 10, exclude: [] })).requestId);
    await app.get(ImpressionLogger).flush();
    const rows: { user_id: string; model_version: string }[] = await db.query(
      `SELECT DISTINCT user_id, model_version FROM impressions WHERE request_id = ANY($1)`,
      [requestIds],
    );
    const byUser = new Map<string, Set<string>>();
    for (const r of rows) byUser.set(r.user_id, (byUser.get(r.user_id) ?? new Set()).add(r.model_version));
    return byUser;
  }

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    keys = new RedisKeys(testRedisPrefix());
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    const videos = makeVideos(120, { prefix: 'ab', dim: 32, creators: 120 });
    await insertVideos(db, videos);
    for (const [i, v] of videos.entries()) {
      await writeVideoStats(redis, keys, v.id, { ...emptyVideoStats(), impressions: 1000, views: 100, likes: (i * 37) % 90, skips: (i * 11) % 70 });
    }
    // Users with a history: a user with none gets the popularity order whatever the models.
    for (const [i, u] of users.entries()) await writeUserState(redis, keys, u, userStateFrom(32, [{ type: 'like', video: videos[i] }]));
    await registerModel(db, active, { status: 'active' });
    await registerModel(db, challenger, { status: 'shadow' });
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await redis.quit();
    await db.destroy();
  });

  it('splits users between the active and the shadow model by a stable hash, and reports engagement per variant', async () => {
    const app = await createAppWithEnv({ MODEL_AB_SHARE: '0.5', MODEL_SHADOW_SAMPLE: '0', FEED_EXPLORATION_SHARE: '0', FEED_REDIS_BUDGET_MS: '1000' });
    apps.push(app);
    await waitFor('both models loaded', () => app.get(ModelRuntime).shadowVersion === 'ab-shadow');
    const byUser = await servedVersions(app);
    expect(byUser.size).toBe(users.length);
    for (const u of users) {
      // every request of a user is served by the same variant, the one its hash picks
      expect([...byUser.get(u)!]).toEqual([abBucket(u) < 0.5 ? 'ab-shadow' : 'ab-active']);
    }
    const shadowUsers = users.filter((u) => abBucket(u) < 0.5);
    expect(shadowUsers.length).toBeGreaterThan(5);
    expect(shadowUsers.length).toBeLessThan(35);
    expect(await metricValue(app, 'reelrank_model_variant_requests_total', { variant: 'shadow', version: 'ab-shadow' })).toBe(2 * shadowUsers.length);

    // Users react to what they were served: likes on the shadow's impressions, skips on the active one's.
    await db.query(
      `INSERT INTO interactions (event_id, user_id, video_id, type, request_id, occurred_at)
       SELECT 'ab-' || i.id, i.user_id, i.video_id, CASE WHEN i.model_version = 'ab-shadow' THEN 'like' ELSE 'skip' END, i.request_id, i.served_at + interval '5 seconds'
       FROM impressions i WHERE i.position < 5`,
    );
    const report = await request(app.getHttpServer()).get('/v1/admin/models/variants').query({ hours: 1 }).set(ADMIN).expect(200);
    expect(report.body).toMatchObject({ active: 'ab-active', shadow: 'ab-shadow', abShare: 0.5 });
    const variant = (id: string) => report.body.variants.find((v: { modelVersion: string }) => v.modelVersion === id);
    expect(variant('ab-shadow')).toMatchObject({ users: shadowUsers.length, impressions: 2 * 10 * shadowUsers.length, exposed: 2 * 5 * shadowUsers.length });
    expect(variant('ab-shadow').rates).toMatchObject({ like: 1, skip: 0, engaged: 1 });
    expect(variant('ab-active').rates).toMatchObject({ like: 0, skip: 1, engaged: 0 });
    await request(app.getHttpServer()).get('/v1/admin/models/variants').query({ hours: -3 }).set(ADMIN).expect(400);
  });

  it('with no A/B share, serves everyone with the active model while the shadow scores alongside', async () => {
    const app = await createAppWithEnv({ MODEL_AB_SHARE: '0', MODEL_SHADOW_SAMPLE: '1', FEED_EXPLORATION_SHARE: '0', FEED_REDIS_BUDGET_MS: '1000' });
    apps.push(app);
    await waitFor('both models loaded', () => app.get(ModelRuntime).shadowVersion === 'ab-shadow');
    const byUser = await servedVersions(app);
    for (const u of users) expect([...byUser.get(u)!]).toEqual(['ab-active']);
    const compared = await waitFor('shadow comparisons', async () => (await metricValue(app, 'reelrank_model_shadow_top10_overlap_count')) || 0);
    expect(compared).toBeGreaterThan(10);
    // the challenger ranks the other way round: its top 10 shares little with the active one's
    const overlapSum = await metricValue(app, 'reelrank_model_shadow_top10_overlap_sum');
    expect(overlapSum / (await metricValue(app, 'reelrank_model_shadow_top10_overlap_count'))).toBeLessThan(0.5);
    expect(await metricValue(app, 'reelrank_model_inference_seconds_count', { ranker: 'shadow' })).toBeGreaterThan(10);
  });

  it('drops the shadow when it is unmarked, and serves a promoted shadow as the active model', async () => {
    const app = apps[apps.length - 1];
    await db.query(`UPDATE model_versions SET status = 'candidate' WHERE id = 'ab-shadow'`);
    await redis.publish(keys.modelChannel, 'ab-shadow');
    await waitFor('shadow dropped', () => app.get(ModelRuntime).shadowVersion === null);
    await db.query(`UPDATE model_versions SET status = CASE WHEN id = 'ab-shadow' THEN 'active' ELSE 'retired' END`);
    await redis.publish(keys.modelChannel, 'ab-shadow');
    await waitFor('promoted model serving', () => app.get(ModelRuntime).version === 'ab-shadow');
  });
});
