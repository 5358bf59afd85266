import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AnyRedis, createRedisClient } from '../redis/redis-connection';
import { RedisKeys } from '../redis/redis-keys';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Fixed window per key: the first hit starts a window of `ttl` ms; a hit over the
 * limit blocks the key for `blockDuration` ms (the window is extended to it).
 * Returns {hits, ms left}.
 */
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if hits == tonumber(ARGV[3]) + 1 and tonumber(ARGV[2]) > tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {hits, redis.call('PTTL', KEYS[1])}
`;

/** How long a rate-limit check may wait for Redis before the request is let through. */
const COMMAND_TIMEOUT_MS = 100;

/**
 * Rate-limit counters in Redis, so every api instance shares one budget per client.
 * Limits are advisory: on a dedicated connection with no offline queue and a short
 * timeout, so when Redis is slow or down requests pass (fail open) instead of failing.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private readonly redis: AnyRedis;
  private lastWarnAt = 0;

  constructor(
    config: AppConfig,
    private readonly keys: RedisKeys,
  ) {
    this.redis = createRedisClient(config, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      lazyConnect: false,
    });
    this.redis.on('error', () => undefined); // reported once per minute by increment()
    this.redis.defineCommand('reelrankThrottle', { numberOfKeys: 1, lua: INCREMENT });
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    try {
      const [hits, pttl] = (await (this.redis as unknown as ThrottleCommand).reelrankThrottle(
        this.keys.throttle(key),
        Math.max(1, Math.round(ttl)),
        Math.max(0, Math.round(blockDuration)),
        limit,
      )) as [number, number];
      const secondsLeft = Math.max(1, Math.ceil(pttl / 1000));
      const isBlocked = hits > limit;
      return { totalHits: hits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
    } catch (err) {
      this.warnFailOpen(err as Error);
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  private warnFailOpen(err: Error): void {
    const now = Date.now();
    if (now - this.lastWarnAt < 60_000) return;
    this.lastWarnAt = now;
    this.logger.warn(`rate limiting unavailable, letting requests through: ${err.message}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

interface ThrottleCommand {
  reelrankThrottle(key: string, ttlMs: number, blockMs: number, limit: number): Promise<unknown>;
}
