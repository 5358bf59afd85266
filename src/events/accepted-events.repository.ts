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

  /** Marks the ids as accepted; returns, per id, whether it is new (false: seen before or earlier in the list). */
  async markAccepted(userId: string, eventIds: string[], now: number): Promise<boolean[]> {
    const flags = await this.redis.rrMarkAccepted(this.keys.userAcceptedEvents(userId), now, this.windowMs, ...eventIds);
    return flags.map((f) => f === 1);
  }

  /** Forgets ids marked by a request whose enqueue failed, so the client's retry is accepted. */
  async unmark(userId: string, eventIds: string[]): Promise<void> {
    if (eventIds.length > 0) await this.redis.zrem(this.keys.userAcceptedEvents(userId), ...eventIds);
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
