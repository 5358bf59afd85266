import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { encodeUserState, storedUserStateVersion, UserState } from '../features/user-state';
import { encodeVideoStats, VIDEO_STAT_FIELDS, VideoStats } from '../features/video-stats';
import { Cluster } from 'ioredis';
import { RedisKeys } from '../redis/redis-keys';
import { EVENTS_REDIS, EventsRedis } from './events-redis';
import { decodeTrend, encodeTrend, TRENDING_WINDOWS, TrendingWindow, TrendScores } from './trending';

/** Event ids remembered per user as applied, with their seq (exactly-once effect on the user state). */
export const USER_APPLIED_MAX = 10_000;

export interface UserRead {
  /** The state as stored (empty when the user has none yet): the compare-and-set expects it unchanged. */
  raw: Buffer;
  /** Per requested event id: the seq it was applied with, or null if not applied yet. */
  appliedSeqs: (number | null)[];
}

export interface UserCommit {
  expectedRaw: Buffer;
  state: UserState;
  applied: { eventId: string; seq: number }[];
  seen: { videoId: string; at: number }[];
  acceptedAt: number;
  appliedAt: number;
}

/** One video's share of a job: per event its trend increments (or null) and counter deltas. */
export interface VideoUpdate {
  videoId: string;
  events: { trend: TrendScores | null; delta: number[] }[];
}

export interface UserFeaturesRead {
  raw: Buffer | null;
  acceptedAt: number | null;
  appliedAt: number | null;
  seenCount: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * All Redis I/O of the online state the event pipeline owns: user state (binary, with the
 * embedding inside), applied-event ids, seen set, video stats blobs, trending sets and
 * freshness markers. Multi-key writes are Lua scripts over one hash tag each.
 */
@Injectable()
export class OnlineStateRepository {
  private readonly markerWindowMs: number;

  constructor(
    @Inject(EVENTS_REDIS) private readonly redis: EventsRedis,
    private readonly keys: RedisKeys,
    private readonly config: AppConfig,
  ) {
    this.markerWindowMs = config.EVENTS_APPLIED_MARKER_TTL_SECONDS * 1000;
  }

  async readUser(userId: string, eventIds: string[]): Promise<UserRead> {
    const [raw, seqs] = await Promise.all([
      this.redis.getBuffer(this.keys.userFeatures(userId)),
      eventIds.length > 0 ? this.redis.zmscore(this.keys.userAppliedEvents(userId), ...eventIds) : Promise.resolve([]),
    ]);
    return { raw: raw ?? EMPTY, appliedSeqs: seqs.map((s) => (s === null ? null : Number(s))) };
  }

  /** Each user's applied-event count (its state's version; 0 without a state). */
  async readVersions(userIds: string[]): Promise<number[]> {
    const raws = await Promise.all(userIds.map((u) => this.redis.getBuffer(this.keys.userFeatures(u))));
    return raws.map((raw) => storedUserStateVersion(raw));
  }

  /** Writes the new state if nobody else did since `readUser`; false on conflict (read again and retry). */
  async commitUser(userId: string, c: UserCommit): Promise<boolean> {
    const args: (string | number | Buffer)[] = [
      c.expectedRaw,
      encodeUserState(c.state),
      USER_APPLIED_MAX,
      this.config.USER_SEEN_MAX,
      c.acceptedAt,
      c.appliedAt,
      c.applied.length,
    ];
    for (const a of c.applied) args.push(a.seq, a.eventId);
    for (const s of c.seen) args.push(s.at, s.videoId);
    const ok = await this.redis.rrCommitUser(
      this.keys.userFeatures(userId),
      this.keys.userAppliedEvents(userId),
      this.keys.userSeen(userId),
      this.keys.userMeta(userId),
      ...args,
    );
    return ok === 1;
  }

  /**
   * Applies a job's video updates exactly once (`marker` identifies the job); returns each
   * video's trend scores afterwards (null if none). One script call for all the videos on
   * a single node; one per video on a cluster, where a script may only touch one slot.
   */
  async applyVideos(marker: string, updates: VideoUpdate[], now: number): Promise<(TrendScores | null)[]> {
    if (updates.length === 0) return [];
    const groups = this.redis instanceof Cluster ? updates.map((u) => [u]) : [updates];
    const results = await Promise.all(
      groups.map((group) => {
        const keys: string[] = [];
        const args: (string | number)[] = [now, this.markerWindowMs, VIDEO_STAT_FIELDS.length, marker];
        for (const u of group) {
          keys.push(this.keys.videoStats(u.videoId), this.keys.videoAppliedEvents(u.videoId), this.keys.videoTrend(u.videoId));
          args.push(u.events.length);
          for (const e of u.events) {
            const pairs: number[] = [];
            for (let f = 0; f < e.delta.length; f++) if (e.delta[f] !== 0) pairs.push(f + 1, e.delta[f]);
            args.push(e.trend ? e.trend[0] : '', e.trend ? e.trend[1] : '', e.trend ? e.trend[2] : '', pairs.length / 2, ...pairs);
          }
        }
        return this.redis.rrApplyVideosBuffer(keys.length, ...keys, ...args);
      }),
    );
    return results.flat().map((b) => decodeTrend(b));
  }

  /** The videos' current trend scores (null where none). */
  async readTrends(videoIds: string[]): Promise<(TrendScores | null)[]> {
    const blobs = await Promise.all(videoIds.map((v) => this.redis.getBuffer(this.keys.videoTrend(v))));
    return blobs.map((b) => decodeTrend(b));
  }

  /**
   * Raises each video's score in the trending sets to its current value. Absolute and
   * monotonic (ZADD GT), so repeated or reordered writes converge; the sets keep the
   * TRENDING_MAX highest scores. A score not started yet (-Infinity: a video last
   * updated before its window existed) is left out.
   */
  async writeTrending(entries: { videoId: string; trend: TrendScores }[]): Promise<void> {
    if (entries.length === 0) return;
    await Promise.all(
      TRENDING_WINDOWS.map(async (w, i) => {
        const key = this.keys.trending(w);
        const args: (string | number)[] = [];
        for (const e of entries) if (Number.isFinite(e.trend[i])) args.push(e.trend[i], e.videoId);
        if (args.length === 0) return;
        await Promise.all([
          this.redis.zadd(key, 'GT', ...args),
          this.redis.zremrangebyrank(key, 0, -(this.config.TRENDING_MAX + 1)),
        ]);
      }),
    );
  }

  /** The latest acceptance-to-features lag, for whoever asks without scraping the worker. */
  async recordFreshness(lagMs: number, at: number): Promise<void> {
    await this.redis.hset(this.keys.freshness, 'eventsLagMs', lagMs, 'eventsAppliedAt', at);
  }

  async readFreshness(): Promise<{ lagMs: number; at: number } | null> {
    const [lag, at] = await this.redis.hmget(this.keys.freshness, 'eventsLagMs', 'eventsAppliedAt');
    return lag === null || at === null ? null : { lagMs: Number(lag), at: Number(at) };
  }

  async readUserFeatures(userId: string): Promise<UserFeaturesRead> {
    const [raw, meta, seenCount] = await Promise.all([
      this.redis.getBuffer(this.keys.userFeatures(userId)),
      this.redis.hmget(this.keys.userMeta(userId), 'acceptedAt', 'appliedAt'),
      this.redis.zcard(this.keys.userSeen(userId)),
    ]);
    return {
      raw,
      acceptedAt: meta[0] === null ? null : Number(meta[0]),
      appliedAt: meta[1] === null ? null : Number(meta[1]),
      seenCount,
    };
  }

  /** Writes a user's rebuilt state (replay): the state, its applied ids (latest USER_APPLIED_MAX) and seen set. */
  async writeRebuiltUser(
    userId: string,
    state: UserState,
    applied: { eventId: string; seq: number }[],
    seen: { videoId: string; at: number }[],
  ): Promise<void> {
    const ops: Promise<unknown>[] = [this.redis.set(this.keys.userFeatures(userId), encodeUserState(state))];
    const keep = applied.slice(-USER_APPLIED_MAX);
    if (keep.length > 0) {
      ops.push(this.redis.zadd(this.keys.userAppliedEvents(userId), ...keep.flatMap((a) => [a.seq, a.eventId])));
    }
    if (seen.length > 0) ops.push(this.redis.zadd(this.keys.userSeen(userId), ...seen.flatMap((v) => [v.at, v.videoId])));
    await Promise.all(ops);
  }

  /** Writes a video's rebuilt counters and trend scores (replay). */
  async writeRebuiltVideo(videoId: string, stats: VideoStats, trend: TrendScores | null): Promise<void> {
    await Promise.all([
      this.redis.set(this.keys.videoStats(videoId), encodeVideoStats(stats)),
      trend ? this.redis.set(this.keys.videoTrend(videoId), encodeTrend(trend)) : Promise.resolve(),
    ]);
  }

  /** Replaces a trending set with the given (already capped) entries (replay). */
  async writeRebuiltTrending(window: TrendingWindow, entries: { videoId: string; score: number }[]): Promise<void> {
    const key = this.keys.trending(window);
    await this.redis.del(key);
    for (let i = 0; i < entries.length; i += 5000) {
      await this.redis.zadd(key, ...entries.slice(i, i + 5000).flatMap((e) => [e.score, e.videoId]));
    }
  }

  /**
   * Deletes every key the event pipeline owns under this prefix (user state, applied and
   * accepted ids, seen sets, freshness, video stats, trend scores and markers, trending
   * sets), so a replay starts from nothing. Returns how many keys were deleted.
   */
  async clearOwnedKeys(): Promise<number> {
    const p = this.keys.prefix;
    const owned: [string, string[]][] = [
      [`${p}:u:*`, ['}:feat', '}:applied', '}:accepted', '}:seen', '}:meta']],
      [`${p}:v:*`, ['}:stats', '}:applied', '}:trend']],
    ];
    const cluster = this.redis instanceof Cluster;
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    let deleted = 0;
    for (const node of nodes) {
      for (const [match, suffixes] of owned) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 20_000);
          cursor = next;
          const mine = keys.filter((k) => suffixes.some((s) => k.endsWith(s)));
          if (mine.length === 0) continue;
          // A cluster only takes multi-key commands within one slot.
          const counts = await Promise.all(cluster ? mine.map((k) => this.redis.unlink(k)) : [this.redis.unlink(...mine)]);
          for (const c of counts) deleted += c;
        } while (cursor !== '0');
      }
    }
    for (const key of [...TRENDING_WINDOWS.map((w) => this.keys.trending(w)), this.keys.freshness]) {
      deleted += await this.redis.unlink(key);
    }
    return deleted;
  }
}
