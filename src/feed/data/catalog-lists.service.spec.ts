import { Registry } from 'prom-client';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { ALL_VIDEOS } from '../../events/video-stats-changes.publisher';
import { CatalogVideo } from '../../features/catalog-video';
import { emptyVideoStats, encodeVideoStats } from '../../features/video-stats';
import { PubSubService } from '../../redis/pubsub.service';
import { RedisKeys } from '../../redis/redis-keys';
import { CatalogListsService } from './catalog-lists.service';
import { FeedStateRepository } from './feed-state.repository';
import { TrendingRepository } from './trending.repository';

const ids = Array.from({ length: 1200 }, (_, i) => `v${i}`);
const videos = new Map<string, CatalogVideo>(
  ids.map((id, i) => [id, { id, creatorId: `c${i % 7}`, title: id, category: `cat${i % 3}`, tags: [], durationMs: 10_000, createdAt: i, embedding: null, active: true }]),
);
const catalog = {
  values: () => videos.values(),
  get: (id: string) => videos.get(id),
  onRefresh: () => undefined,
  ordinalOf: (id: string) => ids.indexOf(id),
  findOrdinal: (id: string) => ids.indexOf(id),
  videoAt: (ordinal: number) => videos.get(ids[ordinal]),
  isActive: (ordinal: number) => videos.get(ids[ordinal])?.active === true,
  size: videos.size,
};

/** Redis as the refresh reads it: views per video, every MGET recorded; `down` ids are unreadable, `failing` fails every read. */
class FakeState {
  views = new Map<string, number>();
  reads: string[][] = [];
  down = new Set<string>();
  failing = false;
  async readStatsEach(keys: string[]) {
    this.reads.push(keys);
    if (this.failing) throw new Error('redis is down');
    const values = keys.map((id) => (this.down.has(id) ? undefined : this.views.has(id) ? encodeVideoStats({ ...emptyVideoStats(), views: this.views.get(id)!, impressions: 1000 }) : null));
    return { values, failed: values.filter((v) => v === undefined).length, error: this.down.size ? new Error('master down') : null, perKey: true };
  }
  readIds(): string[] {
    const out = this.reads.flat();
    this.reads = [];
    return out;
  }
}

describe(CatalogListsService.name, () => {
  let state: FakeState;
  let lists: CatalogListsService;
  let announce: (message: string) => void;
  let reconnect: () => void;

  beforeEach(async () => {
    state = new FakeState();
    // Popularity in id order: v0 best.
    ids.forEach((id, i) => state.views.set(id, 10 * (ids.length - i)));
    const pubsub = {
      subscribe: async (_channel: string, handler: (m: string) => void) => void (announce = handler),
      onReconnect: (listener: () => void) => void (reconnect = listener),
    };
    const trending = { popular30d: async () => [] };
    lists = new CatalogListsService(
      catalog as unknown as CatalogSnapshotService,
      new AppConfig(),
      state as unknown as FeedStateRepository,
      trending as unknown as TrendingRepository,
      new Registry(),
      pubsub as unknown as PubSubService,
      new RedisKeys('t'),
    );
    await lists.onModuleInit();
    await lists.refreshPopularity();
    expect(new Set(state.readIds())).toEqual(new Set(ids));
  });
  afterEach(() => lists.onApplicationShutdown());

  it('a refresh of the announced videos reads only those announced since the last one; a whole refresh reads all, in MGETs of 500', async () => {
    expect(lists.current.popular.slice(0, 3)).toEqual(['v0', 'v1', 'v2']);
    expect(state.reads).toEqual([]);
    state.views.set('v999', 1e9);
    state.views.set('v998', 2e9); // changed, never announced
    announce('v999\nv5');
    await lists.refreshPopularity('announced');
    expect(state.readIds().sort()).toEqual(['v5', 'v999']);
    expect(lists.current.popular.slice(0, 3)).toEqual(['v999', 'v0', 'v1']);
    // Nothing announced since: nothing read, the same order.
    await lists.refreshPopularity('announced');
    expect(state.readIds()).toEqual([]);
    expect(lists.current.popular.slice(0, 3)).toEqual(['v999', 'v0', 'v1']);
    // A read of everything finds the unannounced change too.
    await lists.refreshPopularity();
    const all = state.reads;
    expect(all.flat().length).toBe(ids.length);
    expect(all.map((chunk) => chunk.length)).toEqual([500, 500, 200]);
    expect(lists.current.popular.slice(0, 3)).toEqual(['v998', 'v999', 'v0']);
  });

  it('reads everything after an all-videos announcement (a replay) or a reconnect of the subscription', async () => {
    announce(ALL_VIDEOS);
    await lists.refreshPopularity('announced');
    expect(state.readIds().length).toBe(ids.length);
    reconnect();
    await lists.refreshPopularity('announced');
    expect(state.readIds().length).toBe(ids.length);
    await lists.refreshPopularity('announced');
    expect(state.readIds()).toEqual([]);
  });

  it('keeps the last score of a video it cannot read and reads it again next time; after a failed refresh it reads everything', async () => {
    state.down.add('v3');
    state.views.set('v3', 5e9);
    announce('v3');
    await lists.refreshPopularity('announced');
    expect(state.readIds()).toEqual(['v3']);
    expect(lists.current.popular.slice(0, 4)).toEqual(['v0', 'v1', 'v2', 'v3']);
    state.down.clear();
    await lists.refreshPopularity('announced');
    expect(state.readIds()).toEqual(['v3']);
    expect(lists.current.popular[0]).toBe('v3');

    state.failing = true;
    announce('v7');
    const before = lists.current;
    await lists.refreshPopularity('announced');
    expect(lists.current).toBe(before);
    state.readIds();
    state.failing = false;
    await lists.refreshPopularity('announced');
    expect(state.readIds().length).toBe(ids.length);
  });
});
