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
const INITIAL_CAPACITY = 1024;

/** The candidates of a request: their videos and, index-aligned, their catalog ordinals. */
export interface StatsCandidates {
  videos: readonly CatalogVideo[];
  ordinals: ArrayLike<number>;
}

/**
 * What `hydrate` produced, index-aligned with the videos: stats, each video's slot in
 * `columns` (its catalog ordinal; row computed from those stats), and the Redis error if
 * the fetch failed.
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
 * Entries live in arrays indexed by the videos' catalog ordinals, and remember the video
 * object they were computed for: a video the catalog replaced (an edit, a reload) is
 * fetched again. If the fetch fails, stale entries are used where there are any and
 * empty stats elsewhere; the caller reports the degradation.
 *
 * Each video's ordinal is also its slot in dense VideoColumns, holding its embedding and
 * its video-only features (`computeVideoRow`), computed once when its stats arrive: the
 * feature matrix copies those instead of recomputing them through scattered objects.
 * (Nothing in a row depends on the clock: features that do are computed per request.)
 */
@Injectable()
export class VideoStatsCache implements OnModuleInit {
  // Per ordinal, all of the same length (grown together; arrays preallocated, never sparse):
  /** The video object the entry was fetched for (null: never). */
  private owners: (CatalogVideo | null)[] = [];
  private stats: VideoStats[] = [];
  /** When the request that read the stats started (-Infinity: never read). */
  private fetchedAt = new Float64Array(0);
  /** When the worker last announced a change (-Infinity: never). A read started before it is stale. */
  private invalidatedAt = new Float64Array(0);
  /** Entries fetched at or before this time are stale (a lost subscription, a replay). */
  private validAfter = -Infinity;
  private columns: VideoColumns;
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
    this.grow(INITIAL_CAPACITY);
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
    const now = Date.now();
    for (const id of message.split('\n')) {
      const ordinal = this.catalog.findOrdinal(id);
      if (ordinal >= 0 && ordinal < this.invalidatedAt.length) this.invalidatedAt[ordinal] = now;
    }
  }

  /** Every entry is read again from Redis at its next use. */
  invalidateAll(): void {
    this.validAfter = Date.now();
  }

  async hydrate({ videos, ordinals }: StatsCandidates, now: number): Promise<HydratedStats> {
    const maxAge = this.config.FEED_STATS_MAX_AGE_MS;
    const columns = this.columns;
    const n = videos.length;
    const stats = new Array<VideoStats>(n);
    const slots = new Int32Array(n);
    const missingAt: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = ordinals[i];
      if (o >= this.fetchedAt.length) this.grow(o + 1);
      slots[i] = o;
      const video = videos[i];
      if (this.owners[o] !== video) {
        // First sight of this video object: empty stats until the fetch below (or for good, if it fails).
        this.owners[o] = video;
        this.stats[o] = EMPTY_STATS;
        this.fetchedAt[o] = -Infinity;
        columns.assign(o, video);
      }
      // fetchedAt is when the request that read it started: an announcement that arrived
      // while that read was in flight leaves the entry stale (the read may predate the change).
      const fetchedAt = this.fetchedAt[o];
      if (now - fetchedAt < maxAge && fetchedAt > this.validAfter && fetchedAt > this.invalidatedAt[o]) stats[i] = this.stats[o];
      else missingAt.push(i);
    }
    this.hits.inc(n - missingAt.length);
    this.misses.inc(missingAt.length);
    if (missingAt.length === 0) return { stats, slots, columns, error: null };
    let error: Error | null = null;
    const fetched = new Array<VideoStats | undefined>(missingAt.length);
    try {
      const blobs = await this.state.readStats(missingAt.map((i) => videos[i].id));
      for (let k = 0; k < missingAt.length; k++) fetched[k] = blobs[k] ? decodeVideoStats(blobs[k]!) : EMPTY_STATS;
    } catch (err) {
      // Keep what each entry had (stale stats, or empty for a first sight).
      error = err as Error;
    }
    for (let k = 0; k < missingAt.length; k++) {
      const i = missingAt[k];
      const o = slots[i];
      // The catalog may have replaced the video while Redis answered: the new object's entry is left alone.
      const current = this.owners[o] === videos[i];
      stats[i] = fetched[k] ?? (current ? this.stats[o] : EMPTY_STATS);
      if (!current) continue;
      const value = fetched[k];
      if (value) {
        this.stats[o] = value;
        this.fetchedAt[o] = now;
      }
      columns.setRow(o, videos[i], stats[i]);
    }
    return { stats, slots, columns, error };
  }

  /** Forgets everything (tests, and after the online state was rebuilt). */
  clear(): void {
    this.owners = [];
    this.stats = [];
    this.fetchedAt = new Float64Array(0);
    this.invalidatedAt = new Float64Array(0);
    this.grow(INITIAL_CAPACITY);
    this.columns = new VideoColumns(this.config.EMBEDDING_DIM);
  }

  private grow(min: number): void {
    const from = this.fetchedAt.length;
    const capacity = Math.max(min, from * 2);
    const fetchedAt = new Float64Array(capacity).fill(-Infinity);
    fetchedAt.set(this.fetchedAt);
    const invalidatedAt = new Float64Array(capacity).fill(-Infinity);
    invalidatedAt.set(this.invalidatedAt);
    this.fetchedAt = fetchedAt;
    this.invalidatedAt = invalidatedAt;
    // Pushed one by one: the arrays stay in V8's fast (non-dictionary) elements.
    for (let o = from; o < capacity; o++) {
      this.owners.push(null);
      this.stats.push(EMPTY_STATS);
    }
  }
}
