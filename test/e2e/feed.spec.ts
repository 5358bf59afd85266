import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import { AnnIndexService } from '../../src/feed/ann/ann-index.service';
import { CatalogListsService } from '../../src/feed/data/catalog-lists.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos } from '../factories/catalog.factory';
import { markSeen, setTrending, userStateFrom, writeUserState, writeVideoStats } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createAppWithEnv, FeedBody, getFeed, tokenFor, waitFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

const DIM = 32;
const ADMIN = { 'x-api-key': 'reelrank-admin-dev-key' };

describe('GET /v1/feed', () => {
  let db: DataSource;
  let redis: Redis;
  let keys: RedisKeys;
  let app: NestFastifyApplication;
  const videos = makeVideos(300, { prefix: 'fd', dim: DIM, creators: 60 });
  const ids = videos.map((v) => v.id);
  const newest = ids.slice(-30);

  /** Pages through a session until the feed runs dry (or `maxPages`), returning every page. */
  async function pageThrough(userId: string, maxPages: number, query: Record<string, string> = {}): Promise<FeedBody[]> {
    const token = await tokenFor(app, userId);
    const pages: FeedBody[] = [];
    let cursor: string | undefined;
    while (pages.length < maxPages) {
      const page = await getFeed(app, token, { ...query, ...(cursor ? { cursor } : {}) });
      pages.push(page);
      if (page.items.length === 0) break;
      cursor = page.nextCursor;
    }
    return pages;
  }

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    keys = new RedisKeys(testRedisPrefix());
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    await insertVideos(db, videos);
    for (const [i, id] of ids.entries()) {
      const fresh = newest.includes(id);
      await writeVideoStats(redis, keys, id, { impressions: fresh ? i % 30 : 5000, views: fresh ? 0 : 100, likes: fresh ? 0 : i % 40 });
    }
    await setTrending(redis, keys, ids.slice(0, 50));
    app = await createAppWithEnv({ FEED_REDIS_BUDGET_MS: '1000', IMPRESSION_FLUSH_MS: '100' });
    await waitFor('the ANN index', () => app.get(AnnIndexService).ready);
  });

  afterAll(async () => {
    await app?.close();
    await redis.quit();
    await db.destroy();
  });

  it('gives a new user the popularity order, nothing personal (cold start)', async () => {
    await app.get(CatalogListsService).refreshPopularity();
    const page = await getFeed(app, await tokenFor(app, 'fd-new-user'));
    expect(page.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(page.items.map((i) => i.videoId)).toEqual(app.get(CatalogListsService).fallback.ids.slice(0, 20));
    // Only views and likes were counted (no 30-day scores in this world): all-time popularity.
    expect(new Set(page.items.map((i) => i.source))).toEqual(new Set(['popular']));
    for (const item of page.items) {
      const v = videos.find((x) => x.id === item.videoId)!;
      expect(item).toEqual({
        videoId: v.id,
        creatorId: v.creatorId,
        category: v.category,
        title: v.title,
        durationMs: v.durationMs,
        score: expect.any(Number),
        source: expect.any(String),
      });
    }
    expect(page.items.map((i) => i.score)).toEqual([...page.items.map((i) => i.score)].sort((a, b) => b - a));
  });

  it('personalises from the user state: taste neighbours, favourite categories, followed creators', async () => {
    const userId = 'fd-fan';
    const liked = videos.filter((v) => v.category === 'cooking').slice(0, 6);
    await writeUserState(redis, keys, userId, userStateFrom(DIM, liked.map((video) => ({ type: 'like' as const, video }))));
    await db.query(`INSERT INTO follows (user_id, creator_id) VALUES ($1, $2)`, [userId, videos[7].creatorId]);
    const pages = await pageThrough(userId, 3);
    const sources = new Set(pages.flatMap((p) => p.items.map((i) => i.source)));
    // The personal sources serve, beside popularity and exploration (which is how fresh uploads get seen); a fork's own sources may add more.
    for (const builtIn of ['ann', 'category', 'followed', 'trending', 'exploration']) expect(sources).toContain(builtIn);
    const cooking = pages[0].items.filter((i) => i.category === 'cooking').length;
    expect(cooking).toBeGreaterThanOrEqual(3);
    expect(cooking).toBeLessThanOrEqual(7);
  });

  it('never serves a watched video', async () => {
    const userId = 'fd-watcher';
    const watched = ids.filter((_, i) => i % 2 === 0);
    await markSeen(redis, keys, userId, watched);
    const served = (await pageThrough(userId, 5)).flatMap((p) => p.items.map((i) => i.videoId));
    expect(served).toHaveLength(100);
    expect(served.filter((id) => watched.includes(id))).toEqual([]);
  });

  it('pages through the whole catalog without ever repeating an item in a session', async () => {
    const pages = await pageThrough('fd-pager', 20);
    const served = pages.flatMap((p) => p.items.map((i) => i.videoId));
    expect(new Set(served).size).toBe(served.length);
    expect(new Set(served)).toEqual(new Set(ids));
    expect(pages.at(-1)!.items).toEqual([]);
    for (const page of pages.slice(0, -2)) expect(page.items).toHaveLength(20);
    // A new session starts over.
    expect((await getFeed(app, await tokenFor(app, 'fd-pager'))).items).toHaveLength(20);
  });

  it('leaves out client-excluded ids and blocked creators', async () => {
    const userId = 'fd-picky';
    const first = await getFeed(app, await tokenFor(app, userId));
    const excluded = first.items.map((i) => i.videoId);
    const blocked = [...new Set(videos.slice(0, 100).map((v) => v.creatorId))].slice(0, 10);
    await db.query(`INSERT INTO creator_blocks (user_id, creator_id) SELECT $1, unnest($2::text[])`, ['fd-picky-2', blocked]);
    const pages = await pageThrough('fd-picky-2', 4, { exclude: excluded.join(',') });
    const items = pages.flatMap((p) => p.items);
    expect(items).toHaveLength(80);
    expect(items.filter((i) => excluded.includes(i.videoId))).toEqual([]);
    expect(items.filter((i) => blocked.includes(i.creatorId))).toEqual([]);
  });

  it('rejects bad input with 400 naming the field, and requests without a token with 401', async () => {
    const token = await tokenFor(app, 'fd-bad');
    const server = app.getHttpServer();
    const bad = async (query: Record<string, string>, field: string) => {
      const res = await request(server).get('/v1/feed').query(query).set('Authorization', `Bearer ${token}`).expect(400);
      expect(JSON.stringify(res.body.message)).toContain(field);
    };
    await bad({ limit: '0' }, 'limit');
    await bad({ limit: '51' }, 'limit');
    await bad({ limit: 'many' }, 'limit');
    await bad({ exclude: 'ok,not an id!' }, 'exclude');
    await bad({ exclude: Array.from({ length: 201 }, (_, i) => `v${i}`).join(',') }, 'exclude');
    await bad({ cursor: 'garbage' }, 'cursor');
    await bad({ page: '2' }, 'page');
    const other = await getFeed(app, await tokenFor(app, 'fd-someone-else'));
    await bad({ cursor: other.nextCursor }, 'cursor');
    const [payload, sig] = other.nextCursor.split('.');
    await bad({ cursor: `${payload.slice(0, -2)}AA.${sig}` }, 'cursor');
    await request(server).get('/v1/feed').expect(401);
  });

  describe('admin catalog endpoints', () => {
    const server = () => app.getHttpServer();

    it('takes a video down: no api serves it any more', async () => {
      const before = await getFeed(app, await tokenFor(app, 'fd-takedown-1'));
      const target = before.items[0].videoId;
      await request(server()).delete(`/v1/admin/videos/${target}`).set(ADMIN).expect(200, { id: target, status: 'taken_down' });
      await waitFor('the takedown to reach the catalog', () => app.get(CatalogSnapshotService).get(target)?.active === false);
      const served = (await pageThrough('fd-takedown-2', 16)).flatMap((p) => p.items.map((i) => i.videoId));
      expect(served).toHaveLength(299);
      expect(served).not.toContain(target);
      await request(server()).delete('/v1/admin/videos/no-such-video').set(ADMIN).expect(404);
      await request(server()).delete('/v1/admin/videos/bad%20id').set(ADMIN).expect(400);
      await request(server()).delete(`/v1/admin/videos/${target}`).expect(401);
    });

    it('bulk-upserts videos (new creators included) and serves new uploads', async () => {
      const upload = {
        id: 'fd-upload-1',
        creatorId: 'fd-new-creator',
        title: 'A brand new video',
        category: 'cooking',
        tags: ['pasta'],
        durationMs: 12_000,
        embedding: Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0)),
      };
      const res = await request(server()).post('/v1/admin/videos').set(ADMIN).send({ videos: [upload] }).expect(200);
      expect(res.body).toEqual({ created: 1, updated: 0 });
      await waitFor('the upload to reach the catalog', () => app.get(CatalogSnapshotService).get(upload.id)?.active === true);
      const served = (await pageThrough('fd-uploads-viewer', 16)).flatMap((p) => p.items);
      expect(served.find((i) => i.videoId === upload.id)).toMatchObject({ title: upload.title, creatorId: upload.creatorId });

      const renamed = await request(server())
        .put('/v1/admin/videos')
        .set(ADMIN)
        .send({ videos: [{ ...upload, title: 'Renamed', embedding: undefined, tags: undefined }] })
        .expect(200);
      expect(renamed.body).toEqual({ created: 0, updated: 1 });
      await waitFor('the rename', () => app.get(CatalogSnapshotService).get(upload.id)?.title === 'Renamed');
      const [row] = await db.query(`SELECT tags, embedding, status FROM videos WHERE id = $1`, [upload.id]);
      expect(row).toEqual({ tags: ['pasta'], embedding: upload.embedding, status: 'active' });
    });

    it('validates upserts: 400 with every failing field, 401 without the key', async () => {
      const good = { id: 'fd-x', creatorId: 'fd-c', title: 't', category: 'cooking', durationMs: 1000 };
      const cases: [unknown, string[]][] = [
        [{ videos: [{ ...good, embedding: [1, 2, 3] }] }, ['videos.0.embedding must have 32 values']],
        [{ videos: [good, good] }, ['videos.1.id fd-x appears more than once']],
        [{ videos: [{ ...good, title: undefined, durationMs: -5, category: 'Not Valid' }] }, ['title', 'durationMs', 'category']],
        [{ videos: [] }, ['videos must contain at least 1 elements']],
        [{ videos: [{ ...good, extra: 1 }] }, ['property extra should not exist']],
        [{}, ['videos']],
      ];
      for (const [body, fields] of cases) {
        const res = await request(server()).post('/v1/admin/videos').set(ADMIN).send(body as object).expect(400);
        for (const f of fields) expect(JSON.stringify(res.body.message)).toContain(f);
      }
      await request(server()).post('/v1/admin/videos').send({ videos: [good] }).expect(401);
      expect(await db.query(`SELECT id FROM videos WHERE id = 'fd-x'`)).toEqual([]);
    });
  });
});
