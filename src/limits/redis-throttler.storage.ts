import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** How long boot waits for the rate-limit connection before serving without limits. */
const CONNECT_WAIT_MS = 2000;

/**
 * Rate-limit counters in Redis, so every api instance shares one budget per client.
 * Limits are advisory: while the (dedicated) connection is down, or when Redis takes
 * longer than THROTTLE_REDIS_TIMEOUT_MS, requests pass (fail open) instead of failing.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private readonly redis: AnyRedis;
  private lastWarnAt = 0;

  private readonly timeoutMs: number;

  constructor(
    config: AppConfig,
    private readonly keys: RedisKeys,
  ) {
    this.timeoutMs = config.THROTTLE_REDIS_TIMEOUT_MS;
    // Auto-pipelining: the counters of concurrent requests go out in one write (fewer syscalls, less Redis CPU).
    this.redis = createRedisClient(config, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
    this.redis.on('error', () => undefined); // reported once per minute by increment()
    this.redis.defineCommand('reelrankThrottle', { numberOfKeys: 1, lua: INCREMENT });
  }

  /** Gives the connection a moment at boot, so the first requests are counted rather than let through. */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    // An unreachable Redis rejects at the first error: the api then starts without limits.
    await Promise.race([once(this.redis, 'ready'), sleep(CONNECT_WAIT_MS)]).catch(() => undefined);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    try {
      if (this.redis.status !== 'ready') throw new Error(`redis connection is ${this.redis.status}`);
      const [hits, pttl] = (await withTimeout(
        (this.redis as unknown as ThrottleCommand).reelrankThrottle(
          this.keys.throttle(key),
          Math.max(1, Math.round(ttl)),
          Math.max(0, Math.round(blockDuration)),
          limit,
        ),
        this.timeoutMs,
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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
