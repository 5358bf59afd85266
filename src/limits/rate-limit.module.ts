import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { RedisKeys } from '../redis/redis-keys';
import { ClientThrottlerGuard, IP_THROTTLER, USER_THROTTLER } from './client-throttler.guard';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/**
 * Rate limits on every api route (health, metrics and docs are exempt: @SkipThrottle
 * or outside Nest's router), counted in Redis so all api instances share them.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, RedisKeys],
      useFactory: (config: AppConfig, keys: RedisKeys) => {
        const ttl = config.THROTTLE_WINDOW_S * 1000;
        return {
          throttlers: [
            { name: IP_THROTTLER, ttl, limit: config.THROTTLE_IP_LIMIT },
            { name: USER_THROTTLER, ttl, limit: config.THROTTLE_USER_LIMIT },
          ],
          skipIf: () => !config.THROTTLE_ENABLED,
          errorMessage: 'too many requests: retry after the number of seconds in the Retry-After header',
          storage: config.THROTTLE_ENABLED ? new RedisThrottlerStorage(config, keys) : undefined,
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ClientThrottlerGuard }],
})
export class RateLimitModule {}
