import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { REDIS } from '../../redis/redis.constants';
import { AnyRedis } from '../../redis/redis-connection';
import { RedisKeys } from '../../redis/redis-keys';
import { guardRedis } from '../support/redis-guard';

export const TRENDING_MAX = 1000;
const REFRESH_MS = 1000;

/**
 * The trending sorted sets (written by the event pipeline) mirrored in memory once a
 * second: one read per second per instance instead of one per request, and the last
 * good list keeps serving while Redis is away.
 */
@Injectable()
export class TrendingCacheService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TrendingCacheService.name);
  private list: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    @Inject(REDIS) private readonly redis: AnyRedis,
    private readonly keys: RedisKeys,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Trending now: the 1h and 24h windows interleaved (1h first), without duplicates. */
  get ids(): string[] {
    return this.list;
  }

  async refresh(): Promise<void> {
    try {
      const [hour, day] = await guardRedis(this.redis, 2000, () =>
        Promise.all([
          this.redis.zrange(this.keys.trending('1h'), 0, TRENDING_MAX - 1, 'REV'),
          this.redis.zrange(this.keys.trending('24h'), 0, TRENDING_MAX - 1, 'REV'),
        ]),
      );
      const merged = new Set<string>();
      for (let i = 0; i < Math.max(hour.length, day.length) && merged.size < TRENDING_MAX; i++) {
        if (i < hour.length) merged.add(hour[i]);
        if (i < day.length) merged.add(day[i]);
      }
      this.list = [...merged];
      if (this.failing) this.logger.log('trending refresh recovered');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn(`trending refresh failed, serving the last list: ${(err as Error).message}`);
      this.failing = true;
    }
  }
}
