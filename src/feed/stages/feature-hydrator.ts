import { Injectable } from '@nestjs/common';
import { HydratedStats, StatsCandidates, VideoStatsCache } from '../data/video-stats-cache';
import { FeedFallbackReason } from '../feed-metrics';
import { RedisTimeoutError } from '../support/redis-guard';

/** Stats and feature rows of the candidates, plus their creators and categories as interned numbers for the reranker's caps. */
export interface HydratedCandidates extends HydratedStats {
  groups: { creators: Int32Array; categories: Int32Array };
  /**
   * Set when stats could not be read from Redis (those candidates are ranked on what the
   * cache had): video_stats_partial when only some keys failed on a cluster (a master
   * that is down or slow), else the whole read's redis_timeout or redis_unavailable.
   */
  fallback: Extract<FeedFallbackReason, 'redis_timeout' | 'redis_unavailable' | 'video_stats_partial'> | null;
}

function fallbackOf({ error, partial }: HydratedStats): HydratedCandidates['fallback'] {
  if (!error) return null;
  if (partial) return 'video_stats_partial';
  return error instanceof RedisTimeoutError ? 'redis_timeout' : 'redis_unavailable';
}

/** Feed stage 3: hydrates the candidates' online stats and feature columns (near cache, misses from Redis in one MGET, or a GET per video on a cluster). */
@Injectable()
export class FeatureHydrator {
  constructor(private readonly statsCache: VideoStatsCache) {}

  async hydrate(candidates: StatsCandidates, now: number): Promise<HydratedCandidates> {
    const hydrated = await this.statsCache.hydrate(candidates, now);
    const { slots, columns } = hydrated;
    // The reranker's creator and category caps count interned numbers, read now, with the rows.
    const groups = { creators: new Int32Array(slots.length), categories: new Int32Array(slots.length) };
    for (let i = 0; i < slots.length; i++) {
      groups.creators[i] = columns.creators[slots[i]];
      groups.categories[i] = columns.categories[slots[i]];
    }
    return { ...hydrated, groups, fallback: fallbackOf(hydrated) };
  }
}
