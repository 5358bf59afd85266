import { Logger } from '@nestjs/common';
import { AnyRedis } from './redis-connection';
import { RedisPersistenceCheck } from './redis-persistence.check';

function fakeRedis(config: () => Promise<unknown>): AnyRedis {
  return { config, options: { host: 'redis.test', port: 6390 } } as unknown as AnyRedis;
}

describe(RedisPersistenceCheck.name, () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => warn.mockRestore());

  it('warns when Redis keeps no append-only file', async () => {
    await new RedisPersistenceCheck(fakeRedis(async () => ['appendonly', 'no'])).onApplicationBootstrap();
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/redis\.test:6390 runs without the append-only file/));
  });

  it('says nothing when the AOF is on or CONFIG is refused', async () => {
    await new RedisPersistenceCheck(fakeRedis(async () => ['appendonly', 'yes'])).onApplicationBootstrap();
    await new RedisPersistenceCheck(fakeRedis(() => Promise.reject(new Error("ERR unknown command 'CONFIG'")))).onApplicationBootstrap();
    expect(warn).not.toHaveBeenCalled();
  });
});
