import { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { emptyVideoStats, encodeVideoStats } from '../../features/video-stats';
import { PubSubService } from '../../redis/pubsub.service';
import { RedisKeys } from '../../redis/redis-keys';
import { FeedStateRepository } from '../data/feed-state.repository';
import { VideoStatsCache } from '../data/video-stats-cache';
import { FeatureHydrator } from './feature-hydrator';

const IDS = ['a', 'b', 'c', 'd'];
const video = (id: string): CatalogVideo => ({ id, creatorId: `c-${id}`, title: '', category: 'x', tags: [], durationMs: 1000, createdAt: 0, embedding: null, active: true });
const VIDEOS = IDS.map(video);
const catalog = { findOrdinal: (id: string) => IDS.indexOf(id), videoAt: (o: number) => VIDEOS[o], versionAt: () => 1 };
const keys = new RedisKeys('t');
const blob = (views: number) => encodeVideoStats({ ...emptyVideoStats(), views });

/**
 * The store as the feed's repository sees it, per key: views per video, and the keys that
 * fail (their master refuses: CLUSTERDOWN) or hang (their master does not answer).
 */
class FakeStore {
  views = new Map<string, number>();
  failing = new Set<string>();
  hanging = new Set<string>();
  /** Every key read, in order. */
  asked: string[] = [];
  answer(key: string): Promise<Buffer | null> {
    this.asked.push(key);
    const id = IDS.find((v) => keys.videoStats(v) === key)!;
    if (this.failing.has(id)) return Promise.reject(new Error('CLUSTERDOWN Hash slot not served'));
    if (this.hanging.has(id)) return new Promise(() => undefined);
    return Promise.resolve(this.views.has(id) ? blob(this.views.get(id)!) : null);
  }
  /** An ioredis Cluster client (instanceof Cluster) whose GETs this store answers. */
  cluster(): Cluster {
    return Object.assign(Object.create(Cluster.prototype) as Cluster, { status: 'ready', getBuffer: (key: string) => this.answer(key) });
  }
  /** A single-node client: one MGET that fails as a whole when any of its keys fails. */
  single(): Redis {
    const mgetBuffer = (...ks: string[]) => Promise.all(ks.map((k) => this.answer(k)));
    return Object.assign(Object.create(Redis.prototype) as Redis, { status: 'ready', mgetBuffer });
  }
}

function hydrator(redis: Cluster | Redis): FeatureHydrator {
  const config = Object.assign(new AppConfig(), { FEED_REDIS_BUDGET_MS: 30, FEED_STATS_MAX_AGE_MS: 1000 });
  const pubsub = { subscribe: async () => undefined, onReconnect: () => undefined } as unknown as PubSubService;
  const repository = new FeedStateRepository(redis, keys, config);
  const cache = new VideoStatsCache(config, repository, catalog as unknown as CatalogSnapshotService, pubsub, keys, new Registry());
  return new FeatureHydrator(cache);
}
const candidates = (...ids: string[]) => ({ videos: ids.map((id) => VIDEOS[IDS.indexOf(id)]), ordinals: ids.map((id) => IDS.indexOf(id)) });

describe(FeatureHydrator.name, () => {
  it('on a cluster with a master down, ranks on fresh stats where readable and cached or empty stats elsewhere, as a partial fallback', async () => {
    const store = new FakeStore();
    const stage = hydrator(store.cluster());
    store.views.set('a', 1).set('b', 2).set('c', 3).set('d', 4);
    expect((await stage.hydrate(candidates('a', 'b'), 0)).fallback).toBeNull();

    // Past the max age every entry is a miss; the master of a and c is down, d's does not answer in time.
    store.views.set('a', 10).set('b', 20).set('d', 40);
    store.failing = new Set(['a', 'c']);
    store.hanging = new Set(['d']);
    const started = Date.now();
    const result = await stage.hydrate(candidates('a', 'b', 'c', 'd'), 5000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.stats.map((s) => s.views)).toEqual([1, 20, 0, 0]);
    expect(result).toMatchObject({ fallback: 'video_stats_partial', partial: true, unread: 3 });

    // The master is back: the failed videos are read again.
    store.failing.clear();
    store.hanging.clear();
    const back = await stage.hydrate(candidates('a', 'b', 'c', 'd'), 5001);
    expect(back.stats.map((s) => s.views)).toEqual([10, 20, 3, 40]);
    expect(back.fallback).toBeNull();
    expect(store.asked.slice(-3)).toEqual(['a', 'c', 'd'].map((id) => keys.videoStats(id)));
  });

  it('on a cluster whose client is not ready (no node reachable), keeps the whole-read fallback', async () => {
    const store = new FakeStore();
    const client = Object.assign(store.cluster(), { status: 'reconnecting' });
    const result = await hydrator(client).hydrate(candidates('a', 'b'), 0);
    expect(result).toMatchObject({ fallback: 'redis_unavailable', partial: false, unread: 2 });
    expect(store.asked).toEqual([]);
  });

  it('on a single node keeps the whole-read fallback: one failing key fails the MGET (redis_unavailable)', async () => {
    const store = new FakeStore();
    store.views.set('a', 1).set('b', 2);
    store.failing = new Set(['a']);
    const result = await hydrator(store.single()).hydrate(candidates('a', 'b'), 0);
    expect(result.stats.map((s) => s.views)).toEqual([0, 0]);
    expect(result).toMatchObject({ fallback: 'redis_unavailable', partial: false, unread: 2 });
  });
});
