import { Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { computeVideoRow } from '../../features/feature-registry';
import { emptyVideoStats, encodeVideoStats, VIDEO_STAT_FIELDS, VideoStats } from '../../features/video-stats';
import { FeedStateRepository, StatsReads } from './feed-state.repository';
import { HydratedStats, VideoStatsCache } from './video-stats-cache';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { ALL_VIDEOS } from '../../events/video-stats-changes.publisher';
import { PubSubService } from '../../redis/pubsub.service';
import { RedisKeys } from '../../redis/redis-keys';

const video = (id: string): CatalogVideo => ({
  id,
  creatorId: 'c',
  title: '',
  category: 'x',
  tags: [],
  durationMs: 1000,
  createdAt: 0,
  embedding: null,
  active: true,
});

/**
 * Redis as the cache sees it: views per video id, and every read it was sent. `failing`:
 * the whole read throws (a single node that is down); `unreadable`: those keys fail one by
 * one and the others are read (a cluster with a master down).
 */
class FakeState {
  views = new Map<string, number>();
  /** Whole stats for an id (instead of views only). */
  full = new Map<string, VideoStats>();
  asked: string[][] = [];
  failing = false;
  unreadable = new Set<string>();
  async readStats(ids: string[]): Promise<(Buffer | null)[]> {
    this.asked.push(ids);
    if (this.failing) throw new Error('redis is down');
    return ids.map((id) => (this.full.has(id) ? encodeVideoStats(this.full.get(id)!) : this.views.has(id) ? encodeVideoStats({ ...emptyVideoStats(), views: this.views.get(id)! }) : null));
  }
  async readStatsEach(ids: string[]): Promise<StatsReads> {
    const blobs = await this.readStats(ids);
    const values = blobs.map((blob, i) => (this.unreadable.has(ids[i]) ? undefined : blob));
    const failed = values.filter((v) => v === undefined).length;
    const perKey = this.unreadable.size > 0;
    return { values, failed, error: failed > 0 ? new Error('CLUSTERDOWN Hash slot not served') : null, perKey };
  }
}

/** Catalog ordinals of the test's videos (sparse, as after other videos came and went). */
const ORDINALS = ['a', 'x', 'b', 'y', 'z', 'c'];
/** The catalog as the cache sees it: the object it holds per id, and a version bumped when that object changes. */
const held = new Map<string, { video: CatalogVideo; version: number }>();
const catalog = {
  findOrdinal: (id: string) => ORDINALS.indexOf(id),
  videoAt: (o: number) => held.get(ORDINALS[o])?.video,
  versionAt: (o: number) => held.get(ORDINALS[o])?.version ?? 0,
};
/** The catalog stores this object for its id (a load, an edit). */
const store = (video: CatalogVideo) => {
  const entry = held.get(video.id);
  if (entry?.video !== video) held.set(video.id, { video, version: (entry?.version ?? 0) + 1 });
};
/** The candidates of a request, as the feed's pool hands them over (objects the catalog holds). */
const of = (...videos: CatalogVideo[]) => {
  videos.forEach(store);
  return { videos, ordinals: videos.map((v) => ORDINALS.indexOf(v.id)) };
};

describe(VideoStatsCache.name, () => {
  const [a, b, c] = ['a', 'b', 'c'].map(video);
  let state: FakeState;
  let registry: Registry;
  /** The pub/sub as the cache sees it: one handler per channel, and the reconnect listeners. */
  let pubsub: { handlers: Map<string, (m: string) => void>; reconnect: (() => void)[] };
  const keys = new RedisKeys('t');
  const cache = (maxAgeMs: number) => {
    state = new FakeState();
    registry = new Registry();
    pubsub = { handlers: new Map(), reconnect: [] };
    const fakePubSub = {
      subscribe: async (channel: string, handler: (m: string) => void) => void pubsub.handlers.set(channel, handler),
      onReconnect: (listener: () => void) => void pubsub.reconnect.push(listener),
    };
    held.clear();
    return new VideoStatsCache(
      Object.assign(new AppConfig(), { FEED_STATS_MAX_AGE_MS: maxAgeMs }),
      state as unknown as FeedStateRepository,
      catalog as unknown as CatalogSnapshotService,
      fakePubSub as unknown as PubSubService,
      keys,
      registry,
    );
  };
  const views = (r: { stats: { views: number }[] }) => r.stats.map((s) => s.views);
  /** Holds the reads Redis gets from now on until `answer()` (a read in flight); `restore()` answers at once again. */
  const holdReads = () => {
    let answer!: () => void;
    const read = state.readStats.bind(state);
    state.readStats = (ids) => read(ids).then((r) => new Promise((resolve) => (answer = () => resolve(r))));
    return { answer: () => answer(), restore: () => void (state.readStats = read) };
  };
  const rowOf = (r: HydratedStats, i: number) => r.columns.rows.slice(r.slots[i] * r.columns.rowWidth, (r.slots[i] + 1) * r.columns.rowWidth);

  it('gives each field of the stats Redis holds, in wire order', async () => {
    const stats = cache(1000);
    const written = Object.fromEntries(VIDEO_STAT_FIELDS.map((f, i) => [f, 10 + i])) as VideoStats;
    state.full.set('a', written);
    const [read] = (await stats.hydrate(of(a), 0)).stats;
    expect(Object.fromEntries(VIDEO_STAT_FIELDS.map((f) => [f, read[f]]))).toEqual(written);
  });

  it('asks Redis only for what it has not fetched within the max age, and refetches after it', async () => {
    const stats = cache(1000);
    state.views.set('a', 1).set('b', 2);
    expect(views(await stats.hydrate(of(a, b), 0))).toEqual([1, 2]);
    state.views.set('a', 10).set('c', 3);
    expect(views(await stats.hydrate(of(a, c, b), 999))).toEqual([1, 3, 2]);
    expect(state.asked).toEqual([['a', 'b'], ['c']]);
    expect(views(await stats.hydrate(of(a, b, c), 1000))).toEqual([10, 2, 3]);
    expect(state.asked[2]).toEqual(['a', 'b']);
    const counts = (await registry.getSingleMetricAsString('reelrank_feed_stats_cache_total')).split('\n').filter((l) => !l.startsWith('#'));
    expect(counts).toEqual(['reelrank_feed_stats_cache_total{result="hit"} 3', 'reelrank_feed_stats_cache_total{result="miss"} 5']);
  });

  it('keeps one slot per video in dense columns, its row computed when its stats were fetched', async () => {
    const stats = cache(1000);
    state.views.set('a', 4);
    const row = (r: HydratedStats, i: number) => r.columns.rows.slice(r.slots[i] * r.columns.rowWidth, (r.slots[i] + 1) * r.columns.rowWidth);
    const first = await stats.hydrate(of(a, b), 100);
    expect(first.slots[0]).not.toBe(first.slots[1]);
    expect(row(first, 0)).toEqual(computeVideoRow(a, first.stats[0]));
    expect(row(first, 1)).toEqual(computeVideoRow(b, first.stats[1]));
    // A hit keeps the slot and the row computed at fetch time.
    const again = await stats.hydrate(of(b, a), 500);
    expect(again.slots[1]).toBe(first.slots[0]);
    expect(row(again, 1)).toEqual(computeVideoRow(a, first.stats[0]));
    // A refetch recomputes the row in the same slot.
    state.views.set('a', 9);
    const refetched = await stats.hydrate(of(a), 1100);
    expect(refetched.slots[0]).toBe(first.slots[0]);
    expect(refetched.stats[0].views).toBe(9);
    expect(row(refetched, 0)).toEqual(computeVideoRow(a, refetched.stats[0]));
  });

  it('computes rows from empty stats when the first fetch fails, and from the stale stats when a refetch fails', async () => {
    const stats = cache(1000);
    state.views.set('a', 4);
    await stats.hydrate(of(a), 0);
    state.failing = true;
    const failed = await stats.hydrate(of(a, b), 2000);
    expect(failed.error).toBeInstanceOf(Error);
    expect(failed.stats.map((s) => s.views)).toEqual([4, 0]);
    const row = failed.columns.rows.slice(failed.slots[1] * failed.columns.rowWidth, (failed.slots[1] + 1) * failed.columns.rowWidth);
    expect(row).toEqual(computeVideoRow(b, emptyVideoStats()));
  });

  it('refetches a video as soon as the worker announces its stats changed, and everything after a reconnect or a replay', async () => {
    const stats = cache(60_000);
    await stats.onModuleInit();
    const announce = pubsub.handlers.get(keys.videoStatsChannel)!;
    state.views.set('a', 1).set('b', 2).set('c', 3);
    await stats.hydrate(of(a, b, c), 0);
    state.views.set('a', 10).set('b', 20).set('c', 30);
    announce('a\nnot-in-catalog');
    expect(views(await stats.hydrate(of(a, b, c), 1))).toEqual([10, 2, 3]);
    expect(state.asked.at(-1)).toEqual(['a']);

    pubsub.reconnect.forEach((listener) => listener());
    await new Promise((r) => setTimeout(r, 2));
    expect(views(await stats.hydrate(of(a, b, c), Date.now()))).toEqual([10, 20, 30]);
    expect(state.asked.at(-1)).toEqual(['a', 'b', 'c']);

    state.views.set('b', 200);
    await new Promise((r) => setTimeout(r, 2));
    announce(ALL_VIDEOS);
    await new Promise((r) => setTimeout(r, 2));
    expect(views(await stats.hydrate(of(b), Date.now()))).toEqual([200]);
  });

  it('keeps an entry stale when its change was announced while the read of it was in flight', async () => {
    const stats = cache(60_000);
    await stats.onModuleInit();
    const announce = pubsub.handlers.get(keys.videoStatsChannel)!;
    state.views.set('a', 1);
    // The read answers with the old count, but the announcement of the new one overtakes the reply.
    const held = holdReads();
    const started = Date.now();
    const inFlight = stats.hydrate(of(a), started);
    await new Promise((r) => setTimeout(r, 2));
    state.views.set('a', 2);
    announce('a');
    held.answer();
    expect(views(await inFlight)).toEqual([1]);
    held.restore();
    // Not served from the cache: read again, with the new count.
    expect(views(await stats.hydrate(of(a), Date.now()))).toEqual([2]);
    expect(state.asked).toEqual([['a'], ['a']]);
  });

  it('with max age 0 reads every video from Redis on every request', async () => {
    const stats = cache(0);
    state.views.set('a', 1);
    await stats.hydrate(of(a), 0);
    state.views.set('a', 2);
    expect(views(await stats.hydrate(of(a), 0))).toEqual([2]);
    expect(state.asked).toEqual([['a'], ['a']]);
  });

  it('when Redis fails, serves what it still has (even stale) and empty stats for the rest, and reports the error', async () => {
    const stats = cache(1000);
    state.views.set('a', 1).set('b', 2);
    await stats.hydrate(of(a), 0);
    state.failing = true;
    const result = await stats.hydrate(of(a, b), 5000);
    expect(views(result)).toEqual([1, 0]);
    expect(result.error?.message).toBe('redis is down');
  });

  it('when only some keys fail (a cluster master down), reads the others, keeps cached or empty stats for those, and asks for them again', async () => {
    const stats = cache(1000);
    state.views.set('a', 1).set('b', 2).set('c', 3);
    await stats.hydrate(of(a), 0);
    state.views.set('a', 10).set('b', 20);
    state.unreadable = new Set(['a', 'c']);
    const result = await stats.hydrate(of(a, b, c), 5000);
    expect(views(result)).toEqual([1, 20, 0]);
    expect(result).toMatchObject({ partial: true, unread: 2 });
    expect(result.error?.message).toMatch(/CLUSTERDOWN/);
    expect(rowOf(result, 0)).toEqual(computeVideoRow(a, result.stats[0]));
    // The master is back: the failed keys are read again at once, the one read is a hit.
    state.unreadable.clear();
    const after = await stats.hydrate(of(a, b, c), 5001);
    expect(views(after)).toEqual([10, 20, 3]);
    expect(after).toMatchObject({ error: null, partial: false, unread: 0 });
    expect(state.asked.at(-1)).toEqual(['a', 'c']);
    const counts = (await registry.getSingleMetricAsString('reelrank_feed_stats_cache_total')).split('\n').filter((l) => !l.startsWith('#'));
    expect(counts).toContain('reelrank_feed_stats_cache_total{result="unreadable"} 2');
  });

  it('reports a whole failed read (a single node) as not partial, every missing video unread', async () => {
    const stats = cache(1000);
    state.failing = true;
    expect(await stats.hydrate(of(a, b), 0)).toMatchObject({ partial: false, unread: 2 });
  });

  it('recomputes the columns and row of a video the catalog replaced (an edit, a reload) from the stats it holds', async () => {
    const stats = cache(60_000);
    state.views.set('a', 1);
    const first = await stats.hydrate(of(a), 0);
    expect(first.slots[0]).toBe(ORDINALS.indexOf('a'));
    expect(first.columns.categories[first.slots[0]]).toBe(first.columns.categoryIds.get('x'));
    const edited = { ...a, category: 'cooking', durationMs: 5000 };
    const after = await stats.hydrate(of(edited), 1);
    // Stats belong to the id: not read again.
    expect(views(after)).toEqual([1]);
    expect(state.asked).toEqual([['a']]);
    expect(after.slots[0]).toBe(first.slots[0]);
    expect(after.columns.categories[after.slots[0]]).toBe(after.columns.categoryIds.get('cooking'));
    expect(rowOf(after, 0)).toEqual(computeVideoRow(edited, after.stats[0]));
  });

  it('when a video is edited while its stats are read, keeps the newer read and the row of the current object', async () => {
    const stats = cache(60_000);
    state.views.set('a', 1);
    // Request A reads the original video's stats slowly.
    const heldA = holdReads();
    const requestA = stats.hydrate(of(a), 1);
    await new Promise((r) => setTimeout(r, 2));
    // Meanwhile the video is edited, and request B (later) reads it with a newer count.
    heldA.restore();
    state.views.set('a', 2);
    const edited = { ...a, category: 'cooking', durationMs: 5000 };
    const requestB = await stats.hydrate(of(edited), 2);
    expect(views(requestB)).toEqual([2]);
    heldA.answer();
    // A's older read does not overwrite B's newer count: A too ranks with it (the cache's
    // stats are shared views, as the columns' rows are), and the edited video's row stays.
    expect(views(await requestA)).toEqual([2]);
    const next = await stats.hydrate(of(edited), 3);
    expect(views(next)).toEqual([2]);
    expect(state.asked).toEqual([['a'], ['a']]);
    expect(rowOf(next, 0)).toEqual(computeVideoRow(edited, next.stats[0]));
    expect(next.columns.categories[next.slots[0]]).toBe(next.columns.categoryIds.get('cooking'));
  });

  it('computes the row of an object stored while the read was in flight when that object is first ranked', async () => {
    const stats = cache(60_000);
    state.views.set('a', 5);
    const held = holdReads();
    const inFlight = stats.hydrate(of(a), 1);
    await new Promise((r) => setTimeout(r, 2));
    const edited = { ...a, durationMs: 9000 };
    store(edited);
    held.answer();
    await inFlight;
    held.restore();
    const next = await stats.hydrate(of(edited), 2);
    expect(views(next)).toEqual([5]);
    expect(state.asked).toEqual([['a']]);
    expect(rowOf(next, 0)).toEqual(computeVideoRow(edited, next.stats[0]));
  });
});
