import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { Gauge, Registry } from 'prom-client';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { decodeVideoStats } from '../../features/video-stats';
import { parseHeadWeights } from '../../ranking/head-weights';
import { FeedStateRepository } from './feed-state.repository';
import { topK, topKIndices } from '../../common/top-k';
import { blendByShare, LabelledList, POPULAR_30D_SOURCE, POPULAR_SOURCE, popularityShares } from '../candidates/popularity-blend';
import { TrendingRepository } from './trending.repository';
import { parseVideoStatsChange } from '../../events/video-stats-changes.publisher';
import { PubSubService } from '../../redis/pubsub.service';
import { RedisKeys } from '../../redis/redis-keys';

export const FRESH_MAX = 2000;
export const POPULAR_MAX = 5000;
export const PER_CATEGORY_MAX = 1000;
export const PER_CREATOR_MAX = 50;
/** Stats read per MGET by the popularity refresh. */
const STATS_CHUNK = 500;
/**
 * Pause between two chunks of a refresh that reads every video: at 100k videos, 200 chunks
 * over ~4 s instead of back to back (one second in which the feed's Redis calls queued
 * behind 2,000-key MGETs and its loop behind their decoding: p50 20-38 ms in that second).
 */
const FULL_CHUNK_PAUSE_MS = 20;
/** The popularity refresh reads stats in the background: a longer budget than a feed request's. */
const STATS_READ_BUDGET_MS = 5000;
const STATS_REFRESH_MS = 30_000;
/** Videos gone through between two yields to the event loop while ranking. */
const RANK_SLICE = 10_000;
/** Every this many refreshes, every video's stats are read, not only the announced ones (a lost announcement lasts ~5 min at most). */
const FULL_REFRESH_EVERY = 10;

/** Precomputed, read-only lists the candidate sources pick from without touching Redis. */
export interface CatalogLists {
  /** Newest active videos, newest first. */
  fresh: string[];
  /** Newest active videos of each creator, newest first. */
  byCreator: Map<string, string[]>;
  /** Most engaged active videos of all time (from the video stats), best first. */
  popular: string[];
  /** Active videos by their popularity decayed over 30 days (the 30-day trend scores), best first. */
  popular30d: string[];
  /** The cold-start order: `popular30d` and `popular` blended by their sources' shares; the newest videos while neither has any. */
  fallback: LabelledList;
  /** Per category: the most engaged videos, then the newest. */
  byCategory: Map<string, string[]>;
  /** Among the newest videos, those still under the exploration impression cap, fewest impressions first. */
  exploration: string[];
}

/** What depends on the catalog only (rebuilt on a full reload, patched on single changes). */
interface Structure {
  fresh: string[];
  byCreator: Map<string, string[]>;
  newestByCategory: Map<string, string[]>;
}

/** What depends on engagement (recomputed from the Redis video stats). */
interface Engagement {
  popular: string[];
  popular30d: string[];
  bestByCategory: Map<string, string[]>;
  /** The video's impressions at its last read (0 if none). */
  impressions: (id: string) => number;
}

const NO_IMPRESSIONS = (): number => 0;

const EMPTY_LISTS: CatalogLists = { fresh: [], byCreator: new Map(), popular: [], popular30d: [], fallback: { ids: [], sources: [] }, byCategory: new Map(), exploration: [] };

/**
 * Keeps the lists behind the in-memory candidate sources current: the catalog part is
 * rebuilt when the whole catalog reloads and patched when single videos change
 * (uploads, takedowns); the engagement part is recomputed from the Redis video stats
 * and the 30-day trend scores every 30 s in the background. Every update swaps in a new object, so a request
 * always reads one consistent set.
 *
 * Each video's last read score and impressions are kept by catalog ordinal. A refresh
 * reads the stats of the videos the worker announced on the video-stats channel since the
 * last one (VideoStatsChangesPublisher), not all of them: at 1,000 events/s a few thousand
 * keys every 30 s instead of the whole catalog. Every video is read at boot, after a whole
 * catalog reload, after the subscription reconnects or an all-videos announcement (a
 * replay), and every FULL_REFRESH_EVERY refreshes; but for the first, those reads are paced
 * (FULL_CHUNK_PAUSE_MS).
 */
@Injectable()
export class CatalogListsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CatalogListsService.name);
  private lists: CatalogLists = EMPTY_LISTS;
  private structure: Structure = { fresh: [], byCreator: new Map(), newestByCategory: new Map() };
  private engagement: Engagement = { popular: [], popular30d: [], bestByCategory: new Map(), impressions: NO_IMPRESSIONS };
  /** Per catalog ordinal: popularity score and impressions at the video's last read (0 before any). */
  private scores = new Float64Array(0);
  private impressions = new Float64Array(0);
  /** Videos announced (or left unreadable) since the last refresh began: the next refresh reads these. */
  private changed = new Set<string>();
  /** The next refresh reads every video. */
  private fullDue = true;
  private refreshCount = 0;
  /** A refresh has succeeded: lists are being served, so reads of every video are paced from now on (the first one is not). */
  private ranked = false;
  private readonly popularityWeights: Map<string, number>;
  private readonly blendShares: { decayed: number; allTime: number };
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly unreadable: Gauge;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
    private readonly state: FeedStateRepository,
    private readonly trending: TrendingRepository,
    registry: Registry,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
  ) {
    this.popularityWeights = parseHeadWeights(config.RANK_WEIGHTS);
    this.blendShares = popularityShares(config.FEED_SOURCES);
    this.unreadable = new Gauge({
      name: 'reelrank_catalog_lists_unreadable_videos',
      help: 'Videos whose stats the last popularity refresh could not read (their Redis master down): ranked on their last known stats',
      registers: [registry],
    });
  }

  async onModuleInit(): Promise<void> {
    this.catalog.onRefresh((changed) => {
      if (changed === 'all') {
        this.rebuildStructure();
        void this.refreshPopularity();
      } else {
        this.patch(changed);
      }
    });
    this.timer = setInterval(() => void this.refreshPopularity(++this.refreshCount % FULL_REFRESH_EVERY === 0 ? 'all' : 'announced'), STATS_REFRESH_MS);
    this.timer.unref();
    await this.pubsub.subscribe(this.keys.videoStatsChannel, (message) => this.statsChanged(message));
    this.pubsub.onReconnect(() => (this.fullDue = true));
  }

  /** A message of the video-stats channel: newline-separated ids, or ALL_VIDEOS. */
  statsChanged(message: string): void {
    const changed = parseVideoStatsChange(message);
    if (changed === 'all') {
      this.fullDue = true;
      return;
    }
    for (const id of changed) this.changed.add(id);
    // Past half the catalog, a read of everything is as cheap and the set stops growing.
    if (this.changed.size > Math.max(STATS_CHUNK, this.catalog.size / 2)) {
      this.fullDue = true;
      this.changed.clear();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get current(): CatalogLists {
    return this.lists;
  }

  /** The popularity blend (see CatalogLists.fallback). */
  get fallback(): LabelledList {
    return this.lists.fallback;
  }

  /**
   * Re-reads the 30-day scores and the stats of every active video (`all`, the default) or
   * of those announced since the last refresh (`announced`), and re-ranks popularity and
   * exploration. A call made while one runs is served by it, with a read of every video
   * after it if this call asked for one. A video whose stats cannot be read (its cluster
   * master down) keeps its last known score and impressions and is read again next time;
   * on a single Redis that fails, the previous lists stay and the next refresh reads everything.
   */
  refreshPopularity(scope: 'all' | 'announced' = 'all'): Promise<void> {
    if (scope === 'all') this.fullDue = true;
    this.refreshing ??= this.refreshUntilDone().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async refreshUntilDone(): Promise<void> {
    do {
      const full = this.fullDue;
      this.fullDue = false;
      try {
        this.engagement = await this.readEngagement(full);
        this.compose();
        this.ranked = true;
      } catch (err) {
        this.fullDue = true;
        this.logger.warn(`popularity refresh failed, keeping the previous lists: ${(err as Error).message}`);
        return;
      }
    } while (this.fullDue);
  }

  private popularity(stats: ReturnType<typeof decodeVideoStats>): number {
    const w = (head: string) => this.popularityWeights.get(head) ?? 0;
    return 0.1 * stats.views + w('like') * stats.likes + w('complete') * stats.completes + w('share') * stats.shares + w('skip') * stats.skips;
  }

  private async readEngagement(full: boolean): Promise<Engagement> {
    // The 30-day set is one key (read past POPULAR_MAX: taken-down videos keep their scores
    // in it); while its master cannot be read, the last list stays.
    const popular30d = await this.trending.popular30d(2 * POPULAR_MAX, STATS_READ_BUDGET_MS).then(
      (month) => month.filter((id) => this.catalog.get(id)?.active === true).slice(0, POPULAR_MAX),
      () => this.engagement.popular30d,
    );
    const announced = this.changed;
    this.changed = new Set();
    const ids: string[] = [];
    if (full) {
      for (const v of this.catalog.values()) if (v.active) ids.push(v.id);
    } else {
      for (const id of announced) if (this.catalog.get(id)?.active) ids.push(id);
    }
    try {
      await this.readStats(ids, full && this.ranked);
    } catch (err) {
      for (const id of announced) this.changed.add(id);
      throw err;
    }
    return this.rank(popular30d);
  }

  /** Reads the videos' stats into `scores` and `impressions`; the unreadable ones are left as they were and read again next time. */
  private async readStats(ids: readonly string[], paced: boolean): Promise<void> {
    let unreadable = 0;
    let firstError: Error | null = null;
    for (let start = 0; start < ids.length; start += STATS_CHUNK) {
      if (start > 0) await (paced ? sleep(FULL_CHUNK_PAUSE_MS) : yieldToLoop());
      const chunk = ids.slice(start, start + STATS_CHUNK);
      const read = await this.state.readStatsEach(chunk, STATS_READ_BUDGET_MS);
      firstError ??= read.error;
      read.values.forEach((blob, i) => {
        if (blob === undefined) {
          unreadable++;
          this.changed.add(chunk[i]);
          return;
        }
        const ordinal = this.catalog.ordinalOf(chunk[i]);
        this.ensureCapacity(ordinal + 1);
        const stats = decodeVideoStats(blob);
        this.scores[ordinal] = blob ? this.popularity(stats) : 0;
        this.impressions[ordinal] = stats.impressions;
      });
    }
    this.unreadable.set(unreadable);
    if (unreadable > 0) {
      this.logger.warn(`popularity refresh: ${unreadable} of ${ids.length} videos' stats unreadable (${firstError?.message}); ranked on their last known stats`);
    }
  }

  /** Popularity over every active video and per category, from the scores held. */
  private async rank(popular30d: string[]): Promise<Engagement> {
    const ids: string[] = [];
    const scores: number[] = [];
    const byCategory = new Map<string, { ids: string[]; scores: number[] }>();
    // By ordinal: the scores are held by ordinal, and a video never read (score 0) costs no lookup.
    for (let ordinal = 0; ordinal < this.scores.length; ordinal++) {
      if (ordinal > 0 && ordinal % RANK_SLICE === 0) await yieldToLoop();
      const score = this.scores[ordinal];
      if (!(score > 0) || !this.catalog.isActive(ordinal)) continue;
      const v = this.catalog.videoAt(ordinal)!;
      ids.push(v.id);
      scores.push(score);
      let group = byCategory.get(v.category);
      if (!group) byCategory.set(v.category, (group = { ids: [], scores: [] }));
      group.ids.push(v.id);
      group.scores.push(score);
    }
    const bestByCategory = new Map<string, string[]>();
    const best = (group: { ids: string[]; scores: number[] }, k: number) => topKIndices(Float64Array.from(group.scores), k).map((i) => group.ids[i]);
    // In one piece this held the loop for ~45 ms of CPU at 100k videos every 30 s (a feed stall); in slices, ~20 ms at most
    // (the overall top 5,000, with a sort of every score for its cut-off; a quickselect now).
    for (const [c, group] of byCategory) {
      await yieldToLoop();
      bestByCategory.set(c, best(group, PER_CATEGORY_MAX));
    }
    await yieldToLoop();
    const impressions = (id: string) => {
      const ordinal = this.catalog.findOrdinal(id);
      return ordinal >= 0 && ordinal < this.impressions.length ? this.impressions[ordinal] : 0;
    };
    return { popular: best({ ids, scores }, POPULAR_MAX), popular30d, bestByCategory, impressions };
  }

  private ensureCapacity(size: number): void {
    if (size <= this.scores.length) return;
    const capacity = Math.max(size, 2 * this.scores.length, 1024);
    const scores = new Float64Array(capacity);
    scores.set(this.scores);
    this.scores = scores;
    const impressions = new Float64Array(capacity);
    impressions.set(this.impressions);
    this.impressions = impressions;
  }

  private rebuildStructure(): void {
    const started = Date.now();
    const byCreatorVideos = new Map<string, CatalogVideo[]>();
    const byCategoryVideos = new Map<string, CatalogVideo[]>();
    const actives: CatalogVideo[] = [];
    for (const v of this.catalog.values()) {
      if (!v.active) continue;
      actives.push(v);
      push(byCreatorVideos, v.creatorId, v);
      push(byCategoryVideos, v.category, v);
    }
    const newest = (videos: CatalogVideo[], k: number) => topK(videos, k, (v) => v.createdAt).map((v) => v.id);
    const byCreator = new Map<string, string[]>();
    for (const [creator, videos] of byCreatorVideos) byCreator.set(creator, newest(videos, PER_CREATOR_MAX));
    const newestByCategory = new Map<string, string[]>();
    for (const [category, videos] of byCategoryVideos) newestByCategory.set(category, newest(videos, PER_CATEGORY_MAX));
    this.structure = { fresh: newest(actives, FRESH_MAX), byCreator, newestByCategory };
    this.compose();
    this.logger.log(`candidate lists rebuilt over ${actives.length} videos in ${Date.now() - started} ms`);
  }

  /** Applies single-video changes (upload, edit, takedown) without a full rebuild. */
  private patch(changed: CatalogVideo[]): void {
    const { structure } = this;
    const changedIds = new Set(changed.map((v) => v.id));
    const current = (ids: string[]) =>
      ids
        .filter((id) => !changedIds.has(id))
        .map((id) => this.catalog.get(id))
        .filter((v): v is CatalogVideo => !!v && v.active);
    const merge = (ids: string[], include: (v: CatalogVideo) => boolean, k: number) =>
      topK([...current(ids), ...changed.filter((v) => v.active && include(v))], k, (v) => v.createdAt).map((v) => v.id);
    const byCreator = new Map(structure.byCreator);
    for (const [creator, ids] of structure.byCreator) if (ids.some((id) => changedIds.has(id))) byCreator.set(creator, merge(ids, () => false, PER_CREATOR_MAX));
    for (const creator of new Set(changed.map((v) => v.creatorId))) {
      byCreator.set(creator, merge(byCreator.get(creator) ?? [], (v) => v.creatorId === creator, PER_CREATOR_MAX));
    }
    const newestByCategory = new Map(structure.newestByCategory);
    for (const [category, ids] of structure.newestByCategory) if (ids.some((id) => changedIds.has(id))) newestByCategory.set(category, merge(ids, () => false, PER_CATEGORY_MAX));
    for (const category of new Set(changed.map((v) => v.category))) {
      newestByCategory.set(category, merge(newestByCategory.get(category) ?? [], (v) => v.category === category, PER_CATEGORY_MAX));
    }
    this.structure = { fresh: merge(structure.fresh, () => true, FRESH_MAX), byCreator, newestByCategory };
    const keep = (id: string) => !changedIds.has(id) || this.catalog.get(id)?.active === true;
    const bestByCategory = new Map<string, string[]>();
    for (const [category, ids] of this.engagement.bestByCategory) bestByCategory.set(category, ids.filter(keep));
    this.engagement = { ...this.engagement, popular: this.engagement.popular.filter(keep), popular30d: this.engagement.popular30d.filter(keep), bestByCategory };
    this.compose();
  }

  private compose(): void {
    const { structure, engagement } = this;
    const byCategory = new Map<string, string[]>();
    for (const [category, newest] of structure.newestByCategory) {
      const best = engagement.bestByCategory.get(category) ?? [];
      const taken = new Set(best);
      const list = best.slice();
      for (let i = 0; i < newest.length && list.length < PER_CATEGORY_MAX; i++) if (!taken.has(newest[i])) list.push(newest[i]);
      byCategory.set(category, list);
    }
    const cap = this.config.FEED_EXPLORATION_IMPRESSION_CAP;
    const seen = engagement.impressions;
    const exploration = structure.fresh
      .filter((id) => seen(id) < cap)
      .map((id, i) => ({ id, i, n: seen(id) }))
      .sort((a, b) => a.n - b.n || a.i - b.i)
      .map((e) => e.id);
    const { decayed, allTime } = this.blendShares;
    const blend = blendByShare(
      [
        { ids: engagement.popular30d, source: POPULAR_30D_SOURCE, share: decayed },
        { ids: engagement.popular, source: POPULAR_SOURCE, share: allTime },
      ],
      POPULAR_MAX,
    );
    const fallback = blend.ids.length > 0 ? blend : { ids: structure.fresh, sources: structure.fresh.map(() => 'fresh') };
    this.lists = {
      fresh: structure.fresh,
      byCreator: structure.byCreator,
      popular: engagement.popular,
      popular30d: engagement.popular30d,
      fallback,
      byCategory,
      exploration,
    };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
