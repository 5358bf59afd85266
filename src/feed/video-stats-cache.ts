import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { computeVideoRow } from '../features/feature-registry';
import { decodeVideoStats, emptyVideoStats, VideoStats } from '../features/video-stats';
import { FeedStateRepository } from './feed-state.repository';

const EMPTY_STATS: VideoStats = Object.freeze(emptyVideoStats());

interface Entry {
  stats: VideoStats;
  /** The video-only features computed from `stats` when they were fetched. */
  row: Float32Array;
  fetchedAt: number;
}

/**
 * What `hydrate` produced, index-aligned with the videos: stats, each video's video-only
 * feature row (computed when its stats were fetched), and the Redis error if the fetch failed.
 */
export interface HydratedStats {
  stats: VideoStats[];
  rows: Float32Array[];
  error: Error | null;
}

/**
 * A near cache of the candidates' online stats (views, likes, skips, ...). Those are
 * aggregates over every user, shared by every request that ranks the same video, and a
 * second-old count ranks the same as a fresh one; so each api keeps what it fetched for
 * FEED_STATS_MAX_AGE_MS and sends Redis only the misses (one MGET). The user's own
 * state is never cached: it is read on every request (read-your-writes).
 *
 * Entries are keyed by the catalog's video objects, so a video the catalog drops or
 * replaces takes its entry with it. If the fetch fails, stale entries are used where
 * there are any and empty stats elsewhere; the caller reports the degradation.
 *
 * Each entry also keeps the video's video-only features (`computeVideoRow`), computed
 * once when its stats arrive: those columns of the feature matrix are then copied, not
 * recomputed for every request. Their clock (video age) is at most the same max age old.
 */
@Injectable()
export class VideoStatsCache {
  private entries = new WeakMap<CatalogVideo, Entry>();
  private readonly lookups: Counter<'result'>;
  private readonly hits: Counter.Internal;
  private readonly misses: Counter.Internal;

  constructor(
    private readonly config: AppConfig,
    private readonly state: FeedStateRepository,
    registry: Registry,
  ) {
    this.lookups = new Counter({
      name: 'reelrank_feed_stats_cache_total',
      help: 'Candidate stats looked up by the feed, by whether the near cache had them (hit) or Redis was asked (miss)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.hits = this.lookups.labels('hit');
    this.misses = this.lookups.labels('miss');
  }

  async hydrate(videos: readonly CatalogVideo[], now: number): Promise<HydratedStats> {
    const maxAge = this.config.FEED_STATS_MAX_AGE_MS;
    const stats = new Array<VideoStats>(videos.length);
    const rows = new Array<Float32Array>(videos.length);
    const missing: number[] = [];
    for (let i = 0; i < videos.length; i++) {
      const entry = this.entries.get(videos[i]);
      if (entry && now - entry.fetchedAt < maxAge) {
        stats[i] = entry.stats;
        rows[i] = entry.row;
      } else missing.push(i);
    }
    this.hits.inc(videos.length - missing.length);
    this.misses.inc(missing.length);
    if (missing.length === 0) return { stats, rows, error: null };
    try {
      const blobs = await this.state.readStats(missing.map((i) => videos[i].id));
      for (let k = 0; k < missing.length; k++) {
        const i = missing[k];
        const blob = blobs[k];
        stats[i] = blob ? decodeVideoStats(blob) : EMPTY_STATS;
        rows[i] = computeVideoRow(videos[i], stats[i], now);
        if (maxAge > 0) this.entries.set(videos[i], { stats: stats[i], row: rows[i], fetchedAt: now });
      }
      return { stats, rows, error: null };
    } catch (err) {
      for (const i of missing) {
        stats[i] = this.entries.get(videos[i])?.stats ?? EMPTY_STATS;
        rows[i] = computeVideoRow(videos[i], stats[i], now);
      }
      return { stats, rows, error: err as Error };
    }
  }

  /** Forgets everything (tests, and after the online state was rebuilt). */
  clear(): void {
    this.entries = new WeakMap();
  }
}
