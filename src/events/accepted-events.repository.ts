import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisKeys } from '../redis/redis-keys';
import { EVENTS_REDIS, EventsRedis } from './events-redis';

/** The ingest dedupe window: which event ids each user has had accepted recently. */
@Injectable()
export class AcceptedEventsRepository {
  private readonly windowMs: number;

  constructor(
    @Inject(EVENTS_REDIS) private readonly redis: EventsRedis,
    private readonly keys: RedisKeys,
    config: AppConfig,
  ) {
    this.windowMs = config.EVENTS_DEDUPE_TTL_SECONDS * 1000;
  }

  /** Whether the connection is up; when it is not, commands would wait in the offline queue for it. */
  connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Per id, whether it was accepted within the dedupe window. */
  async wereAccepted(userId: string, eventIds: string[], now: number): Promise<boolean[]> {
    if (eventIds.length === 0) return [];
    const scores = await this.redis.zmscore(this.keys.userAcceptedEvents(userId), ...eventIds);
    return scores.map((s) => s !== null && Number(s) > now - this.windowMs);
  }

  /** Records the ids as accepted (after they were queued); returns, per id, whether it was new. */
  async markAccepted(userId: string, eventIds: string[], now: number): Promise<boolean[]> {
    const flags = await this.redis.rrMarkAccepted(this.keys.userAcceptedEvents(userId), now, this.windowMs, ...eventIds);
    return flags.map((f) => f === 1);
  }

  /** Restores the window from the log (replay): ids with their acceptance times. */
  async restore(userId: string, entries: { eventId: string; receivedAt: number }[]): Promise<void> {
    if (entries.length === 0) return;
    const key = this.keys.userAcceptedEvents(userId);
    const args: (string | number)[] = [];
    for (const e of entries) args.push(e.receivedAt, e.eventId);
    await this.redis.zadd(key, ...args);
    await this.redis.pexpire(key, this.windowMs);
  }
}
