import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { decodeVideoStats } from '../features/video-stats';
import { parseHeadWeights } from '../ranking/head-weights';
import { REDIS } from '../redis/redis.constants';
import { AnyRedis } from '../redis/redis-connection';
import { RedisKeys } from '../redis/redis-keys';
import { readBlobs } from '../redis/read-blobs';
import { guardRedis } from './redis-guard';
import { topK } from './top-k';

export const FRESH_MAX = 2000;
export const POPULAR_MAX = 5000;
export const PER_CATEGORY_MAX = 1000;
export const PER_CREATOR_MAX = 50;
const STATS_CHUNK = 2000;
const STATS_REFRESH_MS = 30_000;

/** Precomputed, read-only lists the candidate sources pick from without touching Redis. */
export interface CatalogLists {
  /** Newest active videos, newest first. */
  fresh: string[];
  /** Newest active videos of each creator, newest first. */
  byCreator: Map<string, string[]>;
  /** Most engaged active videos (from the video stats), best first. */
  popular: string[];
  /** Per category: the most engaged videos, then the newest. */
  byCategory: Map<string, string[]>;
  /** Among the newest videos, those still under the exploration impression cap, fewest impressions first. */
  exploration: string[];
}

const EMPTY: CatalogLists = { fresh: [], byCreator: new Map(), popular: [], byCategory: new Map(), exploration: [] };

/**
 * Keeps the lists behind the in-memory candidate sources current: rebuilt when the
 * whole catalog reloads, patched when single videos change (uploads, takedowns), and
 * re-ranked by popularity from the Redis video stats every 30 s in the background.
 * Each rebuild swaps in a new object, so a request always reads one consistent set.
 */
@Injectable()
export class CatalogListsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CatalogListsService.name);
  private lists: CatalogLists = EMPTY;
  private popularity = new Map<string, number>();
  private impressions = new Map<string, number>();
  private readonly popularityWeights: Map<string, number>;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
    private readonly keys: RedisKeys,
    @Inject(REDIS) private readonly redis: AnyRedis,
  ) {
    this.popularityWeights = parseHeadWeights(config.RANK_WEIGHTS);
  }

  onModuleInit(): void {
    this.catalog.onRefresh((changed) => {
      if (changed === 'all') {
        this.rebuild();
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

  /** Popular videos, or the newest ones while no engagement has been counted yet. */
  get fallback(): string[] {
    return this.lists.popular.length > 0 ? this.lists.popular : this.lists.fresh;
  }

  /** Re-reads every active video's stats from Redis and re-ranks popularity and exploration. */
  refreshPopularity(): Promise<void> {
    this.refreshing ??= this.readStats()
      .then(() => this.rebuild())
      .catch((err: Error) => this.logger.warn(`popularity refresh failed, keeping the previous lists: ${err.message}`))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private score(stats: ReturnType<typeof decodeVideoStats>): number {
    const w = (head: string) => this.popularityWeights.get(head) ?? 0;
    return 0.1 * stats.views + w('like') * stats.likes + w('complete') * stats.completes + w('share') * stats.shares + w('skip') * stats.skips;
  }

  private async readStats(): Promise<void> {
    const ids: string[] = [];
    for (const v of this.catalog.values()) if (v.active) ids.push(v.id);
    const popularity = new Map<string, number>();
    const impressions = new Map<string, number>();
    for (let start = 0; start < ids.length; start += STATS_CHUNK) {
      const chunk = ids.slice(start, start + STATS_CHUNK);
      const blobs = await guardRedis(this.redis, 5000, () => readBlobs(this.redis, chunk.map((id) => this.keys.videoStats(id))));
      blobs.forEach((blob, i) => {
        if (!blob) return;
        const stats = decodeVideoStats(blob);
        const score = this.score(stats);
        if (score > 0) popularity.set(chunk[i], score);
        if (stats.impressions > 0) impressions.set(chunk[i], stats.impressions);
      });
      await yieldToLoop();
    }
    this.popularity = popularity;
    this.impressions = impressions;
  }

  private rebuild(): void {
    const started = Date.now();
    const actives: CatalogVideo[] = [];
    const byCreatorVideos = new Map<string, CatalogVideo[]>();
    const byCategoryVideos = new Map<string, CatalogVideo[]>();
    for (const v of this.catalog.values()) {
      if (!v.active) continue;
      actives.push(v);
      push(byCreatorVideos, v.creatorId, v);
      push(byCategoryVideos, v.category, v);
    }
    const byCreator = new Map<string, string[]>();
    for (const [creator, videos] of byCreatorVideos) {
      byCreator.set(creator, topK(videos, PER_CREATOR_MAX, (v) => v.createdAt).map((v) => v.id));
    }
    const pop = (v: CatalogVideo) => this.popularity.get(v.id) ?? 0;
    const byCategory = new Map<string, string[]>();
    for (const [category, videos] of byCategoryVideos) {
      const best = topK(
        videos.filter((v) => this.popularity.has(v.id)),
        PER_CATEGORY_MAX,
        pop,
      );
      if (best.length < PER_CATEGORY_MAX) {
        const taken = new Set(best);
        best.push(...topK(videos, PER_CATEGORY_MAX, (v) => v.createdAt).filter((v) => !taken.has(v)));
      }
      byCategory.set(category, best.slice(0, PER_CATEGORY_MAX).map((v) => v.id));
    }
    const fresh = topK(actives, FRESH_MAX, (v) => v.createdAt).map((v) => v.id);
    this.lists = {
      fresh,
      byCreator,
      popular: topK(
        actives.filter((v) => this.popularity.has(v.id)),
        POPULAR_MAX,
        pop,
      ).map((v) => v.id),
      byCategory,
      exploration: this.explorationPool(fresh),
    };
    const ms = Date.now() - started;
    if (ms > 100) this.logger.log(`candidate lists rebuilt over ${actives.length} videos in ${ms} ms`);
  }

  private explorationPool(fresh: string[]): string[] {
    const cap = this.config.FEED_EXPLORATION_IMPRESSION_CAP;
    const seen = (id: string) => this.impressions.get(id) ?? 0;
    return fresh
      .filter((id) => seen(id) < cap)
      .map((id, i) => ({ id, i }))
      .sort((a, b) => seen(a.id) - seen(b.id) || a.i - b.i)
      .map((e) => e.id);
  }

  /** Applies single-video changes (upload, edit, takedown) without a full rebuild. */
  private patch(changed: CatalogVideo[]): void {
    const lists = this.lists;
    const changedIds = new Set(changed.map((v) => v.id));
    const keep = (id: string) => !changedIds.has(id) || this.catalog.get(id)?.active === true;
    const byCreator = new Map(lists.byCreator);
    const creators = new Set(changed.map((v) => v.creatorId));
    for (const creator of creators) {
      const current = (byCreator.get(creator) ?? []).filter((id) => !changedIds.has(id));
      const videos = current.map((id) => this.catalog.get(id)).filter((v): v is CatalogVideo => !!v && v.active);
      for (const v of changed) if (v.creatorId === creator && v.active) videos.push(v);
      byCreator.set(creator, topK(videos, PER_CREATOR_MAX, (v) => v.createdAt).map((v) => v.id));
    }
    for (const [creator, ids] of lists.byCreator) {
      if (!creators.has(creator) && ids.some((id) => changedIds.has(id))) byCreator.set(creator, ids.filter(keep));
    }
    const freshVideos = lists.fresh
      .filter((id) => !changedIds.has(id))
      .map((id) => this.catalog.get(id))
      .filter((v): v is CatalogVideo => !!v);
    for (const v of changed) if (v.active) freshVideos.push(v);
    const fresh = topK(freshVideos, FRESH_MAX, (v) => v.createdAt).map((v) => v.id);
    const byCategory = new Map<string, string[]>();
    for (const [category, ids] of lists.byCategory) byCategory.set(category, ids.filter(keep));
    this.lists = {
      fresh,
      byCreator,
      popular: lists.popular.filter(keep),
      byCategory,
      exploration: this.explorationPool(fresh),
    };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
