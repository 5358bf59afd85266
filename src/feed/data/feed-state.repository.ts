import { Inject, Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { REDIS } from '../../redis/redis.constants';
import { AnyRedis } from '../../redis/redis-connection';
import { RedisKeys } from '../../redis/redis-keys';
import { EachRead, getBuffersEach, guardRedis, mgetBuffers, RedisUnavailableError } from '../support/redis-guard';

/** The most recent watched videos read per request (the event pipeline caps the set itself). */
export const SEEN_READ_MAX = 2000;

export interface UserReads {
  /** Encoded UserState, or null for a user with no events yet. */
  state: Buffer | null;
  seen: string[];
  served: string[];
}

/** The candidates' packed stats as the feed reads them: per video on a cluster (see readStatsEach). */
export interface StatsReads extends EachRead<Buffer | null> {
  /** True when keys failed one by one (a cluster): the others were read, and the user's own slot answered. */
  perKey: boolean;
}

/**
 * The feed's Redis I/O, two round trips per request: everything about the user in
 * one pipeline (all in the user's hash slot; it also stores the ids the previous page
 * served, which its cursor carries), then the candidates' packed stats in one MGET (a
 * GET per video on a cluster). Every call runs under the Redis budget (see guardRedis).
 */
@Injectable()
export class FeedStateRepository {
  private readonly budgetMs: number;

  constructor(
    @Inject(REDIS) private readonly redis: AnyRedis,
    private readonly keys: RedisKeys,
    private readonly config: AppConfig,
  ) {
    this.budgetMs = config.FEED_REDIS_BUDGET_MS;
  }

  /**
   * Round trip 1: user state, watched videos, and the ids already served in this session,
   * after adding `carried` (the previous page's, from its cursor) to them; the served set
   * expires FEED_SESSION_TTL_S after its last page.
   */
  readUser(userId: string, sessionId: string | null, carried: readonly string[] = []): Promise<UserReads> {
    return guardRedis(this.redis, this.budgetMs, async () => {
      const pipeline = this.redis.pipeline().getBuffer(this.keys.userFeatures(userId)).zrange(this.keys.userSeen(userId), 0, SEEN_READ_MAX - 1, 'REV');
      if (sessionId) {
        const served = this.keys.userServed(userId, sessionId);
        if (carried.length > 0) pipeline.sadd(served, ...carried).expire(served, this.config.FEED_SESSION_TTL_S);
        pipeline.smembers(served);
      }
      const results = (await pipeline.exec()) ?? [];
      for (const [err] of results) if (err) throw err;
      return {
        state: results[0][1] as Buffer | null,
        seen: results[1][1] as string[],
        served: sessionId ? (results[results.length - 1][1] as string[]) : [],
      };
    });
  }

  /**
   * Round trip 2 (and the popularity refresh, with its own budget): one MGET on a single
   * node, failing (throwing) whole; on a cluster a GET per video, each failing by itself,
   * so a master that is down costs only its videos' stats.
   */
  async readStatsEach(videoIds: string[], budgetMs = this.budgetMs): Promise<StatsReads> {
    const keys = videoIds.map((id) => this.keys.videoStats(id));
    if (this.redis instanceof Cluster) {
      // A client that is not connected to any node: all of Redis, not some slots.
      if (this.redis.status !== 'ready') throw new RedisUnavailableError(`redis is ${this.redis.status}`);
      return { ...(await getBuffersEach(this.redis, keys, budgetMs)), perKey: true };
    }
    const values = await guardRedis(this.redis, budgetMs, () => mgetBuffers(this.redis, keys));
    return { values, failed: 0, error: null, perKey: false };
  }

}
