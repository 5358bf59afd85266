import { loadConfig } from '../../../src/config/app-config';
import { RedisThrottlerStorage } from '../../../src/limits/redis-throttler.storage';
import { RedisKeys } from '../../../src/redis/redis-keys';
import { uniqueId } from '../../factories/sequence';
import { testRedisPrefix } from '../../support/test-env';

describe(RedisThrottlerStorage.name, () => {
  const keys = () => new RedisKeys(testRedisPrefix());
  // generous: the counting tests must not fail open on a busy machine
  const config = () => loadConfig({ ...process.env, THROTTLE_REDIS_TIMEOUT_MS: '5000' });

  it('counts hits per key in a fixed window and blocks over the limit until it ends', async () => {
    const storage = new RedisThrottlerStorage(config(), keys());
    await storage.onModuleInit();
    try {
      const key = uniqueId('ip');
      const hits = [];
      for (let i = 0; i < 4; i++) hits.push(await storage.increment(key, 1500, 3, 1500));
      expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([[1, false], [2, false], [3, false], [4, true]]);
      expect(hits[3].timeToBlockExpire).toBeGreaterThanOrEqual(1);
      expect(hits[3].timeToBlockExpire).toBeLessThanOrEqual(2);
      expect((await storage.increment(uniqueId('ip'), 1500, 3, 1500)).totalHits).toBe(1); // other clients unaffected
      await new Promise((r) => setTimeout(r, 1600));
      expect(await storage.increment(key, 1500, 3, 1500)).toMatchObject({ totalHits: 1, isBlocked: false });
    } finally {
      await storage.onApplicationShutdown();
    }
  });

  it('extends the block to blockDuration when it is longer than the window', async () => {
    const storage = new RedisThrottlerStorage(config(), keys());
    await storage.onModuleInit();
    try {
      const key = uniqueId('user');
      await storage.increment(key, 1000, 1, 5000);
      const blocked = await storage.increment(key, 1000, 1, 5000);
      expect(blocked.isBlocked).toBe(true);
      expect(blocked.timeToBlockExpire).toBeGreaterThanOrEqual(4);
    } finally {
      await storage.onApplicationShutdown();
    }
  });

  it('lets requests through at once when Redis is unreachable (fail open)', async () => {
    const storage = new RedisThrottlerStorage(loadConfig({ ...process.env, REDIS_URL: 'redis://127.0.0.1:1' }), keys());
    await storage.onModuleInit();
    try {
      const started = Date.now();
      for (let i = 0; i < 5; i++) expect(await storage.increment('k', 1000, 1, 1000)).toMatchObject({ isBlocked: false, totalHits: 0 });
      expect(Date.now() - started).toBeLessThan(100);
    } finally {
      await storage.onApplicationShutdown();
    }
  });
});
