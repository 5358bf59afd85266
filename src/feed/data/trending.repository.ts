import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '../../redis/redis.constants';
import { AnyRedis } from '../../redis/redis-connection';
import { RedisKeys } from '../../redis/redis-keys';
import { guardRedis } from '../support/redis-guard';

const READ_BUDGET_MS = 2000;

/** Reads the trending sorted sets the event pipeline writes (1h, 24h and the 30-day popularity). */
@Injectable()
export class TrendingRepository {
  constructor(
    @Inject(REDIS) private readonly redis: AnyRedis,
    private readonly keys: RedisKeys,
  ) {}

  /** The top `max` video ids of the 30-day window (decayed popularity), best first. */
  popular30d(max: number, budgetMs = READ_BUDGET_MS): Promise<string[]> {
    return guardRedis(this.redis, budgetMs, () => this.redis.zrange(this.keys.trending('30d'), 0, max - 1, 'REV'));
  }

  /** The top `max` video ids of the 1h and of the 24h window, most trending first. */
  top(max: number): Promise<[hour: string[], day: string[]]> {
    return guardRedis(this.redis, READ_BUDGET_MS, () =>
      Promise.all([this.redis.zrange(this.keys.trending('1h'), 0, max - 1, 'REV'), this.redis.zrange(this.keys.trending('24h'), 0, max - 1, 'REV')]),
    );
  }
}
