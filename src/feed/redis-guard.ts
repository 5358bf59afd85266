import { AnyRedis } from '../redis/redis-connection';

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
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(`redis did not answer within ${budgetMs} ms`)), budgetMs);
  });
  const work = op();
  return Promise.race([work, deadline]).finally(() => {
    clearTimeout(timer);
    // The abandoned command may still fail later; that is already accounted for.
    work.catch(() => undefined);
  });
}
