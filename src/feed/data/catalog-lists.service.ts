import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
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

export const FRESH_MAX = 2000;
export const POPULAR_MAX = 5000;
export const PER_CATEGORY_MAX = 1000;
export const PER_CREATOR_MAX = 50;
const STATS_CHUNK = 2000;
/** The popularity refresh reads every video's stats in the background: a longer budget than a feed request's. */
const STATS_READ_BUDGET_MS = 5000;
const STATS_REFRESH_MS = 30_000;

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
  impressions: Map<string, number>;
  /** Popularity score of every video that has one (> 0): what a video whose stats cannot be read is ranked on. */
  scores: Map<string, number>;
}

const EMPTY_LISTS: CatalogLists = { fresh: [], byCreator: new Map(), popular: [], popular30d: [], fallback: { ids: [], sources: [] }, byCategory: new Map(), exploration: [] };

/**
 * Keeps the lists behind the in-memory candidate sources current: the catalog part is
 * rebuilt when the whole catalog reloads and patched when single videos change
 * (uploads, takedowns); the engagement part is recomputed from the Redis video stats
 * and the 30-day trend scores every 30 s in the background. Every update swaps in a new object, so a request
 * always reads one consistent set.
 */
@Injectable()
export class CatalogListsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CatalogListsService.name);
  private lists: CatalogLists = EMPTY_LISTS;
  private structure: Structure = { fresh: [], byCreator: new Map(), newestByCategory: new Map() };
  private engagement: Engagement = { popular: [], popular30d: [], bestByCategory: new Map(), impressions: new Map(), scores: new Map() };
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
  ) {
    this.popularityWeights = parseHeadWeights(config.RANK_WEIGHTS);
    this.blendShares = popularityShares(config.FEED_SOURCES);
    this.unreadable = new Gauge({
      name: 'reelrank_catalog_lists_unreadable_videos',
      help: 'Videos whose stats the last popularity refresh could not read (their Redis master down): ranked on their last known stats',
      registers: [registry],
    });
  }

  onModuleInit(): void {
    this.catalog.onRefresh((changed) => {
      if (changed === 'all') {
        this.rebuildStructure();
        void this.refreshPopularity();
      } else {
        this.patch(changed);
      }
    });
    this.timer = setInterval(() => void this.refreshPopularity(), STATS_REFRESH_MS);
    this.timer.unref();
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
   * Re-reads every active video's stats and the 30-day scores from Redis and re-ranks popularity and exploration.
   * On a cluster a video whose key cannot be read keeps its last known score and impressions;
   * on a single Redis that fails, the previous lists stay.
   */
  refreshPopularity(): Promise<void> {
    this.refreshing ??= this.readEngagement(this.engagement)
      .then((engagement) => {
        this.engagement = engagement;
        this.compose();
      })
      .catch((err: Error) => this.logger.warn(`popularity refresh failed, keeping the previous lists: ${err.message}`))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private popularity(stats: ReturnType<typeof decodeVideoStats>): number {
    const w = (head: string) => this.popularityWeights.get(head) ?? 0;
    return 0.1 * stats.views + w('like') * stats.likes + w('complete') * stats.completes + w('share') * stats.shares + w('skip') * stats.skips;
  }

  private async readEngagement(previous: Engagement): Promise<Engagement> {
    // The 30-day set is one key (read past POPULAR_MAX: taken-down videos keep their scores
    // in it); while its master cannot be read, the last list stays.
    const popular30d = await this.trending.popular30d(2 * POPULAR_MAX, STATS_READ_BUDGET_MS).then(
      (month) => month.filter((id) => this.catalog.get(id)?.active === true).slice(0, POPULAR_MAX),
      () => previous.popular30d,
    );
    const videos: CatalogVideo[] = [];
    for (const v of this.catalog.values()) if (v.active) videos.push(v);
    const ids: string[] = [];
    const scores: number[] = [];
    const categories: string[] = [];
    const impressions = new Map<string, number>();
    const known = new Map<string, number>();
    let unreadable = 0;
    let firstError: Error | null = null;
    for (let start = 0; start < videos.length; start += STATS_CHUNK) {
      const chunk = videos.slice(start, start + STATS_CHUNK);
      const read = await this.state.readStatsEach(chunk.map((v) => v.id), STATS_READ_BUDGET_MS);
      firstError ??= read.error;
      read.values.forEach((blob, i) => {
        const { id, category } = chunk[i];
        let score: number;
        let seen: number;
        if (blob === undefined) {
          unreadable++;
          score = previous.scores.get(id) ?? 0;
          seen = previous.impressions.get(id) ?? 0;
        } else if (blob === null) {
          return;
        } else {
          const stats = decodeVideoStats(blob);
          score = this.popularity(stats);
          seen = stats.impressions;
        }
        if (score > 0) {
          ids.push(id);
          scores.push(score);
          categories.push(category);
          known.set(id, score);
        }
        if (seen > 0) impressions.set(id, seen);
      });
      await yieldToLoop();
    }
    this.unreadable.set(unreadable);
    if (unreadable > 0) {
      this.logger.warn(`popularity refresh: ${unreadable} of ${videos.length} videos' stats unreadable (${firstError?.message}); ranked on their last known stats`);
    }
    const byCategory = new Map<string, { ids: string[]; scores: number[] }>();
    categories.forEach((c, i) => {
      let group = byCategory.get(c);
      if (!group) byCategory.set(c, (group = { ids: [], scores: [] }));
      group.ids.push(ids[i]);
      group.scores.push(scores[i]);
    });
    const bestByCategory = new Map<string, string[]>();
    const best = (group: { ids: string[]; scores: number[] }, k: number) => topKIndices(Float64Array.from(group.scores), k).map((i) => group.ids[i]);
    // In one piece this held the loop for ~45 ms of CPU at 100k videos every 30 s (a feed stall); in slices, ~20 ms at most
    // (the overall top 5,000, with a sort of every score for its cut-off; a quickselect now).
    for (const [c, group] of byCategory) {
      await yieldToLoop();
      bestByCategory.set(c, best(group, PER_CATEGORY_MAX));
    }
    await yieldToLoop();
    return { popular: best({ ids, scores }, POPULAR_MAX), popular30d, bestByCategory, impressions, scores: known };
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
    const seen = (id: string) => engagement.impressions.get(id) ?? 0;
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
