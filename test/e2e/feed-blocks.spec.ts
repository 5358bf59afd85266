import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { DataSource, QueryRunner } from 'typeorm';
import { TrendingCacheService } from '../../src/feed/data/trending-cache.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos } from '../factories/catalog.factory';
import { setTrending } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createAppWithEnv, FeedBody, getFeed, metricValue, tokenFor, waitFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

/**
 * Blocked creators stay out of the feed when the user-graph read cannot answer: another
 * connection holds an exclusive lock on creator_blocks, so every read of it waits.
 */
describe('GET /v1/feed while the user-graph read is held back', () => {
  let db: DataSource;
  let redis: Redis;
  let app: NestFastifyApplication;
  let holder: QueryRunner | null = null;
  const videos = makeVideos(200, { prefix: 'bl', dim: 0, creators: 20 });
  const creators = [...new Set(videos.map((v) => v.creatorId))];
  const blocked = creators.slice(0, 6);
  const unavailable = () => metricValue(app, 'reelrank_feed_fallback_total', { reason: 'user_graph_unavailable' });

  async function pages(userId: string, count: number): Promise<FeedBody[]> {
    const token = await tokenFor(app, userId);
    const out: FeedBody[] = [];
    let cursor: string | undefined;
    for (let p = 0; p < count; p++) {
      const page = await getFeed(app, token, cursor ? { cursor } : {});
      out.push(page);
      cursor = page.nextCursor;
    }
    return out;
  }

  const shown = (served: FeedBody[]) => served.flatMap((p) => p.items.map((i) => i.creatorId));

  async function holdBlocksTable(): Promise<void> {
    holder = db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`LOCK TABLE creator_blocks IN ACCESS EXCLUSIVE MODE`);
  }

  async function releaseBlocksTable(): Promise<void> {
    await holder?.rollbackTransaction();
    await holder?.release();
    holder = null;
  }

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    await insertVideos(db, videos);
    const keys = new RedisKeys(testRedisPrefix());
    await setTrending(redis, keys, videos.map((v) => v.id));
    await db.query(`INSERT INTO creator_blocks (user_id, creator_id) SELECT 'bl-user', unnest($1::text[])`, [blocked]);
    await db.query(`INSERT INTO creator_blocks (user_id, creator_id) VALUES ('bl-user-2', $1)`, [blocked[0]]);
    app = await createAppWithEnv({ FEED_BUDGET_MS: '50' });
    await waitFor('trending in memory', () => app.get(TrendingCacheService).ids.length === videos.length);
  });

  afterAll(async () => {
    await releaseBlocksTable();
    await app?.close();
    await redis.quit();
    await db.destroy();
  });

  it('never shows a blocked creator to a user whose blocks cannot be read, and shows them their own blocks once read', async () => {
    const before = await unavailable();
    await holdBlocksTable();
    let held: FeedBody[];
    try {
      held = await pages('bl-user', 4);
    } finally {
      await releaseBlocksTable();
    }
    // The read really was held back: every page was served without the user's graph...
    expect(await unavailable()).toBe(before + 4);
    // ...and none of them shows a creator the user blocked.
    expect(held.every((p) => p.items.length === 20)).toBe(true);
    expect(shown(held).filter((c) => blocked.includes(c))).toEqual([]);

    // Once the held read completes, the user's own graph is cached and used.
    await waitFor('the user graph to be read', async () => {
      const n = await unavailable();
      await pages('bl-user', 1);
      return (await unavailable()) === n;
    });
    expect(shown(await pages('bl-user', 4)).filter((c) => blocked.includes(c))).toEqual([]);
  });

  it('serves a user with no blocks every creator again once the read answers (the held pages were filtered, not short of candidates)', async () => {
    await holdBlocksTable();
    let held: FeedBody[];
    try {
      held = await pages('bl-free', 3);
    } finally {
      await releaseBlocksTable();
    }
    // While held, the stand-in is every creator anyone blocked: a superset of this user's (none).
    expect(shown(held).filter((c) => blocked.includes(c))).toEqual([]);
    await waitFor('the user graph to be read', async () => {
      const n = await unavailable();
      await pages('bl-free', 1);
      return (await unavailable()) === n;
    });
    expect(shown(await pages('bl-free', 5)).filter((c) => blocked.includes(c)).length).toBeGreaterThan(0);
  });
});
