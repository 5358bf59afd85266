import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '../../src/redis/redis-connection';
import { testRedisPrefix } from './test-env';

/** Key patterns owned by a prefix: plain keys and the BullMQ queues (see RedisKeys). */
const patternsFor = (prefix: string) => [`${prefix}:*`, `{${prefix}:bull}:*`];

/** Deletes every key under `prefix`; returns how many were deleted. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const match of patternsFor(prefix)) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

/** A plain client on the test Redis; close it with `quit()`. */
export function createTestRedis(): Redis {
  return new Redis({ ...redisOptionsFromUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'), lazyConnect: false });
}

/** Deletes this test run's Redis keys (between tests that need a clean Redis). */
export async function clearTestRedis(): Promise<number> {
  const redis = createTestRedis();
  try {
    return await deleteKeysWithPrefix(redis, testRedisPrefix());
  } finally {
    await redis.quit();
  }
}
