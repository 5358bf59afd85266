import { loadConfig } from '../../../src/config/app-config';
import { FeedStateRepository, SEEN_READ_MAX } from '../../../src/feed/data/feed-state.repository';
import { AnyRedis, createRedisClient } from '../../../src/redis/redis-connection';
import { RedisKeys } from '../../../src/redis/redis-keys';
import { uniqueId } from '../../factories/sequence';
import { testRedisPrefix } from '../../support/test-env';

/** The feed's first round trip against a real Redis: the watched set and the served set with the ids a cursor carries. */
describe(FeedStateRepository.name, () => {
  const config = loadConfig(process.env);
  const keys = new RedisKeys(testRedisPrefix());
  let redis: AnyRedis;
  let repository: FeedStateRepository;

  beforeAll(() => {
    redis = createRedisClient(config);
    repository = new FeedStateRepository(redis, keys, config);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('reads the watched videos newest first, whatever characters their ids hold, and none for a user without any', async () => {
    const userId = uniqueId('fs');
    // Event video ids are any text without NUL: commas, spaces, newlines and non-ASCII included.
    const ids = ['v_1', 'a,b', 'with space', 'line\nbreak', 'é☃', 'x'.repeat(128)];
    await redis.zadd(keys.userSeen(userId), ...ids.flatMap((id, i) => [1000 + i, id]));
    const reads = await repository.readUser(userId, null);
    expect(reads.seen).toEqual([...ids].reverse());
    expect(reads.served).toEqual([]);
    expect((await repository.readUser(uniqueId('fs-none'), null)).seen).toEqual([]);
  });

  it(`reads at most the ${SEEN_READ_MAX} newest watched videos`, async () => {
    const userId = uniqueId('fs');
    const args: (string | number)[] = [];
    for (let i = 0; i < SEEN_READ_MAX + 5; i++) args.push(i, `v_${i}`);
    await redis.zadd(keys.userSeen(userId), ...args);
    const { seen } = await repository.readUser(userId, null);
    expect(seen).toHaveLength(SEEN_READ_MAX);
    expect(seen[0]).toBe(`v_${SEEN_READ_MAX + 4}`);
    expect(seen.at(-1)).toBe('v_5');
  });

  it('stores the ids a cursor carries in the session’s served set before reading it, with the session’s TTL', async () => {
    const userId = uniqueId('fs');
    expect((await repository.readUser(userId, 's1', ['v_1', 'v_2'])).served.sort()).toEqual(['v_1', 'v_2']);
    expect((await repository.readUser(userId, 's1', ['v_3'])).served.sort()).toEqual(['v_1', 'v_2', 'v_3']);
    expect((await repository.readUser(userId, 's1')).served).toHaveLength(3);
    expect((await repository.readUser(userId, 's2')).served).toEqual([]);
    const ttl = await redis.ttl(keys.userServed(userId, 's1'));
    expect(ttl).toBeGreaterThan(config.FEED_SESSION_TTL_S - 10);
    expect(ttl).toBeLessThanOrEqual(config.FEED_SESSION_TTL_S);
  });
});
