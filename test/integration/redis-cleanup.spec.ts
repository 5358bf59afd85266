import { Redis } from 'ioredis';
import { RedisKeys } from '../../src/redis/redis-keys';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

describe(deleteKeysWithPrefix.name, () => {
  let redis: Redis;
  const prefix = `${testRedisPrefix()}-cleanup`;
  const neighbour = `${prefix}x`;

  beforeAll(() => {
    redis = createTestRedis();
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, neighbour);
    await redis.quit();
  });

  it('deletes the keys and queues of one prefix and nothing else', async () => {
    const mine = new RedisKeys(prefix);
    const theirs = new RedisKeys(neighbour);
    await redis.set(mine.userFeatures('u1'), '1');
    await redis.zadd(mine.trending('1h'), 1, 'v1');
    await redis.set(`${mine.bullPrefix}:events:id`, '7');
    await redis.set(theirs.userFeatures('u1'), '1');
    await redis.set(`${theirs.bullPrefix}:events:id`, '7');

    expect(await deleteKeysWithPrefix(redis, prefix)).toBe(3);
    expect(await redis.exists(mine.userFeatures('u1'), mine.trending('1h'), `${mine.bullPrefix}:events:id`)).toBe(0);
    expect(await redis.exists(theirs.userFeatures('u1'), `${theirs.bullPrefix}:events:id`)).toBe(2);
  });
});
