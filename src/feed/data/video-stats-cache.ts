import { keepTouched } from '../../common/touch-rows';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { VideoColumns } from '../../features/video-columns';
import { decodeVideoStatsInto, VIDEO_STAT_FIELDS, VideoStats } from '../../features/video-stats';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { parseVideoStatsChange } from '../../events/video-stats-changes.publisher';
import { PubSubService } from '../../redis/pubsub.service';
import { RedisKeys } from '../../redis/redis-keys';
import { FeedStateRepository } from './feed-state.repository';

const INITIAL_CAPACITY = 1024;
const STAT_WIDTH = VIDEO_STAT_FIELDS.length;

/** The cache's stats: STAT_WIDTH values per ordinal, in VIDEO_STAT_FIELDS (wire) order; replaced when it grows. */
interface StatsTable {
  values: Float64Array;
}

/**
 * One ordinal's stats as the cache holds them now: read from its table, not copied (see
 * VideoStatsCache). One getter per field, at the field's place in the wire order.
 */
class CachedStats {
  constructor(
    readonly table: StatsTable,
    readonly at: number,
  ) {}
}
interface CachedStats extends Readonly<VideoStats> {}
VIDEO_STAT_FIELDS.forEach((field, i) =>
  Object.defineProperty(CachedStats.prototype, field, {
    get(this: CachedStats): number {
      return this.table.values[this.at + i];
    },
  }),
);

/** The per-ordinal values of VideoStatsCache.entries; ENTRY 4, not 3, so that no entry straddles two cache lines. */
const [VERSION, FETCHED_AT, INVALIDATED_AT, ENTRY] = [0, 1, 2, 4];

/** The candidates of a request: their videos and, index-aligned, their catalog ordinals. */
export interface StatsCandidates {
  videos: readonly CatalogVideo[];
  ordinals: ArrayLike<number>;
}

/**
 * What `hydrate` produced, index-aligned with the videos: stats, each video's slot in
 * `columns` (its catalog ordinal; row computed from those stats), and the Redis error if
 * the fetch failed (for every video, or, when `partial`, for `unread` of them).
 */
export interface HydratedStats {
  stats: VideoStats[];
  slots: Int32Array;
  columns: VideoColumns;
  error: Error | null;
  /** How many of the videos were ranked on their last cached stats (or empty ones) because Redis did not give theirs. */
  unread: number;
  /** The stats were read key by key (a cluster) and only the `unread` ones failed: a master that is down, not all of Redis. */
  partial: boolean;
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
 * Entries live in arrays indexed by the videos' catalog ordinals. Stats belong to the
 * video id; when the catalog stores a new object for a video (an edit, a reload: its
 * version goes up), the video's columns and row are recomputed from the cached stats.
 * If the fetch fails, stale entries are used where there are any and empty stats
 * elsewhere (on a cluster, only for the videos whose keys failed); the caller reports the degradation.
 *
 * The stats themselves are numbers in one Float64Array, STAT_WIDTH per ordinal, overwritten
 * in place by each fetch, and `hydrate` hands out one small view per ordinal over them
 * (CachedStats), made once: decoded objects kept per video were 10 heap objects each (the
 * object and its nine boxed doubles), replaced at the rate of the announcements and marked
 * by every full collection (~1M objects at 100k videos). A view shows the latest fetch, as
 * the video's row in the columns does.
 *
 * Each video's ordinal is also its slot in dense VideoColumns, holding its embedding and
 * its video-only features (`computeVideoRow`), computed once when its stats arrive: the
 * feature matrix copies those instead of recomputing them through scattered objects.
 * (Nothing in a row depends on the clock: features that do are computed per request.)
 * A slot always holds the catalog's current version of its video: a request that was
 * waiting for Redis while the video was edited ranks it with the edited columns.
 */
@Injectable()
export class VideoStatsCache implements OnModuleInit {
  // Per ordinal, grown together (arrays preallocated, never sparse):
  /**
   * Per ordinal, ENTRY values side by side (one cache line per candidate rather than three):
   * at VERSION the catalog version of the video the slot's columns and row were computed
   * for (-1: none); at FETCHED_AT when the request that read the stats started (-Infinity:
   * never read); at INVALIDATED_AT when the worker last announced a change (-Infinity:
   * never; a read started before it is stale).
   */
  private entries = new Float64Array(0);
  private capacity = 0;
  private readonly table: StatsTable = { values: new Float64Array(0) };
  /** Per ordinal, its view of `table` (undefined until the ordinal is first hydrated). */
  private views: (CachedStats | undefined)[] = [];
  /** Entries fetched at or before this time are stale (a lost subscription, a replay). */
  private validAfter = -Infinity;
  private columns: VideoColumns;
  private readonly lookups: Counter<'result'>;
  private readonly hits: Counter.Internal;
  private readonly misses: Counter.Internal;
  private readonly unreadable: Counter.Internal;

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
      help: 'Candidate stats looked up by the feed, by whether the near cache had them (hit) or Redis was asked (miss); unreadable: misses Redis did not answer (ranked on the last cached or empty stats)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.hits = this.lookups.labels('hit');
    this.misses = this.lookups.labels('miss');
    this.unreadable = this.lookups.labels('unreadable');
  }

  async onModuleInit(): Promise<void> {
    await this.pubsub.subscribe(this.keys.videoStatsChannel, (message) => this.changed(message));
    this.pubsub.onReconnect(() => this.invalidateAll());
  }

  /** A message of the video-stats channel: newline-separated ids, or ALL_VIDEOS. */
  changed(message: string): void {
    const changed = parseVideoStatsChange(message);
    if (changed === 'all') return this.invalidateAll();
    const now = Date.now();
    for (const id of changed) {
      const ordinal = this.catalog.findOrdinal(id);
      if (ordinal >= 0 && ordinal < this.capacity) this.entries[ordinal * ENTRY + INVALIDATED_AT] = now;
    }
  }

  /** Every entry is read again from Redis at its next use. */
  invalidateAll(): void {
    this.validAfter = Date.now();
  }

  /**
   * Reads each candidate's entry, catalog version and stats once, in a short loop with
   * many cache misses in flight (see touchRows), so the loop below, whose body would wait
   * on each candidate's misses in turn, finds them cached. (The feature matrix touches
   * the candidates' columns itself: VideoColumns.touch.)
   */
  private touch(slots: Int32Array): void {
    const entries = this.entries;
    const limit = Math.min(this.capacity, entries.length / ENTRY);
    let sum = 0;
    for (let i = 0; i < slots.length; i++) {
      const o = slots[i];
      if (o < limit) sum += entries[o * ENTRY] + this.catalog.versionAt(o) + this.table.values[o * STAT_WIDTH];
    }
    keepTouched(sum);
  }

  async hydrate({ videos, ordinals }: StatsCandidates, now: number): Promise<HydratedStats> {
    const maxAge = this.config.FEED_STATS_MAX_AGE_MS;
    const columns = this.columns;
    const n = videos.length;
    const stats = new Array<VideoStats>(n);
    const slots = Int32Array.from(ordinals);
    this.touch(slots);
    const missingAt: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = slots[i];
      if (o >= this.capacity) this.grow(o + 1);
      const entries = this.entries;
      const at = o * ENTRY;
      const version = this.catalog.versionAt(o);
      const view = this.viewOf(o);
      stats[i] = view;
      if (entries[at + VERSION] !== version) {
        // First sight of this video, or a new object for it: its columns and row, from the stats held so far.
        entries[at + VERSION] = version;
        columns.assign(o, videos[i]);
        columns.setRow(o, videos[i], view);
      }
      // fetchedAt is when the request that read it started: an announcement that arrived
      // while that read was in flight leaves the entry stale (the read may predate the change).
      const fetchedAt = entries[at + FETCHED_AT];
      if (!(now - fetchedAt < maxAge && fetchedAt > this.validAfter && fetchedAt > entries[at + INVALIDATED_AT])) missingAt.push(i);
    }
    this.hits.inc(n - missingAt.length);
    this.misses.inc(missingAt.length);
    if (missingAt.length === 0) return { stats, slots, columns, error: null, unread: 0, partial: false };
    let error: Error | null = null;
    let unread = 0;
    let partial = false;
    // undefined where the stats could not be read: the entry keeps what it had (stale stats, or empty for a first sight).
    let fetched: (Buffer | null | undefined)[] = [];
    try {
      const read = await this.state.readStatsEach(missingAt.map((i) => videos[i].id));
      fetched = read.values;
      error = read.error;
      unread = read.failed;
      partial = read.perKey && read.failed > 0;
    } catch (err) {
      error = err as Error;
      unread = missingAt.length;
    }
    for (let k = 0; k < missingAt.length; k++) {
      const i = missingAt[k];
      const o = slots[i];
      const blob = fetched[k];
      // Stats read by a request that started after this one are newer: keep those.
      if (blob !== undefined && now >= this.entries[o * ENTRY + FETCHED_AT]) {
        decodeVideoStatsInto(blob, this.table.values, o * STAT_WIDTH);
        this.entries[o * ENTRY + FETCHED_AT] = now;
      }
      // The row is for the catalog's current object; if the video changed while Redis
      // answered and no request has seen the new object yet, the next one computes it.
      const video = this.catalog.videoAt(o);
      if (video && this.entries[o * ENTRY + VERSION] === this.catalog.versionAt(o)) columns.setRow(o, video, stats[i]);
    }
    if (unread > 0) this.unreadable.inc(unread);
    return { stats, slots, columns, error, unread, partial };
  }

  /** Forgets everything (tests, and after the online state was rebuilt). */
  clear(): void {
    this.entries = new Float64Array(0);
    this.capacity = 0;
    this.table.values = new Float64Array(0);
    this.views = [];
    this.grow(INITIAL_CAPACITY);
    this.columns = new VideoColumns(this.config.EMBEDDING_DIM);
  }

  private grow(min: number): void {
    const from = this.capacity;
    const capacity = Math.max(min, from * 2);
    const entries = new Float64Array(capacity * ENTRY);
    entries.set(this.entries);
    for (let at = from * ENTRY; at < entries.length; at += ENTRY) {
      entries[at + VERSION] = -1;
      entries[at + FETCHED_AT] = -Infinity;
      entries[at + INVALIDATED_AT] = -Infinity;
    }
    this.entries = entries;
    this.capacity = capacity;
    const values = new Float64Array(capacity * STAT_WIDTH);
    values.set(this.table.values);
    this.table.values = values;
    // Pushed one by one: the array stays in V8's fast (non-dictionary) elements.
    for (let o = from; o < capacity; o++) this.views.push(undefined);
  }

  private viewOf(ordinal: number): CachedStats {
    return (this.views[ordinal] ??= new CachedStats(this.table, ordinal * STAT_WIDTH));
  }
}
