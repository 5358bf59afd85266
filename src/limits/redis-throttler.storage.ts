import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AnyRedis, createRedisClient } from '../redis/redis-connection';
import { RedisKeys } from '../redis/redis-keys';
import { ThrottleWindows } from './throttle-windows';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Adds ARGV[4] hits to a fixed window per key: the first hits start a window of `ttl`
 * ms; the hits that take the key over its limit extend the window to `blockDuration`
 * ms when that is longer. Returns {hits, ms left}.
 */
const ADD_HITS = `
local added = tonumber(ARGV[4])
local hits = redis.call('INCRBY', KEYS[1], added)
if hits == added then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local limit = tonumber(ARGV[3])
if hits > limit and hits - added <= limit and tonumber(ARGV[2]) > tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {hits, redis.call('PTTL', KEYS[1])}
`;

/** How long boot waits for the rate-limit connection before counting on this instance alone. */
const CONNECT_WAIT_MS = 2000;
/** Windows that ended are forgotten at most this often. */
const SWEEP_EVERY_MS = 1000;

/**
 * Rate-limit counters shared by every api instance through Redis, counted locally first:
 * a request is checked against this instance's view of its windows (ThrottleWindows)
 * without waiting for Redis, and every THROTTLE_SYNC_MS the hits counted since are added
 * to the shared counts in one pipeline, whose answers bring in the other instances' hits.
 * So a client spread over N instances can get about N x THROTTLE_SYNC_MS worth of
 * requests past its limit, and one on a single instance none. While Redis is down or
 * slower than THROTTLE_REDIS_TIMEOUT_MS, the hits are counted on each instance alone.
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private readonly redis: AnyRedis;
  private readonly windows = new ThrottleWindows();
  private readonly timeoutMs: number;
  private readonly syncMs: number;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private sweptAt = 0;
  private lastWarnAt = 0;

  constructor(config: AppConfig, private readonly keys: RedisKeys) {
    this.timeoutMs = config.THROTTLE_REDIS_TIMEOUT_MS;
    this.syncMs = config.THROTTLE_SYNC_MS;
    // Auto-pipelining: a sync's keys go out in one write.
    this.redis = createRedisClient(config, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
    this.redis.on('error', () => undefined); // reported once per minute by sync()
    this.redis.defineCommand('reelrankThrottle', { numberOfKeys: 1, lua: ADD_HITS });
  }

  /** Gives the connection a moment at boot, so the first syncs find it. */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    // An unreachable Redis rejects at the first error: the api then starts counting on its own.
    // The wait does not hold the process open once the race is settled (an unref'd timer).
    await Promise.race([once(this.redis, 'ready'), sleep(CONNECT_WAIT_MS, undefined, { ref: false })]).catch(() => undefined);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const hit = this.windows.hit(key, Math.max(1, Math.round(ttl)), limit, Math.max(0, Math.round(blockDuration)), now);
    this.timer ??= this.later();
    const secondsLeft = Math.max(1, Math.ceil(hit.msLeft / 1000));
    return { totalHits: hit.totalHits, timeToExpire: secondsLeft, isBlocked: hit.blocked, timeToBlockExpire: hit.blocked ? secondsLeft : 0 };
  }

  /** Sends the hits counted since the last sync (one at a time: a slow Redis is not sent more while it is behind). */
  sync(): Promise<void> {
    this.timer = null;
    if (this.syncing) {
      this.timer = this.later();
      return this.syncing;
    }
    this.syncing = this.send().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private later(): NodeJS.Timeout {
    return setTimeout(() => void this.sync(), this.syncMs).unref();
  }

  private async send(): Promise<void> {
    const now = Date.now();
    if (now - this.sweptAt >= SWEEP_EVERY_MS) {
      this.windows.sweep(now);
      this.sweptAt = now;
    }
    const batch = this.windows.takeUnsent();
    if (batch.length === 0) return;
    if (this.redis.status !== 'ready') {
      for (const sync of batch) this.windows.unshared(sync);
      this.warnUnshared(new Error(`redis connection is ${this.redis.status}`));
      return;
    }
    const redis = this.redis as unknown as ThrottleCommand;
    const answers = batch.map((s) => redis.reelrankThrottle(this.keys.throttle(s.key), s.ttlMs, s.blockMs, s.limit, s.hits));
    const settled = await withTimeout(Promise.allSettled(answers), this.timeoutMs).catch((err: Error) => err);
    const answeredAt = Date.now();
    let failure: Error | null = settled instanceof Error ? settled : null;
    batch.forEach((sync, i) => {
      const answer = settled instanceof Error ? null : settled[i];
      if (answer?.status === 'fulfilled') {
        const [total, pttl] = answer.value;
        this.windows.shared(sync, total, pttl, answeredAt);
      } else {
        if (answer) failure ??= answer.reason as Error;
        this.windows.unshared(sync);
      }
    });
    if (failure) this.warnUnshared(failure);
  }

  private warnUnshared(err: Error): void {
    const now = Date.now();
    if (now - this.lastWarnAt < 60_000) return;
    this.lastWarnAt = now;
    this.logger.warn(`rate limits counted on this instance only (not shared through Redis): ${err.message}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.syncing;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

interface ThrottleCommand {
  reelrankThrottle(key: string, ttlMs: number, blockMs: number, limit: number, hits: number): Promise<[number, number]>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
