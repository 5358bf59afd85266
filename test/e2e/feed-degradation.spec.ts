import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TrendingCacheService } from '../../src/feed/data/trending-cache.service';
import { REDIS } from '../../src/redis/redis.constants';
import { AnyRedis } from '../../src/redis/redis-connection';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos, unitVector } from '../factories/catalog.factory';
import { setTrending, userStateFrom, writeUserState } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createAppWithEnv, getFeed, metricValue, tokenFor, waitFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { testRedisPrefix } from '../support/test-env';

const DIM = 32;

/**
 * The app talks to Redis through a relay the test controls, so Redis can go away or
 * turn slow for this app only. The catalog has no embeddings yet (nothing learned):
 * the nearest-neighbour source is unavailable. No model is active.
 */
describe('GET /v1/feed when its dependencies fail', () => {
  let db: DataSource;
  let redis: Redis;
  let keys: RedisKeys;
  let proxy: TcpProxy;
  let app: NestFastifyApplication;
  const videos = makeVideos(200, { prefix: 'dg', dim: 0, creators: 40 });
  const trending = videos.slice(0, 120).map((v) => v.id);
  const userId = 'dg-user';
  const blocked = videos[0].creatorId;
  const fallbacks = (reason: string) => metricValue(app, 'reelrank_feed_fallback_total', { reason });

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    keys = new RedisKeys(testRedisPrefix());
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    await insertVideos(db, videos);
    await setTrending(redis, keys, trending);
    const state = userStateFrom(DIM, [{ type: 'like', video: videos[5] }]);
    state.embedding = unitVector(DIM, 3);
    await writeUserState(redis, keys, userId, state);
    await db.query(`INSERT INTO creator_blocks (user_id, creator_id) VALUES ($1, $2)`, [userId, blocked]);
    proxy = new TcpProxy(Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379));
    const port = await proxy.start();
    app = await createAppWithEnv({ REDIS_URL: `redis://127.0.0.1:${port}`, FEED_REDIS_BUDGET_MS: '60' });
    await waitFor('trending in memory', () => app.get(TrendingCacheService).ids.length === trending.length);
  });

  afterAll(async () => {
    proxy.setDown(false);
    proxy.delayMs = 0;
    await app?.close();
    await proxy.close();
    await redis.quit();
    await db.destroy();
  });

  it('ranks with the heuristic and without nearest neighbours, and reports both', async () => {
    const [noModel, noAnn] = [await fallbacks('no_model'), await fallbacks('ann_unavailable')];
    const page = await getFeed(app, await tokenFor(app, userId));
    expect(page.items).toHaveLength(20);
    expect(page.items.map((i) => i.source)).not.toContain('ann');
    expect(await fallbacks('no_model')).toBe(noModel + 1);
    expect(await fallbacks('ann_unavailable')).toBe(noAnn + 1);
  });

  it('answers within its budget from the in-memory trending list when Redis is slow', async () => {
    const before = await fallbacks('redis_timeout');
    // Redis answers after 2 s; the feed must not wait for it (the margin absorbs a busy CI machine).
    proxy.delayMs = 2000;
    try {
      const started = Date.now();
      const page = await getFeed(app, await tokenFor(app, userId));
      expect(Date.now() - started).toBeLessThan(1000);
      expect(page.items).toHaveLength(20);
      expect(new Set(page.items.map((i) => i.source))).toEqual(new Set(['trending']));
      expect(page.items.every((i) => trending.includes(i.videoId) && i.creatorId !== blocked)).toBe(true);
      expect(await fallbacks('redis_timeout')).toBe(before + 1);
    } finally {
      proxy.delayMs = 0;
    }
  });

  it('keeps serving distinct, filtered pages while Redis is down, and recovers when it is back', async () => {
    const before = await fallbacks('redis_unavailable');
    const client = app.get<AnyRedis>(REDIS);
    proxy.setDown(true);
    try {
      await waitFor('the app to notice Redis is gone', () => client.status !== 'ready');
      const token = await tokenFor(app, userId);
      const served: string[] = [];
      let cursor: string | undefined;
      for (let p = 0; p < 3; p++) {
        const page = await getFeed(app, token, cursor ? { cursor } : {});
        expect(page.items).toHaveLength(20);
        expect(page.items.every((i) => i.source === 'trending' && i.creatorId !== blocked)).toBe(true);
        served.push(...page.items.map((i) => i.videoId));
        cursor = page.nextCursor;
      }
      expect(new Set(served).size).toBe(60);
      expect(await fallbacks('redis_unavailable')).toBe(before + 3);
      // Explain says so too: the fallback list, and what it filtered out.
      const explained = await request(app.getHttpServer())
        .get('/v1/feed')
        .query({ explain: 'true' })
        .set({ Authorization: `Bearer ${token}`, 'x-api-key': 'reelrank-admin-dev-key' })
        .expect(200);
      expect(explained.body.explain).toMatchObject({ modelVersion: 'fallback', fallbacks: ['redis_unavailable'] });
      expect(explained.body.explain.items.map((i: { foundBy: string[] }) => i.foundBy)).toEqual(explained.body.items.map(() => ['trending']));
      expect(explained.body.explain.droppedCounts.blocked).toBeGreaterThan(0);
    } finally {
      proxy.setDown(false);
    }
    await waitFor('Redis to reconnect', () => client.status === 'ready', 15_000);
    const after = await fallbacks('redis_unavailable');
    const page = await getFeed(app, await tokenFor(app, userId));
    expect(page.items).toHaveLength(20);
    expect(await fallbacks('redis_unavailable')).toBe(after);
    expect(new Set(page.items.map((i) => i.source)).size).toBeGreaterThan(1);
  });
});
