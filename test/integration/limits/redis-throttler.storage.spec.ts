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

  it('shares the counts between instances through Redis, each seeing the others when it next syncs its own hits', async () => {
    const prefix = keys();
    const [a, b] = [new RedisThrottlerStorage(config(), prefix), new RedisThrottlerStorage(config(), prefix)];
    await Promise.all([a.onModuleInit(), b.onModuleInit()]);
    try {
      const key = uniqueId('user');
      for (let i = 0; i < 3; i++) await a.increment(key, 10_000, 5, 10_000);
      await a.sync();
      expect((await b.increment(key, 10_000, 5, 10_000)).totalHits).toBe(1); // b has not synced yet
      await b.sync();
      expect(await b.increment(key, 10_000, 5, 10_000)).toMatchObject({ totalHits: 5, isBlocked: false });
      expect(await b.increment(key, 10_000, 5, 10_000)).toMatchObject({ totalHits: 6, isBlocked: true });
      expect((await a.increment(key, 10_000, 5, 10_000)).totalHits).toBe(4); // a has not synced since b's hits
      await b.sync();
      await a.sync();
      expect(await a.increment(key, 10_000, 5, 10_000)).toMatchObject({ totalHits: 8, isBlocked: true });
    } finally {
      await Promise.all([a.onApplicationShutdown(), b.onApplicationShutdown()]);
    }
  });

  it('syncs on its own every THROTTLE_SYNC_MS', async () => {
    const prefix = keys();
    const fast = () => loadConfig({ ...process.env, THROTTLE_REDIS_TIMEOUT_MS: '5000', THROTTLE_SYNC_MS: '20' });
    const [a, b] = [new RedisThrottlerStorage(fast(), prefix), new RedisThrottlerStorage(fast(), prefix)];
    await Promise.all([a.onModuleInit(), b.onModuleInit()]);
    try {
      const key = uniqueId('ip');
      await a.increment(key, 10_000, 5, 10_000);
      await a.increment(key, 10_000, 5, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect((await b.increment(key, 10_000, 5, 10_000)).totalHits).toBe(1);
      await new Promise((r) => setTimeout(r, 500));
      expect((await b.increment(key, 10_000, 5, 10_000)).totalHits).toBe(4);
    } finally {
      await Promise.all([a.onApplicationShutdown(), b.onApplicationShutdown()]);
    }
  });

  it('still limits, on this instance alone and without waiting, when Redis is unreachable', async () => {
    const storage = new RedisThrottlerStorage(loadConfig({ ...process.env, REDIS_URL: 'redis://127.0.0.1:1' }), keys());
    await storage.onModuleInit();
    try {
      const started = Date.now();
      const hits = [];
      for (let i = 0; i < 3; i++) {
        hits.push(await storage.increment('k', 1000, 2, 1000));
        await storage.sync();
      }
      expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([[1, false], [2, false], [3, true]]);
      expect(Date.now() - started).toBeLessThan(100);
    } finally {
      await storage.onApplicationShutdown();
    }
  });
});
