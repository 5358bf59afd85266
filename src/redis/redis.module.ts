import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AnyRedis, closeRedisClient, createRedisClient, logClientErrors } from './redis-connection';
import { REDIS } from './redis.constants';
import { RedisKeys } from './redis-keys';
import { PubSubService } from './pubsub.service';

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      // On a cluster, commands of one tick go out as one pipeline per node (e.g. the feed's per-video GETs).
      useFactory: (config: AppConfig) =>
        logClientErrors(createRedisClient(config, { maxRetriesPerRequest: 2, enableOfflineQueue: true }, { enableAutoPipelining: true }), 'main'),
    },
    { provide: RedisKeys, inject: [AppConfig], useFactory: (config: AppConfig) => new RedisKeys(config.REDIS_PREFIX) },
    PubSubService,
  ],
  exports: [REDIS, RedisKeys, PubSubService],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: AnyRedis) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}
