import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { VideoColumns } from '../features/video-columns';
import { decodeVideoStats, emptyVideoStats, VideoStats } from '../features/video-stats';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { ALL_VIDEOS } from '../events/video-stats-changes.publisher';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { FeedStateRepository } from './feed-state.repository';

const EMPTY_STATS: VideoStats = Object.freeze(emptyVideoStats());

interface Entry {
  stats: VideoStats;
  /** When the worker last announced a change (-Infinity: never). A read started before it is stale. */
  invalidatedAt: number;
  /** The video's slot in `columns`: its embedding, and its video-only features computed from `stats`. */
  slot: number;
  fetchedAt: number;
}

/**
 * What `hydrate` produced, index-aligned with the videos: stats, each video's slot in
 * `columns` (row computed from those stats), and the Redis error if the fetch failed.
 */
export interface HydratedStats {
  stats: VideoStats[];
  slots: Int32Array;
  columns: VideoColumns;
  error: Error | null;
}

/**
 * A near cache of the candidates' online stats (views, likes, skips, ...). Those are
 * aggregates over every user, shared by every request that ranks the same video; so each
 * api keeps what it fetched and sends Redis only the misses (one MGET). The worker
 * announces the videos whose stats it changed (VideoStatsChangesPublisher, batched every
 * 10 ms) and their entries are dropped at once, so a cached count is as fresh as the
 * announcement; FEED_STATS_MAX_AGE_MS bounds an entry's life when an announcement is lost,
 * and after the subscription reconnects every entry is refetched. The user's own state
 * is never cached: it is read on every request (read-your-writes).
 *
 * Entries are keyed by the catalog's video objects, so a video the catalog drops or
 * replaces takes its entry with it. If the fetch fails, stale entries are used where
 * there are any and empty stats elsewhere; the caller reports the degradation.
 *
 * Each entry also owns a slot in dense VideoColumns holding the video's embedding and
 * its video-only features (`computeVideoRow`), computed once when its stats arrive: the
 * feature matrix copies those instead of recomputing them through scattered objects.
 * (Nothing in a row depends on the clock: features that do are computed per request.) A slot is freed when its
 * video object is garbage-collected.
 */
@Injectable()
export class VideoStatsCache implements OnModuleInit {
  private entries = new WeakMap<CatalogVideo, Entry>();
  /** Entries fetched at or before this time are stale (a lost subscription, a replay). */
  private validAfter = -Infinity;
  private columns: VideoColumns;
  private generation = 0;
  private readonly slotsFreed = new FinalizationRegistry<{ slot: number; generation: number }>(({ slot, generation }) => {
    if (generation === this.generation) this.columns.release(slot);
  });
  private readonly lookups: Counter<'result'>;
  private readonly hits: Counter.Internal;
  private readonly misses: Counter.Internal;

  constructor(
    private readonly config: AppConfig,
    private readonly state: FeedStateRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
    registry: Registry,
  ) {
    this.columns = new VideoColumns(config.EMBEDDING_DIM);
    this.lookups = new Counter({
      name: 'reelrank_feed_stats_cache_total',
      help: 'Candidate stats looked up by the feed, by whether the near cache had them (hit) or Redis was asked (miss)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.hits = this.lookups.labels('hit');
    this.misses = this.lookups.labels('miss');
  }

  async onModuleInit(): Promise<void> {
    await this.pubsub.subscribe(this.keys.videoStatsChannel, (message) => this.changed(message));
    this.pubsub.onReconnect(() => this.invalidateAll());
  }

  /** A message of the video-stats channel: newline-separated ids, or ALL_VIDEOS. */
  changed(message: string): void {
    if (message === ALL_VIDEOS) return this.invalidateAll();
    for (const id of message.split('\n')) {
      const video = this.catalog.get(id);
      const entry = video && this.entries.get(video);
      if (entry) entry.invalidatedAt = Date.now();
    }
  }

  /** Every entry is read again from Redis at its next use. */
  invalidateAll(): void {
    this.validAfter = Date.now();
  }

  async hydrate(videos: readonly CatalogVideo[], now: number): Promise<HydratedStats> {
    const maxAge = this.config.FEED_STATS_MAX_AGE_MS;
    const columns = this.columns;
    const stats = new Array<VideoStats>(videos.length);
    const slots = new Int32Array(videos.length);
    const missing: Entry[] = [];
    const missingAt: number[] = [];
    for (let i = 0; i < videos.length; i++) {
      const video = videos[i];
      let entry = this.entries.get(video);
      if (!entry) {
        // Never fetched: empty stats until the fetch below (or for good, if it fails).
        entry = { stats: EMPTY_STATS, invalidatedAt: -Infinity, slot: columns.allocate(video), fetchedAt: -Infinity };
        this.entries.set(video, entry);
        this.slotsFreed.register(video, { slot: entry.slot, generation: this.generation });
      }
      slots[i] = entry.slot;
      // fetchedAt is when the request that read it started: an announcement that arrived
      // while that read was in flight leaves the entry stale (the read may predate the change).
      if (now - entry.fetchedAt < maxAge && entry.fetchedAt > this.validAfter && entry.fetchedAt > entry.invalidatedAt) stats[i] = entry.stats;
      else {
        missing.push(entry);
        missingAt.push(i);
      }
    }
    this.hits.inc(videos.length - missing.length);
    this.misses.inc(missing.length);
    if (missing.length === 0) return { stats, slots, columns, error: null };
    let error: Error | null = null;
    try {
      const blobs = await this.state.readStats(missingAt.map((i) => videos[i].id));
      for (let k = 0; k < missing.length; k++) {
        const blob = blobs[k];
        missing[k].stats = blob ? decodeVideoStats(blob) : EMPTY_STATS;
        missing[k].fetchedAt = now;
      }
    } catch (err) {
      // Keep what each entry had (stale stats, or empty for a first sight).
      error = err as Error;
    }
    for (let k = 0; k < missing.length; k++) {
      const i = missingAt[k];
      stats[i] = missing[k].stats;
      columns.setRow(missing[k].slot, videos[i], stats[i]);
    }
    return { stats, slots, columns, error };
  }

  /** Forgets everything (tests, and after the online state was rebuilt). */
  clear(): void {
    this.entries = new WeakMap();
    this.columns = new VideoColumns(this.config.EMBEDDING_DIM);
    this.generation++;
  }
}
