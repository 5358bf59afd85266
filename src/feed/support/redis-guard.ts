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
 * Fails as a whole if any key fails (see getBuffersEach for reads that may be partial).
 */
export function mgetBuffers(redis: AnyRedis, keys: string[]): Promise<(Buffer | null)[]> {
  if (redis instanceof Cluster) return Promise.all(keys.map((k) => redis.getBuffer(k)));
  return redis.mgetBuffer(...keys);
}

/** A read of many keys whose keys fail one by one. */
export interface EachRead<T> {
  /** Index-aligned with the keys: the value (null: no such key), or undefined where the key could not be read. */
  values: (T | undefined)[];
  /** How many keys could not be read. */
  failed: number;
  /** The first failure (a RedisTimeoutError for keys that did not answer in time), or null when every key was read. */
  error: Error | null;
}

/**
 * GETs on a cluster that settle one by one (auto-pipelined per node), so a master that is
 * down or slow fails only its own keys; keys unanswered after `budgetMs` count as failed.
 */
export function getBuffersEach(redis: Cluster, keys: string[], budgetMs: number): Promise<EachRead<Buffer | null>> {
  const values = new Array<Buffer | null | undefined>(keys.length).fill(undefined);
  if (keys.length === 0) return Promise.resolve({ values, failed: 0, error: null });
  return new Promise((resolve) => {
    let open = true;
    let pending = keys.length;
    let failed = 0;
    let error: Error | null = null;
    const finish = () => {
      open = false;
      clearTimeout(timer);
      resolve({ values, failed, error });
    };
    // As withDeadline: the verdict waits one setImmediate so answers already read off the socket are counted.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (!open) return;
          failed += pending;
          error ??= new RedisTimeoutError(`${pending} of ${keys.length} keys did not answer within ${budgetMs} ms`);
          finish();
        }),
      budgetMs,
    );
    keys.forEach((key, i) => {
      redis.getBuffer(key).then(
        (value) => {
          if (!open) return;
          values[i] = value;
          if (--pending === 0) finish();
        },
        (err: Error) => {
          if (!open) return;
          failed++;
          error ??= err;
          if (--pending === 0) finish();
        },
      );
    });
  });
}
