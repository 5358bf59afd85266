import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TrendingRepository } from './trending.repository';

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

  constructor(private readonly repository: TrendingRepository) {}

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
      const [hour, day] = await this.repository.top(TRENDING_MAX);
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
