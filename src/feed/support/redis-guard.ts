import { Cluster } from 'ioredis';
import { AnyRedis } from '../../redis/redis-connection';
import { withDeadline } from '../../common/deadline';

export class RedisUnavailableError extends Error {
  readonly reason = 'redis_unavailable';
}

export class RedisTimeoutError extends Error {
  readonly reason = 'redis_timeout';
}

/**
 * Runs a Redis read on the feed path with a deadline. A client that is not connected
 * fails at once (nothing is queued behind a dead connection); a slow answer is given
 * up on after `budgetMs` so the request can fall back to in-memory data.
 */
export function guardRedis<T>(redis: AnyRedis, budgetMs: number, op: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') return Promise.reject(new RedisUnavailableError(`redis is ${redis.status}`));
  return withDeadline(op(), budgetMs, () => new RedisTimeoutError(`redis did not answer within ${budgetMs} ms`));
}

/**
 * GET of many keys as Buffers in one round trip: MGET on a single node; on a cluster,
 * where keys of different videos live in different slots, pipelined GETs instead.
 */
export function mgetBuffers(redis: AnyRedis, keys: string[]): Promise<(Buffer | null)[]> {
  if (redis instanceof Cluster) return Promise.all(keys.map((k) => redis.getBuffer(k)));
  return redis.mgetBuffer(...keys);
}
