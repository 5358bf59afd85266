import request from 'supertest';
import { Redis } from 'ioredis';
import { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import { TRENDING_TAU_MS } from '../../src/events/trending';
import { blendByShare } from '../../src/feed/candidates/popularity-blend';
import { CatalogListsService } from '../../src/feed/data/catalog-lists.service';
import { ImpressionLogger } from '../../src/feed/data/impression-logger.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { activateModel, registerModel, trainTestModel } from '../factories/model.factory';
import { uniqueId } from '../factories/sequence';
import { setEnv } from '../support/env';
import { FeedBody, getFeed, metricValue, tokenFor, waitFor } from '../support/feed-helpers';
import { PipelineWorld, startPipelineWorld } from '../support/pipeline-world';
import { createTestRedis } from '../support/redis';
import { waitForQueuesIdle } from '../support/test-worker';

const DAY = 86_400_000;

/** A model that ranks by duration and like rate, nothing to do with popularity. */
const model = trainTestModel({
  id: 'cold-start-model',
  features: ['video_duration_log', 'video_like_rate'],
  heads: ['like'],
  truth: (x) => [Math.min(1, x[0] / 3)],
  scale: 3,
  seed: 5,
});

/**
 * A user with no history, through the real api, worker, Postgres and Redis: the first page
 * is the popularity order (30-day decayed and all-time, blended) minus what the filters
 * remove, whichever ranker serves the users with history.
 */
describe('feed cold start: a new user gets the popularity order', () => {
  let world: PipelineWorld;
  let redis: Redis;
  let restore: () => void;
  /** Views per video: the first six long ago (old hits), the next six in the last days. */
  const oldViews = [12, 11, 10, 9, 8, 7];
  const recentViews = [6, 5, 4, 3, 2, 1];
  let popularityOrder: string[];

  const post = async (userId: string, events: object[]) =>
    request(world.app.getHttpServer())
      .post('/v1/events')
      .set('Authorization', `Bearer ${await tokenFor(world.app, userId)}`)
      .send({ events })
      .expect(202);

  beforeAll(async () => {
    // This suite is about the order served, not about a loaded machine's Redis timeouts (those serve the trending walk).
    restore = setEnv({ FEED_REDIS_BUDGET_MS: '1000', IMPRESSION_FLUSH_MS: '100' });
    world = await startPipelineWorld(24);
    redis = createTestRedis();
    const { videos } = world;
    const now = Date.now();
    const viewsAt = (counts: number[], first: number, at: (k: number) => number) =>
      counts.map((n, i) => Array.from({ length: n }, (_, k) => ({ video: videos[first + i], at: at(k) + i * 1000 })));
    const views = [...viewsAt(oldViews, 0, (k) => now - 120 * DAY + k * 60_000), ...viewsAt(recentViews, 6, (k) => now - 2 * DAY + k * 60_000)];
    // Viewer k watches every video with more than k views: one view per user and video.
    for (let k = 0; k < 12; k++) {
      const events = views.flatMap((perVideo) =>
        perVideo.length > k
          ? [{ eventId: uniqueId('e'), type: 'view', videoId: perVideo[k].video, watchMs: 5000, occurredAt: new Date(perVideo[k].at).toISOString() }]
          : [],
      );
      await post(`viewer-${k}`, events);
    }
    await waitForQueuesIdle(world.worker);
    await world.app.get(CatalogListsService).refreshPopularity();

    // The expected order, from the events above: all-time by views; 30-day by views decayed over 30 days.
    const ranked = (score: (perVideo: { at: number }[]) => number) =>
      views
        .map((perVideo) => ({ id: perVideo[0].video, score: score(perVideo) }))
        .sort((a, b) => b.score - a.score)
        .map((v) => v.id);
    const allTime = ranked((p) => p.length);
    const decayed = ranked((p) => p.reduce((s, v) => s + Math.exp((v.at - now) / TRENDING_TAU_MS['30d']), 0));
    expect(decayed.slice(0, 6)).toEqual(videos.slice(6, 12));
    expect(allTime.slice(0, 6)).toEqual(videos.slice(0, 6));
    popularityOrder = blendByShare(
      [
        { ids: decayed, source: 'popular_30d', share: 1 },
        { ids: allTime, source: 'popular', share: 1 },
      ],
      24,
    ).ids;
  });

  afterAll(async () => {
    await redis?.quit();
    await world?.close();
    restore();
  });

  /** The popularity order without the given videos and without the given creator's videos. */
  function expectedPage(limit: number, without: string[], blockedCreator?: string): string[] {
    const catalog = world.app.get(CatalogSnapshotService);
    return popularityOrder.filter((id) => !without.includes(id) && catalog.get(id)!.creatorId !== blockedCreator).slice(0, limit);
  }

  async function modelVersionsOf(page: FeedBody): Promise<string[]> {
    await world.app.get(ImpressionLogger).flush();
    const rows: { model_version: string }[] = await world.db.query(`SELECT DISTINCT model_version FROM impressions WHERE request_id = $1`, [page.requestId]);
    return rows.map((r) => r.model_version);
  }

  it('serves a user with no events the popularity order, minus the client excludes, and pages on down it', async () => {
    const token = await tokenFor(world.app, 'cold-new');
    const excluded = popularityOrder[0];
    const first = await getFeed(world.app, token, { limit: 8, exclude: excluded });
    expect(first.items.map((i) => i.videoId)).toEqual(expectedPage(8, [excluded]));
    expect(new Set(first.items.map((i) => i.source))).toEqual(new Set(['popular_30d', 'popular']));
    expect(await modelVersionsOf(first)).toEqual(['popularity']);

    const second = await getFeed(world.app, token, { limit: 3, cursor: first.nextCursor, exclude: excluded });
    expect(second.items.map((i) => i.videoId)).toEqual(expectedPage(11, [excluded]).slice(8));
  });

  it('still serves it to a user whose only events are impressions, minus what they were shown and blocked', async () => {
    const userId = 'cold-shown';
    const shown = popularityOrder[1];
    await post(userId, [{ eventId: uniqueId('e'), type: 'impression', videoId: shown }]);
    await waitForQueuesIdle(world.worker);
    const blockedCreator = world.app.get(CatalogSnapshotService).get(popularityOrder[2])!.creatorId;
    await world.db.query(`INSERT INTO creator_blocks (user_id, creator_id) VALUES ($1, $2)`, [userId, blockedCreator]);

    const page = await getFeed(world.app, await tokenFor(world.app, userId), { limit: 6 });
    expect(page.items.map((i) => i.videoId)).toEqual(expectedPage(6, [shown], blockedCreator));
  });

  it('serves it whichever ranker is active, and ranks a user with a first like with that ranker', async () => {
    const keys = world.app.get(RedisKeys);
    await registerModel(world.db, model);
    await activateModel(world.db, redis, keys, model.id);
    await waitFor('the model to serve', async () => (await metricValue(world.app, 'reelrank_model_active', { version: model.id })) === 1);

    const page = await getFeed(world.app, await tokenFor(world.app, 'cold-under-model'), { limit: 10 });
    expect(page.items.map((i) => i.videoId)).toEqual(expectedPage(10, []));
    expect(await modelVersionsOf(page)).toEqual(['popularity']);

    await post('cold-under-model', [{ eventId: uniqueId('e'), type: 'like', videoId: world.videos[20] }]);
    await waitForQueuesIdle(world.worker);
    const warm = await getFeed(world.app, await tokenFor(world.app, 'cold-under-model'), { limit: 10 });
    expect(await modelVersionsOf(warm)).toEqual([model.id]);
  });
});
